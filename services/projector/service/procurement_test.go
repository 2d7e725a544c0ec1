package service_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/bus"
	"houqin.dev/platform/event"
	"houqin.dev/platform/testkit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	pv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// publishProcurement publishes a procurement event on stream ("<type>:<id>") at version.
func (e *env) publishProcurement(t *testing.T, school, stream string, version int64, m proto.Message) {
	t.Helper()
	e.publishProcurementAt(t, school, stream, version, m, time.Now())
}

// publishProcurementAt publishes with a business time.
func (e *env) publishProcurementAt(t *testing.T, school, stream string, version int64, m proto.Message, occurred time.Time) {
	t.Helper()
	payload, _ := event.Marshal(m)
	typ := event.TypeOf(m)
	agg, _, _ := strings.Cut(stream, ":")
	ev := event.Event{ID: uuid.New(), StreamID: stream, StreamType: agg, Version: version, SchoolID: school, Type: typ,
		Payload: payload, OccurredAt: occurred, RecordedAt: time.Now(), Actor: "test", PolicyVersion: "proc-2025"}
	subj, err := event.Subject("procurement", school, agg, typ)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.js.PublishMsg(context.Background(), bus.ToMsg(subj, ev)); err != nil {
		t.Fatal(err)
	}
}

func chain(steps ...string) []*pv1.ApprovalStep {
	var out []*pv1.ApprovalStep
	for _, s := range steps {
		out = append(out, &pv1.ApprovalStep{Step: s, Role: s})
	}
	return out
}

func submitted(id, school, dept string, est int64, on string, steps ...string) *pv1.PurchaseRequestSubmitted {
	return &pv1.PurchaseRequestSubmitted{PurchaseRequestId: id, SchoolId: school, Department: dept, EstimatedTotalFen: est,
		SubmittedOn: on, Chain: chain(steps...)}
}

