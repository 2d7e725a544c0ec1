package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/testkit"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
	"houqin.dev/tools/internal/stack"
)

// Numbers stockFeesAndCompliance leaves in a school, computed by hand (fen):
//
// Budget: a second line 办公费 of 500,000. Paper, 10 boxes: three quotes (12,000, 12,300,
// 12,600 a box: 货比三家 required above 50,000), the cheapest ordered, delivered, accepted by
// two people, invoiced at 120,000, signed by handler, inspector and auditor, reimbursed (spent
// 120,000, the order closed). Keyboard sets, 2 × 8,800 = 17,600: below the threshold, one
// quote — a purchase without three quotes that 货比三家 does not count — ordered (committed
// 17,600). Compliance: quotes 1/1, acceptances 1/1, invoices 1/1.
//
// Stock, oldest lots first:
//
//	BG-A4  paper, from the accepted line      10 × 12,000                        = 120,000
//	BJ-001 chalk  100 × 350 in; 20 + 10 out, 3 back: 73 × 350                     =  25,550
//	QJ-010 soap   48 × 1,250 + 24 × 1,300 in; 54 out (48 × 1,250 + 6 × 1,300);
//	              counted 16 of 18: shortage 2 × 1,300 approved; 16 × 1,300      =  20,800
//	TY-200 rope   60 × 900 in 220 days ago, never issued: slow-moving (呆滞)     =  54,000
//	BG-BZ  marker 500 × 150 in; 10 out 50 days ago: 490 left, overstock (积压)    =  73,500
//	                                                                     value     293,850
//
// Fees (作业本费, 3,000 a student, classes of 40, 42 and 38): last term collected 360,000,
// spent 336,000, surplus 24,000 refunded per class, approved and published; this term
// collected 360,000, not settled.
const (
	wantBudgetFen     = 2_000_000 + 500_000
	wantSpentFen      = 120_000
	wantCommittedFen  = 17_600
	wantStockFen      = 120_000 + 25_550 + 20_800 + 54_000 + 73_500
	wantSlowFen       = 54_000
	wantFeesCollected = 2 * 360_000
)

