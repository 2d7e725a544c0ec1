package domain

import (
	"testing"

	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

func TestClearance(t *testing.T) {
	held := Held{{Kind: HeldCustodian, AssetId: "a1"}, {Kind: HeldLoan, AssetId: "a2", LoanId: "l1"}, {Kind: HeldIssued, RequisitionId: "r1", Line: 2, Quantity: 1}}
	ev, err := DecideStartClearance(Clearance{}, StartClearance{ClearanceID: "c1", Person: "李老师", LeavingOn: "2025-03-31", Reason: "调往城关小学", Held: held}, Campus{})
	if err != nil {
		t.Fatal(err)
	}
	if s := ev[0].(*eventsv1.ClearanceStarted); len(s.Held) != 3 || s.Person != "李老师" {
		t.Fatalf("started %v", s)
	}
	c := EvolveClearance(Clearance{}, ev[0])
	_, err = DecideCompleteClearance(c, CompleteClearance{Held: held}, today)
	wantReason(t, err, ReasonHoldingsOutstanding)
	done, err := DecideCompleteClearance(c, CompleteClearance{CompletedBy: "u1"}, today)
	if err != nil {
		t.Fatal(err)
	}
	if e := done[0].(*eventsv1.ClearanceCompleted); e.CompletedOn != "2025-03-10" || e.Person != "李老师" {
		t.Fatalf("completed %v", e)
	}
	c = EvolveClearance(c, done[0])
	_, err = DecideCompleteClearance(c, CompleteClearance{}, today)
	wantReason(t, err, ReasonClearanceCompleted)
	_, err = DecideStartClearance(c, StartClearance{Person: "李老师", LeavingOn: "2025-03-31"}, Campus{})
	wantReason(t, err, ReasonClearanceExists)
	_, err = DecideStartClearance(Clearance{}, StartClearance{LeavingOn: "31/03"}, Campus{})
	wantViolations(t, err, "person", "leaving_on")
}
