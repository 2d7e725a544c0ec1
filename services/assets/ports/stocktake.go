package ports

import (
	"context"
	"strings"

	"houqin.dev/assets/app"
	"houqin.dev/assets/domain"
	"houqin.dev/platform/auth"
	"houqin.dev/platform/grpckit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

// StocktakeServer implements assetsv1.StocktakeServiceServer.
type StocktakeServer struct {
	assetsv1.UnimplementedStocktakeServiceServer
	app *app.Stocktakes
}

// NewStocktakeServer returns the gRPC server of the stocktake use cases.
func NewStocktakeServer(a *app.Stocktakes) *StocktakeServer { return &StocktakeServer{app: a} }

var scanOutcomes = map[assetsv1.ScanOutcome]string{
	assetsv1.ScanOutcome_SCAN_OUTCOME_COUNTED:    domain.ScanCounted,
	assetsv1.ScanOutcome_SCAN_OUTCOME_WRONG_ROOM: domain.ScanWrongRoom,
	assetsv1.ScanOutcome_SCAN_OUTCOME_DUPLICATE:  domain.ScanDuplicate,
	assetsv1.ScanOutcome_SCAN_OUTCOME_UNKNOWN:    domain.ScanUnknown,
}

// StartStocktake implements assetsv1.StocktakeServiceServer.
func (s *StocktakeServer) StartStocktake(ctx context.Context, r *assetsv1.StartStocktakeRequest) (*assetsv1.StartStocktakeResponse, error) {
	rooms := make([]string, len(r.Rooms))
	for i, x := range r.Rooms {
		rooms[i] = strings.TrimSpace(x)
	}
	id, v, st, err := s.app.Start(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), domain.StartStocktake{Rooms: rooms,
		Note: strings.TrimSpace(r.Note)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.StartStocktakeResponse{StocktakeId: id, Version: v, ExpectedItems: st.ExpectedCount, Rooms: int32(len(st.Rooms))}, nil
}

// ScanStocktakeItem implements assetsv1.StocktakeServiceServer.
func (s *StocktakeServer) ScanStocktakeItem(ctx context.Context, r *assetsv1.ScanStocktakeItemRequest) (*assetsv1.ScanStocktakeItemResponse, error) {
	res, err := s.app.Scan(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.StocktakeId,
		domain.ScanItem{Room: strings.TrimSpace(r.Room), Code: strings.TrimSpace(r.Code)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.ScanStocktakeItemResponse{Version: res.Version, Outcome: enumOf(scanOutcomes, res.Outcome),
		AssetId: res.AssetID, Tag: res.Tag, ExpectedRoom: res.ExpectedRoom}, nil
}

// CloseStocktake implements assetsv1.StocktakeServiceServer.
func (s *StocktakeServer) CloseStocktake(ctx context.Context, r *assetsv1.CloseStocktakeRequest) (*assetsv1.CloseStocktakeResponse, error) {
	st, v, err := s.app.Close(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.StocktakeId, r.ExpectedVersion)
	if err != nil {
		return nil, err
	}
	return &assetsv1.CloseStocktakeResponse{Version: v, Summary: fromStocktake(st, v)}, nil
}

// GetStocktake implements assetsv1.StocktakeServiceServer.
func (s *StocktakeServer) GetStocktake(ctx context.Context, r *assetsv1.GetStocktakeRequest) (*assetsv1.GetStocktakeResponse, error) {
	st, v, err := s.app.Get(ctx, r.SchoolId, r.StocktakeId)
	if err != nil {
		return nil, err
	}
	return &assetsv1.GetStocktakeResponse{Summary: fromStocktake(st, v)}, nil
}

func fromStocktake(s domain.Stocktake, version int64) *assetsv1.StocktakeSummary {
	out := &assetsv1.StocktakeSummary{StocktakeId: s.ID, SchoolId: s.SchoolID, Closed: s.Closed, StartedAt: stamp(s.StartedAt),
		ClosedAt: stamp(s.ClosedAt), Rooms: s.Rooms, ExpectedItems: s.ExpectedCount, Counted: s.Counted,
		WrongRoom: s.WrongRoom, Duplicates: s.Duplicates, Unknown: s.Unknown, Version: version}
	for _, d := range s.Diffs {
		for _, it := range d.Missing {
			out.Missing = append(out.Missing, &assetsv1.StocktakeItem{AssetId: it.AssetID, Tag: it.Tag, Name: it.Name, Room: it.Room})
		}
		for _, it := range d.Misplaced {
			out.Misplaced = append(out.Misplaced, &assetsv1.StocktakeItem{AssetId: it.AssetID, Tag: it.Tag, Name: it.Name,
				Room: it.Room, ScannedRoom: s.Scanned[it.Tag]})
		}
		for _, c := range d.Unknown {
			out.UnknownCodes = append(out.UnknownCodes, &assetsv1.UnknownCode{Code: c, Room: d.Room})
		}
	}
	for _, id := range s.AdjustmentOrder {
		a := s.Adjustments[id]
		out.Adjustments = append(out.Adjustments, &assetsv1.StocktakeAdjustment{AdjustmentId: a.ID,
			Kind: enumOf(adjustmentKinds, a.Kind), AssetId: a.AssetID, Code: a.Code, ValueFen: a.ValueFen, Reason: a.Reason,
			Approved: a.Approved, ApprovedBy: a.ApprovedBy})
	}
	return out
}

var adjustmentKinds = map[assetsv1.AdjustmentKind]string{
	assetsv1.AdjustmentKind_ADJUSTMENT_KIND_SHORTAGE: domain.AdjustmentShortage,
	assetsv1.AdjustmentKind_ADJUSTMENT_KIND_SURPLUS:  domain.AdjustmentSurplus,
}

// ProposeStocktakeAdjustment implements assetsv1.StocktakeServiceServer.
func (s *StocktakeServer) ProposeStocktakeAdjustment(ctx context.Context, r *assetsv1.ProposeStocktakeAdjustmentRequest) (*assetsv1.ProposeStocktakeAdjustmentResponse, error) {
	id, v, err := s.app.Propose(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.StocktakeId, domain.ProposeAdjustment{
		Kind: adjustmentKinds[r.Kind], AssetID: strings.TrimSpace(r.AssetId), Code: strings.TrimSpace(r.Code),
		Name: strings.TrimSpace(r.Name), Category: strings.TrimSpace(r.Category), UnitPriceFen: r.UnitPriceFen,
		Custodian: strings.TrimSpace(r.Custodian), Reason: strings.TrimSpace(r.Reason)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.ProposeStocktakeAdjustmentResponse{AdjustmentId: id, Version: v}, nil
}

// ApproveStocktakeAdjustment implements assetsv1.StocktakeServiceServer. The caller approves
// as principal if they hold that role, else as logistics director.
func (s *StocktakeServer) ApproveStocktakeAdjustment(ctx context.Context, r *assetsv1.ApproveStocktakeAdjustmentRequest) (*assetsv1.ApproveStocktakeAdjustmentResponse, error) {
	role := ""
	if id, ok := auth.FromContext(ctx); ok {
		switch {
		case id.Has(auth.RolePrincipal):
			role = domain.ApproverPrincipal
		case id.Has(auth.RoleLogisticsDirector):
			role = domain.ApproverLogisticsDirector
		}
	}
	v, asset, err := s.app.Approve(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.StocktakeId, strings.TrimSpace(r.AdjustmentId), role)
	if err != nil {
		return nil, err
	}
	return &assetsv1.ApproveStocktakeAdjustmentResponse{Version: v, AssetId: asset}, nil
}
