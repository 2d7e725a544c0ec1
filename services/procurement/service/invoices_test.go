package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/bus"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

// An invoice is cancelled before reimbursement and replaced; a reimbursed one only by a
// red-letter invoice that is matched and signed like any invoice and reverses the spend; the
// corrected invoice after it must fit the line (no spend beyond a line without an approved
// adjustment).
func TestInvoiceCancellationAndReversal(t *testing.T) {
	e := start(t)
	if _, err := bus.EnsureStream(context.Background(), e.svc.JS, "assets", bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	o, budgetLine := e.order(t, "s1", "red-0001")
	paper := o.Lines[0]
	ful := procurementv1.NewFulfilmentServiceClient(e.conn)
	store, teacher := e.as(t, auth.RoleStorekeeper, "s1"), e.as(t, auth.RoleTeacher, "s1")
	accountant, director := e.as(t, auth.RoleAccountant, "s1"), e.as(t, auth.RoleLogisticsDirector, "s1")
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	d, err := ful.RecordDelivery(store, &procurementv1.RecordDeliveryRequest{RequestId: "deliver-red-1", SchoolId: "s1", PurchaseOrderId: o.PurchaseOrderId,
		DeliveredOn: today, Lines: []*procurementv1.DeliveryLine{{OrderLineId: paper.LineId, DeliveredQuantity: 10, AcceptedQuantity: 10, ItemCode: "bg-a4"}}})
	if err != nil {
		t.Fatal(err)
	}
	for i, who := range []context.Context{store, teacher} {
		if _, err := ful.SignGoodsReceipt(who, &procurementv1.SignGoodsReceiptRequest{RequestId: fmt.Sprintf("sign-red-r%d", i), SchoolId: "s1",
			PurchaseOrderId: o.PurchaseOrderId, ReceiptId: d.ReceiptId}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	record := func(number, reverses, corrects string) (string, error) {
		n++
		r, err := ful.RecordInvoice(accountant, &procurementv1.RecordInvoiceRequest{RequestId: fmt.Sprintf("invoice-red-%d", n), SchoolId: "s1",
			PurchaseOrderId: o.PurchaseOrderId, InvoiceNumber: number, InvoicedOn: today, TotalFen: 110_000,
			Lines:             []*procurementv1.InvoiceLineInput{{OrderLineId: paper.LineId, Quantity: 10, UnitPriceFen: 11_000}},
			ReversesInvoiceId: reverses, CorrectsInvoiceId: corrects})
		return r.GetInvoiceId(), err
	}
	signAll := func(inv string) {
		t.Helper()
		for i, s := range []struct {
			ctx  context.Context
			role procurementv1.InvoiceRole
		}{{store, procurementv1.InvoiceRole_INVOICE_ROLE_HANDLER}, {teacher, procurementv1.InvoiceRole_INVOICE_ROLE_INSPECTOR},
			{accountant, procurementv1.InvoiceRole_INVOICE_ROLE_AUDITOR}} {
			if _, err := ful.SignInvoice(s.ctx, &procurementv1.SignInvoiceRequest{RequestId: fmt.Sprintf("sign-%s-%d", inv[:8], i), SchoolId: "s1",
				PurchaseOrderId: o.PurchaseOrderId, InvoiceId: inv, Role: s.role}); err != nil {
				t.Fatal(err)
			}
		}
	}
	reimburse := func(req, inv string, close bool) error {
		_, err := ful.ReimburseInvoice(accountant, &procurementv1.ReimburseInvoiceRequest{RequestId: req, SchoolId: "s1",
			PurchaseOrderId: o.PurchaseOrderId, InvoiceId: inv, CloseOrder: close})
		return err
	}
	cancel := func(ctx context.Context, req, inv, reason string) error {
		_, err := ful.CancelInvoice(ctx, &procurementv1.CancelInvoiceRequest{RequestId: req, SchoolId: "s1", PurchaseOrderId: o.PurchaseOrderId,
			InvoiceId: inv, Reason: reason})
		return err
	}

	// 1. A wrong invoice, cancelled before reimbursement (作废) by the accountant, with a reason.
	wrong, err := record("No.1001", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := cancel(teacher, "cancel-inv-0", wrong, "抬头错误"); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a teacher cancels: %v", err)
	}
	if err := cancel(accountant, "cancel-inv-1", wrong, ""); status.Code(err) != codes.InvalidArgument || fmt.Sprint(fields(err)) != "[reason]" {
		t.Fatalf("no reason: %v", err)
	}
	if err := cancel(accountant, "cancel-inv-2", wrong, "发票抬头错误"); err != nil {
		t.Fatal(err)
	}
	if _, err := record("No.1002", "", ""); err != nil {
		// the cancelled quantities are free again (without naming it too)
		t.Fatal(err)
	}
	f, err := ful.GetFulfilment(accountant, &procurementv1.GetFulfilmentRequest{SchoolId: "s1", PurchaseOrderId: o.PurchaseOrderId})
	if err != nil {
		t.Fatal(err)
	}
	if iv := f.Fulfilment.Invoices[0]; !iv.Cancelled || iv.CancelReason != "发票抬头错误" {
		t.Fatalf("cancelled invoice %v", iv)
	}
	right := f.Fulfilment.Invoices[1].InvoiceId
	signAll(right)
	if err := reimburse("reimburse-red-1", wrong, false); reason(err) != "INVOICE_CANCELLED" {
		t.Fatalf("reimburse a cancelled invoice: %v", err)
	}
	if err := reimburse("reimburse-red-2", right, true); err != nil {
		t.Fatal(err)
	}
	if b := e.budget(t, "s1", budgetLine); b.SpentFen != 110_000 || b.CommittedFen != 0 {
		t.Fatalf("budget after reimbursement: %v", b)
	}

	// 2. Reimbursed: not cancelled, reversed by a red-letter invoice with three signatures.
	if err := cancel(director, "cancel-inv-3", right, "数量错误"); reason(err) != "INVOICE_ALREADY_REIMBURSED" {
		t.Fatalf("cancel a reimbursed invoice: %v", err)
	}
	red, err := record("No.R1003", right, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := reimburse("reimburse-red-3", red, false); reason(err) != "INVOICE_NEEDS_THREE_SIGNERS" {
		t.Fatalf("an unsigned red-letter invoice: %v", err)
	}
	signAll(red)
	if err := reimburse("reimburse-red-4", red, false); err != nil {
		t.Fatal(err)
	}
	if b := e.budget(t, "s1", budgetLine); b.SpentFen != 0 || b.AvailableFen != 1_500_000 {
		t.Fatalf("budget after the reversal: %v", b)
	}

	// 3. Meanwhile the line is lowered; the corrected invoice no longer fits it.
	adjust := func(tag string, amount int64) {
		t.Helper()
		adj, err := e.client.RequestBudgetAdjustment(accountant, &procurementv1.RequestBudgetAdjustmentRequest{RequestId: "adjust-" + tag,
			SchoolId: "s1", BudgetLineId: budgetLine, AmountFen: amount, Reason: "预算调整"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.ApproveBudgetAdjustment(e.as(t, auth.RolePrincipal, "s1"), &procurementv1.ApproveBudgetAdjustmentRequest{
			RequestId: "approve-" + tag, SchoolId: "s1", BudgetLineId: budgetLine, AdjustmentId: adj.AdjustmentId}); err != nil {
			t.Fatal(err)
		}
	}
	adjust("down-0001", -1_450_000)
	corrected, err := record("No.1004", "", right)
	if err != nil {
		t.Fatal(err)
	}
	signAll(corrected)
	if err := reimburse("reimburse-red-5", corrected, true); status.Code(err) != codes.FailedPrecondition || reason(err) != "BUDGET_EXCEEDED" {
		t.Fatalf("spend beyond the line: %v", err)
	}
	f, _ = ful.GetFulfilment(accountant, &procurementv1.GetFulfilmentRequest{SchoolId: "s1", PurchaseOrderId: o.PurchaseOrderId})
	if iv := f.Fulfilment.Invoices[3]; iv.Reimbursed || iv.CorrectsInvoiceId != right || f.Fulfilment.Invoices[1].ReversedByInvoiceId != red {
		t.Fatalf("nothing written by the refusal: %v", f.Fulfilment.Invoices)
	}
	adjust("up-00000001", 100_000)
	if err := reimburse("reimburse-red-6", corrected, true); err != nil {
		t.Fatal(err)
	}
	if b := e.budget(t, "s1", budgetLine); b.SpentFen != 110_000 || b.AmountFen != 150_000 || b.AvailableFen != 40_000 {
		t.Fatalf("budget after the correction: %v", b)
	}
}
