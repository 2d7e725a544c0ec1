package domain

import (
	"testing"

	"google.golang.org/protobuf/proto"

	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

var (
	policy    = DefaultPolicies.At(date(2025, 3, 1))
	principal = Actor{Subject: "p1", Name: "张校长", Roles: []string{RolePrincipal}}
	bureau    = Actor{Subject: "b1", Roles: []string{RoleBureauAdmin}}
	director  = Actor{Subject: "d1", Roles: []string{RoleLogisticsDirector}}
)

func opened() *eventsv1.BudgetLineOpened {
	return &eventsv1.BudgetLineOpened{BudgetLineId: "bl", SchoolId: "s1", FiscalYear: 2025, Code: "30201", Name: "办公费", AmountFen: 100_000}
}

// budget is a fresh line of 1,000 yuan with events applied.
func budget(events ...proto.Message) Budget {
	return given(EvolveBudget, append([]proto.Message{opened()}, events...)...)
}

func TestOpenBudgetLine(t *testing.T) {
	c := OpenBudgetLine{BudgetLineID: "bl", SchoolID: "s1", FiscalYear: 2025, Code: "30201", Name: "办公费", AmountFen: 100_000}
	ev, err := DecideOpenBudgetLine(Budget{}, c)
	if err != nil || !proto.Equal(ev[0], opened()) {
		t.Fatal(ev, err)
	}
	_, err = DecideOpenBudgetLine(budget(), c)
	wantReason(t, err, ReasonBudgetLineExists)
	_, err = DecideOpenBudgetLine(Budget{}, OpenBudgetLine{FiscalYear: 1999, Code: "3 0", AmountFen: -1})
	wantFields(t, err, "fiscal_year", "code", "name", "amount_fen")
}

func TestCommitmentWithinTheLine(t *testing.T) {
	b := budget()
	ev, err := DecideCommitBudget(b, CommitBudget{OrderID: "o1", PurchaseRequestID: "r1", AmountFen: 60_000, On: "2025-03-01"})
	if err != nil || ev[0].(*eventsv1.BudgetCommitted).AvailableAfterFen != 40_000 {
		t.Fatal(ev, err)
	}
	b = budget(ev...)
	if b.AvailableFen() != 40_000 || b.CommittedFen() != 60_000 {
		t.Fatalf("%+v", b)
	}
	// The same order again (a retry): nothing more.
	if ev, err := DecideCommitBudget(b, CommitBudget{OrderID: "o1", AmountFen: 60_000, On: "2025-03-01"}); err != nil || len(ev) != 0 {
		t.Fatalf("retry: %v %v", ev, err)
	}
	// Beyond what is available: refused.
	_, err = DecideCommitBudget(b, CommitBudget{OrderID: "o2", AmountFen: 40_001, On: "2025-03-01"})
	wantReason(t, err, ReasonBudgetExceeded)
	// Exactly what is available: fine.
	if _, err := DecideCommitBudget(b, CommitBudget{OrderID: "o2", AmountFen: 40_000, On: "2025-03-01"}); err != nil {
		t.Fatal(err)
	}
	// Another fiscal year.
	_, err = DecideCommitBudget(b, CommitBudget{OrderID: "o3", AmountFen: 1, On: "2026-01-02"})
	wantReason(t, err, ReasonBudgetYearMismatch)
	if _, err := DecideCommitBudget(Budget{ID: "x"}, CommitBudget{OrderID: "o3", AmountFen: 1, On: "2025-01-02"}); err == nil {
		t.Fatal("a line that was never opened")
	}
}

func TestReleaseCommitment(t *testing.T) {
	committed := &eventsv1.BudgetCommitted{BudgetLineId: "bl", PurchaseOrderId: "o1", AmountFen: 60_000, CommittedOn: "2025-03-01"}
	b := budget(committed)
	ev, err := DecideReleaseCommitment(b, "o1", "取消")
	if err != nil || ev[0].(*eventsv1.BudgetCommitmentReleased).AmountFen != 60_000 {
		t.Fatal(ev, err)
	}
	b = budget(committed, ev[0])
	if b.AvailableFen() != 100_000 {
		t.Fatalf("available %d after release", b.AvailableFen())
	}
	// Twice: nothing more to release. An order whose commitment was released cannot commit again.
	if ev, err := DecideReleaseCommitment(b, "o1", "取消"); err != nil || len(ev) != 0 {
		t.Fatalf("second release: %v %v", ev, err)
	}
	_, err = DecideCommitBudget(b, CommitBudget{OrderID: "o1", AmountFen: 60_000, On: "2025-03-01"})
	wantReason(t, err, ReasonCommitmentReleased)
}

func TestAdjustmentApprovalByPolicyTier(t *testing.T) {
	b := budget(&eventsv1.BudgetCommitted{BudgetLineId: "bl", PurchaseOrderId: "o1", AmountFen: 90_000, CommittedOn: "2025-03-01"})
	// 20,000 yuan or less: the principal; more: the bureau.
	small, err := DecideRequestBudgetAdjustment(b, RequestBudgetAdjustment{AdjustmentID: "a1", AmountFen: 2_000_000, Reason: "新增班级", RequestedBy: "acc"}, policy)
	if err != nil || small[0].(*eventsv1.BudgetAdjustmentRequested).ApproverRole != RolePrincipal {
		t.Fatal(small, err)
	}
	large, _ := DecideRequestBudgetAdjustment(b, RequestBudgetAdjustment{AdjustmentID: "a2", AmountFen: 2_000_001, Reason: "校舍维修", RequestedBy: "acc"}, policy)
	if large[0].(*eventsv1.BudgetAdjustmentRequested).ApproverRole != RoleBureauAdmin {
		t.Fatal(large)
	}
	lower, _ := DecideRequestBudgetAdjustment(b, RequestBudgetAdjustment{AdjustmentID: "a3", AmountFen: -20_000, Reason: "调出", RequestedBy: "acc"}, policy)
	_, err = DecideRequestBudgetAdjustment(b, RequestBudgetAdjustment{AdjustmentID: "a4", Reason: ""}, policy)
	wantFields(t, err, "amount_fen", "reason")

	b = given(EvolveBudget, opened(), &eventsv1.BudgetCommitted{BudgetLineId: "bl", PurchaseOrderId: "o1", AmountFen: 90_000, CommittedOn: "2025-03-01"},
		small[0], large[0], lower[0])
	// Without an approved adjustment the line cannot take 20,000 fen more.
	_, err = DecideCommitBudget(b, CommitBudget{OrderID: "o2", AmountFen: 20_000, On: "2025-03-02"})
	wantReason(t, err, ReasonBudgetExceeded)

	// The principal may not approve the bureau's tier, the bureau not the principal's.
	_, err = DecideApproveBudgetAdjustment(b, "a2", principal)
	wantReason(t, err, ReasonApproverRole)
	_, err = DecideApproveBudgetAdjustment(b, "a1", bureau)
	wantReason(t, err, ReasonApproverRole)
	ev, err := DecideApproveBudgetAdjustment(b, "a1", principal)
	if err != nil || ev[0].(*eventsv1.BudgetAdjustmentApproved).NewAmountFen != 2_100_000 {
		t.Fatal(ev, err)
	}
	b2 := EvolveBudget(b, ev[0])
	if _, err := DecideCommitBudget(b2, CommitBudget{OrderID: "o2", AmountFen: 20_000, On: "2025-03-02"}); err != nil {
		t.Fatalf("after the adjustment: %v", err)
	}
	_, err = DecideApproveBudgetAdjustment(b2, "a1", principal)
	wantReason(t, err, ReasonAdjustmentNotPending)
	if _, err := DecideApproveBudgetAdjustment(b2, "nope", principal); err == nil {
		t.Fatal("unknown adjustment")
	}

	// Lowering below what is committed is refused (a fresh line: 1,000 yuan, 900 committed).
	_, err = DecideApproveBudgetAdjustment(b, "a3", principal)
	wantReason(t, err, ReasonBudgetBelowUsed)
	// Rejection needs the role and a reason.
	_, err = DecideRejectBudgetAdjustment(b, "a2", "", bureau)
	wantFields(t, err, "reason")
	_, err = DecideRejectBudgetAdjustment(b, "a2", "不符合规定", principal)
	wantReason(t, err, ReasonApproverRole)
	ev, err = DecideRejectBudgetAdjustment(b, "a2", "不符合规定", bureau)
	if err != nil {
		t.Fatal(err)
	}
	rejected := EvolveBudget(b, ev[0])
	if a := rejected.adjustment("a2"); a.Status != AdjustmentRejected {
		t.Fatalf("%+v", a)
	}
}

func TestRecordSpend(t *testing.T) {
	b := budget(&eventsv1.BudgetCommitted{BudgetLineId: "bl", PurchaseOrderId: "o1", AmountFen: 60_000, CommittedOn: "2025-03-01"})
	spend := RecordSpend{OrderID: "o1", InvoiceID: "inv-1", AmountFen: 50_000, SpentOn: "2025-03-20",
		Categories: []CategoryAmount{{Category: "office", AmountFen: 30_000}, {Category: "2", AmountFen: 20_000}}}
	ev, err := DecideRecordSpend(b, spend)
	if err != nil {
		t.Fatal(err)
	}
	e := ev[0].(*eventsv1.BudgetSpent)
	if e.FromCommitmentFen != 50_000 || len(e.Categories) != 2 {
		t.Fatal(e)
	}
	b = EvolveBudget(b, e)
	if b.SpentFen != 50_000 || b.CommittedFen() != 10_000 || b.AvailableFen() != 40_000 {
		t.Fatalf("%+v", b)
	}
	// The same invoice again: nothing.
	if ev, err := DecideRecordSpend(b, spend); err != nil || len(ev) != 0 {
		t.Fatal(ev, err)
	}
	// A second invoice beyond the commitment: the excess comes from what is available.
	more := RecordSpend{OrderID: "o1", InvoiceID: "inv-2", AmountFen: 50_000, SpentOn: "2025-03-21",
		Categories: []CategoryAmount{{Category: "office", AmountFen: 50_000}}}
	ev, err = DecideRecordSpend(b, more)
	if err != nil || ev[0].(*eventsv1.BudgetSpent).FromCommitmentFen != 10_000 {
		t.Fatal(ev, err)
	}
	b = EvolveBudget(b, ev[0])
	if b.AvailableFen() != 0 || b.CommittedFen() != 0 {
		t.Fatalf("%+v", b)
	}
	more.InvoiceID = "inv-3"
	more.AmountFen, more.Categories[0].AmountFen = 1, 1
	_, err = DecideRecordSpend(b, more)
	wantReason(t, err, ReasonBudgetExceeded)
	_, err = DecideRecordSpend(b, RecordSpend{AmountFen: 5, SpentOn: "x", Categories: []CategoryAmount{{Category: "office", AmountFen: 4}}})
	wantFields(t, err, "invoice_id", "spent_on", "categories")
}
