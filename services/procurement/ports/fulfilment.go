package ports

import (
	"context"

	"houqin.dev/platform/errs"
	"houqin.dev/platform/grpckit"
	"houqin.dev/procurement/app"
	"houqin.dev/procurement/domain"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

// FulfilmentServer implements procurementv1.FulfilmentServiceServer: deliveries, goods
// receipts, invoices and reimbursement.
type FulfilmentServer struct {
	procurementv1.UnimplementedFulfilmentServiceServer
	app *app.App
}

// NewFulfilmentServer returns the fulfilment gRPC server of a.
func NewFulfilmentServer(a *app.App) *FulfilmentServer { return &FulfilmentServer{app: a} }

// RecordDelivery implements procurementv1.FulfilmentServiceServer.
func (s *FulfilmentServer) RecordDelivery(ctx context.Context, r *procurementv1.RecordDeliveryRequest) (*procurementv1.RecordDeliveryResponse, error) {
	c := domain.RecordDelivery{DeliveredOn: trim(r.DeliveredOn), FundingSource: trim(r.FundingSource), Note: trim(r.Note)}
	for _, l := range r.Lines {
		c.Lines = append(c.Lines, domain.DeliveryLine{OrderLineID: trim(l.OrderLineId), Delivered: l.DeliveredQuantity,
			Accepted: l.AcceptedQuantity, RejectionReason: trim(l.RejectionReason), Location: trim(l.Location), Custodian: trim(l.Custodian),
			ItemCode: trim(l.ItemCode)})
	}
	id, lines, v, err := s.app.RecordDelivery(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), actor(ctx), r.PurchaseOrderId, c)
	if err != nil {
		return nil, err
	}
	return &procurementv1.RecordDeliveryResponse{ReceiptId: id, AcceptanceLineIds: lines, Version: v}, nil
}

// SignGoodsReceipt implements procurementv1.FulfilmentServiceServer.
func (s *FulfilmentServer) SignGoodsReceipt(ctx context.Context, r *procurementv1.SignGoodsReceiptRequest) (*procurementv1.SignGoodsReceiptResponse, error) {
	n, accepted, v, err := s.app.SignGoodsReceipt(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), actor(ctx), r.PurchaseOrderId, r.ReceiptId)
	if err != nil {
		return nil, err
	}
	return &procurementv1.SignGoodsReceiptResponse{Signers: int32(n), Accepted: accepted, Version: v}, nil
}

// RecordInvoice implements procurementv1.FulfilmentServiceServer.
func (s *FulfilmentServer) RecordInvoice(ctx context.Context, r *procurementv1.RecordInvoiceRequest) (*procurementv1.RecordInvoiceResponse, error) {
	c := domain.RecordInvoice{Number: trim(r.InvoiceNumber), InvoicedOn: trim(r.InvoicedOn), TotalFen: r.TotalFen,
		Reverses: trim(r.ReversesInvoiceId), Corrects: trim(r.CorrectsInvoiceId)}
	for _, l := range r.Lines {
		c.Lines = append(c.Lines, domain.InvoiceLine{OrderLineID: trim(l.OrderLineId), Quantity: l.Quantity, UnitPriceFen: l.UnitPriceFen})
	}
	id, v, err := s.app.RecordInvoice(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), actor(ctx), r.PurchaseOrderId, c)
	if err != nil {
		return nil, err
	}
	return &procurementv1.RecordInvoiceResponse{InvoiceId: id, Version: v}, nil
}

var invoiceRoles = map[procurementv1.InvoiceRole]string{
	procurementv1.InvoiceRole_INVOICE_ROLE_HANDLER:   domain.InvoiceHandler,
	procurementv1.InvoiceRole_INVOICE_ROLE_INSPECTOR: domain.InvoiceInspector,
	procurementv1.InvoiceRole_INVOICE_ROLE_AUDITOR:   domain.InvoiceAuditor,
}

