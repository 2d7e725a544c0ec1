package ports

import (
	"context"
	"strings"

	"houqin.dev/assets/app"
	"houqin.dev/assets/domain"
	"houqin.dev/platform/grpckit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

// ClearanceServer implements assetsv1.ClearanceServiceServer.
type ClearanceServer struct {
	assetsv1.UnimplementedClearanceServiceServer
	app *app.App
}

// NewClearanceServer returns the gRPC server of staff clearances (教职工调离).
func NewClearanceServer(a *app.App) *ClearanceServer { return &ClearanceServer{app: a} }

// StartClearance implements assetsv1.ClearanceServiceServer.
func (s *ClearanceServer) StartClearance(ctx context.Context, r *assetsv1.StartClearanceRequest) (*assetsv1.StartClearanceResponse, error) {
	id, v, held, err := s.app.StartClearance(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), domain.StartClearance{
		Person: strings.TrimSpace(r.Person), StaffNo: strings.TrimSpace(r.StaffNo), Department: strings.TrimSpace(r.Department), LeavingOn: r.LeavingOn,
		Reason: strings.TrimSpace(r.Reason)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.StartClearanceResponse{ClearanceId: id, Version: v, Held: heldItems(held)}, nil
}

// CompleteClearance implements assetsv1.ClearanceServiceServer.
func (s *ClearanceServer) CompleteClearance(ctx context.Context, r *assetsv1.CompleteClearanceRequest) (*assetsv1.CompleteClearanceResponse, error) {
	v, err := s.app.CompleteClearance(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.ClearanceId)
	if err != nil {
		return nil, err
	}
	return &assetsv1.CompleteClearanceResponse{Version: v}, nil
}

// GetClearance implements assetsv1.ClearanceServiceServer.
func (s *ClearanceServer) GetClearance(ctx context.Context, r *assetsv1.GetClearanceRequest) (*assetsv1.GetClearanceResponse, error) {
	c, held, v, err := s.app.GetClearance(ctx, r.SchoolId, r.ClearanceId)
	if err != nil {
		return nil, err
	}
	return &assetsv1.GetClearanceResponse{Clearance: &assetsv1.Clearance{ClearanceId: c.ID, Person: c.Person,
		Department: c.Department, LeavingOn: c.LeavingOn, Reason: c.Reason, Completed: c.CompletedOn != "",
		CompletedOn: c.CompletedOn, Held: heldItems(held), Version: v}}, nil
}

func heldItems(h domain.Held) []*assetsv1.HeldItem {
	out := make([]*assetsv1.HeldItem, 0, len(h))
	for _, x := range h {
		out = append(out, &assetsv1.HeldItem{Kind: x.Kind, AssetId: x.AssetId, LoanId: x.LoanId, RequisitionId: x.RequisitionId,
			Line: x.Line, Tag: x.Tag, Name: x.Name, Quantity: x.Quantity})
	}
	return out
}