// procurementHistory publishes budgets and requests of two schools; the numbers the reports
// must give are worked out by hand in the test below.
func procurementHistory(t *testing.T, e *env) {
	e.publish("s1", 1, &assetsv1.SchoolRegistered{SchoolId: "s1", Name: "一小", Kind: "primary"}, uuid.New())
	e.publish("s2", 1, &assetsv1.SchoolRegistered{SchoolId: "s2", Name: "二小", Kind: "primary"}, uuid.New())
	p := e.publishProcurement
	p(t, "s1", "budget:L1", 1, &pv1.BudgetLineOpened{BudgetLineId: "L1", SchoolId: "s1", FiscalYear: 2025, Code: "A01", Name: "办公设备", AmountFen: 1_000_000, FundingSource: "公用经费"})
	p(t, "s1", "budget:L1", 2, &pv1.BudgetAdjustmentApproved{BudgetLineId: "L1", AmountFen: 200_000, NewAmountFen: 1_200_000})
	p(t, "s1", "budget:L1", 3, &pv1.BudgetCommitted{BudgetLineId: "L1", PurchaseOrderId: "O1", AmountFen: 500_000})
	spent := &pv1.BudgetSpent{BudgetLineId: "L1", PurchaseOrderId: "O1", AmountFen: 480_000, FromCommitmentFen: 480_000, SpentOn: "2025-03-15",
		Categories: []*pv1.CategoryAmount{{Category: "办公用品", AmountFen: 300_000}, {Category: "电子产品", AmountFen: 180_000}}}
	p(t, "s1", "budget:L1", 4, spent)
	p(t, "s1", "budget:L1", 4, spent) // again under another message id: counts once
	p(t, "s1", "budget:L1", 5, &pv1.BudgetCommitmentReleased{BudgetLineId: "L1", PurchaseOrderId: "O1", AmountFen: 20_000})
	p(t, "s1", "budget:L1", 6, &pv1.BudgetCommitted{BudgetLineId: "L1", PurchaseOrderId: "O2", AmountFen: 300_000})
	p(t, "s1", "budget:L2", 1, &pv1.BudgetLineOpened{BudgetLineId: "L2", SchoolId: "s1", FiscalYear: 2025, Code: "B02", Name: "维修材料", AmountFen: 200_000})
	p(t, "s1", "budget:L2", 2, &pv1.BudgetSpent{BudgetLineId: "L2", AmountFen: 50_000, SpentOn: "2025-04-02",
		Categories: []*pv1.CategoryAmount{{Category: "办公用品", AmountFen: 50_000}}})
	p(t, "s1", "budget:L3", 1, &pv1.BudgetLineOpened{BudgetLineId: "L3", SchoolId: "s1", FiscalYear: 2024, Code: "A01", Name: "去年", AmountFen: 999})
	p(t, "s2", "budget:L4", 1, &pv1.BudgetLineOpened{BudgetLineId: "L4", SchoolId: "s2", FiscalYear: 2025, Code: "A01", Name: "办公设备", AmountFen: 800_000})

	p(t, "s1", "purchase_request:R1", 1, submitted("R1", "s1", "信息中心", 120_000, "2025-05-01", "department_head", "principal"))
	p(t, "s1", "purchase_request:R1", 2, &pv1.PurchaseRequestApproved{PurchaseRequestId: "R1", StepIndex: 0, ApprovedOn: "2025-05-03", NextStep: "principal", NextRole: "principal"})
	p(t, "s1", "purchase_request:R2", 1, submitted("R2", "s1", "总务处", 30_000, "2025-05-02", "department_head"))
	p(t, "s1", "purchase_request:R3", 1, submitted("R3", "s1", "总务处", 10_000, "2025-04-20", "department_head"))
	p(t, "s1", "purchase_request:R3", 2, &pv1.PurchaseRequestRejected{PurchaseRequestId: "R3", Step: "department_head", RejectedOn: "2025-04-21"})
	p(t, "s1", "purchase_request:R4", 1, submitted("R4", "s1", "总务处", 10_000, "2025-05-01", "department_head"))
	p(t, "s1", "purchase_request:R4", 2, &pv1.PurchaseRequestApproved{PurchaseRequestId: "R4", ApprovedOn: "2025-05-02", Final: true})
	// Compliance facts: two quote choices that needed three suppliers (one had only two), one
	// that did not; three receipts accepted by 2, 1 (the same person twice) and 3 people; two
	// invoices reimbursed, one signed by three people and one by two (a handler who also
	// inspected), and a third signed but not reimbursed.
	// A quote choice has no date of its own: its business time is the day it was made.
	cst := time.FixedZone("CST", 8*3600)
	e.publishProcurementAt(t, "s1", "purchase_request:R1", 3, &pv1.QuoteChosen{PurchaseRequestId: "R1", QuotesRequired: true, MinQuotes: 3, Quotes: 3, DistinctSuppliers: 3},
		time.Date(2025, 5, 4, 10, 0, 0, 0, cst))
	e.publishProcurementAt(t, "s1", "purchase_request:R2", 2, &pv1.QuoteChosen{PurchaseRequestId: "R2", QuotesRequired: true, MinQuotes: 3, Quotes: 3, DistinctSuppliers: 2},
		time.Date(2025, 6, 10, 10, 0, 0, 0, cst))
	p(t, "s1", "purchase_request:R4", 3, &pv1.QuoteChosen{PurchaseRequestId: "R4", Quotes: 1, DistinctSuppliers: 1})
	p(t, "s1", "fulfilment:O1", 1, &pv1.GoodsAccepted{PurchaseOrderId: "O1", ReceiptId: "G1", SchoolId: "s1", Signers: []string{"u-a", "u-b"}, AcceptedOn: "2025-05-05"})
	p(t, "s1", "fulfilment:O1", 2, &pv1.GoodsAccepted{PurchaseOrderId: "O1", ReceiptId: "G2", SchoolId: "s1", Signers: []string{"u-a", "u-a"}, AcceptedOn: "2025-06-01"})
	p(t, "s1", "fulfilment:O1", 3, &pv1.GoodsAccepted{PurchaseOrderId: "O1", ReceiptId: "G3", SchoolId: "s1", Signers: []string{"u-a", "u-b", "u-c"}, AcceptedOn: "2025-06-20"})
	v := int64(3)
	sign := func(inv, role, who string) {
		v++
		p(t, "s1", "fulfilment:O1", v, &pv1.InvoiceSigned{PurchaseOrderId: "O1", InvoiceId: inv, Role: role, Signer: who})
	}
	sign("I1", "handler", "u-x")
	sign("I1", "inspector", "u-y")
	sign("I1", "auditor", "u-z")
	sign("I2", "handler", "u-x")
	sign("I2", "inspector", "u-x")
	sign("I2", "auditor", "u-z")
	sign("I3", "handler", "u-x")
	sign("I3", "inspector", "u-y")
	sign("I3", "auditor", "u-z")
	p(t, "s1", "fulfilment:O1", v+1, &pv1.InvoiceReimbursed{PurchaseOrderId: "O1", InvoiceId: "I1", ReimbursedOn: "2025-05-20"})
	p(t, "s1", "fulfilment:O1", v+2, &pv1.InvoiceReimbursed{PurchaseOrderId: "O1", InvoiceId: "I2", ReimbursedOn: "2025-06-15"})
	// Fees: one standard collected from two classes, settled and approved; the second
	// collection delivered again after the approval must not undo it. Another only published.
	f1 := &pv1.FeeStandardPublished{FeeId: "F1", Term: "2025-2026-1", Item: "校服", Kind: "on_behalf", AmountPerStudentFen: 18_000}
	p(t, "s1", "fee:F1", 1, f1)
	p(t, "s1", "fee:F1", 2, &pv1.FeeCollected{FeeId: "F1", Term: f1.Term, Item: f1.Item, ClassName: "一1", CollectedTotalFen: 1_800_000, StudentsTotal: 100})
	again := &pv1.FeeCollected{FeeId: "F1", Term: f1.Term, Item: f1.Item, ClassName: "一2", CollectedTotalFen: 3_600_000, StudentsTotal: 200}
	p(t, "s1", "fee:F1", 3, again)
	p(t, "s1", "fee:F1", 4, &pv1.FeeSettled{FeeId: "F1", Term: f1.Term, Item: f1.Item, CollectedFen: 3_600_000, SpentFen: 3_400_000,
		SurplusFen: 200_000, RefundTotalFen: 200_000, Students: 200})
	p(t, "s1", "fee:F1", 5, &pv1.FeeSettlementApproved{FeeId: "F1", Term: f1.Term, Item: f1.Item})
	p(t, "s1", "fee:F1", 3, again)
	p(t, "s1", "fee:F2", 1, &pv1.FeeStandardPublished{FeeId: "F2", Term: "2025-2026-2", Item: "作业本", Kind: "on_behalf", AmountPerStudentFen: 3_000})
	// Stock: paper received in April, in May issued 4 (delivered twice), 1 returned, 1 short
	// at the stocktake; cleaning goods received in May and again in June.
	p(t, "s1", "stock_item:BG-A4", 1, &pv1.StockReceived{ItemCode: "BG-A4", Category: "办公用品", Quantity: 10, UnitCostFen: 11_000, ValueFen: 110_000, ReceivedOn: "2025-04-10"})
	issued := &pv1.StockIssued{ItemCode: "BG-A4", Category: "办公用品", Quantity: 4, CostFen: 44_000, IssuedOn: "2025-05-03"}
	p(t, "s1", "stock_item:BG-A4", 2, issued)
	p(t, "s1", "stock_item:BG-A4", 2, issued)
	p(t, "s1", "stock_item:BG-A4", 3, &pv1.StockReturned{ItemCode: "BG-A4", Category: "办公用品", Quantity: 1, ValueFen: 11_000, ReturnedOn: "2025-05-05"})
	p(t, "s1", "stock_item:BG-A4", 4, &pv1.StockAdjusted{ItemCode: "BG-A4", Category: "办公用品", Difference: -1, ValueFen: -11_000, AdjustedOn: "2025-05-20"})
	p(t, "s1", "stock_item:QJ-1", 1, &pv1.StockReceived{ItemCode: "QJ-1", Category: "清洁用品", Quantity: 5, ValueFen: 25_000, ReceivedOn: "2025-05-15"})
	p(t, "s1", "stock_item:QJ-1", 2, &pv1.StockReceived{ItemCode: "QJ-1", Category: "清洁用品", Quantity: 1, ValueFen: 5_000, ReceivedOn: "2025-06-02"})
	// s2 received goods late in November: not slow-moving yet on 2025-12-01.
	p(t, "s2", "stock_item:ZB-9", 1, &pv1.StockReceived{ItemCode: "ZB-9", Category: "办公用品", Quantity: 3, ValueFen: 9_000, ReceivedOn: "2025-11-20"})
	p(t, "s2", "purchase_request:R5", 1, submitted("R5", "s2", "教务处", 1_000, "2025-05-04", "department_head"))
	// The last event: once R5 is in, everything before it on the stream is applied.
}