// SignInvoice implements procurementv1.FulfilmentServiceServer.
func (s *FulfilmentServer) SignInvoice(ctx context.Context, r *procurementv1.SignInvoiceRequest) (*procurementv1.SignInvoiceResponse, error) {
	role, ok := invoiceRoles[r.Role]
	if !ok {
		return nil, errs.Invalid("role", "须为经手人、验收人或审核人 / role must be handler, inspector or auditor")
	}
	roles, v, err := s.app.SignInvoice(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), actor(ctx), r.PurchaseOrderId, r.InvoiceId, role)
	if err != nil {
		return nil, err
	}
	return &procurementv1.SignInvoiceResponse{SignedRoles: roles, Version: v}, nil
}

// ReimburseInvoice implements procurementv1.FulfilmentServiceServer.
func (s *FulfilmentServer) ReimburseInvoice(ctx context.Context, r *procurementv1.ReimburseInvoiceRequest) (*procurementv1.ReimburseInvoiceResponse, error) {
	amount, v, err := s.app.ReimburseInvoice(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), actor(ctx), r.PurchaseOrderId, r.InvoiceId, r.CloseOrder)
	if err != nil {
		return nil, err
	}
	return &procurementv1.ReimburseInvoiceResponse{AmountFen: amount, Version: v}, nil
}

// CancelInvoice implements procurementv1.FulfilmentServiceServer.
func (s *FulfilmentServer) CancelInvoice(ctx context.Context, r *procurementv1.CancelInvoiceRequest) (*procurementv1.CancelInvoiceResponse, error) {
	v, err := s.app.CancelInvoice(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), actor(ctx), r.PurchaseOrderId, r.InvoiceId, trim(r.Reason))
	if err != nil {
		return nil, err
	}
	return &procurementv1.CancelInvoiceResponse{Version: v}, nil
}

// GetFulfilment implements procurementv1.FulfilmentServiceServer.
func (s *FulfilmentServer) GetFulfilment(ctx context.Context, r *procurementv1.GetFulfilmentRequest) (*procurementv1.GetFulfilmentResponse, error) {
	f, v, err := s.app.GetFulfilment(ctx, r.SchoolId, r.PurchaseOrderId)
	if err != nil {
		return nil, err
	}
	out := &procurementv1.Fulfilment{PurchaseOrderId: r.PurchaseOrderId, OrderClosed: f.Closed, Version: v}
	for _, rc := range f.Receipts {
		gr := &procurementv1.GoodsReceipt{ReceiptId: rc.ID, DeliveredOn: rc.DeliveredOn, Signers: rc.Signers,
			MinSigners: int32(rc.MinSigners), Accepted: rc.Accepted, AcceptedOn: rc.AcceptedOn}
		for _, l := range rc.Lines {
			reg := f.Registered[l.AcceptanceLineID]
			gr.Lines = append(gr.Lines, &procurementv1.ReceiptLineView{AcceptanceLineId: l.AcceptanceLineID, OrderLineId: l.OrderLineID,
				Name: l.Name, FixedAsset: l.FixedAsset, DeliveredQuantity: l.Delivered, AcceptedQuantity: l.Accepted,
				RejectedQuantity: l.Rejected, RejectionReason: l.RejectionReason, UnitPriceFen: l.UnitPriceFen,
				AssetId: reg.AssetID, AssetTag: reg.Tag})
		}
		out.Receipts = append(out.Receipts, gr)
	}
	for _, inv := range f.Invoices {
		iv := &procurementv1.InvoiceView{InvoiceId: inv.ID, InvoiceNumber: inv.Number, InvoicedOn: inv.InvoicedOn,
			TotalFen: inv.TotalFen, Reimbursed: inv.Reimbursed, Cancelled: inv.Cancelled, CancelReason: inv.CancelReason,
			ReversesInvoiceId: inv.Reverses, ReversedByInvoiceId: inv.ReversedBy, CorrectsInvoiceId: inv.Corrects}
		for _, role := range inv.RequiredRoles {
			if _, ok := inv.Signers[role]; ok {
				iv.SignedRoles = append(iv.SignedRoles, role)
			}
		}
		out.Invoices = append(out.Invoices, iv)
	}
	return &procurementv1.GetFulfilmentResponse{Fulfilment: out}, nil
}
