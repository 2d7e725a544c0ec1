package ports

import (
	"context"

	"houqin.dev/platform/grpckit"
	"houqin.dev/procurement/domain"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

// OpenBudgetLine implements procurementv1.ProcurementServiceServer.
func (s *Server) OpenBudgetLine(ctx context.Context, r *procurementv1.OpenBudgetLineRequest) (*procurementv1.OpenBudgetLineResponse, error) {
	id, v, err := s.app.OpenBudgetLine(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), domain.OpenBudgetLine{
		FiscalYear: r.FiscalYear, Code: trim(r.Code), Name: trim(r.Name), AmountFen: r.AmountFen, FundingSource: trim(r.FundingSource)})
	if err != nil {
		return nil, err
	}
	return &procurementv1.OpenBudgetLineResponse{BudgetLineId: id, Version: v}, nil
}

// RequestBudgetAdjustment implements procurementv1.ProcurementServiceServer.
func (s *Server) RequestBudgetAdjustment(ctx context.Context, r *procurementv1.RequestBudgetAdjustmentRequest) (*procurementv1.RequestBudgetAdjustmentResponse, error) {
	id, role, v, err := s.app.RequestBudgetAdjustment(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), actor(ctx), r.BudgetLineId,
		r.AmountFen, trim(r.Reason))
	if err != nil {
		return nil, err
	}
	return &procurementv1.RequestBudgetAdjustmentResponse{AdjustmentId: id, ApproverRole: role, Version: v}, nil
}

// ApproveBudgetAdjustment implements procurementv1.ProcurementServiceServer.
func (s *Server) ApproveBudgetAdjustment(ctx context.Context, r *procurementv1.ApproveBudgetAdjustmentRequest) (*procurementv1.ApproveBudgetAdjustmentResponse, error) {
	v, err := s.app.ApproveBudgetAdjustment(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), actor(ctx), r.BudgetLineId, r.AdjustmentId)
	if err != nil {
		return nil, err
	}
	return &procurementv1.ApproveBudgetAdjustmentResponse{Version: v}, nil
}

// RejectBudgetAdjustment implements procurementv1.ProcurementServiceServer.
func (s *Server) RejectBudgetAdjustment(ctx context.Context, r *procurementv1.RejectBudgetAdjustmentRequest) (*procurementv1.RejectBudgetAdjustmentResponse, error) {
	v, err := s.app.RejectBudgetAdjustment(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), actor(ctx), r.BudgetLineId, r.AdjustmentId, trim(r.Reason))
	if err != nil {
		return nil, err
	}
	return &procurementv1.RejectBudgetAdjustmentResponse{Version: v}, nil
}

// GetBudgetLine implements procurementv1.ProcurementServiceServer.
func (s *Server) GetBudgetLine(ctx context.Context, r *procurementv1.GetBudgetLineRequest) (*procurementv1.GetBudgetLineResponse, error) {
	b, v, err := s.app.GetBudgetLine(ctx, r.SchoolId, r.BudgetLineId)
	if err != nil {
		return nil, err
	}
	out := &procurementv1.BudgetLine{BudgetLineId: b.ID, SchoolId: b.SchoolID, FiscalYear: b.FiscalYear, Code: b.Code, Name: b.Name,
		FundingSource: b.FundingSource, AmountFen: b.AmountFen, CommittedFen: b.CommittedFen(), SpentFen: b.SpentFen,
		AvailableFen: b.AvailableFen(), Version: v}
	for _, a := range b.Adjustments {
		out.Adjustments = append(out.Adjustments, &procurementv1.BudgetAdjustment{AdjustmentId: a.ID, AmountFen: a.AmountFen,
			Reason: a.Reason, ApproverRole: a.ApproverRole, Status: a.Status})
	}
	return &procurementv1.GetBudgetLineResponse{BudgetLine: out}, nil
}
