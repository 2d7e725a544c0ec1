package domain

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"

	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

var custodyPolicy = DefaultCustodyPolicies.At(today)

func lent(borrower, due string) *eventsv1.AssetLent {
	return &eventsv1.AssetLent{AssetId: "a1", LoanId: "l1", Borrower: borrower, LentOn: "2025-03-01", DueOn: due}
}

func permit(id, holder, until string) *eventsv1.OffCampusPermitIssued {
	return &eventsv1.OffCampusPermitIssued{AssetId: "a1", PermitId: id, Holder: holder, ValidFrom: "2025-03-10", ValidUntil: until}
}

func TestLendAsset(t *testing.T) {
	ev, err := DecideLendAsset(given(registered()), LendAsset{LoanID: "l1", Borrower: "张老师", DueOn: "2025-03-20", Purpose: "公开课"}, Campus{}, today, custodyPolicy)
	if err != nil {
		t.Fatal(err)
	}
	e := ev[0].(*eventsv1.AssetLent)
	if e.LentOn != "2025-03-10" || e.DueOn != "2025-03-20" || e.Borrower != "张老师" || e.Tag != "ZC-2024-0001" || e.Location != "教学楼301" {
		t.Fatalf("event %v", e)
	}
	if got := given(registered(), e); got.Lending.Loan == nil || got.Lending.Loan.ID != "l1" {
		t.Fatalf("evolved %+v", got.Lending)
	}
}

func TestLendAssetRefusals(t *testing.T) {
	c := LendAsset{LoanID: "l2", Borrower: "张老师", DueOn: "2025-03-20"}
	for _, tc := range []struct {
		name   string
		given  []proto.Message
		edit   func(*LendAsset)
		reason string
		fields []string
	}{
		{name: "already on loan", given: []proto.Message{registered(), lent("李老师", "2025-03-15")}, reason: string(ReasonAlreadyOnLoan)},
		{name: "written off", given: []proto.Message{registered(), &eventsv1.AssetWrittenOff{AssetId: "a1", WriteOffId: "w1"}},
			reason: string(ReasonAssetWrittenOff)},
		{name: "removed by stocktake", given: []proto.Message{registered(), &eventsv1.AssetRemovedByStocktake{AssetId: "a1"}},
			reason: string(ReasonAssetWrittenOff)},
		{name: "off campus without permit", given: []proto.Message{registered()}, edit: func(c *LendAsset) { c.OffCampus = true }, reason: string(ReasonPermitRequired)},
		{name: "unknown permit", given: []proto.Message{registered(), permit("p1", "张老师", "2025-03-20")},
			edit: func(c *LendAsset) { c.OffCampus, c.PermitID = true, "p9" }, reason: string(ReasonPermitRequired)},
		{name: "permit of someone else", given: []proto.Message{registered(), permit("p1", "李老师", "2025-03-20")},
			edit: func(c *LendAsset) { c.OffCampus, c.PermitID = true, "p1" }, reason: string(ReasonPermitNotValid)},
		{name: "permit ends before due", given: []proto.Message{registered(), permit("p1", "张老师", "2025-03-15")},
			edit: func(c *LendAsset) { c.OffCampus, c.PermitID = true, "p1" }, reason: string(ReasonPermitNotValid)},
		{name: "permit used", given: []proto.Message{registered(), permit("p1", "张老师", "2025-03-20"),
			&eventsv1.AssetLent{AssetId: "a1", LoanId: "l0", Borrower: "张老师", DueOn: "2025-03-11", PermitId: "p1", OffCampus: true},
			&eventsv1.AssetReturned{AssetId: "a1", LoanId: "l0"}},
			edit: func(c *LendAsset) { c.OffCampus, c.PermitID = true, "p1" }, reason: string(ReasonPermitNotValid)},
		{name: "too long", given: []proto.Message{registered()}, edit: func(c *LendAsset) { c.DueOn = "2025-04-10" }, reason: string(ReasonLoanTooLong)},
		{name: "due in the past", given: []proto.Message{registered()}, edit: func(c *LendAsset) { c.DueOn = "2025-03-09" }, fields: []string{"due_on"}},
		{name: "no borrower, bad date", given: []proto.Message{registered()}, edit: func(c *LendAsset) { c.Borrower, c.DueOn = "", "3/20" }, fields: []string{"borrower", "due_on"}},
		{name: "permit on campus", given: []proto.Message{registered()}, edit: func(c *LendAsset) { c.PermitID = "p1" }, fields: []string{"permit_id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := c
			if tc.edit != nil {
				tc.edit(&cc)
			}
			a := given(tc.given...)
			_, err := DecideLendAsset(a, cc, Campus{}, today, custodyPolicy)
			if tc.fields != nil {
				wantViolations(t, err, tc.fields...)
				return
			}
			wantReason(t, err, errs.Reason(tc.reason))
		})
	}
}

