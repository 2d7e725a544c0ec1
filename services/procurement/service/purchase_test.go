package service_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/bus"
	"houqin.dev/platform/event"
	"houqin.dev/platform/testkit"
	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

// thisYear is the fiscal year of today in the district.
func thisYear() int32 {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	return int32(time.Now().In(loc).Year())
}

// line opens a budget line of amount fen in school and returns its id.
func (e *env) line(t *testing.T, school, code string, amount int64) string {
	t.Helper()
	res, err := e.client.OpenBudgetLine(e.as(t, auth.RoleAccountant, school), &procurementv1.OpenBudgetLineRequest{
		RequestId: "line-" + school + "-" + code, SchoolId: school, FiscalYear: thisYear(), Code: code, Name: "设备购置费",
		AmountFen: amount, FundingSource: "财政拨款"})
	if err != nil {
		t.Fatal(err)
	}
	return res.BudgetLineId
}

func (e *env) budget(t *testing.T, school, id string) *procurementv1.BudgetLine {
	t.Helper()
	res, err := e.client.GetBudgetLine(e.as(t, auth.RoleAccountant, school), &procurementv1.GetBudgetLineRequest{SchoolId: school, BudgetLineId: id})
	if err != nil {
		t.Fatal(err)
	}
	return res.BudgetLine
}

var (
	paperLine    = &procurementv1.RequestLine{Name: "A4复印纸", Category: "office", Unit: "箱", Quantity: 10, EstimatedUnitPriceFen: 12_000}
	computerLine = &procurementv1.RequestLine{Name: "台式电脑", Category: "2", Model: "联想启天M437", Unit: "台", Quantity: 2, EstimatedUnitPriceFen: 450_000}
)

// approvedRequest submits paper and computers (10,200 yuan: principal, three quotes), walks the
// chain, adds three quotes and chooses the cheapest. It returns the request's id.
func (e *env) approvedRequest(t *testing.T, school, budgetLine, tag string, suppliers [3]string) string {
	t.Helper()
	teacher := e.as(t, auth.RoleTeacher, school)
	sub, err := e.client.SubmitPurchaseRequest(teacher, &procurementv1.SubmitPurchaseRequestRequest{RequestId: "submit-" + tag, SchoolId: school,
		Department: "信息中心", Lines: []*procurementv1.RequestLine{paperLine, computerLine}, BudgetLineId: budgetLine, Reason: "计算机教室更新"})
	if err != nil {
		t.Fatal(err)
	}
	for i, role := range []auth.Role{auth.RoleDepartmentHead, auth.RoleLogisticsDirector, auth.RolePrincipal} {
		if _, err := e.client.ApprovePurchaseRequest(e.as(t, role, school), &procurementv1.ApprovePurchaseRequestRequest{
			RequestId: fmt.Sprintf("approve-%s-%d", tag, i), SchoolId: school, PurchaseRequestId: sub.PurchaseRequestId, Comment: "同意"}); err != nil {
			t.Fatalf("%s: %v", role, err)
		}
	}
	store := e.as(t, auth.RoleStorekeeper, school)
	var cheapest string
	for i, sup := range suppliers {
		q, err := e.client.AddQuote(store, &procurementv1.AddQuoteRequest{RequestId: fmt.Sprintf("quote-%s-%d", tag, i), SchoolId: school,
			PurchaseRequestId: sub.PurchaseRequestId, SupplierId: sup, UnitPricesFen: []int64{11_000 + int64(i)*100, 430_000 + int64(i)*1000}})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			cheapest = q.QuoteId
		}
	}
	if _, err := e.client.ChooseQuote(e.as(t, auth.RoleLogisticsDirector, school), &procurementv1.ChooseQuoteRequest{RequestId: "choose-" + tag,
		SchoolId: school, PurchaseRequestId: sub.PurchaseRequestId, QuoteId: cheapest}); err != nil {
		t.Fatal(err)
	}
	return sub.PurchaseRequestId
}

