package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/bus"
	"houqin.dev/platform/event"
	"houqin.dev/platform/testkit"
	assetseventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

// order places an order of 10 boxes of paper (110 yuan each) and 2 computers (4,300 yuan
// each, fixed assets) on a new budget line of 15,000 yuan; it returns order and budget line.
func (e *env) order(t *testing.T, school, tag string) (*procurementv1.PurchaseOrder, string) {
	t.Helper()
	line := e.line(t, school, "3100201", 1_500_000)
	req := e.approvedRequest(t, school, line, tag, e.suppliers(t))
	director := e.as(t, auth.RoleLogisticsDirector, school)
	o, err := e.client.PlacePurchaseOrder(director, &procurementv1.PlacePurchaseOrderRequest{RequestId: "order-" + tag, SchoolId: school,
		PurchaseRequestId: req})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.client.GetPurchaseOrder(director, &procurementv1.GetPurchaseOrderRequest{SchoolId: school, PurchaseOrderId: o.PurchaseOrderId})
	if err != nil {
		t.Fatal(err)
	}
	return got.PurchaseOrder, line
}

// publishAssetRegistered puts the assets service's event for a registered line on its stream.
func publishAssetRegistered(t *testing.T, e *env, school, orderID, lineID, assetID string) {
	t.Helper()
	m := &assetseventsv1.AssetRegistered{AssetId: assetID, SchoolId: school, Tag: "CG-" + lineID[:8], Name: "台式电脑", Category: "2",
		UnitPriceFen: 430_000, Quantity: 1, Source: "purchase", SourceLineId: lineID, OrderId: orderID}
	b, err := event.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	ev := event.Event{ID: uuid.Must(uuid.NewV7()), StreamID: "asset:" + assetID, StreamType: "asset", Version: 1, SchoolID: school,
		Type: event.TypeOf(m), Payload: b, OccurredAt: time.Now(), RecordedAt: time.Now()}
	if _, err := e.svc.JS.PublishMsg(context.Background(), bus.ToMsg("houqin.assets."+school+".asset.AssetRegistered", ev)); err != nil {
		t.Fatal(err)
	}
}

