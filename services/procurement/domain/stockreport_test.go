package domain

import (
	"reflect"
	"testing"

	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

func TestMovementOf(t *testing.T) {
	got, ok := MovementOf(&eventsv1.StockIssued{ItemCode: "A", Category: "c", IssuedOn: "2026-09-01", Quantity: 3, CostFen: 700})
	if !ok || got != (Movement{ItemCode: "A", Category: "c", On: "2026-09-01", Kind: MoveIssued, Quantity: -3, ValueFen: -700}) {
		t.Fatalf("issued %v", got)
	}
	got, _ = MovementOf(&eventsv1.StockAdjusted{ItemCode: "A", Category: "c", AdjustedOn: "2026-09-30", Difference: -1, ValueFen: -200})
	if got != (Movement{ItemCode: "A", Category: "c", On: "2026-09-30", Kind: MoveAdjusted, Quantity: -1, ValueFen: -200}) {
		t.Fatalf("adjusted %v", got)
	}
	got, _ = MovementOf(&eventsv1.StockReturned{ItemCode: "A", Category: "c", ReturnedOn: "2026-09-02", Quantity: 1, ValueFen: 200})
	if got != (Movement{ItemCode: "A", Category: "c", On: "2026-09-02", Kind: MoveReturned, Quantity: 1, ValueFen: 200}) {
		t.Fatalf("returned %v", got)
	}
	if _, ok := MovementOf(&eventsv1.StockCounted{}); ok {
		t.Fatal("a count is not a movement")
	}
}

// Two categories over August–October.
var auditMoves = []Movement{
	{ItemCode: "P1", Category: "办公用品", On: "2026-08-20", Kind: MoveReceived, Quantity: 100, ValueFen: 50000},
	{ItemCode: "P1", Category: "办公用品", On: "2026-08-25", Kind: MoveIssued, Quantity: -20, ValueFen: -10000},
	{ItemCode: "P1", Category: "办公用品", On: "2026-09-03", Kind: MoveIssued, Quantity: -30, ValueFen: -15000},
	{ItemCode: "P1", Category: "办公用品", On: "2026-09-04", Kind: MoveReturned, Quantity: 5, ValueFen: 2500},
	{ItemCode: "P2", Category: "办公用品", On: "2026-09-10", Kind: MoveReceived, Quantity: 10, ValueFen: 8000},
	{ItemCode: "Q1", Category: "清洁用品", On: "2026-09-15", Kind: MoveReceived, Quantity: 40, ValueFen: 12000},
	{ItemCode: "Q1", Category: "清洁用品", On: "2026-09-30", Kind: MoveAdjusted, Quantity: -2, ValueFen: -600},
	{ItemCode: "Q1", Category: "清洁用品", On: "2026-10-02", Kind: MoveIssued, Quantity: -10, ValueFen: -3000},
}

func TestMonthlyAudit(t *testing.T) {
	// September: 办公用品 opens at 50000 − 10000 = 40000; +8000 in, 15000 out, 2500 back:
	// closes at 40000 + 8000 − 15000 + 2500 = 35500. 清洁用品: 0 + 12000 − 600 = 11400.
	want := []CategoryAudit{
		{Category: "办公用品", Opening: 40000, Received: 8000, Issued: 15000, Returned: 2500, Closing: 35500},
		{Category: "清洁用品", Received: 12000, Adjusted: -600, Closing: 11400},
	}
	if got := MonthlyAudit(auditMoves, "2026-09"); !reflect.DeepEqual(got, want) {
		t.Fatalf("September %+v", got)
	}
	// October: both open at September's close; 清洁用品 issues 3000.
	want = []CategoryAudit{
		{Category: "办公用品", Opening: 35500, Closing: 35500},
		{Category: "清洁用品", Opening: 11400, Issued: 3000, Closing: 8400},
	}
	if got := MonthlyAudit(auditMoves, "2026-10"); !reflect.DeepEqual(got, want) {
		t.Fatalf("October %+v", got)
	}
	if got := MonthlyAudit(auditMoves, "2026-07"); len(got) != 0 {
		t.Fatalf("July %+v", got)
	}
	// Each month's closing is the value as of its last day.
	if _, v := StockAsOf(auditMoves, "2026-09-30"); v != 35500+11400 {
		t.Fatalf("as of 09-30: %d", v)
	}
}

func TestSlowMovingStock(t *testing.T) {
	p := StockPolicy{Version: "t", SlowMovingDays: 90, OverstockCoverDays: 60}
	moves := []Movement{
		// S: received long ago, last issued 2026-01-10: slow-moving on 2026-06-01 (window starts 03-03).
		{ItemCode: "S", Category: "c", On: "2025-12-01", Kind: MoveReceived, Quantity: 50, ValueFen: 5000},
		{ItemCode: "S", Category: "c", On: "2026-01-10", Kind: MoveIssued, Quantity: -5, ValueFen: -500},
		// N: never issued, received before the window: slow-moving, no cover.
		{ItemCode: "N", Category: "c", On: "2026-02-01", Kind: MoveReceived, Quantity: 7, ValueFen: 700},
		// F: received in the window and not issued yet: neither.
		{ItemCode: "F", Category: "c", On: "2026-05-01", Kind: MoveReceived, Quantity: 7, ValueFen: 700},
		// O: 300 received, 9 issued in the window (net of a return of 1): 291 ÷ (9/90) = 2910 days > 60.
		{ItemCode: "O", Category: "c", On: "2026-01-01", Kind: MoveReceived, Quantity: 300, ValueFen: 3000},
		{ItemCode: "O", Category: "c", On: "2026-05-01", Kind: MoveIssued, Quantity: -10, ValueFen: -100},
		{ItemCode: "O", Category: "c", On: "2026-05-02", Kind: MoveReturned, Quantity: 1, ValueFen: 10},
		// K: 100 received, 90 issued in the window: 10 ÷ (90/90) = 10 days: fine.
		{ItemCode: "K", Category: "c", On: "2026-01-01", Kind: MoveReceived, Quantity: 100, ValueFen: 1000},
		{ItemCode: "K", Category: "c", On: "2026-05-20", Kind: MoveIssued, Quantity: -90, ValueFen: -900},
		// E: all issued: nothing on hand, nothing to report.
		{ItemCode: "E", Category: "c", On: "2025-01-01", Kind: MoveReceived, Quantity: 1, ValueFen: 1},
		{ItemCode: "E", Category: "c", On: "2025-01-02", Kind: MoveIssued, Quantity: -1, ValueFen: -1},
		// Movements after the day are ignored.
		{ItemCode: "S", Category: "c", On: "2026-06-02", Kind: MoveIssued, Quantity: -1, ValueFen: -100},
	}
	want := []StockFinding{
		{ItemCode: "N", Category: "c", OnHand: 7, ValueFen: 700, SlowMoving: true},
		{ItemCode: "O", Category: "c", OnHand: 291, ValueFen: 2910, LastIssuedOn: "2026-05-01", Overstock: true, CoverDays: 2910},
		{ItemCode: "S", Category: "c", OnHand: 45, ValueFen: 4500, LastIssuedOn: "2026-01-10", SlowMoving: true},
	}
	if got := SlowMovingStock(moves, "2026-06-01", p); !reflect.DeepEqual(got, want) {
		t.Fatalf("%+v", got)
	}
	// A longer slow-moving window (policy) catches nothing new but S's issue now falls in it.
	p.SlowMovingDays = 200
	for _, f := range SlowMovingStock(moves, "2026-06-01", p) {
		if f.ItemCode == "S" && f.SlowMoving {
			t.Fatalf("S issued within 200 days: %+v", f)
		}
	}
	if got := SlowMovingStock(moves, "bad", p); got != nil {
		t.Fatalf("bad day %v", got)
	}
}

func TestStockPolicyAt(t *testing.T) {
	ps := StockPolicies{{Version: "b", EffectiveFrom: date(2024, 1, 1)}, {Version: "a", EffectiveFrom: date(2020, 1, 1)}}
	if ps.At(date(2019, 1, 1)).Version != "a" || ps.At(date(2023, 12, 31)).Version != "a" || ps.At(date(2024, 1, 1)).Version != "b" {
		t.Fatal("policy lookup")
	}
}