func (e *env) suppliers(t *testing.T) [3]string {
	return [3]string{
		e.supplier(t, "sup-00000001", "91140100MA0K000001", "2099-12-31"),
		e.supplier(t, "sup-00000002", "91140100MA0K000002", "2099-12-31"),
		e.supplier(t, "sup-00000003", "91140100MA0K000003", "2099-12-31"),
	}
}

// The first flow: request, approvals, three quotes, order with the budget committed, cancel.
func TestPurchaseRequestToOrder(t *testing.T) {
	e := start(t)
	sups := e.suppliers(t)
	line := e.line(t, "s1", "3100201", 1_500_000) // 15,000 yuan
	director := e.as(t, auth.RoleLogisticsDirector, "s1")

	teacher := e.as(t, auth.RoleTeacher, "s1")
	sub, err := e.client.SubmitPurchaseRequest(teacher, &procurementv1.SubmitPurchaseRequestRequest{RequestId: "submit-00000001", SchoolId: "s1",
		Department: "信息中心", Lines: []*procurementv1.RequestLine{paperLine, computerLine}, BudgetLineId: line, Reason: "计算机教室更新"})
	if err != nil {
		t.Fatal(err)
	}
	if len(sub.Chain) != 3 || sub.Chain[2].Role != "principal" {
		t.Fatalf("chain %v", sub.Chain)
	}
	approveAs := func(role auth.Role, req string) (*procurementv1.ApprovePurchaseRequestResponse, error) {
		return e.client.ApprovePurchaseRequest(e.as(t, role, "s1"), &procurementv1.ApprovePurchaseRequestRequest{
			RequestId: req, SchoolId: "s1", PurchaseRequestId: sub.PurchaseRequestId})
	}
	// Out of turn: the principal cannot approve before the department head.
	if _, err := approveAs(auth.RolePrincipal, "approve-00000000"); reason(err) != "APPROVER_ROLE_REQUIRED" {
		t.Fatalf("out of turn: %v", err)
	}
	// One person holding two roles approves one step only.
	both, err := e.auth.Signer.Sign(auth.Identity{Subject: "wang", Name: "王主任", District: testkit.District, SchoolID: "s1",
		Roles: []auth.Role{auth.RoleDepartmentHead, auth.RoleLogisticsDirector}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.ApprovePurchaseRequest(testkit.Ctx(both), &procurementv1.ApprovePurchaseRequestRequest{RequestId: "approve-00000001",
		SchoolId: "s1", PurchaseRequestId: sub.PurchaseRequestId}); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.ApprovePurchaseRequest(testkit.Ctx(both), &procurementv1.ApprovePurchaseRequestRequest{RequestId: "approve-00000002",
		SchoolId: "s1", PurchaseRequestId: sub.PurchaseRequestId})
	if status.Code(err) != codes.FailedPrecondition || reason(err) != "APPROVER_ALREADY_APPROVED" {
		t.Fatalf("approving twice: %v", err)
	}
	if res, err := approveAs(auth.RoleLogisticsDirector, "approve-00000003"); err != nil || res.Status != "pending" {
		t.Fatal(res, err)
	}
	// Ordering before the last approval is refused.
	_, err = e.client.PlacePurchaseOrder(director, &procurementv1.PlacePurchaseOrderRequest{RequestId: "order-00000000", SchoolId: "s1",
		PurchaseRequestId: sub.PurchaseRequestId})
	if reason(err) != "PURCHASE_REQUEST_NOT_APPROVED" {
		t.Fatalf("order before approval: %v", err)
	}
	if res, err := approveAs(auth.RolePrincipal, "approve-00000004"); err != nil || res.Status != "approved" {
		t.Fatal(res, err)
	}

	// 货比三家: two quotes are not enough to choose.
	store := e.as(t, auth.RoleStorekeeper, "s1")
	var quotes []string
	for i, p := range [][]int64{{11_000, 430_000}, {12_000, 420_000}, {13_000, 440_000}} {
		q, err := e.client.AddQuote(store, &procurementv1.AddQuoteRequest{RequestId: fmt.Sprintf("quote-%08d", i), SchoolId: "s1",
			PurchaseRequestId: sub.PurchaseRequestId, SupplierId: sups[i], UnitPricesFen: p})
		if err != nil {
			t.Fatal(err)
		}
		quotes = append(quotes, q.QuoteId)
		if i == 1 {
			_, err := e.client.ChooseQuote(director, &procurementv1.ChooseQuoteRequest{RequestId: "choose-00000000", SchoolId: "s1",
				PurchaseRequestId: sub.PurchaseRequestId, QuoteId: q.QuoteId})
			if reason(err) != "QUOTES_INSUFFICIENT" {
				t.Fatalf("two quotes: %v", err)
			}
		}
	}
	// A quote repeated answers the same quote; a second quote from the same supplier is refused.
	again, err := e.client.AddQuote(store, &procurementv1.AddQuoteRequest{RequestId: "quote-00000000", SchoolId: "s1",
		PurchaseRequestId: sub.PurchaseRequestId, SupplierId: sups[0], UnitPricesFen: []int64{11_000, 430_000}})
	if err != nil || again.QuoteId != quotes[0] || again.TotalFen != 970_000 {
		t.Fatalf("repeat quote: %v %v", again, err)
	}
	_, err = e.client.AddQuote(store, &procurementv1.AddQuoteRequest{RequestId: "quote-00000009", SchoolId: "s1",
		PurchaseRequestId: sub.PurchaseRequestId, SupplierId: sups[0], UnitPricesFen: []int64{10_000, 400_000}})
	if reason(err) != "QUOTE_SUPPLIER_ALREADY_QUOTED" {
		t.Fatalf("same supplier twice: %v", err)
	}
	// Not the cheapest (quote 0: 9,700 yuan; quote 1: 9,600) needs a reason.
	_, err = e.client.ChooseQuote(director, &procurementv1.ChooseQuoteRequest{RequestId: "choose-00000001", SchoolId: "s1",
		PurchaseRequestId: sub.PurchaseRequestId, QuoteId: quotes[0]})
	if reason(err) != "QUOTE_NOT_CHEAPEST_NEEDS_REASON" {
		t.Fatalf("not cheapest: %v", err)
	}
	if _, err := e.client.ChooseQuote(director, &procurementv1.ChooseQuoteRequest{RequestId: "choose-00000002", SchoolId: "s1",
		PurchaseRequestId: sub.PurchaseRequestId, QuoteId: quotes[0], Reason: "该供应商提供三年上门保修"}); err != nil {
		t.Fatal(err)
	}

	// The order: the chosen quote's prices, the computers are fixed assets, the budget committed.
	order, err := e.client.PlacePurchaseOrder(director, &procurementv1.PlacePurchaseOrderRequest{RequestId: "order-00000001", SchoolId: "s1",
		PurchaseRequestId: sub.PurchaseRequestId})
	if err != nil {
		t.Fatal(err)
	}
	if order.TotalFen != 970_000 {
		t.Fatalf("order %v", order)
	}
	got, err := e.client.GetPurchaseOrder(e.as(t, auth.RoleAccountant, "s1"), &procurementv1.GetPurchaseOrderRequest{SchoolId: "s1", PurchaseOrderId: order.PurchaseOrderId})
	if err != nil {
		t.Fatal(err)
	}
	po := got.PurchaseOrder
	if po.SupplierId != sups[0] || po.Status != "placed" || len(po.Lines) != 2 || po.Lines[0].FixedAsset || !po.Lines[1].FixedAsset ||
		po.Lines[1].LineId != order.PurchaseOrderId+"-2" || po.BudgetLineId != line {
		t.Fatalf("order %v", po)
	}
	if b := e.budget(t, "s1", line); b.CommittedFen != 970_000 || b.AvailableFen != 530_000 {
		t.Fatalf("budget %v", b)
	}
	// A retry of the same call: the same order, nothing committed twice.
	retry, err := e.client.PlacePurchaseOrder(director, &procurementv1.PlacePurchaseOrderRequest{RequestId: "order-00000001", SchoolId: "s1",
		PurchaseRequestId: sub.PurchaseRequestId})
	if err != nil || retry.PurchaseOrderId != order.PurchaseOrderId || retry.TotalFen != 970_000 {
		t.Fatalf("retry: %v %v", retry, err)
	}
	// Another call for the same request: refused, and its commitment released again.
	_, err = e.client.PlacePurchaseOrder(director, &procurementv1.PlacePurchaseOrderRequest{RequestId: "order-00000002", SchoolId: "s1",
		PurchaseRequestId: sub.PurchaseRequestId})
	if reason(err) != "PURCHASE_ORDER_EXISTS" {
		t.Fatalf("second order: %v", err)
	}
	if b := e.budget(t, "s1", line); b.CommittedFen != 970_000 {
		t.Fatalf("budget after a refused second order %v", b)
	}

	// Cancel: the commitment is released; a repeat changes nothing.
	cancel := &procurementv1.CancelPurchaseOrderRequest{RequestId: "cancel-00000001", SchoolId: "s1", PurchaseOrderId: order.PurchaseOrderId, Reason: "供应商无法按期供货"}
	if _, err := e.client.CancelPurchaseOrder(director, cancel); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CancelPurchaseOrder(director, cancel); err != nil {
		t.Fatal(err)
	}
	if b := e.budget(t, "s1", line); b.CommittedFen != 0 || b.AvailableFen != 1_500_000 {
		t.Fatalf("budget after cancel %v", b)
	}
	_, err = e.client.CancelPurchaseOrder(director, &procurementv1.CancelPurchaseOrderRequest{RequestId: "cancel-00000002", SchoolId: "s1",
		PurchaseOrderId: order.PurchaseOrderId, Reason: "再取消一次"})
	if reason(err) != "PURCHASE_ORDER_NOT_CANCELLABLE" {
		t.Fatalf("cancel twice: %v", err)
	}

	// The events carry what reports need: the policy version on every decision, approvals
	// with approver and step, the quote choice's compliance facts.
	evs := e.events(t)
	var approvals, chosen int
	for _, ev := range evs {
		if ev.PolicyVersion == "" && judged[event.ShortType(ev.Type)] {
			t.Errorf("%s without a policy version", ev.Type)
		}
		m, err := ev.Decode()
		if err != nil {
			t.Fatal(err)
		}
		switch x := m.(type) {
		case *eventsv1.PurchaseRequestApproved:
			approvals++
			if x.Approver == "" || x.Step == "" || x.PolicyVersion != "proc-2020" {
				t.Errorf("approval %v", x)
			}
		case *eventsv1.QuoteChosen:
			chosen++
			if x.Cheapest || x.DistinctSuppliers != 3 || x.Reason == "" {
				t.Errorf("choice %v", x)
			}
		}
	}
	if approvals != 3 || chosen != 1 {
		t.Fatalf("%d approvals, %d choices", approvals, chosen)
	}
}

// judged are the events of decisions judged against policy.
var judged = map[string]bool{"PurchaseRequestSubmitted": true, "PurchaseRequestApproved": true, "QuoteAdded": true,
	"QuoteChosen": true, "BudgetAdjustmentRequested": true, "BudgetCommitted": true, "PurchaseOrderPlaced": true}

// events returns every stored event of the service, in order.
func (e *env) events(t *testing.T) []eventRow {
	t.Helper()
	rows, err := e.svc.Store().Pool().Query(context.Background(),
		`SELECT stream_type, event_type, payload, policy_version FROM events ORDER BY recorded_at, version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []eventRow
	for rows.Next() {
		var r eventRow
		if err := rows.Scan(&r.StreamType, &r.Type, &r.Payload, &r.PolicyVersion); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

type eventRow struct {
	StreamType, Type, PolicyVersion string
	Payload                         []byte
}

func (r eventRow) Decode() (proto.Message, error) {
	return event.Event{Type: r.Type, Payload: r.Payload}.Decode()
}

// The budget refuses an order beyond the line; an approved adjustment lets it through.
func TestOrderBeyondTheBudget(t *testing.T) {
	e := start(t)
	sups := e.suppliers(t)
	line := e.line(t, "s1", "3100202", 500_000) // 5,000 yuan; the order is 9,700
	req := e.approvedRequest(t, "s1", line, "a", sups)
	director := e.as(t, auth.RoleLogisticsDirector, "s1")
	place := &procurementv1.PlacePurchaseOrderRequest{RequestId: "order-00000001", SchoolId: "s1", PurchaseRequestId: req}
	_, err := e.client.PlacePurchaseOrder(director, place)
	if status.Code(err) != codes.FailedPrecondition || reason(err) != "BUDGET_EXCEEDED" {
		t.Fatalf("over budget: %v", err)
	}
	var orders int
	_ = e.svc.Store().Pool().QueryRow(context.Background(), `SELECT count(*) FROM events WHERE stream_type='purchase_order'`).Scan(&orders)
	if b := e.budget(t, "s1", line); orders != 0 || b.CommittedFen != 0 {
		t.Fatalf("refused order wrote: %d orders, %v", orders, b)
	}

	// 5,000 yuan more: the principal's tier. The accountant asks, the logistics director may not approve.
	adj, err := e.client.RequestBudgetAdjustment(e.as(t, auth.RoleAccountant, "s1"), &procurementv1.RequestBudgetAdjustmentRequest{
		RequestId: "adjust-00000001", SchoolId: "s1", BudgetLineId: line, AmountFen: 500_000, Reason: "计算机教室更新追加"})
	if err != nil || adj.ApproverRole != "principal" {
		t.Fatal(adj, err)
	}
	approve := &procurementv1.ApproveBudgetAdjustmentRequest{RequestId: "adjust-00000002", SchoolId: "s1", BudgetLineId: line, AdjustmentId: adj.AdjustmentId}
	if _, err := e.client.ApproveBudgetAdjustment(e.as(t, auth.RoleBureauAdmin, ""), approve); reason(err) != "APPROVER_ROLE_REQUIRED" {
		t.Fatalf("bureau approving the principal's tier: %v", err)
	}
	if _, err := e.client.ApproveBudgetAdjustment(e.as(t, auth.RolePrincipal, "s1"), approve); err != nil {
		t.Fatal(err)
	}
	// The retried order goes through now (the earlier refusal committed nothing).
	order, err := e.client.PlacePurchaseOrder(director, place)
	if err != nil {
		t.Fatal(err)
	}
	if b := e.budget(t, "s1", line); b.AmountFen != 1_000_000 || b.CommittedFen != order.TotalFen || len(b.Adjustments) != 1 ||
		b.Adjustments[0].Status != "approved" {
		t.Fatalf("budget %v", b)
	}
	// A large adjustment goes to the bureau; it can be rejected with a reason.
	big, err := e.client.RequestBudgetAdjustment(e.as(t, auth.RolePrincipal, "s1"), &procurementv1.RequestBudgetAdjustmentRequest{
		RequestId: "adjust-00000003", SchoolId: "s1", BudgetLineId: line, AmountFen: 5_000_000, Reason: "新建录播教室"})
	if err != nil || big.ApproverRole != "bureau_admin" {
		t.Fatal(big, err)
	}
	if _, err := e.client.RejectBudgetAdjustment(e.as(t, auth.RoleBureauAdmin, ""), &procurementv1.RejectBudgetAdjustmentRequest{
		RequestId: "adjust-00000004", SchoolId: "s1", BudgetLineId: line, AdjustmentId: big.AdjustmentId, Reason: "本年度不予追加"}); err != nil {
		t.Fatal(err)
	}
}

// Two calls racing to order one request: one order, one commitment.
func TestConcurrentOrdersOfOneRequest(t *testing.T) {
	e := start(t)
	sups := e.suppliers(t)
	line := e.line(t, "s1", "3100203", 10_000_000)
	req := e.approvedRequest(t, "s1", line, "race", sups)
	director := e.as(t, auth.RoleLogisticsDirector, "s1")
	var wg sync.WaitGroup
	results := make([]error, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, results[i] = e.client.PlacePurchaseOrder(director, &procurementv1.PlacePurchaseOrderRequest{
				RequestId: fmt.Sprintf("order-%08d", i), SchoolId: "s1", PurchaseRequestId: req})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range results {
		switch {
		case err == nil:
			ok++
		case reason(err) == "PURCHASE_ORDER_EXISTS" || status.Code(err) == codes.Aborted:
		default:
			t.Errorf("unexpected %v", err)
		}
	}
	b := e.budget(t, "s1", line)
	if ok != 1 || b.CommittedFen != 970_000 {
		t.Fatalf("%d orders placed, %d committed", ok, b.CommittedFen)
	}
}

// Refusals of bad input and of other schools' data.
func TestPurchaseRefusals(t *testing.T) {
	e := start(t)
	line := e.line(t, "s1", "3100204", 1_000_000)
	// The same code in the same school and year is one line; another school may use it.
	_, err := e.client.OpenBudgetLine(e.as(t, auth.RolePrincipal, "s1"), &procurementv1.OpenBudgetLineRequest{RequestId: "line-again-1",
		SchoolId: "s1", FiscalYear: thisYear(), Code: "3100204", Name: "设备购置费", AmountFen: 5})
	if reason(err) != "BUDGET_LINE_EXISTS" {
		t.Fatalf("same line twice: %v", err)
	}
	e.line(t, "s2", "3100204", 1_000_000)
	teacher := e.as(t, auth.RoleTeacher, "s1")
	_, err = e.client.SubmitPurchaseRequest(teacher, &procurementv1.SubmitPurchaseRequestRequest{RequestId: "x", SchoolId: "s1",
		Lines: []*procurementv1.RequestLine{{Name: "椅子", Category: "chairs", Unit: "把", Quantity: 0, EstimatedUnitPriceFen: 100}}, BudgetLineId: "nope"})
	if status.Code(err) != codes.InvalidArgument || fmt.Sprint(fields(err)) != "[budget_line_id department lines[0].category lines[0].quantity reason request_id]" {
		t.Fatalf("bad input: %v %v", err, fields(err))
	}
	// Another school's budget line is unknown to s2.
	_, err = e.client.SubmitPurchaseRequest(e.as(t, auth.RoleTeacher, "s2"), &procurementv1.SubmitPurchaseRequestRequest{RequestId: "submit-00000001",
		SchoolId: "s2", Department: "教务处", Lines: []*procurementv1.RequestLine{paperLine}, BudgetLineId: line, Reason: "教学用纸"})
	if reason(err) != "BUDGET_LINE_UNKNOWN" {
		t.Fatalf("another school's line: %v", err)
	}
	sub, err := e.client.SubmitPurchaseRequest(teacher, &procurementv1.SubmitPurchaseRequestRequest{RequestId: "submit-00000002",
		SchoolId: "s1", Department: "教务处", Lines: []*procurementv1.RequestLine{paperLine}, BudgetLineId: line, Reason: "教学用纸"})
	if err != nil {
		t.Fatal(err)
	}
	// s2's department head cannot see or approve s1's request.
	_, err = e.client.GetPurchaseRequest(e.as(t, auth.RoleDepartmentHead, "s2"), &procurementv1.GetPurchaseRequestRequest{SchoolId: "s2", PurchaseRequestId: sub.PurchaseRequestId})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("cross-school read: %v", err)
	}
	_, err = e.client.ApprovePurchaseRequest(e.as(t, auth.RoleDepartmentHead, "s2"), &procurementv1.ApprovePurchaseRequestRequest{RequestId: "approve-00000001",
		SchoolId: "s1", PurchaseRequestId: sub.PurchaseRequestId})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("cross-school approval: %v", err)
	}
	// Rejected with a reason; then nothing more can happen to it.
	if _, err := e.client.RejectPurchaseRequest(e.as(t, auth.RoleDepartmentHead, "s1"), &procurementv1.RejectPurchaseRequestRequest{RequestId: "reject-00000001",
		SchoolId: "s1", PurchaseRequestId: sub.PurchaseRequestId, Reason: "库存尚有"}); err != nil {
		t.Fatal(err)
	}
	got, err := e.client.GetPurchaseRequest(teacher, &procurementv1.GetPurchaseRequestRequest{SchoolId: "s1", PurchaseRequestId: sub.PurchaseRequestId})
	if err != nil || got.PurchaseRequest.Status != "rejected" || got.PurchaseRequest.RejectionReason != "库存尚有" || got.PurchaseRequest.PolicyVersion != "proc-2020" {
		t.Fatalf("%v %v", got, err)
	}
	_, err = e.client.ApprovePurchaseRequest(e.as(t, auth.RoleDepartmentHead, "s1"), &procurementv1.ApprovePurchaseRequestRequest{RequestId: "approve-00000002",
		SchoolId: "s1", PurchaseRequestId: sub.PurchaseRequestId})
	if reason(err) != "PURCHASE_REQUEST_NOT_PENDING" {
		t.Fatalf("approving a rejected request: %v", err)
	}
	// A blacklisted supplier cannot quote.
	sup := e.supplier(t, "sup-00000001", "91140100MA0K000001", "2099-12-31")
	if _, err := e.client.BlacklistSupplier(e.as(t, auth.RoleBureauAdmin, ""), &procurementv1.BlacklistSupplierRequest{RequestId: "black-00000001",
		SupplierId: sup, Reason: "提供假冒产品"}); err != nil {
		t.Fatal(err)
	}
	sub2, err := e.client.SubmitPurchaseRequest(teacher, &procurementv1.SubmitPurchaseRequestRequest{RequestId: "submit-00000003",
		SchoolId: "s1", Department: "教务处", Lines: []*procurementv1.RequestLine{paperLine}, BudgetLineId: line, Reason: "教学用纸"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client.AddQuote(e.as(t, auth.RoleStorekeeper, "s1"), &procurementv1.AddQuoteRequest{RequestId: "quote-00000001", SchoolId: "s1",
		PurchaseRequestId: sub2.PurchaseRequestId, SupplierId: sup, UnitPricesFen: []int64{11_000}})
	if reason(err) != "SUPPLIER_BLACKLISTED" {
		t.Fatalf("blacklisted quote: %v", err)
	}
}

// Once goods came, the order cannot be cancelled (its commitment stays for the invoices).
func TestNoCancelAfterDelivery(t *testing.T) {
	e := start(t)
	if _, err := bus.EnsureStream(context.Background(), e.svc.JS, "assets", bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	o, line := e.order(t, "s1", "cancel-late")
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	if _, err := procurementv1.NewFulfilmentServiceClient(e.conn).RecordDelivery(e.as(t, auth.RoleStorekeeper, "s1"), &procurementv1.RecordDeliveryRequest{
		RequestId: "deliver-late-1", SchoolId: "s1", PurchaseOrderId: o.PurchaseOrderId, DeliveredOn: today,
		Lines: []*procurementv1.DeliveryLine{{OrderLineId: o.Lines[1].LineId, DeliveredQuantity: 1, RejectionReason: "型号不符"}}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.CancelPurchaseOrder(e.as(t, auth.RoleLogisticsDirector, "s1"), &procurementv1.CancelPurchaseOrderRequest{
		RequestId: "cancel-late-1", SchoolId: "s1", PurchaseOrderId: o.PurchaseOrderId, Reason: "不要了"})
	if status.Code(err) != codes.FailedPrecondition || reason(err) != "PURCHASE_ORDER_NOT_CANCELLABLE" {
		t.Fatalf("cancel after delivery: %v", err)
	}
	if b := e.budget(t, "s1", line); b.CommittedFen != o.TotalFen {
		t.Fatalf("commitment after a refused cancel: %v", b)
	}
}
