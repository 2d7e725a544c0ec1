package ports

import (
	"context"

	"houqin.dev/platform/errs"
	"houqin.dev/platform/grpckit"
	"houqin.dev/procurement/app"
	"houqin.dev/procurement/domain"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

// StockServer implements procurementv1.StockServiceServer (库存, 材料账).
type StockServer struct {
	procurementv1.UnimplementedStockServiceServer
	app *app.App
}

// NewStockServer returns the stock gRPC server of a.
func NewStockServer(a *app.App) *StockServer { return &StockServer{app: a} }

func toSpec(s *procurementv1.StockItemSpec) domain.StockItemSpec {
	return domain.StockItemSpec{Code: trim(s.GetCode()), Name: trim(s.GetName()), Unit: trim(s.GetUnit()), Category: trim(s.GetCategory())}
}

// ReceiveAcceptedLine implements procurementv1.StockServiceServer.
func (s *StockServer) ReceiveAcceptedLine(ctx context.Context, r *procurementv1.ReceiveAcceptedLineRequest) (*procurementv1.ReceiveAcceptedLineResponse, error) {
	rec, err := s.app.ReceiveAcceptedLine(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), domain.ReceiveStock{Item: toSpec(r.Item),
		Quantity: r.Quantity, UnitCostFen: r.UnitCostFen, ReceivedOn: trim(r.ReceivedOn), AcceptanceLineID: r.AcceptanceLineId,
		OrderID: trim(r.OrderId), SupplierID: trim(r.SupplierId)})
	if err != nil {
		return nil, err
	}
	return &procurementv1.ReceiveAcceptedLineResponse{ItemCode: rec.ItemCode, LotId: rec.LotID, Version: rec.Version, Already: rec.Already}, nil
}

// ReceiveGoods implements procurementv1.StockServiceServer.
func (s *StockServer) ReceiveGoods(ctx context.Context, r *procurementv1.ReceiveGoodsRequest) (*procurementv1.ReceiveGoodsResponse, error) {
	rec, err := s.app.ReceiveGoods(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), domain.ReceiveStock{Item: toSpec(r.Item),
		Quantity: r.Quantity, UnitCostFen: r.UnitCostFen, ReceivedOn: trim(r.ReceivedOn), Source: trim(r.Source), Note: trim(r.Note)})
	if err != nil {
		return nil, err
	}
	return &procurementv1.ReceiveGoodsResponse{ItemCode: rec.ItemCode, LotId: rec.LotID, Version: rec.Version}, nil
}

func toLines(ls []*procurementv1.RequisitionLine) []domain.RequisitionLine {
	var out []domain.RequisitionLine
	for _, l := range ls {
		out = append(out, domain.RequisitionLine{ItemCode: trim(l.ItemCode), Quantity: l.Quantity})
	}
	return out
}

func fromLines(ls []domain.RequisitionLine) []*procurementv1.RequisitionLine {
	var out []*procurementv1.RequisitionLine
	for _, l := range ls {
		out = append(out, &procurementv1.RequisitionLine{ItemCode: l.ItemCode, Quantity: l.Quantity})
	}
	return out
}

// RequestRequisition implements procurementv1.StockServiceServer.
func (s *StockServer) RequestRequisition(ctx context.Context, r *procurementv1.RequestRequisitionRequest) (*procurementv1.RequestRequisitionResponse, error) {
	id, v, err := s.app.RequestRequisition(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), domain.RequestRequisition{
		Department: trim(r.Department), Purpose: trim(r.Purpose), Lines: toLines(r.Lines)})
	if err != nil {
		return nil, err
	}
	return &procurementv1.RequestRequisitionResponse{RequisitionId: id, Version: v}, nil
}

// ApproveRequisition implements procurementv1.StockServiceServer.
func (s *StockServer) ApproveRequisition(ctx context.Context, r *procurementv1.ApproveRequisitionRequest) (*procurementv1.ApproveRequisitionResponse, error) {
	v, err := s.app.ApproveRequisition(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.RequisitionId, r.ExpectedVersion, toLines(r.Lines))
	if err != nil {
		return nil, err
	}
	return &procurementv1.ApproveRequisitionResponse{Version: v}, nil
}

// RejectRequisition implements procurementv1.StockServiceServer.
func (s *StockServer) RejectRequisition(ctx context.Context, r *procurementv1.RejectRequisitionRequest) (*procurementv1.RejectRequisitionResponse, error) {
	v, err := s.app.RejectRequisition(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.RequisitionId, trim(r.Reason))
	if err != nil {
		return nil, err
	}
	return &procurementv1.RejectRequisitionResponse{Version: v}, nil
}

