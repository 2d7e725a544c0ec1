package domain

import (
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

var stocktakeAt = time.Date(2025, 6, 30, 9, 0, 0, 0, time.UTC)

func ledgerOf() []Asset {
	return []Asset{
		{ID: "a1", Tag: "T1", Name: "课桌", Location: "101", Registered: true},
		{ID: "a2", Tag: "T2", Name: "课桌", Location: "101", Registered: true},
		{ID: "a3", Tag: "T3", Name: "投影仪", Location: "102", Registered: true},
		{ID: "a4", Tag: "T4", Name: "电脑", Location: "201", Registered: true},
		{ID: "a5", Tag: "T5", Name: "未入账", Location: "101"},
	}
}

func started(t *testing.T, rooms ...string) Stocktake {
	t.Helper()
	ev, err := DecideStartStocktake(Stocktake{ID: "st1"}, StartStocktake{StocktakeID: "st1", SchoolID: "s1", Rooms: rooms}, ledgerOf(), stocktakeAt)
	if err != nil {
		t.Fatal(err)
	}
	return givenStocktake(ev...)
}

func givenStocktake(events ...proto.Message) Stocktake {
	s := Stocktake{ID: "st1"}
	for _, e := range events {
		s = EvolveStocktake(s, e)
	}
	return s
}

func scan(t *testing.T, s Stocktake, room, code string) (Stocktake, *eventsv1.StocktakeItemScanned) {
	t.Helper()
	ev, err := DecideScanItem(s, ScanItem{Room: room, Code: code}, stocktakeAt.Add(time.Minute))
	e := one[*eventsv1.StocktakeItemScanned](t, ev, err)
	return EvolveStocktake(s, e), e
}

func TestStartStocktakeSnapshotsRooms(t *testing.T) {
	ev, err := DecideStartStocktake(Stocktake{ID: "st1"}, StartStocktake{StocktakeID: "st1", SchoolID: "s1"}, ledgerOf(), stocktakeAt)
	if err != nil {
		t.Fatal(err)
	}
	st := ev[0].(*eventsv1.StocktakeStarted)
	if st.ExpectedItems != 4 || st.RoomCount != 3 || len(ev) != 4 {
		t.Fatalf("started %v, %d events", st, len(ev))
	}
	r := ev[1].(*eventsv1.StocktakeRoomExpected)
	if r.Room != "101" || len(r.Items) != 2 || r.Items[0].Tag != "T1" {
		t.Fatalf("room %v", r)
	}
	// Some rooms only; a room with nothing in the ledger is still counted (items may turn up).
	s := started(t, "101", "301")
	if s.ExpectedCount != 2 || fmt.Sprint(s.Rooms) != "[101 301]" {
		t.Fatalf("scoped %+v", s)
	}
	// An item of a room outside the scope, found in a counted room, is in the wrong room (not
	// a surplus); the rooms outside the scope have nothing missing.
	s, e := scan(t, s, "101", "T3")
	if e.Outcome != ScanWrongRoom || e.ExpectedRoom != "102" {
		t.Fatalf("outside scope %v", e)
	}
	ev, err = DecideCloseStocktake(s, stocktakeAt)
	if err != nil {
		t.Fatal(err)
	}
	var diffs []string
	for _, m := range ev[:len(ev)-1] {
		r := m.(*eventsv1.StocktakeRoomReconciled)
		diffs = append(diffs, fmt.Sprintf("%s missing%d misplaced%d", r.Room, len(r.Missing), len(r.Misplaced)))
	}
	if got := fmt.Sprint(diffs); got != "[101 missing2 misplaced0 102 missing0 misplaced1]" {
		t.Fatalf("scoped diffs %s", got)
	}
	_, err = DecideStartStocktake(s, StartStocktake{StocktakeID: "st1", SchoolID: "s1"}, ledgerOf(), stocktakeAt)
	wantReason(t, err, ReasonStocktakeExists)
	_, err = DecideStartStocktake(Stocktake{}, StartStocktake{Rooms: []string{"101", "101"}}, nil, stocktakeAt)
	wantViolations(t, err, "rooms")
	_, err = DecideStartStocktake(Stocktake{}, StartStocktake{Rooms: []string{""}}, nil, stocktakeAt)
	wantViolations(t, err, "rooms")
}

func TestScanOutcomes(t *testing.T) {
	s := started(t)
	s, e := scan(t, s, "101", "T1")
	if e.Outcome != ScanCounted || e.AssetId != "a1" {
		t.Fatalf("%v", e)
	}
	// By QR payload and by asset id.
	s, e = scan(t, s, "101", QRPrefix+"T2")
	if e.Outcome != ScanCounted || e.Tag != "T2" {
		t.Fatalf("qr %v", e)
	}
	s, e = scan(t, s, "101", "a3")
	if e.Outcome != ScanWrongRoom || e.ExpectedRoom != "102" || e.Tag != "T3" {
		t.Fatalf("wrong room %v", e)
	}
	// The same item again, in any room, by any of its codes.
	s, e = scan(t, s, "102", "T3")
	if e.Outcome != ScanDuplicate {
		t.Fatalf("duplicate %v", e)
	}
	s, e = scan(t, s, "201", "X-999")
	if e.Outcome != ScanUnknown {
		t.Fatalf("unknown %v", e)
	}
	s, e = scan(t, s, "201", "X-999")
	if e.Outcome != ScanDuplicate {
		t.Fatalf("unknown twice %v", e)
	}
	// Not in the ledger when the session started: unknown.
	s, e = scan(t, s, "101", "T5")
	if e.Outcome != ScanUnknown {
		t.Fatalf("unregistered %v", e)
	}
	if s.Counted != 2 || s.WrongRoom != 1 || s.Duplicates != 2 || s.Unknown != 2 {
		t.Fatalf("counts %+v", s)
	}

	ev, err := DecideCloseStocktake(s, stocktakeAt.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	closed := ev[len(ev)-1].(*eventsv1.StocktakeClosed)
	if closed.Missing != 1 || closed.Counted != 2 || closed.Unknown != 2 {
		t.Fatalf("closed %v", closed)
	}
	var diffs []string
	for _, m := range ev[:len(ev)-1] {
		r := m.(*eventsv1.StocktakeRoomReconciled)
		diffs = append(diffs, fmt.Sprintf("%s missing%d misplaced%d unknown%v", r.Room, len(r.Missing), len(r.Misplaced), r.UnknownCodes))
	}
	// 101: T5 found (unknown); 102: T3 found in 101; 201: T4 missing, X-999 unknown.
	if got := fmt.Sprint(diffs); got != "[101 missing0 misplaced0 unknown[T5] 102 missing0 misplaced1 unknown[] 201 missing1 misplaced0 unknown[X-999]]" {
		t.Fatalf("diffs %s", got)
	}
}

func TestScanRefusals(t *testing.T) {
	s := started(t, "101")
	_, err := DecideScanItem(s, ScanItem{Room: "102", Code: "T3"}, stocktakeAt)
	wantReason(t, err, ReasonStocktakeRoomOutside)
	_, err = DecideScanItem(s, ScanItem{}, stocktakeAt)
	wantViolations(t, err, "room", "code")
	_, err = DecideScanItem(Stocktake{ID: "st1"}, ScanItem{Room: "101", Code: "T1"}, stocktakeAt)
	if _, ok := errs.As[*errs.NotFoundError](err); !ok {
		t.Fatalf("scan of no session: %v", err)
	}
	ev, err := DecideCloseStocktake(s, stocktakeAt)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ev {
		s = EvolveStocktake(s, e)
	}
	_, err = DecideScanItem(s, ScanItem{Room: "101", Code: "T1"}, stocktakeAt)
	wantReason(t, err, ReasonStocktakeClosed)
	_, err = DecideCloseStocktake(s, stocktakeAt)
	wantReason(t, err, ReasonStocktakeClosed)
	if !s.Closed || len(s.Diffs) != 1 || len(s.Diffs[0].Missing) != 2 {
		t.Fatalf("closed %+v", s)
	}
}

func closedWithDiffs(t *testing.T) Stocktake {
	t.Helper()
	s := started(t)
	s, _ = scan(t, s, "101", "T1")
	s, _ = scan(t, s, "101", "T2")
	s, _ = scan(t, s, "102", "T3")
	s, _ = scan(t, s, "201", "X-9") // unknown; T4 missing
	ev, err := DecideCloseStocktake(s, stocktakeAt)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ev {
		s = EvolveStocktake(s, e)
	}
	return s
}

func TestStocktakeAdjustments(t *testing.T) {
	p := DefaultStocktakePolicies.At(stocktakeAt)
	open := started(t)
	_, err := DecideProposeAdjustment(open, ProposeAdjustment{Kind: AdjustmentShortage, AssetID: "a4", Reason: "遗失"}, 500000)
	wantReason(t, err, ReasonStocktakeOpen)

	s := closedWithDiffs(t)
	_, err = DecideProposeAdjustment(s, ProposeAdjustment{Kind: AdjustmentShortage, AssetID: "a1", Reason: "遗失"}, 500000)
	wantReason(t, err, ReasonNotADifference)
	_, err = DecideProposeAdjustment(s, ProposeAdjustment{Kind: AdjustmentSurplus, Code: "X-404", Name: "椅子", Category: "6",
		UnitPriceFen: 5000, Custodian: "李老师", Reason: "捐赠未入账"}, 0)
	wantReason(t, err, ReasonNotADifference)
	_, err = DecideProposeAdjustment(s, ProposeAdjustment{Kind: AdjustmentSurplus, Reason: "x"}, 0)
	wantViolations(t, err, "code", "name", "category", "unit_price_fen", "custodian", "reason")
	_, err = DecideProposeAdjustment(s, ProposeAdjustment{Reason: "遗失了"}, 0)
	wantViolations(t, err, "kind")

	ev, err := DecideProposeAdjustment(s, ProposeAdjustment{Kind: AdjustmentShortage, AssetID: "a4", Reason: "遗失"}, 500000)
	short := one[*eventsv1.StocktakeAdjustmentProposed](t, ev, err)
	if short.AdjustmentId != "shortage:a4" || short.Tag != "T4" || short.Room != "201" || short.ValueFen != 500000 {
		t.Fatalf("shortage %v", short)
	}
	s = EvolveStocktake(s, short)
	_, err = DecideProposeAdjustment(s, ProposeAdjustment{Kind: AdjustmentShortage, AssetID: "a4", Reason: "遗失"}, 500000)
	wantReason(t, err, ReasonAdjustmentExists)
	ev, err = DecideProposeAdjustment(s, ProposeAdjustment{Kind: AdjustmentSurplus, Code: "X-9", Name: "椅子", Category: "6",
		UnitPriceFen: 5000, Custodian: "李老师", Reason: "捐赠未入账"}, 0)
	surplus := one[*eventsv1.StocktakeAdjustmentProposed](t, ev, err)
	if surplus.Room != "201" || surplus.Tag != "X-9" || surplus.ValueFen != 5000 {
		t.Fatalf("surplus %v", surplus)
	}
	s = EvolveStocktake(s, surplus)

	// 5,000 yuan: above the director's limit; 50 yuan: within it.
	_, err = DecideApproveAdjustment(s, "shortage:a4", "u1", ApproverLogisticsDirector, p)
	wantReason(t, err, ReasonAdjustmentNeedsHigher)
	_, err = DecideApproveAdjustment(s, "shortage:a4", "u1", "", p)
	wantReason(t, err, ReasonAdjustmentNeedsHigher)
	ev, err = DecideApproveAdjustment(s, "shortage:a4", "u2", ApproverPrincipal, p)
	s = EvolveStocktake(s, one[*eventsv1.StocktakeAdjustmentApproved](t, ev, err))
	_, err = DecideApproveAdjustment(s, "shortage:a4", "u2", ApproverPrincipal, p)
	wantReason(t, err, ReasonAdjustmentApproved)
	ev, err = DecideApproveAdjustment(s, "surplus:X-9", "u1", ApproverLogisticsDirector, p)
	s = EvolveStocktake(s, one[*eventsv1.StocktakeAdjustmentApproved](t, ev, err))
	if !s.Adjustments["surplus:X-9"].Approved || s.Adjustments["surplus:X-9"].ApprovedBy != "u1" {
		t.Fatalf("%+v", s.Adjustments["surplus:X-9"])
	}
	_, err = DecideApproveAdjustment(s, "surplus:nope", "u1", ApproverPrincipal, p)
	if _, ok := errs.As[*errs.NotFoundError](err); !ok {
		t.Fatalf("unknown adjustment: %v", err)
	}
	// A district whose director settles up to 10,000 yuan.
	ev, err = DecideApproveAdjustment(closedProposed(t), "shortage:a4", "u1", ApproverLogisticsDirector,
		StocktakePolicy{Version: "wide", DirectorLimitFen: 1_000_000})
	one[*eventsv1.StocktakeAdjustmentApproved](t, ev, err)

	// A shortage takes the asset off the ledger.
	a := EvolveAsset(Asset{ID: "a4", Registered: true}, &eventsv1.AssetRemovedByStocktake{AssetId: "a4"})
	if a.InLedger() {
		t.Fatal("removed asset still in the ledger")
	}
}

func closedProposed(t *testing.T) Stocktake {
	s := closedWithDiffs(t)
	ev, err := DecideProposeAdjustment(s, ProposeAdjustment{Kind: AdjustmentShortage, AssetID: "a4", Reason: "遗失"}, 500000)
	return EvolveStocktake(s, one[*eventsv1.StocktakeAdjustmentProposed](t, ev, err))
}
