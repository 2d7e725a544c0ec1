package ports

import (
	"context"

	"houqin.dev/platform/district"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/grpckit"
	"houqin.dev/procurement/domain"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

// RegisterSupplier implements procurementv1.ProcurementServiceServer.
func (s *Server) RegisterSupplier(ctx context.Context, r *procurementv1.RegisterSupplierRequest) (*procurementv1.RegisterSupplierResponse, error) {
	c := domain.RegisterSupplier{Name: trim(r.Name), CreditCode: trim(r.CreditCode), Contact: trim(r.Contact), Phone: trim(r.Phone)}
	for _, l := range r.Licences {
		c.Licences = append(c.Licences, toLicence(l))
	}
	id, v, err := s.app.RegisterSupplier(ctx, grpckit.Meta(ctx, r.RequestId, district.SchoolID, r), c)
	if err != nil {
		return nil, err
	}
	return &procurementv1.RegisterSupplierResponse{SupplierId: id, Version: v}, nil
}

// RenewSupplierLicence implements procurementv1.ProcurementServiceServer.
func (s *Server) RenewSupplierLicence(ctx context.Context, r *procurementv1.RenewSupplierLicenceRequest) (*procurementv1.RenewSupplierLicenceResponse, error) {
	v, err := s.app.RenewSupplierLicence(ctx, grpckit.Meta(ctx, r.RequestId, district.SchoolID, r), r.SupplierId, toLicence(r.Licence))
	if err != nil {
		return nil, err
	}
	return &procurementv1.RenewSupplierLicenceResponse{SupplierId: r.SupplierId, Version: v}, nil
}

// BlacklistSupplier implements procurementv1.ProcurementServiceServer.
func (s *Server) BlacklistSupplier(ctx context.Context, r *procurementv1.BlacklistSupplierRequest) (*procurementv1.BlacklistSupplierResponse, error) {
	v, err := s.app.BlacklistSupplier(ctx, grpckit.Meta(ctx, r.RequestId, district.SchoolID, r), r.SupplierId, trim(r.Reason))
	if err != nil {
		return nil, err
	}
	return &procurementv1.BlacklistSupplierResponse{SupplierId: r.SupplierId, Version: v}, nil
}

// ReinstateSupplier implements procurementv1.ProcurementServiceServer.
func (s *Server) ReinstateSupplier(ctx context.Context, r *procurementv1.ReinstateSupplierRequest) (*procurementv1.ReinstateSupplierResponse, error) {
	v, err := s.app.ReinstateSupplier(ctx, grpckit.Meta(ctx, r.RequestId, district.SchoolID, r), r.SupplierId, trim(r.Reason))
	if err != nil {
		return nil, err
	}
	return &procurementv1.ReinstateSupplierResponse{SupplierId: r.SupplierId, Version: v}, nil
}

// GetSupplier implements procurementv1.ProcurementServiceServer.
func (s *Server) GetSupplier(ctx context.Context, r *procurementv1.GetSupplierRequest) (*procurementv1.GetSupplierResponse, error) {
	day := r.AsOf
	if day == "" {
		day = domain.Day(s.app.Today())
	} else if !domain.ValidDate(day) {
		return nil, errs.Invalid("as_of", "日期格式须为YYYY-MM-DD / date must be YYYY-MM-DD")
	}
	sup, v, err := s.app.GetSupplier(ctx, r.SupplierId)
	if err != nil {
		return nil, err
	}
	out := &procurementv1.Supplier{SupplierId: sup.ID, Name: sup.Name, CreditCode: sup.CreditCode, Contact: sup.Contact,
		Phone: sup.Phone, Blacklisted: sup.Blacklisted, BlacklistReason: sup.BlacklistReason, Usable: true, Version: v}
	for _, l := range sup.Licences {
		out.Licences = append(out.Licences, &procurementv1.Licence{Kind: l.Kind, Number: l.Number, ExpiresOn: l.ExpiresOn})
	}
	if err := sup.UsableOn(day); err != nil {
		out.Usable = false
		if re, ok := errs.As[*errs.RuleError](err); ok {
			out.UnusableReason = string(re.Reason)
		}
	}
	return &procurementv1.GetSupplierResponse{Supplier: out}, nil
}

func toLicence(l *procurementv1.Licence) domain.Licence {
	return domain.Licence{Kind: trim(l.GetKind()), Number: trim(l.GetNumber()), ExpiresOn: trim(l.GetExpiresOn())}
}