// GetRequisition implements procurementv1.StockServiceServer.
func (s *StockServer) GetRequisition(ctx context.Context, r *procurementv1.GetRequisitionRequest) (*procurementv1.GetRequisitionResponse, error) {
	req, v, err := s.app.GetRequisition(ctx, r.SchoolId, r.RequisitionId)
	if err != nil {
		return nil, err
	}
	out := &procurementv1.Requisition{RequisitionId: req.ID, Department: req.Department, Purpose: req.Purpose,
		Requested: fromLines(req.Requested), Status: string(req.Status), RequestedBy: req.RequestedBy, ApprovedBy: req.ApprovedBy,
		RejectReason: req.RejectReason, Version: v}
	for _, l := range req.Requested {
		if q := req.Approved[l.ItemCode]; q > 0 {
			out.Approved = append(out.Approved, &procurementv1.RequisitionLine{ItemCode: l.ItemCode, Quantity: q})
		}
	}
	return &procurementv1.GetRequisitionResponse{Requisition: out}, nil
}

// IssueStock implements procurementv1.StockServiceServer.
func (s *StockServer) IssueStock(ctx context.Context, r *procurementv1.IssueStockRequest) (*procurementv1.IssueStockResponse, error) {
	is, err := s.app.IssueStock(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.ItemCode, r.ExpectedVersion, domain.IssueStock{
		RequisitionID: trim(r.RequisitionId), Quantity: r.Quantity, IssuedOn: trim(r.IssuedOn)})
	if err != nil {
		return nil, err
	}
	out := &procurementv1.IssueStockResponse{Version: is.Version, CostFen: is.CostFen}
	for _, sl := range is.Slices {
		out.Slices = append(out.Slices, &procurementv1.LotSlice{LotId: sl.LotId, Quantity: sl.Quantity, UnitCostFen: sl.UnitCostFen})
	}
	return out, nil
}

// ReturnStock implements procurementv1.StockServiceServer.
func (s *StockServer) ReturnStock(ctx context.Context, r *procurementv1.ReturnStockRequest) (*procurementv1.ReturnStockResponse, error) {
	v, value, err := s.app.ReturnStock(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.ItemCode, domain.ReturnStock{
		RequisitionID: trim(r.RequisitionId), Quantity: r.Quantity, ReturnedOn: trim(r.ReturnedOn), Reason: trim(r.Reason)})
	if err != nil {
		return nil, err
	}
	return &procurementv1.ReturnStockResponse{Version: v, ValueFen: value}, nil
}

// RecordStockCount implements procurementv1.StockServiceServer.
func (s *StockServer) RecordStockCount(ctx context.Context, r *procurementv1.RecordStockCountRequest) (*procurementv1.RecordStockCountResponse, error) {
	c, err := s.app.RecordStockCount(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.ItemCode, domain.RecordStockCount{
		StocktakeID: trim(r.StocktakeId), Counted: r.CountedQuantity, CountedOn: trim(r.CountedOn)})
	if err != nil {
		return nil, err
	}
	return &procurementv1.RecordStockCountResponse{Version: c.Version, BookQuantity: c.Book, Difference: c.Difference}, nil
}

// ApproveStockAdjustment implements procurementv1.StockServiceServer.
func (s *StockServer) ApproveStockAdjustment(ctx context.Context, r *procurementv1.ApproveStockAdjustmentRequest) (*procurementv1.ApproveStockAdjustmentResponse, error) {
	adj, err := s.app.ApproveStockAdjustment(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.ItemCode, domain.ApproveStockAdjustment{
		StocktakeID: trim(r.StocktakeId), AdjustedOn: trim(r.AdjustedOn)})
	if err != nil {
		return nil, err
	}
	return &procurementv1.ApproveStockAdjustmentResponse{Version: adj.Version, Difference: adj.Difference, ValueFen: adj.ValueFen}, nil
}

// GetStockItem implements procurementv1.StockServiceServer.
func (s *StockServer) GetStockItem(ctx context.Context, r *procurementv1.GetStockItemRequest) (*procurementv1.GetStockItemResponse, error) {
	day := trim(r.AsOf)
	if day == "" {
		day = domain.Day(s.app.Today())
	} else if !domain.ValidDate(day) {
		return nil, errs.Invalid("as_of", "日期格式须为YYYY-MM-DD / date must be YYYY-MM-DD")
	}
	it, moves, v, err := s.app.GetStockItem(ctx, r.SchoolId, r.ItemCode)
	if err != nil {
		return nil, err
	}
	qty, value := domain.StockAsOf(moves, day)
	out := &procurementv1.StockItem{Spec: &procurementv1.StockItemSpec{Code: it.Code, Name: it.Name, Unit: it.Unit, Category: it.Category},
		OnHand: it.Lots.Quantity(), ValueFen: it.Lots.Value(), AsOf: day, OnHandAsOf: qty, ValueAsOfFen: value,
		LastIssuedOn: it.LastIssuedOn, Version: v}
	for _, l := range it.Lots {
		out.Lots = append(out.Lots, &procurementv1.StockLot{LotId: l.ID, ReceivedOn: l.ReceivedOn, Quantity: l.Quantity, UnitCostFen: l.UnitCostFen})
	}
	return &procurementv1.GetStockItemResponse{Item: out}, nil
}