func stockFeesAndCompliance(t *testing.T, st *stack.Stack, school string) {
	t.Helper()
	conn, err := stack.Dial(st.ProcurementAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pc, sc := procurementv1.NewProcurementServiceClient(conn), procurementv1.NewStockServiceClient(conn)
	fc, fees := procurementv1.NewFulfilmentServiceClient(conn), procurementv1.NewFeesServiceClient(conn)
	must := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	keeper, teacher := as(t, st, auth.RoleStorekeeper, school), as(t, st, auth.RoleTeacher, school)
	director, accountant := as(t, st, auth.RoleLogisticsDirector, school), as(t, st, auth.RoleAccountant, school)
	today := time.Now().In(time.FixedZone("CST", 8*3600))
	ago := func(days int) string { return today.AddDate(0, 0, -days).Format("2006-01-02") }

	var sups []string
	for i := range 3 {
		r, err := pc.RegisterSupplier(as(t, st, auth.RoleBureauAdmin, ""), &procurementv1.RegisterSupplierRequest{RequestId: fmt.Sprintf("stk-sup-%04d", i),
			Name: fmt.Sprintf("城关文具商行%d", i+1), CreditCode: fmt.Sprintf("91420100MA4K0STK%02d", i), Contact: "经理", Phone: "027-88880000",
			Licences: []*procurementv1.Licence{{Kind: "business_licence", Number: fmt.Sprintf("L%d", i), ExpiresOn: today.AddDate(3, 0, 0).Format("2006-01-02")}}})
		must("supplier", err)
		sups = append(sups, r.SupplierId)
	}
	bl, err := pc.OpenBudgetLine(accountant, &procurementv1.OpenBudgetLineRequest{RequestId: "stk-budget-1", SchoolId: school,
		FiscalYear: int32(today.Year()), Code: "30201", Name: "办公费", AmountFen: 500_000, FundingSource: "财政拨款"})
	must("budget line", err)
	// purchase submits, approves up the chain, quotes and orders; it returns the order.
	purchase := func(tag string, line *procurementv1.RequestLine, prices ...int64) string {
		t.Helper()
		sub, err := pc.SubmitPurchaseRequest(teacher, &procurementv1.SubmitPurchaseRequestRequest{RequestId: "stk-submit-" + tag, SchoolId: school,
			Department: "总务处", BudgetLineId: bl.BudgetLineId, Reason: "办公耗材", Lines: []*procurementv1.RequestLine{line}})
		must("submit "+tag, err)
		for i, role := range []auth.Role{auth.RoleDepartmentHead, auth.RoleLogisticsDirector, auth.RolePrincipal} {
			r, err := pc.ApprovePurchaseRequest(as(t, st, role, school), &procurementv1.ApprovePurchaseRequestRequest{
				RequestId: fmt.Sprintf("stk-approve-%s-%d", tag, i), SchoolId: school, PurchaseRequestId: sub.PurchaseRequestId, Comment: "同意"})
			must("approve "+tag, err)
			if r.Status == "approved" {
				break
			}
		}
		var cheapest string
		for i, p := range prices {
			q, err := pc.AddQuote(keeper, &procurementv1.AddQuoteRequest{RequestId: fmt.Sprintf("stk-quote-%s-%d", tag, i), SchoolId: school,
				PurchaseRequestId: sub.PurchaseRequestId, SupplierId: sups[i], UnitPricesFen: []int64{p}})
			must("quote "+tag, err)
			if i == 0 {
				cheapest = q.QuoteId
			}
		}
		_, err = pc.ChooseQuote(director, &procurementv1.ChooseQuoteRequest{RequestId: "stk-choose-" + tag, SchoolId: school,
			PurchaseRequestId: sub.PurchaseRequestId, QuoteId: cheapest})
		must("choose "+tag, err)
		po, err := pc.PlacePurchaseOrder(director, &procurementv1.PlacePurchaseOrderRequest{RequestId: "stk-order-" + tag, SchoolId: school,
			PurchaseRequestId: sub.PurchaseRequestId})
		must("order "+tag, err)
		return po.PurchaseOrderId
	}
	paper := purchase("paper", &procurementv1.RequestLine{Name: "A4复印纸", Category: "office", Model: "70g", Unit: "箱", Quantity: 10,
		EstimatedUnitPriceFen: 12_500}, 12_000, 12_300, 12_600)
	purchase("keyboards", &procurementv1.RequestLine{Name: "键鼠套装", Category: "office", Unit: "套", Quantity: 2, EstimatedUnitPriceFen: 9_000}, 8_800)

	// The paper: delivered, two signatures, into stock as BG-A4; invoiced, three signatures, reimbursed.
	po, err := pc.GetPurchaseOrder(director, &procurementv1.GetPurchaseOrderRequest{SchoolId: school, PurchaseOrderId: paper})
	must("order", err)
	lineID := po.PurchaseOrder.Lines[0].LineId
	d, err := fc.RecordDelivery(keeper, &procurementv1.RecordDeliveryRequest{RequestId: "stk-deliver-1", SchoolId: school, PurchaseOrderId: paper,
		DeliveredOn: ago(0), Lines: []*procurementv1.DeliveryLine{{OrderLineId: lineID, DeliveredQuantity: 10, AcceptedQuantity: 10, ItemCode: "BG-A4"}}})
	must("delivery", err)
	for i, who := range []context.Context{keeper, teacher} {
		_, err := fc.SignGoodsReceipt(who, &procurementv1.SignGoodsReceiptRequest{RequestId: fmt.Sprintf("stk-sign-r-%d", i), SchoolId: school,
			PurchaseOrderId: paper, ReceiptId: d.ReceiptId})
		must("sign receipt", err)
	}
	inv, err := fc.RecordInvoice(accountant, &procurementv1.RecordInvoiceRequest{RequestId: "stk-invoice-1", SchoolId: school, PurchaseOrderId: paper,
		InvoiceNumber: "No.2001", InvoicedOn: ago(0), TotalFen: 120_000,
		Lines: []*procurementv1.InvoiceLineInput{{OrderLineId: lineID, Quantity: 10, UnitPriceFen: 12_000}}})
	must("invoice", err)
	for i, s := range []struct {
		who  context.Context
		role procurementv1.InvoiceRole
	}{{keeper, procurementv1.InvoiceRole_INVOICE_ROLE_HANDLER}, {teacher, procurementv1.InvoiceRole_INVOICE_ROLE_INSPECTOR},
		{accountant, procurementv1.InvoiceRole_INVOICE_ROLE_AUDITOR}} {
		_, err := fc.SignInvoice(s.who, &procurementv1.SignInvoiceRequest{RequestId: fmt.Sprintf("stk-sign-i-%d", i), SchoolId: school,
			PurchaseOrderId: paper, InvoiceId: inv.InvoiceId, Role: s.role})
		must("sign invoice", err)
	}
	_, err = fc.ReimburseInvoice(accountant, &procurementv1.ReimburseInvoiceRequest{RequestId: "stk-reimburse-1", SchoolId: school,
		PurchaseOrderId: paper, InvoiceId: inv.InvoiceId, CloseOrder: true})
	must("reimburse", err)

	// Stores by hand.
	chalk := &procurementv1.StockItemSpec{Code: "BJ-001", Name: "无尘粉笔", Unit: "盒", Category: "教学耗材"}
	soap := &procurementv1.StockItemSpec{Code: "QJ-010", Name: "洗手液", Unit: "瓶", Category: "清洁用品"}
	rope := &procurementv1.StockItemSpec{Code: "TY-200", Name: "跳绳", Unit: "条", Category: "体育器材"}
	marker := &procurementv1.StockItemSpec{Code: "BG-BZ", Name: "白板笔", Unit: "支", Category: "办公用品"}
	for i, in := range []struct {
		spec      *procurementv1.StockItemSpec
		qty, cost int64
		days      int
	}{{chalk, 100, 350, 40}, {soap, 48, 1_250, 60}, {soap, 24, 1_300, 20}, {rope, 60, 900, 220}, {marker, 500, 150, 100}} {
		_, err := sc.ReceiveGoods(keeper, &procurementv1.ReceiveGoodsRequest{RequestId: fmt.Sprintf("stk-in-%04d", i), SchoolId: school, Item: in.spec,
			Quantity: in.qty, UnitCostFen: in.cost, ReceivedOn: ago(in.days), Source: "other"})
		must("goods in", err)
	}
	requisition := func(tag string, lines ...*procurementv1.RequisitionLine) string {
		t.Helper()
		r, err := sc.RequestRequisition(teacher, &procurementv1.RequestRequisitionRequest{RequestId: "stk-req-" + tag, SchoolId: school,
			Department: "教务处", Purpose: "教学与保洁", Lines: lines})
		must("requisition", err)
		_, err = sc.ApproveRequisition(director, &procurementv1.ApproveRequisitionRequest{RequestId: "stk-req-ok-" + tag, SchoolId: school,
			RequisitionId: r.RequisitionId})
		must("approve requisition", err)
		return r.RequisitionId
	}
	teaching := requisition("teaching", &procurementv1.RequisitionLine{ItemCode: "BJ-001", Quantity: 30}, &procurementv1.RequisitionLine{ItemCode: "BG-BZ", Quantity: 10})
	cleaning := requisition("cleaning", &procurementv1.RequisitionLine{ItemCode: "QJ-010", Quantity: 60})
	for i, out := range []struct {
		req, code string
		qty       int64
		days      int
	}{{teaching, "BG-BZ", 10, 50}, {teaching, "BJ-001", 20, 30}, {teaching, "BJ-001", 10, 10}, {cleaning, "QJ-010", 54, 5}} {
		_, err := sc.IssueStock(keeper, &procurementv1.IssueStockRequest{RequestId: fmt.Sprintf("stk-out-%04d", i), SchoolId: school,
			RequisitionId: out.req, ItemCode: out.code, Quantity: out.qty, IssuedOn: ago(out.days)})
		must("issue", err)
	}
	_, err = sc.ReturnStock(keeper, &procurementv1.ReturnStockRequest{RequestId: "stk-return-1", SchoolId: school, RequisitionId: teaching,
		ItemCode: "BJ-001", Quantity: 3, ReturnedOn: ago(4), Reason: "剩余退库"})
	must("return", err)
	_, err = sc.RecordStockCount(keeper, &procurementv1.RecordStockCountRequest{RequestId: "stk-count-1", SchoolId: school, StocktakeId: "PD-1",
		ItemCode: "QJ-010", CountedQuantity: 16, CountedOn: ago(2)})
	must("count", err)
	_, err = sc.ApproveStockAdjustment(director, &procurementv1.ApproveStockAdjustmentRequest{RequestId: "stk-adjust-1", SchoolId: school,
		StocktakeId: "PD-1", ItemCode: "QJ-010", AdjustedOn: ago(1)})
	must("adjustment", err)

	// Fees.
	for _, term := range []string{"2025-2026-2", "2026-2027-1"} {
		pub, err := fees.PublishFeeStandard(accountant, &procurementv1.PublishFeeStandardRequest{RequestId: "stk-fee-" + term, SchoolId: school,
			Term: term, Item: "作业本费", Kind: "on_behalf", AmountPerStudentFen: 3_000, Basis: "代收费目录", ApprovalDocument: "区教发〔2024〕12号"})
		must("fee standard", err)
		var refunds []*procurementv1.FeeRefund
		for i, c := range []struct {
			name string
			n    int64
		}{{"一年级一班", 40}, {"一年级二班", 42}, {"一年级三班", 38}} {
			_, err := fees.RecordFeeCollection(teacher, &procurementv1.RecordFeeCollectionRequest{RequestId: fmt.Sprintf("stk-fee-%s-%d", term, i),
				SchoolId: school, FeeId: pub.FeeId, ClassName: c.name, StudentCount: c.n, AmountFen: c.n * 3_000, CollectedOn: ago(0)})
			must("collection", err)
			refunds = append(refunds, &procurementv1.FeeRefund{ClassName: c.name, StudentCount: c.n, AmountFen: c.n * 200})
		}
		if term != "2025-2026-2" {
			continue
		}
		_, err = fees.SettleFees(accountant, &procurementv1.SettleFeesRequest{RequestId: "stk-fee-settle", SchoolId: school, FeeId: pub.FeeId,
			SpentFen: 336_000, Refunds: refunds, SettledOn: ago(0)})
		must("settle", err)
		_, err = fees.ApproveFeeSettlement(as(t, st, auth.RolePrincipal, school), &procurementv1.ApproveFeeSettlementRequest{RequestId: "stk-fee-approve",
			SchoolId: school, FeeId: pub.FeeId})
		must("approve settlement", err)
		_, err = fees.PublishFeeSettlement(accountant, &procurementv1.PublishFeeSettlementRequest{RequestId: "stk-fee-publish", SchoolId: school, FeeId: pub.FeeId})
		must("publish settlement", err)
	}

	// Everything projected (the paper reaches stock through the process manager) before a
	// page reads it.
	dirTok := token(t, st, auth.RoleLogisticsDirector, school)
	testkit.Eventually(t, 60*time.Second, 100*time.Millisecond, func() (bool, string) {
		var sv struct {
			ValueFen string `json:"value_fen"`
		}
		var c struct {
			Schools []struct {
				Invoices int `json:"invoices_reimbursed"`
			} `json:"schools"`
		}
		var f struct {
			Fees []struct {
				Status string `json:"status"`
			} `json:"fees"`
		}
		getJSON(t, st, dirTok, "/api/v1/schools/"+school+"/procurement/stock", &sv)
		getJSON(t, st, dirTok, "/api/v1/schools/"+school+"/procurement/compliance", &c)
		getJSON(t, st, dirTok, "/api/v1/schools/"+school+"/procurement/fees", &f)
		ok := sv.ValueFen == fmt.Sprint(wantStockFen) && len(c.Schools) == 1 && c.Schools[0].Invoices == 1 && len(f.Fees) == 2
		return ok, fmt.Sprintf("stock %s, compliance %+v, fees %+v", sv.ValueFen, c, f)
	})
}
