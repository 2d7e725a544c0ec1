package ports

import (
	"context"

	"houqin.dev/platform/grpckit"
	"houqin.dev/procurement/domain"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

var assetClasses = map[procurementv1.AssetClass]string{
	procurementv1.AssetClass_ASSET_CLASS_UNSPECIFIED:     domain.AssetClassByRule,
	procurementv1.AssetClass_ASSET_CLASS_FIXED_ASSET:     domain.AssetClassFixedAsset,
	procurementv1.AssetClass_ASSET_CLASS_NOT_FIXED_ASSET: domain.AssetClassNotFixed,
}

func assetClass(c procurementv1.AssetClass) string {
	if s, ok := assetClasses[c]; ok {
		return s
	}
	return "unknown"
}

func assetClassEnum(s string) procurementv1.AssetClass {
	for k, v := range assetClasses {
		if v == s {
			return k
		}
	}
	return procurementv1.AssetClass_ASSET_CLASS_UNSPECIFIED
}

// SubmitPurchaseRequest implements procurementv1.ProcurementServiceServer.
func (s *Server) SubmitPurchaseRequest(ctx context.Context, r *procurementv1.SubmitPurchaseRequestRequest) (*procurementv1.SubmitPurchaseRequestResponse, error) {
	c := domain.SubmitPurchaseRequest{Department: trim(r.Department), BudgetLineID: trim(r.BudgetLineId), Reason: trim(r.Reason),
		GovernmentProcurement: r.GovernmentProcurement}
	for _, l := range r.Lines {
		c.Lines = append(c.Lines, domain.RequestLine{Name: trim(l.Name), Category: trim(l.Category), Model: trim(l.Model), Unit: trim(l.Unit),
			Quantity: l.Quantity, EstimatedUnitPriceFen: l.EstimatedUnitPriceFen, AssetClass: assetClass(l.AssetClass)})
	}
	id, chain, v, err := s.app.SubmitPurchaseRequest(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), actor(ctx), c)
	if err != nil {
		return nil, err
	}
	return &procurementv1.SubmitPurchaseRequestResponse{PurchaseRequestId: id, Chain: fromChain(chain), Version: v}, nil
}

// ApprovePurchaseRequest implements procurementv1.ProcurementServiceServer.
func (s *Server) ApprovePurchaseRequest(ctx context.Context, r *procurementv1.ApprovePurchaseRequestRequest) (*procurementv1.ApprovePurchaseRequestResponse, error) {
	status, v, err := s.app.ApprovePurchaseRequest(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), actor(ctx), r.PurchaseRequestId, trim(r.Comment))
	if err != nil {
		return nil, err
	}
	return &procurementv1.ApprovePurchaseRequestResponse{Status: status, Version: v}, nil
}

// RejectPurchaseRequest implements procurementv1.ProcurementServiceServer.
func (s *Server) RejectPurchaseRequest(ctx context.Context, r *procurementv1.RejectPurchaseRequestRequest) (*procurementv1.RejectPurchaseRequestResponse, error) {
	v, err := s.app.RejectPurchaseRequest(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), actor(ctx), r.PurchaseRequestId, trim(r.Reason))
	if err != nil {
		return nil, err
	}
	return &procurementv1.RejectPurchaseRequestResponse{Version: v}, nil
}

// AddQuote implements procurementv1.ProcurementServiceServer.
func (s *Server) AddQuote(ctx context.Context, r *procurementv1.AddQuoteRequest) (*procurementv1.AddQuoteResponse, error) {
	id, total, v, err := s.app.AddQuote(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.PurchaseRequestId, r.SupplierId,
		r.UnitPricesFen, trim(r.Note))
	if err != nil {
		return nil, err
	}
	return &procurementv1.AddQuoteResponse{QuoteId: id, TotalFen: total, Version: v}, nil
}

// ChooseQuote implements procurementv1.ProcurementServiceServer.
func (s *Server) ChooseQuote(ctx context.Context, r *procurementv1.ChooseQuoteRequest) (*procurementv1.ChooseQuoteResponse, error) {
	v, err := s.app.ChooseQuote(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), actor(ctx), r.PurchaseRequestId, r.QuoteId, trim(r.Reason))
	if err != nil {
		return nil, err
	}
	return &procurementv1.ChooseQuoteResponse{Version: v}, nil
}

// GetPurchaseRequest implements procurementv1.ProcurementServiceServer.
func (s *Server) GetPurchaseRequest(ctx context.Context, r *procurementv1.GetPurchaseRequestRequest) (*procurementv1.GetPurchaseRequestResponse, error) {
	pr, v, err := s.app.GetPurchaseRequest(ctx, r.SchoolId, r.PurchaseRequestId)
	if err != nil {
		return nil, err
	}
	out := &procurementv1.PurchaseRequest{PurchaseRequestId: pr.ID, SchoolId: pr.SchoolID, Department: pr.Department,
		EstimatedTotalFen: pr.EstimatedTotalFen, BudgetLineId: pr.BudgetLineID, Reason: pr.Reason,
		GovernmentProcurement: pr.GovernmentProcurement, RequestedBy: pr.RequestedBy, SubmittedOn: pr.SubmittedOn,
		Chain: fromChain(pr.Chain), Status: pr.Status, RejectionReason: pr.RejectionReason, QuotesRequired: pr.QuotesRequired,
		MinQuotes: pr.MinQuotes, ChosenQuoteId: pr.ChosenQuoteID, ChoiceReason: pr.ChoiceReason, PolicyVersion: pr.PolicyVersion, Version: v}
	for _, l := range pr.Lines {
		out.Lines = append(out.Lines, &procurementv1.RequestLine{Name: l.Name, Category: l.Category, Model: l.Model, Unit: l.Unit,
			Quantity: l.Quantity, EstimatedUnitPriceFen: l.EstimatedUnitPriceFen, AssetClass: assetClassEnum(l.AssetClass)})
	}
	for _, q := range pr.Quotes {
		out.Quotes = append(out.Quotes, &procurementv1.Quote{QuoteId: q.ID, SupplierId: q.SupplierID, SupplierName: q.SupplierName,
			UnitPricesFen: q.UnitPricesFen, TotalFen: q.TotalFen, QuotedOn: q.QuotedOn, Note: q.Note})
	}
	return &procurementv1.GetPurchaseRequestResponse{PurchaseRequest: out}, nil
}

func fromChain(chain []domain.Step) []*procurementv1.ApprovalStep {
	var out []*procurementv1.ApprovalStep
	for _, s := range chain {
		out = append(out, &procurementv1.ApprovalStep{Step: s.Step, Role: s.Role, Approver: s.Approver, ApprovedOn: s.ApprovedOn})
	}
	return out
}
