package ports

import (
	"context"

	"houqin.dev/platform/grpckit"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

// PlacePurchaseOrder implements procurementv1.ProcurementServiceServer.
func (s *Server) PlacePurchaseOrder(ctx context.Context, r *procurementv1.PlacePurchaseOrderRequest) (*procurementv1.PlacePurchaseOrderResponse, error) {
	id, total, v, err := s.app.PlacePurchaseOrder(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.PurchaseRequestId)
	if err != nil {
		return nil, err
	}
	return &procurementv1.PlacePurchaseOrderResponse{PurchaseOrderId: id, TotalFen: total, Version: v}, nil
}

// CancelPurchaseOrder implements procurementv1.ProcurementServiceServer.
func (s *Server) CancelPurchaseOrder(ctx context.Context, r *procurementv1.CancelPurchaseOrderRequest) (*procurementv1.CancelPurchaseOrderResponse, error) {
	v, err := s.app.CancelPurchaseOrder(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), actor(ctx), r.PurchaseOrderId, trim(r.Reason))
	if err != nil {
		return nil, err
	}
	return &procurementv1.CancelPurchaseOrderResponse{Version: v}, nil
}

// GetPurchaseOrder implements procurementv1.ProcurementServiceServer.
func (s *Server) GetPurchaseOrder(ctx context.Context, r *procurementv1.GetPurchaseOrderRequest) (*procurementv1.GetPurchaseOrderResponse, error) {
	o, v, err := s.app.GetPurchaseOrder(ctx, r.SchoolId, r.PurchaseOrderId)
	if err != nil {
		return nil, err
	}
	out := &procurementv1.PurchaseOrder{PurchaseOrderId: o.ID, SchoolId: o.SchoolID, PurchaseRequestId: o.PurchaseRequestID,
		QuoteId: o.QuoteID, SupplierId: o.SupplierID, SupplierName: o.SupplierName, BudgetLineId: o.BudgetLineID,
		Department: o.Department, OrderedOn: o.OrderedOn, TotalFen: o.TotalFen, Status: o.Status, CancelReason: o.CancelReason, Version: v}
	for _, l := range o.Lines {
		out.Lines = append(out.Lines, &procurementv1.OrderLine{LineId: l.LineID, Name: l.Name, Category: l.Category, Model: l.Model,
			Unit: l.Unit, Quantity: l.Quantity, UnitPriceFen: l.UnitPriceFen, AmountFen: l.AmountFen, FixedAsset: l.FixedAsset})
	}
	return &procurementv1.GetPurchaseOrderResponse{PurchaseOrder: out}, nil
}
