package ports

import (
	"context"

	"houqin.dev/platform/grpckit"
	"houqin.dev/procurement/app"
	"houqin.dev/procurement/domain"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

// FeesServer implements procurementv1.FeesServiceServer (收费公示, 代收费结退).
type FeesServer struct {
	procurementv1.UnimplementedFeesServiceServer
	app *app.App
}

// NewFeesServer returns the fees gRPC server of a.
func NewFeesServer(a *app.App) *FeesServer { return &FeesServer{app: a} }

// PublishFeeStandard implements procurementv1.FeesServiceServer.
func (s *FeesServer) PublishFeeStandard(ctx context.Context, r *procurementv1.PublishFeeStandardRequest) (*procurementv1.PublishFeeStandardResponse, error) {
	id, v, err := s.app.PublishFeeStandard(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), domain.PublishFeeStandard{Term: trim(r.Term),
		Item: trim(r.Item), Kind: trim(r.Kind), AmountPerStudentFen: r.AmountPerStudentFen, Basis: trim(r.Basis), ApprovalDocument: trim(r.ApprovalDocument)})
	if err != nil {
		return nil, err
	}
	return &procurementv1.PublishFeeStandardResponse{FeeId: id, Version: v}, nil
}

// RecordFeeCollection implements procurementv1.FeesServiceServer.
func (s *FeesServer) RecordFeeCollection(ctx context.Context, r *procurementv1.RecordFeeCollectionRequest) (*procurementv1.RecordFeeCollectionResponse, error) {
	ids := make([]string, 0, len(r.StudentIds))
	for _, id := range r.StudentIds {
		ids = append(ids, trim(id))
	}
	v, total, err := s.app.RecordFeeCollection(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.FeeId, domain.RecordFeeCollection{
		ClassName: trim(r.ClassName), Students: r.StudentCount, StudentIDs: ids, AmountFen: r.AmountFen, CollectedOn: trim(r.CollectedOn)})
	if err != nil {
		return nil, err
	}
	return &procurementv1.RecordFeeCollectionResponse{Version: v, CollectedTotalFen: total}, nil
}

// SettleFees implements procurementv1.FeesServiceServer.
func (s *FeesServer) SettleFees(ctx context.Context, r *procurementv1.SettleFeesRequest) (*procurementv1.SettleFeesResponse, error) {
	c := domain.SettleFees{SpentFen: r.SpentFen, SettledOn: trim(r.SettledOn)}
	for _, x := range r.Refunds {
		c.Refunds = append(c.Refunds, domain.FeeRefund{ClassName: trim(x.ClassName), StudentID: trim(x.StudentId), Students: x.StudentCount, AmountFen: x.AmountFen})
	}
	v, f, err := s.app.SettleFees(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.FeeId, r.ExpectedVersion, c)
	if err != nil {
		return nil, err
	}
	return &procurementv1.SettleFeesResponse{Version: v, CollectedFen: f.CollectedFen, SurplusFen: f.SurplusFen}, nil
}

// ApproveFeeSettlement implements procurementv1.FeesServiceServer.
func (s *FeesServer) ApproveFeeSettlement(ctx context.Context, r *procurementv1.ApproveFeeSettlementRequest) (*procurementv1.ApproveFeeSettlementResponse, error) {
	v, err := s.app.ApproveFeeSettlement(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.FeeId)
	if err != nil {
		return nil, err
	}
	return &procurementv1.ApproveFeeSettlementResponse{Version: v}, nil
}

// PublishFeeSettlement implements procurementv1.FeesServiceServer.
func (s *FeesServer) PublishFeeSettlement(ctx context.Context, r *procurementv1.PublishFeeSettlementRequest) (*procurementv1.PublishFeeSettlementResponse, error) {
	v, err := s.app.PublishFeeSettlement(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.FeeId)
	if err != nil {
		return nil, err
	}
	return &procurementv1.PublishFeeSettlementResponse{Version: v}, nil
}

// GetFee implements procurementv1.FeesServiceServer.
func (s *FeesServer) GetFee(ctx context.Context, r *procurementv1.GetFeeRequest) (*procurementv1.GetFeeResponse, error) {
	f, v, err := s.app.GetFee(ctx, r.SchoolId, r.FeeId)
	if err != nil {
		return nil, err
	}
	out := &procurementv1.Fee{FeeId: f.ID, Term: f.Term, Item: f.Item, Kind: f.Kind, AmountPerStudentFen: f.AmountPerStudentFen, Basis: f.Basis,
		ApprovalDocument: f.ApprovalDocument, PublishedOn: f.PublishedOn, CollectedFen: f.CollectedFen, Students: f.Students,
		SettlementStatus: f.Settlement, SpentFen: f.SpentFen, SurplusFen: f.SurplusFen, Version: v}
	for _, name := range f.ClassNames() {
		c := f.Classes[name]
		out.Classes = append(out.Classes, &procurementv1.FeeClass{ClassName: c.ClassName, StudentCount: c.Students, AmountFen: c.AmountFen})
	}
	for _, x := range f.Refunds {
		out.Refunds = append(out.Refunds, &procurementv1.FeeRefund{ClassName: x.ClassName, StudentId: x.StudentID, StudentCount: x.Students, AmountFen: x.AmountFen})
	}
	return &procurementv1.GetFeeResponse{Fee: out}, nil
}