func TestOffCampusLoanUsesPermit(t *testing.T) {
	ev, err := DecideIssueOffCampusPermit(given(registered()), IssueOffCampusPermit{PermitID: "p1", Holder: "张老师", ValidUntil: "2025-03-20", Reason: "校外比赛"}, today, custodyPolicy)
	if err != nil {
		t.Fatal(err)
	}
	a := given(registered(), ev[0])
	lend, err := DecideLendAsset(a, LendAsset{LoanID: "l1", Borrower: "张老师", DueOn: "2025-03-18", OffCampus: true, PermitID: "p1"}, Campus{}, today, custodyPolicy)
	if err != nil {
		t.Fatal(err)
	}
	a = EvolveAsset(a, lend[0])
	if !a.Lending.Permits[0].Used || !a.Lending.Loan.OffCampus {
		t.Fatalf("state %+v", a.Lending)
	}
	_, err = DecideIssueOffCampusPermit(given(registered()), IssueOffCampusPermit{PermitID: "p2", Holder: "张老师", ValidUntil: "2025-04-20", Reason: "外借"}, today, custodyPolicy)
	wantReason(t, err, ReasonPermitTooLong)
	_, err = DecideIssueOffCampusPermit(given(registered()), IssueOffCampusPermit{PermitID: "p2", ValidUntil: "2025-03-01"}, today, custodyPolicy)
	wantViolations(t, err, "holder", "valid_until", "reason")
}

func TestReturnAsset(t *testing.T) {
	a := given(registered(), lent("李老师", "2025-03-05"))
	ev, err := DecideReturnAsset(a, ReturnAsset{Condition: "完好"}, today)
	if err != nil {
		t.Fatal(err)
	}
	r := ev[0].(*eventsv1.AssetReturned)
	if r.LoanId != "l1" || r.DaysOverdue != 5 || r.ReturnedOn != "2025-03-10" || r.Borrower != "李老师" {
		t.Fatalf("event %v", r)
	}
	a = EvolveAsset(a, r)
	if a.Lending.Loan != nil {
		t.Fatal("loan still open after return")
	}
	_, err = DecideReturnAsset(a, ReturnAsset{}, today)
	wantReason(t, err, ReasonNotOnLoan)
	// On time: no days overdue.
	ev, _ = DecideReturnAsset(given(registered(), lent("李老师", "2025-03-12")), ReturnAsset{}, today)
	if ev[0].(*eventsv1.AssetReturned).DaysOverdue != 0 {
		t.Fatalf("early return overdue: %v", ev[0])
	}
}

// A person cleared for leaving borrows nothing more, and keeps nothing new, until the leaving
// day has passed.
func TestClearedBorrower(t *testing.T) {
	c := LendAsset{LoanID: "l1", Borrower: "李老师", DueOn: "2025-03-20", BorrowerCleared: []string{"2024-07-01", "2025-03-10"}}
	_, err := DecideLendAsset(given(registered()), c, Campus{}, today, custodyPolicy)
	wantReason(t, err, ReasonBorrowerCleared)
	c.BorrowerCleared = []string{"2025-03-31"}
	_, err = DecideLendAsset(given(registered()), c, Campus{}, today, custodyPolicy)
	wantReason(t, err, ReasonBorrowerCleared)
	c.BorrowerCleared = []string{"2025-03-09"} // left yesterday: the name is someone else's now
	if _, err := DecideLendAsset(given(registered()), c, Campus{}, today, custodyPolicy); err != nil {
		t.Fatal(err)
	}
	// Nor does the person take an asset into custody; other changes of what they already
	// keep go on.
	_, err = DecideTransferAsset(given(registered()), TransferAsset{ToCustodian: "李老师", ToCustodianCleared: []string{"2025-03-31"}}, Campus{}, today)
	wantReason(t, err, ReasonBorrowerCleared)
	kept := given(registered())
	kept.Custodian = "李老师"
	if _, err := DecideTransferAsset(kept, TransferAsset{ToLocation: "图书馆", ToCustodian: "李老师", ToCustodianCleared: []string{"2025-03-31"}}, Campus{}, today); err != nil {
		t.Fatal(err)
	}
}