func TestProcurementReports(t *testing.T) {
	e := start(t)
	procurementHistory(t, e)
	ctx := context.Background()
	viewer := testkit.Ctx(e.auth.Token(t, auth.RoleBureauViewer, ""))
	var d *reportsv1.GetDistrictProcurementResponse
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		var err error
		d, err = e.reports.GetDistrictProcurement(viewer, &reportsv1.GetDistrictProcurementRequest{FiscalYear: 2025, AsOf: "2025-05-10"})
		// School names come from the ledger, another runner: wait for it too.
		return err == nil && d.ApprovalsWaiting == 3 && d.BudgetFen == 2_000_000+200_000 && d.SpentFen == 530_000 &&
			len(d.Schools) == 2 && d.Schools[1].Name == "二小" && d.Schools[0].Name == "一小", "not caught up"
	})
	if len(d.Schools) != 2 || d.CommittedFen != 300_000 || d.AvailableFen != 2_200_000-300_000-530_000 {
		t.Fatalf("district %v", d)
	}
	s1, s2 := d.Schools[0], d.Schools[1]
	if s1.SchoolId != "s1" || s1.Name != "一小" || s1.BudgetFen != 1_400_000 || s1.CommittedFen != 300_000 || s1.SpentFen != 530_000 ||
		s1.AvailableFen != 570_000 || s1.SpentPermille != 378 || s1.ApprovalsWaiting != 2 || s1.OldestWaitingDays != 8 {
		t.Fatalf("s1 %v", s1)
	}
	if s2.Name != "二小" || s2.BudgetFen != 800_000 || s2.AvailableFen != 800_000 || s2.ApprovalsWaiting != 1 || s2.OldestWaitingDays != 6 {
		t.Fatalf("s2 %v", s2)
	}

	dir := testkit.Ctx(e.auth.Token(t, auth.RoleLogisticsDirector, "s1"))
	b, err := e.reports.GetBudgetSpend(dir, &reportsv1.GetBudgetSpendRequest{SchoolId: "s1", FiscalYear: 2025})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Lines) != 2 {
		t.Fatalf("lines %v", b.Lines)
	}
	l1, l2 := b.Lines[0], b.Lines[1]
	// L1: 1,000,000 adjusted to 1,200,000; committed 500,000 − 480,000 spent − 20,000 released + 300,000.
	if l1.Code != "A01" || l1.BudgetFen != 1_200_000 || l1.CommittedFen != 300_000 || l1.SpentFen != 480_000 ||
		l1.AvailableFen != 420_000 || l1.SpentPermille != 400 || l1.FundingSource != "公用经费" {
		t.Fatalf("L1 %v", l1)
	}
	if l2.Code != "B02" || l2.BudgetFen != 200_000 || l2.CommittedFen != 0 || l2.SpentFen != 50_000 || l2.AvailableFen != 150_000 || l2.SpentPermille != 250 {
		t.Fatalf("L2 %v", l2)
	}
	if b.BudgetFen != 1_400_000 || b.CommittedFen != 300_000 || b.SpentFen != 530_000 || b.AvailableFen != 570_000 {
		t.Fatalf("totals %v", b)
	}
	if len(b.Months) != 2 || b.Months[0].Month != "2025-03" || b.Months[0].SpentFen != 480_000 || b.Months[1].Month != "2025-04" || b.Months[1].SpentFen != 50_000 {
		t.Fatalf("months %v", b.Months)
	}
	if len(b.Categories) != 2 || b.Categories[0].Category != "办公用品" || b.Categories[0].SpentFen != 350_000 || b.Categories[1].SpentFen != 180_000 {
		t.Fatalf("categories %v", b.Categories)
	}
	last, _ := e.reports.GetBudgetSpend(dir, &reportsv1.GetBudgetSpendRequest{SchoolId: "s1", FiscalYear: 2024})
	if len(last.Lines) != 1 || last.BudgetFen != 999 {
		t.Fatalf("2024 %v", last)
	}

	w, err := e.reports.GetApprovalsWaiting(dir, &reportsv1.GetApprovalsWaitingRequest{SchoolId: "s1", AsOf: "2025-05-10"})
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Requests) != 2 || w.Requests[0].PurchaseRequestId != "R2" || w.Requests[0].AgeDays != 8 || w.Requests[0].Step != "department_head" ||
		w.Requests[1].PurchaseRequestId != "R1" || w.Requests[1].AgeDays != 7 || w.Requests[1].Step != "principal" ||
		w.Requests[1].WaitingSince != "2025-05-03" || w.Requests[1].SubmittedOn != "2025-05-01" || w.Requests[1].EstimatedTotalFen != 120_000 {
		t.Fatalf("waiting %v", w.Requests)
	}

	// Drill-down: the line's events, the repeated one once.
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		ev, err := e.reports.ListEvents(dir, &reportsv1.ListEventsRequest{SchoolId: "s1", Drill: l1.Drill})
		return err == nil && len(ev.Events) == 6 && ev.Events[3].TypeName == "报账支出", "drill"
	})

	for _, bad := range []*reportsv1.GetBudgetSpendRequest{{SchoolId: "s1", FiscalYear: 1999}, {SchoolId: "", FiscalYear: 2025}} {
		if _, err := e.reports.GetBudgetSpend(dir, bad); status.Code(err) != codes.InvalidArgument && status.Code(err) != codes.PermissionDenied {
			t.Fatalf("bad %v: %v", bad, err)
		}
	}
	if _, err := e.reports.GetBudgetSpend(dir, &reportsv1.GetBudgetSpendRequest{SchoolId: "s1", FiscalYear: 1999}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("fiscal_year 1999: %v", err)
	}
	if _, err := e.reports.GetApprovalsWaiting(dir, &reportsv1.GetApprovalsWaitingRequest{SchoolId: "s1", AsOf: "2025/05/10"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad as_of: %v", err)
	}
	if _, err := e.reports.GetBudgetSpend(dir, &reportsv1.GetBudgetSpendRequest{SchoolId: "s2"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("other school: %v", err)
	}
	if _, err := e.reports.GetDistrictProcurement(dir, &reportsv1.GetDistrictProcurementRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("district for a school role: %v", err)
	}

	c, err := e.reports.GetDistrictCompliance(viewer, &reportsv1.GetDistrictComplianceRequest{})
	if err != nil || len(c.Schools) != 2 {
		t.Fatalf("compliance %v %v", c, err)
	}
	c1, c2 := c.Schools[0], c.Schools[1]
	if c1.SchoolId != "s1" || c1.QuotesRequired != 2 || c1.QuotesCompliant != 1 || c1.QuotesPermille != 500 ||
		c1.Acceptances != 3 || c1.AcceptancesTwoPerson != 2 || c1.AcceptancesPermille != 666 ||
		c1.InvoicesReimbursed != 2 || c1.InvoicesThreeSigned != 1 || c1.InvoicesPermille != 500 {
		t.Fatalf("s1 compliance %v", c1)
	}
	if c2.SchoolId != "s2" || c2.QuotesRequired != 0 || c2.QuotesPermille != 1000 || c2.InvoicesPermille != 1000 {
		t.Fatalf("s2 compliance %v", c2)
	}
	own, err := e.reports.GetProcurementCompliance(dir, &reportsv1.GetProcurementComplianceRequest{SchoolId: "s1"})
	if err != nil || len(own.Schools) != 1 || !proto.Equal(own.Schools[0], c1) {
		t.Fatalf("own compliance %v %v", own, err)
	}
	if _, err := e.reports.GetProcurementCompliance(dir, &reportsv1.GetProcurementComplianceRequest{SchoolId: "s2"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("other school's compliance: %v", err)
	}

	fees, err := e.reports.GetFeeSettlement(dir, &reportsv1.GetFeeSettlementRequest{SchoolId: "s1"})
	if err != nil || len(fees.Fees) != 2 {
		t.Fatalf("fees %v %v", fees, err)
	}
	if f := fees.Fees[0]; f.FeeId != "F1" || f.Status != "approved" || f.StatusName != "结算已审批" || f.CollectedFen != 3_600_000 ||
		f.SpentFen != 3_400_000 || f.SurplusFen != 200_000 || f.RefundTotalFen != 200_000 || f.Students != 200 ||
		f.AmountPerStudentFen != 18_000 || f.Kind != "on_behalf" || f.Drill.Key != "fee:F1" {
		t.Fatalf("F1 %v", f)
	}
	if f := fees.Fees[1]; f.FeeId != "F2" || f.Status != "published" || f.CollectedFen != 0 || f.AmountPerStudentFen != 3_000 {
		t.Fatalf("F2 %v", f)
	}
	if one, _ := e.reports.GetFeeSettlement(dir, &reportsv1.GetFeeSettlementRequest{SchoolId: "s1", Term: "2025-2026-2"}); len(one.GetFees()) != 1 {
		t.Fatalf("one term %v", one)
	}
	if _, err := e.reports.GetFeeSettlement(dir, &reportsv1.GetFeeSettlementRequest{SchoolId: "s2"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("other school's fees: %v", err)
	}

	audit, err := e.reports.GetStockAudit(dir, &reportsv1.GetStockAuditRequest{SchoolId: "s1", Month: "2025-05"})
	if err != nil || len(audit.Categories) != 2 || audit.ClosingFen != 66_000+25_000 {
		t.Fatalf("audit %v %v", audit, err)
	}
	if a := audit.Categories[0]; a.Category != "办公用品" || a.OpeningFen != 110_000 || a.ReceivedFen != 0 || a.IssuedFen != 44_000 ||
		a.ReturnedFen != 11_000 || a.AdjustedFen != -11_000 || a.ClosingFen != 66_000 {
		t.Fatalf("办公用品 %v", a)
	}
	if a := audit.Categories[1]; a.Category != "清洁用品" || a.OpeningFen != 0 || a.ReceivedFen != 25_000 || a.ClosingFen != 25_000 {
		t.Fatalf("清洁用品 %v", a)
	}
	if _, err := e.reports.GetStockAudit(dir, &reportsv1.GetStockAuditRequest{SchoolId: "s1", Month: "2025-5"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad month: %v", err)
	}

	// On 2025-12-01 paper was last issued 2025-05-03 (more than 180 days before) and cleaning
	// goods never, first received 2025-05-15: both slow-moving; in June neither.
	sv, err := e.reports.GetStockValue(dir, &reportsv1.GetStockValueRequest{SchoolId: "s1", AsOf: "2025-12-01"})
	if err != nil || len(sv.Items) != 2 || sv.ValueFen != 66_000+30_000 || sv.SlowMovingValueFen != 96_000 || sv.PolicyVersion != "stock-2020" {
		t.Fatalf("stock value %v %v", sv, err)
	}
	if i := sv.Items[0]; i.ItemCode != "BG-A4" || i.OnHand != 6 || i.ValueFen != 66_000 || i.LastIssuedOn != "2025-05-03" || !i.SlowMoving {
		t.Fatalf("BG-A4 %v", i)
	}
	if i := sv.Items[1]; i.ItemCode != "QJ-1" || i.OnHand != 6 || i.ValueFen != 30_000 || !i.SlowMoving {
		t.Fatalf("QJ-1 %v", i)
	}
	june, err := e.reports.GetStockValue(dir, &reportsv1.GetStockValueRequest{SchoolId: "s1", AsOf: "2025-06-01"})
	// In June paper is overstocked: 6 on hand at 3 net issued in 180 days lasts 360 days.
	if err != nil || june.ValueFen != 66_000+25_000 || june.SlowMovingValueFen != 0 || len(june.Items) != 1 ||
		!june.Items[0].Overstock || june.Items[0].CoverDays != 360 || june.Items[0].SlowMoving {
		t.Fatalf("stock value in June %v %v", june, err)
	}

	// A rebuild from the log gives the same numbers.
	if _, err := e.svc.Rebuild(ctx, "procurement"); err != nil {
		t.Fatal(err)
	}
	again, err := e.reports.GetDistrictProcurement(viewer, &reportsv1.GetDistrictProcurementRequest{FiscalYear: 2025, AsOf: "2025-05-10"})
	if err != nil || !proto.Equal(again, d) {
		t.Fatalf("after rebuild: %v %v", again, err)
	}
	if f2, err := e.reports.GetFeeSettlement(dir, &reportsv1.GetFeeSettlementRequest{SchoolId: "s1"}); err != nil || !proto.Equal(f2, fees) {
		t.Fatalf("fees after rebuild: %v %v", f2, err)
	}
	if c2, err := e.reports.GetDistrictCompliance(viewer, &reportsv1.GetDistrictComplianceRequest{}); err != nil || !proto.Equal(c2, c) {
		t.Fatalf("compliance after rebuild: %v %v", c2, err)
	}
}

// drilled lists the events a drill names as "stream@version", sorted, waiting until the
// event index has them (it is its own projection and can trail the report).
func drilled(t *testing.T, e *env, ctx context.Context, school string, d *reportsv1.Drill, want ...string) {
	t.Helper()
	sort.Strings(want)
	var got []string
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		ev, err := e.reports.ListEvents(ctx, &reportsv1.ListEventsRequest{SchoolId: school, Drill: d, PageSize: 500})
		if err != nil {
			return false, err.Error()
		}
		got = got[:0]
		for _, x := range ev.Events {
			got = append(got, fmt.Sprintf("%s@%d", x.StreamId, x.Version))
		}
		sort.Strings(got)
		return slices.Equal(got, want), fmt.Sprintf("drill %v: got %v, want %v", d, got, want)
	})
}

// Every number of the procurement reports leads to exactly the events behind it.
func TestProcurementDrillDowns(t *testing.T) {
	e := start(t)
	procurementHistory(t, e)
	dir := testkit.Ctx(e.auth.Token(t, auth.RoleLogisticsDirector, "s1"))
	var b *reportsv1.GetBudgetSpendResponse
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		var err error
		b, err = e.reports.GetBudgetSpend(dir, &reportsv1.GetBudgetSpendRequest{SchoolId: "s1", FiscalYear: 2025})
		return err == nil && len(b.Months) == 2 && len(b.Categories) == 2, "budget not caught up"
	})
	// March is L1's spend (delivered twice, once here), April L2's; 办公用品 is in both.
	drilled(t, e, dir, "s1", b.Months[0].Drill, "budget:L1@4")
	drilled(t, e, dir, "s1", b.Months[1].Drill, "budget:L2@2")
	drilled(t, e, dir, "s1", b.Categories[0].Drill, "budget:L1@4", "budget:L2@2")
	drilled(t, e, dir, "s1", b.Categories[1].Drill, "budget:L1@4")
	// Another fiscal year has no spend.
	drilled(t, e, dir, "s1", &reportsv1.Drill{Report: "spend_month", Key: "2024:2025-03"})
	// The totals: every event of the year's budget lines, exactly what the lines' own drills list together.
	var lines []string
	for _, l := range b.Lines {
		ev, err := e.reports.ListEvents(dir, &reportsv1.ListEventsRequest{SchoolId: "s1", Drill: l.Drill, PageSize: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ev.Events {
			lines = append(lines, fmt.Sprintf("%s@%d", x.StreamId, x.Version))
		}
	}
	if len(b.Lines) != 2 || !slices.Contains(lines, "budget:L1@4") || !slices.Contains(lines, "budget:L2@2") {
		t.Fatalf("budget lines %v, their events %v", b.Lines, lines)
	}
	drilled(t, e, dir, "s1", b.Drill, lines...)
	// Last year's line only (opened once), and no year without lines.
	drilled(t, e, dir, "s1", &reportsv1.Drill{Report: "budget", Key: "2024"}, "budget:L3@1")
	drilled(t, e, dir, "s1", &reportsv1.Drill{Report: "budget", Key: "2023"})
	if _, err := e.reports.ListEvents(dir, &reportsv1.ListEventsRequest{SchoolId: "s1", Drill: &reportsv1.Drill{Report: "budget", Key: "下一年"}}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a budget drill without a year: %v", err)
	}

	// Stock: an item's lots and issues up to the day, the whole stock, a category's month.
	var sv *reportsv1.GetStockValueResponse
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		var err error
		sv, err = e.reports.GetStockValue(dir, &reportsv1.GetStockValueRequest{SchoolId: "s1", AsOf: "2025-12-01"})
		return err == nil && len(sv.Items) == 2, "stock not caught up"
	})
	drilled(t, e, dir, "s1", sv.Items[0].Drill, "stock_item:BG-A4@1", "stock_item:BG-A4@2", "stock_item:BG-A4@3", "stock_item:BG-A4@4")
	drilled(t, e, dir, "s1", sv.Items[1].Drill, "stock_item:QJ-1@1", "stock_item:QJ-1@2")
	drilled(t, e, dir, "s1", sv.Drill, "stock_item:BG-A4@1", "stock_item:BG-A4@2", "stock_item:BG-A4@3", "stock_item:BG-A4@4",
		"stock_item:QJ-1@1", "stock_item:QJ-1@2")
	may, err := e.reports.GetStockValue(dir, &reportsv1.GetStockValueRequest{SchoolId: "s1", AsOf: "2025-05-04"})
	if err != nil || may.ValueFen != 66_000 {
		t.Fatalf("stock on 2025-05-04 %v %v", may, err)
	}
	drilled(t, e, dir, "s1", may.Drill, "stock_item:BG-A4@1", "stock_item:BG-A4@2")
	audit, err := e.reports.GetStockAudit(dir, &reportsv1.GetStockAuditRequest{SchoolId: "s1", Month: "2025-05"})
	if err != nil || len(audit.Categories) != 2 {
		t.Fatalf("audit %v %v", audit, err)
	}
	drilled(t, e, dir, "s1", audit.Categories[0].Drill, "stock_item:BG-A4@1", "stock_item:BG-A4@2", "stock_item:BG-A4@3", "stock_item:BG-A4@4")
	drilled(t, e, dir, "s1", audit.Categories[1].Drill, "stock_item:QJ-1@1") // June's receipt is not May's

	// Compliance: both sides of each rate, all time and in June.
	c, err := e.reports.GetProcurementCompliance(dir, &reportsv1.GetProcurementComplianceRequest{SchoolId: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	r := c.Schools[0]
	drilled(t, e, dir, "s1", r.QuotesCompliantDrill, "purchase_request:R1@3")
	drilled(t, e, dir, "s1", r.QuotesNoncompliantDrill, "purchase_request:R2@2")
	drilled(t, e, dir, "s1", r.AcceptancesTwoPersonDrill, "fulfilment:O1@1", "fulfilment:O1@3")
	drilled(t, e, dir, "s1", r.AcceptancesSingleDrill, "fulfilment:O1@2")
	// I1: signed at versions 4–6, reimbursed at 13; I2: 7–9 and 14; I3 is not reimbursed.
	drilled(t, e, dir, "s1", r.InvoicesThreeSignedDrill, "fulfilment:O1@4", "fulfilment:O1@5", "fulfilment:O1@6", "fulfilment:O1@13")
	drilled(t, e, dir, "s1", r.InvoicesIncompleteDrill, "fulfilment:O1@7", "fulfilment:O1@8", "fulfilment:O1@9", "fulfilment:O1@14")
	june, err := e.reports.GetProcurementCompliance(dir, &reportsv1.GetProcurementComplianceRequest{SchoolId: "s1", From: "2025-06-01", To: "2025-06-30"})
	if err != nil {
		t.Fatal(err)
	}
	j := june.Schools[0]
	drilled(t, e, dir, "s1", j.QuotesCompliantDrill)
	drilled(t, e, dir, "s1", j.QuotesNoncompliantDrill, "purchase_request:R2@2")
	drilled(t, e, dir, "s1", j.AcceptancesTwoPersonDrill, "fulfilment:O1@3")
	drilled(t, e, dir, "s1", j.InvoicesThreeSignedDrill)

	// Fees: a fee row's events (the repeated collection once), and a school's fees of a term.
	fees, err := e.reports.GetFeeSettlement(dir, &reportsv1.GetFeeSettlementRequest{SchoolId: "s1"})
	if err != nil || len(fees.Fees) != 2 {
		t.Fatalf("fees %v %v", fees, err)
	}
	drilled(t, e, dir, "s1", fees.Fees[0].Drill, "fee:F1@1", "fee:F1@2", "fee:F1@3", "fee:F1@4", "fee:F1@5")
	drilled(t, e, dir, "s1", &reportsv1.Drill{Report: "fees", Key: "2025-2026-2"}, "fee:F2@1")

	for _, d := range []*reportsv1.Drill{{Report: "spend_month", Key: "2025"}, {Report: "stock_item"},
		{Report: "compliance_quotes", Key: "maybe"}} {
		if _, err := e.reports.ListEvents(dir, &reportsv1.ListEventsRequest{SchoolId: "s1", Drill: d}); status.Code(err) != codes.InvalidArgument {
			t.Fatalf("drill %v: %v", d, err)
		}
	}
	// Another school's drill names nothing of s1.
	viewer := testkit.Ctx(e.auth.Token(t, auth.RoleBureauViewer, ""))
	drilled(t, e, viewer, "s2", &reportsv1.Drill{Report: "compliance_quotes", Key: "compliant"})
}

// Compliance per school and period; approvals waiting as they stood on a past day.
func TestProcurementComplianceWindowAndApprovalsAsOf(t *testing.T) {
	e := start(t)
	procurementHistory(t, e)
	viewer := testkit.Ctx(e.auth.Token(t, auth.RoleBureauViewer, ""))
	dir := testkit.Ctx(e.auth.Token(t, auth.RoleLogisticsDirector, "s1"))
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		d, err := e.reports.GetDistrictProcurement(viewer, &reportsv1.GetDistrictProcurementRequest{FiscalYear: 2025, AsOf: "2025-05-10"})
		return err == nil && d.ApprovalsWaiting == 3 && len(d.Schools) == 2 && d.Schools[1].Name == "二小", "not caught up"
	})
	// May: R1's choice, G1, I1 — all compliant. June: R2's choice (two suppliers), G2 (one
	// signer) and G3, I2 (handler inspected too).
	may, err := e.reports.GetDistrictCompliance(viewer, &reportsv1.GetDistrictComplianceRequest{From: "2025-05-01", To: "2025-05-31"})
	if err != nil || len(may.Schools) != 2 || may.From != "2025-05-01" {
		t.Fatalf("May %v %v", may, err)
	}
	if m := may.Schools[0]; m.QuotesRequired != 1 || m.QuotesCompliant != 1 || m.QuotesPermille != 1000 || m.Acceptances != 1 ||
		m.AcceptancesTwoPerson != 1 || m.InvoicesReimbursed != 1 || m.InvoicesThreeSigned != 1 || m.InvoicesPermille != 1000 {
		t.Fatalf("s1 in May %v", m)
	}
	june, err := e.reports.GetProcurementCompliance(dir, &reportsv1.GetProcurementComplianceRequest{SchoolId: "s1", From: "2025-06-01", To: "2025-06-30"})
	if err != nil {
		t.Fatal(err)
	}
	if j := june.Schools[0]; j.QuotesRequired != 1 || j.QuotesCompliant != 0 || j.QuotesPermille != 0 || j.Acceptances != 2 ||
		j.AcceptancesTwoPerson != 1 || j.AcceptancesPermille != 500 || j.InvoicesReimbursed != 1 || j.InvoicesThreeSigned != 0 || j.InvoicesPermille != 0 {
		t.Fatalf("s1 in June %v", j)
	}
	// From June 5 on: R2 and G3 and I2 only; until June 5: R1, G1, G2, I1.
	if from, _ := e.reports.GetProcurementCompliance(dir, &reportsv1.GetProcurementComplianceRequest{SchoolId: "s1", From: "2025-06-05"}); from.GetSchools()[0].Acceptances != 1 ||
		from.GetSchools()[0].AcceptancesPermille != 1000 || from.GetSchools()[0].QuotesRequired != 1 {
		t.Fatalf("from June 5 %v", from)
	}
	if until, _ := e.reports.GetProcurementCompliance(dir, &reportsv1.GetProcurementComplianceRequest{SchoolId: "s1", To: "2025-06-05"}); until.GetSchools()[0].Acceptances != 2 ||
		until.GetSchools()[0].AcceptancesPermille != 500 || until.GetSchools()[0].InvoicesReimbursed != 1 {
		t.Fatalf("until June 5 %v", until)
	}
	for _, bad := range []*reportsv1.GetProcurementComplianceRequest{{SchoolId: "s1", From: "2025-06-30", To: "2025-06-01"}, {SchoolId: "s1", From: "June"}} {
		if _, err := e.reports.GetProcurementCompliance(dir, bad); status.Code(err) != codes.InvalidArgument {
			t.Fatalf("bad window %v: %v", bad, err)
		}
	}

	// As of 2025-05-01 R1 and R4 were waiting for the department head since that day; on
	// 05-02 R4 was approved and R2 submitted; on 04-20 only R3 waited, rejected the next day.
	waiting := func(asOf string) []string {
		w, err := e.reports.GetApprovalsWaiting(dir, &reportsv1.GetApprovalsWaitingRequest{SchoolId: "s1", AsOf: asOf})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range w.Requests {
			out = append(out, fmt.Sprintf("%s %s %s %d", r.PurchaseRequestId, r.Step, r.WaitingSince, r.AgeDays))
		}
		return out
	}
	for asOf, want := range map[string][]string{
		"2025-04-20": {"R3 department_head 2025-04-20 0"},
		"2025-04-30": nil,
		"2025-05-01": {"R1 department_head 2025-05-01 0", "R4 department_head 2025-05-01 0"},
		"2025-05-02": {"R1 department_head 2025-05-01 1", "R2 department_head 2025-05-02 0"},
		"2025-05-03": {"R2 department_head 2025-05-02 1", "R1 principal 2025-05-03 0"},
	} {
		if got := waiting(asOf); !slices.Equal(got, want) {
			t.Errorf("as of %s: %v, want %v", asOf, got, want)
		}
	}
	d, err := e.reports.GetDistrictProcurement(viewer, &reportsv1.GetDistrictProcurementRequest{FiscalYear: 2025, AsOf: "2025-05-02"})
	if err != nil || d.ApprovalsWaiting != 2 || d.Schools[0].ApprovalsWaiting != 2 || d.Schools[0].OldestWaitingDays != 1 || d.Schools[1].ApprovalsWaiting != 0 {
		t.Fatalf("district as of 2025-05-02 %v %v", d, err)
	}
	// The waiting row's drill stops at the day: R1's submission only, not its later approval.
	w, _ := e.reports.GetApprovalsWaiting(dir, &reportsv1.GetApprovalsWaitingRequest{SchoolId: "s1", AsOf: "2025-05-01"})
	if w.Requests[0].Drill.To != "2025-05-01" {
		t.Fatalf("drill %v", w.Requests[0].Drill)
	}
}