// The flow after the order: a delivery with a rejected line, two signers, an invoice with
// three signers matching order and acceptance, the asset registered (its event published as
// the assets service would), reimbursement from the budget line.
func TestDeliveryAcceptanceInvoiceReimbursement(t *testing.T) {
	e := start(t)
	if _, err := bus.EnsureStream(context.Background(), e.svc.JS, "assets", bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	o, budgetLine := e.order(t, "s1", "flow-0001")
	paper, computer := o.Lines[0], o.Lines[1]
	ful := procurementv1.NewFulfilmentServiceClient(e.conn)
	store := e.as(t, auth.RoleStorekeeper, "s1")
	teacher := e.as(t, auth.RoleTeacher, "s1")
	accountant := e.as(t, auth.RoleAccountant, "s1")
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")

	// Invalid input names every field; another school's order does not exist.
	_, err := ful.RecordDelivery(store, &procurementv1.RecordDeliveryRequest{RequestId: "x", SchoolId: "s1", PurchaseOrderId: "nope",
		DeliveredOn: "2025-13-01", Lines: []*procurementv1.DeliveryLine{{OrderLineId: paper.LineId}}})
	if status.Code(err) != codes.InvalidArgument || fmt.Sprint(fields(err)) != "[delivered_on lines[0].delivered_quantity purchase_order_id request_id]" {
		t.Fatalf("invalid: %v %v", err, fields(err))
	}
	// Accepted paper needs the stock item it goes into.
	_, err = ful.RecordDelivery(store, &procurementv1.RecordDeliveryRequest{RequestId: "deliver-0000", SchoolId: "s1", PurchaseOrderId: o.PurchaseOrderId,
		DeliveredOn: today, Lines: []*procurementv1.DeliveryLine{{OrderLineId: paper.LineId, DeliveredQuantity: 1, AcceptedQuantity: 1}}})
	if status.Code(err) != codes.InvalidArgument || fmt.Sprint(fields(err)) != "[lines[0].item_code]" {
		t.Fatalf("invalid: %v %v", err, fields(err))
	}
	_, err = ful.RecordDelivery(e.as(t, auth.RoleStorekeeper, "s2"), &procurementv1.RecordDeliveryRequest{RequestId: "deliver-other", SchoolId: "s2",
		PurchaseOrderId: o.PurchaseOrderId, DeliveredOn: today, Lines: []*procurementv1.DeliveryLine{{OrderLineId: paper.LineId, DeliveredQuantity: 1, AcceptedQuantity: 1}}})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("another school's order: %v", err)
	}

	deliver := &procurementv1.RecordDeliveryRequest{RequestId: "deliver-0001", SchoolId: "s1", PurchaseOrderId: o.PurchaseOrderId,
		DeliveredOn: today, FundingSource: "财政拨款", Lines: []*procurementv1.DeliveryLine{
			{OrderLineId: paper.LineId, DeliveredQuantity: 10, AcceptedQuantity: 10, ItemCode: "bg-a4"},
			{OrderLineId: computer.LineId, DeliveredQuantity: 2, AcceptedQuantity: 1, RejectionReason: "外壳破损", Location: "计算机教室", Custodian: "赵老师"},
		}}
	d, err := ful.RecordDelivery(store, deliver)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := ful.RecordDelivery(store, deliver); err != nil || again.ReceiptId != d.ReceiptId || again.AcceptanceLineIds[1] != d.AcceptanceLineIds[1] {
		t.Fatalf("a retry names the same receipt: %v %v", again, err)
	}
	// One computer accepted and waiting for signatures: two more are more than ordered.
	_, err = ful.RecordDelivery(store, &procurementv1.RecordDeliveryRequest{RequestId: "deliver-0002", SchoolId: "s1", PurchaseOrderId: o.PurchaseOrderId,
		DeliveredOn: today, Lines: []*procurementv1.DeliveryLine{{OrderLineId: computer.LineId, DeliveredQuantity: 2, AcceptedQuantity: 2,
			Location: "计算机教室", Custodian: "赵老师"}}})
	if status.Code(err) != codes.FailedPrecondition || reason(err) != "DELIVERY_EXCEEDS_ORDER" {
		t.Fatalf("over-delivery: %v", err)
	}

	sign := func(ctx context.Context, req string) *procurementv1.SignGoodsReceiptResponse {
		t.Helper()
		res, err := ful.SignGoodsReceipt(ctx, &procurementv1.SignGoodsReceiptRequest{RequestId: req, SchoolId: "s1",
			PurchaseOrderId: o.PurchaseOrderId, ReceiptId: d.ReceiptId})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := sign(store, "sign-r-0001"); res.Signers != 1 || res.Accepted {
		t.Fatalf("one signature: %v", res)
	}
	if res := sign(store, "sign-r-0002"); res.Signers != 1 || res.Accepted {
		t.Fatalf("the same person twice: %v", res)
	}
	if res := sign(teacher, "sign-r-0003"); res.Signers != 2 || !res.Accepted {
		t.Fatalf("two people: %v", res)
	}
	// The accepted paper is in stock (the receive-stock process manager), at the order's price.
	stock := procurementv1.NewStockServiceClient(e.conn)
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		it, err := stock.GetStockItem(store, &procurementv1.GetStockItemRequest{SchoolId: "s1", ItemCode: "BG-A4"})
		if err != nil {
			return false, err.Error()
		}
		return it.Item.OnHand == 10 && it.Item.ValueFen == 110_000, fmt.Sprint(it.Item)
	})

	// Three-way match: the price must be the order's.
	invoice := &procurementv1.RecordInvoiceRequest{RequestId: "invoice-0001", SchoolId: "s1", PurchaseOrderId: o.PurchaseOrderId,
		InvoiceNumber: "No.04418901", InvoicedOn: today, TotalFen: 10*11_000 + 440_000, Lines: []*procurementv1.InvoiceLineInput{
			{OrderLineId: paper.LineId, Quantity: 10, UnitPriceFen: 11_000}, {OrderLineId: computer.LineId, Quantity: 1, UnitPriceFen: 440_000}}}
	if _, err := ful.RecordInvoice(accountant, invoice); reason(err) != "INVOICE_PRICE_MISMATCH" {
		t.Fatalf("price mismatch: %v", err)
	}
	invoice.RequestId, invoice.TotalFen, invoice.Lines[1].UnitPriceFen = "invoice-0002", 10*11_000+430_000, 430_000
	inv, err := ful.RecordInvoice(accountant, invoice)
	if err != nil {
		t.Fatal(err)
	}
	signInv := func(ctx context.Context, req string, role procurementv1.InvoiceRole) error {
		_, err := ful.SignInvoice(ctx, &procurementv1.SignInvoiceRequest{RequestId: req, SchoolId: "s1", PurchaseOrderId: o.PurchaseOrderId,
			InvoiceId: inv.InvoiceId, Role: role})
		return err
	}
	if err := signInv(store, "sign-i-0001", procurementv1.InvoiceRole_INVOICE_ROLE_HANDLER); err != nil {
		t.Fatal(err)
	}
	if err := signInv(teacher, "sign-i-0002", procurementv1.InvoiceRole_INVOICE_ROLE_INSPECTOR); err != nil {
		t.Fatal(err)
	}
	if err := signInv(store, "sign-i-0003", procurementv1.InvoiceRole_INVOICE_ROLE_AUDITOR); reason(err) != "INVOICE_SIGNER_REPEATED" {
		t.Fatalf("one person in two roles: %v", err)
	}
	reimburse := &procurementv1.ReimburseInvoiceRequest{RequestId: "reimburse-0001", SchoolId: "s1", PurchaseOrderId: o.PurchaseOrderId,
		InvoiceId: inv.InvoiceId, CloseOrder: true}
	if _, err := ful.ReimburseInvoice(accountant, reimburse); reason(err) != "INVOICE_NEEDS_THREE_SIGNERS" {
		t.Fatalf("two signers: %v", err)
	}
	if err := signInv(accountant, "sign-i-0004", procurementv1.InvoiceRole_INVOICE_ROLE_AUDITOR); err != nil {
		t.Fatal(err)
	}
	reimburse.RequestId = "reimburse-0002"
	if _, err := ful.ReimburseInvoice(accountant, reimburse); reason(err) != "ASSET_NOT_REGISTERED" {
		t.Fatalf("unregistered asset: %v", err)
	}
	if b := e.budget(t, "s1", budgetLine); b.SpentFen != 0 || b.CommittedFen != 970_000 {
		t.Fatalf("a refused reimbursement spent: %v", b)
	}

	// The assets service registered the computer (its event, twice, as a redelivery beyond
	// the de-duplication window would): the line records it once.
	assetID := uuid.NewString()
	publishAssetRegistered(t, e, "s1", o.PurchaseOrderId, d.AcceptanceLineIds[1], assetID)
	publishAssetRegistered(t, e, "s1", o.PurchaseOrderId, d.AcceptanceLineIds[1], assetID)
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		f, err := ful.GetFulfilment(accountant, &procurementv1.GetFulfilmentRequest{SchoolId: "s1", PurchaseOrderId: o.PurchaseOrderId})
		if err != nil {
			return false, err.Error()
		}
		l := f.Fulfilment.Receipts[0].Lines[1]
		return l.AssetId == assetID && l.RejectedQuantity == 1 && l.RejectionReason == "外壳破损", fmt.Sprint(l)
	})
	testkit.Eventually(t, 10*time.Second, 50*time.Millisecond, func() (bool, string) {
		s := e.svc.Reactors()[0].Stats()
		return s.Handled == 2, fmt.Sprintf("%+v", s)
	})
	registered := 0
	for _, ev := range e.events(t) {
		if event.ShortType(ev.Type) == "AcceptedLineRegistered" {
			registered++
		}
	}
	if registered != 1 {
		t.Fatalf("%d registrations recorded", registered)
	}

	res, err := ful.ReimburseInvoice(accountant, reimburse)
	if err != nil || res.AmountFen != 540_000 {
		t.Fatalf("reimburse: %v %v", res, err)
	}
	// Every decision on receipts and invoices records the policy it was judged by.
	for _, ev := range e.events(t) {
		if ev.StreamType == "fulfilment" && event.ShortType(ev.Type) != "AcceptedLineRegistered" && ev.PolicyVersion != "proc-2020" {
			t.Errorf("%s without its policy version", ev.Type)
		}
	}
	if again, err := ful.ReimburseInvoice(accountant, reimburse); err != nil || again.Version != res.Version {
		t.Fatalf("a retry: %v %v", again, err)
	}
	// Spent what was invoiced; the rest of the commitment (the rejected computer) released.
	if b := e.budget(t, "s1", budgetLine); b.SpentFen != 540_000 || b.CommittedFen != 0 || b.AvailableFen != 960_000 {
		t.Fatalf("budget %v", b)
	}
	if _, err := ful.SignGoodsReceipt(accountant, &procurementv1.SignGoodsReceiptRequest{RequestId: "sign-r-0009", SchoolId: "s1",
		PurchaseOrderId: o.PurchaseOrderId, ReceiptId: d.ReceiptId}); reason(err) != "GOODS_RECEIPT_ALREADY_ACCEPTED" {
		t.Fatalf("signing an accepted receipt: %v", err)
	}
	_, err = ful.RecordDelivery(store, &procurementv1.RecordDeliveryRequest{RequestId: "deliver-0003", SchoolId: "s1", PurchaseOrderId: o.PurchaseOrderId,
		DeliveredOn: today, Lines: []*procurementv1.DeliveryLine{{OrderLineId: computer.LineId, DeliveredQuantity: 1, AcceptedQuantity: 1,
			Location: "计算机教室", Custodian: "赵老师"}}})
	if reason(err) != "PURCHASE_ORDER_NOT_OPEN" {
		t.Fatalf("delivery to a closed order: %v", err)
	}
}

func TestFulfilmentAuthorization(t *testing.T) {
	e := start(t)
	testkit.AuthorizationMatrix(t, e.conn, "houqin.procurement.v1.FulfilmentService", e.auth, auth.Table, "s1", "s2")
}
