package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"

	assetsapp "houqin.dev/assets/app"
	"houqin.dev/platform/auth"
	"houqin.dev/platform/logging"
	"houqin.dev/platform/outbox"
	"houqin.dev/platform/reactor"
	"houqin.dev/platform/testkit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
	"houqin.dev/tools/internal/stack"
)

func reasonOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei.Reason
		}
	}
	return ""
}

// count runs a counting query on one of the stack's databases.
func count(t *testing.T, st *stack.Stack, db, query string, args ...any) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), st.DatabaseURL(db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The first cross-service flow (采购 → 验收 → 入账 → 报账): request, approvals, three quotes,
// order, a delivery accepted by two people with a rejected line, the fixed-asset line
// registered in the assets service by the process manager — while the assets service is down
// and after it is back — the invoice signed by three people and reimbursed; the refusals on
// the way; and a redelivery of everything to both process managers registering nothing twice.
func TestProcurementToAssetsToReimbursement(t *testing.T) {
	dir, err := os.MkdirTemp("", "houqin-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := stack.Start(ctx, stack.Options{DataDir: dir, Log: logging.Discard(), District: "demo",
		Reactor: reactor.Options{Backoff: func(uint64) time.Duration { return 100 * time.Millisecond }}})
	if err != nil {
		t.Fatal(err)
	}
	var stopAssets, stopProcurement func() error
	t.Cleanup(func() {
		for _, stop := range []func() error{stopProcurement, stopAssets} {
			if stop != nil {
				_ = stop()
			}
		}
		st.Close()
		os.RemoveAll(dir)
	})
	if stopAssets, err = st.StartAssets(ctx, outbox.Options{}); err != nil {
		t.Fatal(err)
	}
	if stopProcurement, err = st.StartProcurement(ctx, outbox.Options{}); err != nil {
		t.Fatal(err)
	}
	const school = "qs-e2e-zx"
	ac := assets(t, st)
	registerSchool(t, st, ac, school, "石牌中学", assetsv1.SchoolKind_SCHOOL_KIND_MIDDLE)
	conn, err := stack.Dial(st.ProcurementAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pc := procurementv1.NewProcurementServiceClient(conn)
	fc := procurementv1.NewFulfilmentServiceClient(conn)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	bureau := as(t, st, auth.RoleBureauAdmin, "")
	teacher := as(t, st, auth.RoleTeacher, school)
	director := as(t, st, auth.RoleLogisticsDirector, school)
	store := as(t, st, auth.RoleStorekeeper, school)
	accountant := as(t, st, auth.RoleAccountant, school)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	today := time.Now().In(loc).Format("2006-01-02")

	var sups []string
	for i := 1; i <= 3; i++ {
		s, err := pc.RegisterSupplier(bureau, &procurementv1.RegisterSupplierRequest{RequestId: fmt.Sprintf("supplier-%04d", i),
			Name: fmt.Sprintf("城关电教器材%d部", i), CreditCode: fmt.Sprintf("91140100MA0K00000%d", i),
			Licences: []*procurementv1.Licence{{Kind: "business_licence", Number: fmt.Sprint(i), ExpiresOn: "2099-12-31"}}})
		must(s, err)
		sups = append(sups, s.SupplierId)
	}
	bl, err := pc.OpenBudgetLine(accountant, &procurementv1.OpenBudgetLineRequest{RequestId: "budget-0001", SchoolId: school,
		FiscalYear: int32(time.Now().In(loc).Year()), Code: "3100201", Name: "专用设备购置", AmountFen: 2_000_000, FundingSource: "财政拨款"})
	must(bl, err)

	// Request → three approvals → three quotes → order.
	request := func(tag string, projectors int64) string {
		sub, err := pc.SubmitPurchaseRequest(teacher, &procurementv1.SubmitPurchaseRequestRequest{RequestId: "submit-" + tag, SchoolId: school,
			Department: "教务处", BudgetLineId: bl.BudgetLineId, Reason: "多媒体教室改造", Lines: []*procurementv1.RequestLine{
				{Name: "投影仪", Category: "2", Model: "EB-X51", Unit: "台", Quantity: projectors, EstimatedUnitPriceFen: 450_000},
				{Name: "A4复印纸", Category: "office", Unit: "箱", Quantity: 10, EstimatedUnitPriceFen: 11_000}}})
		must(sub, err)
		for i, role := range []auth.Role{auth.RoleDepartmentHead, auth.RoleLogisticsDirector, auth.RolePrincipal} {
			must(pc.ApprovePurchaseRequest(as(t, st, role, school), &procurementv1.ApprovePurchaseRequestRequest{
				RequestId: fmt.Sprintf("approve-%s-%d", tag, i), SchoolId: school, PurchaseRequestId: sub.PurchaseRequestId}))
		}
		var first string
		for i, sup := range sups {
			q, err := pc.AddQuote(store, &procurementv1.AddQuoteRequest{RequestId: fmt.Sprintf("quote-%s-%d", tag, i), SchoolId: school,
				PurchaseRequestId: sub.PurchaseRequestId, SupplierId: sup, UnitPricesFen: []int64{440_000 + int64(i)*5_000, 11_000}})
			must(q, err)
			if i == 0 {
				first = q.QuoteId
			}
		}
		must(pc.ChooseQuote(director, &procurementv1.ChooseQuoteRequest{RequestId: "choose-" + tag, SchoolId: school,
			PurchaseRequestId: sub.PurchaseRequestId, QuoteId: first}))
		return sub.PurchaseRequestId
	}
	placed, err := pc.PlacePurchaseOrder(director, &procurementv1.PlacePurchaseOrderRequest{RequestId: "order-0001", SchoolId: school,
		PurchaseRequestId: request("a", 3)})
	must(placed, err)
	if placed.TotalFen != 3*440_000+10*11_000 {
		t.Fatalf("order %v", placed)
	}
	// Over budget: 1,430,000 committed of 2,000,000; two more projectors do not fit.
	_, err = pc.PlacePurchaseOrder(director, &procurementv1.PlacePurchaseOrderRequest{RequestId: "order-0002", SchoolId: school,
		PurchaseRequestId: request("b", 2)})
	if reasonOf(err) != "BUDGET_EXCEEDED" {
		t.Fatalf("over budget: %v", err)
	}
	order, err := pc.GetPurchaseOrder(director, &procurementv1.GetPurchaseOrderRequest{SchoolId: school, PurchaseOrderId: placed.PurchaseOrderId})
	must(order, err)
	projector, paper := order.PurchaseOrder.Lines[0], order.PurchaseOrder.Lines[1]
	if !projector.FixedAsset || paper.FixedAsset {
		t.Fatalf("lines %v", order.PurchaseOrder.Lines)
	}

	// Delivery: two projectors accepted, one rejected; the paper accepted.
	d, err := fc.RecordDelivery(store, &procurementv1.RecordDeliveryRequest{RequestId: "deliver-0001", SchoolId: school,
		PurchaseOrderId: placed.PurchaseOrderId, DeliveredOn: today, FundingSource: "财政拨款", Lines: []*procurementv1.DeliveryLine{
			{OrderLineId: projector.LineId, DeliveredQuantity: 3, AcceptedQuantity: 2, RejectionReason: "镜头划伤", Location: "多媒体教室201", Custodian: "刘老师"},
			{OrderLineId: paper.LineId, DeliveredQuantity: 10, AcceptedQuantity: 10, ItemCode: "BG-A4"}}})
	must(d, err)
	projectorLine := d.AcceptanceLineIds[0]

	// The assets service goes down before the receipt is signed: the acceptance waits.
	if err := stopAssets(); err != nil {
		t.Fatal(err)
	}
	stopAssets = nil
	for i, who := range []context.Context{store, teacher} {
		res, err := fc.SignGoodsReceipt(who, &procurementv1.SignGoodsReceiptRequest{RequestId: fmt.Sprintf("sign-r-%04d", i), SchoolId: school,
			PurchaseOrderId: placed.PurchaseOrderId, ReceiptId: d.ReceiptId})
		must(res, err)
		if res.Accepted != (i == 1) {
			t.Fatalf("signature %d: %v", i, res)
		}
	}

	// The invoice: a price that is not the order's is refused; two signers are not enough.
	lines := []*procurementv1.InvoiceLineInput{{OrderLineId: projector.LineId, Quantity: 2, UnitPriceFen: 450_000},
		{OrderLineId: paper.LineId, Quantity: 10, UnitPriceFen: 11_000}}
	_, err = fc.RecordInvoice(accountant, &procurementv1.RecordInvoiceRequest{RequestId: "invoice-0001", SchoolId: school,
		PurchaseOrderId: placed.PurchaseOrderId, InvoiceNumber: "No.11", InvoicedOn: today, Lines: lines, TotalFen: 1_010_000})
	if reasonOf(err) != "INVOICE_PRICE_MISMATCH" {
		t.Fatalf("price mismatch: %v", err)
	}
	lines[0].UnitPriceFen = 440_000
	inv, err := fc.RecordInvoice(accountant, &procurementv1.RecordInvoiceRequest{RequestId: "invoice-0002", SchoolId: school,
		PurchaseOrderId: placed.PurchaseOrderId, InvoiceNumber: "No.11", InvoicedOn: today, Lines: lines, TotalFen: 990_000})
	must(inv, err)
	signInvoice := func(who context.Context, req string, role procurementv1.InvoiceRole) {
		must(fc.SignInvoice(who, &procurementv1.SignInvoiceRequest{RequestId: req, SchoolId: school, PurchaseOrderId: placed.PurchaseOrderId,
			InvoiceId: inv.InvoiceId, Role: role}))
	}
	signInvoice(store, "sign-i-0001", procurementv1.InvoiceRole_INVOICE_ROLE_HANDLER)
	signInvoice(teacher, "sign-i-0002", procurementv1.InvoiceRole_INVOICE_ROLE_INSPECTOR)
	reimburse := func(req string) (*procurementv1.ReimburseInvoiceResponse, error) {
		return fc.ReimburseInvoice(accountant, &procurementv1.ReimburseInvoiceRequest{RequestId: req, SchoolId: school,
			PurchaseOrderId: placed.PurchaseOrderId, InvoiceId: inv.InvoiceId, CloseOrder: true})
	}
	if _, err := reimburse("reimburse-0001"); reasonOf(err) != "INVOICE_NEEDS_THREE_SIGNERS" {
		t.Fatalf("two signers: %v", err)
	}
	signInvoice(accountant, "sign-i-0003", procurementv1.InvoiceRole_INVOICE_ROLE_AUDITOR)
	// Still down: the projectors are not registered, so no reimbursement.
	if _, err := reimburse("reimburse-0002"); reasonOf(err) != "ASSET_NOT_REGISTERED" {
		t.Fatalf("unregistered asset: %v", err)
	}

	// The assets service comes back: the process manager's retries register the projectors,
	// and the registration comes back to procurement through the assets stream.
	if stopAssets, err = st.StartAssets(ctx, outbox.Options{}); err != nil {
		t.Fatal(err)
	}
	ac = assets(t, st)
	var assetID string
	testkit.Eventually(t, 60*time.Second, 100*time.Millisecond, func() (bool, string) {
		f, err := fc.GetFulfilment(accountant, &procurementv1.GetFulfilmentRequest{SchoolId: school, PurchaseOrderId: placed.PurchaseOrderId})
		if err != nil {
			return false, err.Error()
		}
		assetID = f.Fulfilment.Receipts[0].Lines[0].AssetId
		return assetID != "", fmt.Sprint(f.Fulfilment.Receipts[0].Lines[0])
	})
	if assetID != assetsapp.PurchaseLineAssetID(projectorLine) {
		t.Fatalf("asset %s is not the line's", assetID)
	}
	a, err := ac.GetAsset(director, &assetsv1.GetAssetRequest{SchoolId: school, AssetId: assetID})
	must(a, err)
	if a.Asset.Quantity != 2 || a.Asset.UnitPriceFen != 440_000 || a.Asset.Location != "多媒体教室201" || a.Asset.Custodian != "刘老师" {
		t.Fatalf("asset %v", a.Asset)
	}

	res, err := reimburse("reimburse-0003")
	if err != nil || res.AmountFen != 990_000 {
		t.Fatalf("reimburse: %v %v", res, err)
	}
	b, err := pc.GetBudgetLine(accountant, &procurementv1.GetBudgetLineRequest{SchoolId: school, BudgetLineId: bl.BudgetLineId})
	must(b, err)
	if b.BudgetLine.SpentFen != 990_000 || b.BudgetLine.CommittedFen != 0 || b.BudgetLine.AvailableFen != 1_010_000 {
		t.Fatalf("budget %v", b.BudgetLine)
	}

	// Both process managers see everything again (their consumers deleted, the procurement
	// service restarted): nothing is registered or recorded twice.
	if err := stopProcurement(); err != nil {
		t.Fatal(err)
	}
	stopProcurement = nil
	js := st.Assets.JS
	redeliver := map[string]string{"react-procurement-register-assets": "HOUQIN_PROCUREMENT",
		"react-procurement-receive-stock": "HOUQIN_PROCUREMENT", "react-procurement-lines-registered": "HOUQIN_ASSETS"}
	for consumer, stream := range redeliver {
		if err := js.DeleteConsumer(ctx, stream, consumer); err != nil {
			t.Fatalf("%s: %v", consumer, err)
		}
	}
	if stopProcurement, err = st.StartProcurement(ctx, outbox.Options{}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		// The reactors whose consumers were deleted (the service has others, e.g. the one
		// learning the district's asset categories, with nothing to do here).
		handled := map[string]uint64{}
		for _, r := range st.Procurement.Reactors() {
			if _, ok := redeliver[r.ConsumerName()]; ok {
				handled[r.ConsumerName()] = r.Stats().Handled
			}
		}
		ok := len(handled) == len(redeliver)
		for _, n := range handled {
			ok = ok && n >= 1
		}
		return ok, fmt.Sprint(handled)
	})
	if n := count(t, st, "houqin_assets", `SELECT count(*) FROM events WHERE event_type = 'houqin.assets.events.v1.AssetRegistered'`); n != 1 {
		t.Fatalf("%d assets registered, want the projectors once", n)
	}
	if n := count(t, st, "houqin_procurement", `SELECT count(*) FROM events WHERE event_type = 'houqin.procurement.events.v1.AcceptedLineRegistered'`); n != 1 {
		t.Fatalf("%d registrations recorded, want one", n)
	}
	item, err := procurementv1.NewStockServiceClient(conn).GetStockItem(store, &procurementv1.GetStockItemRequest{SchoolId: school, ItemCode: "BG-A4"})
	if err != nil || item.Item.OnHand != 10 || len(item.Item.Lots) != 1 {
		t.Fatalf("paper received into stock once: %v %v", item, err)
	}

	// The reimbursed invoice was wrong: a red-letter invoice (红字发票), matched and signed by
	// three people, reverses its spend; meanwhile the line is lowered, so the corrected
	// invoice is refused at reimbursement (no spend beyond a line without an approved
	// adjustment) until an adjustment raises the line again.
	sign3 := func(tag, invoiceID string) {
		for i, s := range []struct {
			who  context.Context
			role procurementv1.InvoiceRole
		}{{store, procurementv1.InvoiceRole_INVOICE_ROLE_HANDLER}, {teacher, procurementv1.InvoiceRole_INVOICE_ROLE_INSPECTOR},
			{accountant, procurementv1.InvoiceRole_INVOICE_ROLE_AUDITOR}} {
			must(fc.SignInvoice(s.who, &procurementv1.SignInvoiceRequest{RequestId: fmt.Sprintf("sign-%s-%d", tag, i), SchoolId: school,
				PurchaseOrderId: placed.PurchaseOrderId, InvoiceId: invoiceID, Role: s.role}))
		}
	}
	reimburseInvoice := func(req, invoiceID string) error {
		_, err := fc.ReimburseInvoice(accountant, &procurementv1.ReimburseInvoiceRequest{RequestId: req, SchoolId: school,
			PurchaseOrderId: placed.PurchaseOrderId, InvoiceId: invoiceID, CloseOrder: true})
		return err
	}
	spentAvailable := func() (int64, int64) {
		b, err := pc.GetBudgetLine(accountant, &procurementv1.GetBudgetLineRequest{SchoolId: school, BudgetLineId: bl.BudgetLineId})
		must(b, err)
		return b.BudgetLine.SpentFen, b.BudgetLine.AvailableFen
	}
	if _, err := fc.CancelInvoice(accountant, &procurementv1.CancelInvoiceRequest{RequestId: "cancel-inv-1", SchoolId: school,
		PurchaseOrderId: placed.PurchaseOrderId, InvoiceId: inv.InvoiceId, Reason: "单价开错"}); reasonOf(err) != "INVOICE_ALREADY_REIMBURSED" {
		t.Fatalf("cancel a reimbursed invoice: %v", err)
	}
	red, err := fc.RecordInvoice(accountant, &procurementv1.RecordInvoiceRequest{RequestId: "invoice-red-1", SchoolId: school,
		PurchaseOrderId: placed.PurchaseOrderId, InvoiceNumber: "No.R11", InvoicedOn: today, Lines: lines, TotalFen: 990_000,
		ReversesInvoiceId: inv.InvoiceId})
	must(red, err)
	sign3("red", red.InvoiceId)
	must(nil, reimburseInvoice("reimburse-red-1", red.InvoiceId))
	if spent, available := spentAvailable(); spent != 0 || available != 2_000_000 {
		t.Fatalf("after the reversal: spent %d, available %d", spent, available)
	}
	adjust := func(tag string, amount int64) {
		adj, err := pc.RequestBudgetAdjustment(accountant, &procurementv1.RequestBudgetAdjustmentRequest{RequestId: "adjust-" + tag,
			SchoolId: school, BudgetLineId: bl.BudgetLineId, AmountFen: amount, Reason: "预算调整"})
		must(adj, err)
		must(pc.ApproveBudgetAdjustment(as(t, st, auth.RolePrincipal, school), &procurementv1.ApproveBudgetAdjustmentRequest{
			RequestId: "approve-" + tag, SchoolId: school, BudgetLineId: bl.BudgetLineId, AdjustmentId: adj.AdjustmentId}))
	}
	adjust("down-0001", -1_500_000)
	corrected, err := fc.RecordInvoice(accountant, &procurementv1.RecordInvoiceRequest{RequestId: "invoice-0003", SchoolId: school,
		PurchaseOrderId: placed.PurchaseOrderId, InvoiceNumber: "No.12", InvoicedOn: today, Lines: lines, TotalFen: 990_000,
		CorrectsInvoiceId: inv.InvoiceId})
	must(corrected, err)
	sign3("fix", corrected.InvoiceId)
	if err := reimburseInvoice("reimburse-fix-1", corrected.InvoiceId); reasonOf(err) != "BUDGET_EXCEEDED" {
		t.Fatalf("spend beyond the line: %v", err)
	}
	if spent, available := spentAvailable(); spent != 0 || available != 500_000 {
		t.Fatalf("a refused reimbursement spent: spent %d, available %d", spent, available)
	}
	adjust("up-00000001", 500_000)
	must(nil, reimburseInvoice("reimburse-fix-2", corrected.InvoiceId))
	if spent, available := spentAvailable(); spent != 990_000 || available != 10_000 {
		t.Fatalf("after the correction: spent %d, available %d", spent, available)
	}
}