// The bureau's district views of stock and fees.
func TestDistrictStockAndFees(t *testing.T) {
	e := start(t)
	procurementHistory(t, e)
	viewer := testkit.Ctx(e.auth.Token(t, auth.RoleBureauViewer, ""))
	var st *reportsv1.GetDistrictStockResponse
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		var err error
		st, err = e.reports.GetDistrictStock(viewer, &reportsv1.GetDistrictStockRequest{AsOf: "2025-12-01"})
		return err == nil && st.ValueFen == 105_000 && len(st.Schools) == 2 && st.Schools[1].Name == "二小", "stock not caught up"
	})
	// s1: paper 6 (66,000) and cleaning goods 6 (30,000), both slow-moving; s2: 3 received
	// within the window, 9,000, not slow-moving.
	if s1 := st.Schools[0]; s1.SchoolId != "s1" || s1.Name != "一小" || s1.Items != 2 || s1.ValueFen != 96_000 || s1.SlowMovingItems != 2 ||
		s1.SlowMovingValueFen != 96_000 || s1.OverstockItems != 0 || s1.SlowMovingPermille != 1000 || s1.Drill.Report != "stock" {
		t.Fatalf("s1 stock %v", s1)
	}
	if s2 := st.Schools[1]; s2.Items != 1 || s2.ValueFen != 9_000 || s2.SlowMovingItems != 0 || s2.SlowMovingPermille != 0 {
		t.Fatalf("s2 stock %v", s2)
	}
	if st.SlowMovingValueFen != 96_000 || st.PolicyVersion != "stock-2020" || len(st.Items) != 2 ||
		st.Items[0].Item.ItemCode != "BG-A4" || st.Items[0].Name != "一小" || st.Items[1].Item.ItemCode != "QJ-1" {
		t.Fatalf("district stock %v", st)
	}
	drilled(t, e, viewer, "s2", st.Schools[1].Drill, "stock_item:ZB-9@1")
	// In June paper is overstocked, not slow-moving; s2 had nothing yet.
	june, err := e.reports.GetDistrictStock(viewer, &reportsv1.GetDistrictStockRequest{AsOf: "2025-06-01"})
	if err != nil || june.ValueFen != 91_000 || june.Schools[0].OverstockItems != 1 || june.Schools[0].SlowMovingItems != 0 || june.Schools[1].ValueFen != 0 {
		t.Fatalf("district stock in June %v %v", june, err)
	}

	// Fees: F1 on behalf, settled and approved (200,000 to refund, not yet published); F2 on
	// behalf, only published.
	fees, err := e.reports.GetDistrictFees(viewer, &reportsv1.GetDistrictFeesRequest{})
	if err != nil || len(fees.Schools) != 2 {
		t.Fatalf("district fees %v %v", fees, err)
	}
	if f := fees.Schools[0]; f.SchoolId != "s1" || f.Published != 2 || f.CollectedFen != 3_600_000 || f.OnBehalf != 2 || f.Settled != 1 ||
		f.Unsettled != 1 || f.SettlementPublished != 0 || f.SurplusFen != 200_000 || f.RefundTotalFen != 200_000 || f.RefundsOutstandingFen != 200_000 {
		t.Fatalf("s1 fees %v", f)
	}
	if f := fees.Schools[1]; f.SchoolId != "s2" || f.Published != 0 || f.CollectedFen != 0 {
		t.Fatalf("s2 fees %v", f)
	}
	if fees.CollectedFen != 3_600_000 || fees.RefundsOutstandingFen != 200_000 || fees.Unsettled != 1 {
		t.Fatalf("fee totals %v", fees)
	}
	drilled(t, e, viewer, "s1", fees.Schools[0].Drill, "fee:F1@1", "fee:F1@2", "fee:F1@3", "fee:F1@4", "fee:F1@5", "fee:F2@1")
	term, err := e.reports.GetDistrictFees(viewer, &reportsv1.GetDistrictFeesRequest{Term: "2025-2026-2"})
	if f := term.GetSchools()[0]; err != nil || f.Published != 1 || f.Settled != 0 || f.Unsettled != 1 || f.RefundsOutstandingFen != 0 {
		t.Fatalf("fees of a term %v %v", term, err)
	}
	// Publishing the settlement settles the refunds.
	e.publishProcurement(t, "s1", "fee:F1", 6, &pv1.FeeSettlementPublished{FeeId: "F1", Term: "2025-2026-1", Item: "校服"})
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		f, err := e.reports.GetDistrictFees(viewer, &reportsv1.GetDistrictFeesRequest{})
		return err == nil && f.RefundsOutstandingFen == 0 && f.Schools[0].SettlementPublished == 1 && f.Schools[0].Settled == 1, "not published"
	})
	if _, err := e.reports.GetDistrictStock(viewer, &reportsv1.GetDistrictStockRequest{AsOf: "12/01"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad as_of: %v", err)
	}
	dir := testkit.Ctx(e.auth.Token(t, auth.RoleLogisticsDirector, "s1"))
	if _, err := e.reports.GetDistrictFees(dir, &reportsv1.GetDistrictFeesRequest{}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("district fees for a school role: %v", err)
	}
}
