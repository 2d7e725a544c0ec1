package domain

import (
	"reflect"
	"testing"
)

// Lots for the hand-computed FIFO cases: A 10 @ 2.00 on 09-01, B 5 @ 3.00 on 09-05,
// C 8 @ 2.50 on 09-10. On hand 23, value 10×200 + 5×300 + 8×250 = 2000+1500+2000 = 5500.
func abc() Lots {
	return Lots{}.
		Add(Lot{ID: "C", ReceivedOn: "2026-09-10", Quantity: 8, UnitCostFen: 250}).
		Add(Lot{ID: "A", ReceivedOn: "2026-09-01", Quantity: 10, UnitCostFen: 200}).
		Add(Lot{ID: "B", ReceivedOn: "2026-09-05", Quantity: 5, UnitCostFen: 300})
}

func TestLotsAddKeepsReceiptOrder(t *testing.T) {
	ls := abc()
	if got := []string{ls[0].ID, ls[1].ID, ls[2].ID}; !reflect.DeepEqual(got, []string{"A", "B", "C"}) {
		t.Fatalf("order %v", got)
	}
	// Same date: after the lots already there.
	ls = ls.Add(Lot{ID: "B2", ReceivedOn: "2026-09-05", Quantity: 1, UnitCostFen: 1})
	if ls[2].ID != "B2" || ls[3].ID != "C" {
		t.Fatalf("same-day lot %v", ls)
	}
	if q, v := abc().Quantity(), abc().Value(); q != 23 || v != 5500 {
		t.Fatalf("on hand %d value %d", q, v)
	}
}

func TestConsumeOldestFirst(t *testing.T) {
	cases := []struct {
		name  string
		qty   int64
		left  Lots
		taken []Slice
		cost  int64
	}{
		{"part of the oldest", 4,
			Lots{{"A", "2026-09-01", 6, 200}, {"B", "2026-09-05", 5, 300}, {"C", "2026-09-10", 8, 250}},
			[]Slice{{"A", "2026-09-01", 4, 200}}, 800},
		{"exactly the oldest", 10,
			Lots{{"B", "2026-09-05", 5, 300}, {"C", "2026-09-10", 8, 250}},
			[]Slice{{"A", "2026-09-01", 10, 200}}, 2000},
		// 10×200 + 3×300 = 2900
		{"across two lots", 13,
			Lots{{"B", "2026-09-05", 2, 300}, {"C", "2026-09-10", 8, 250}},
			[]Slice{{"A", "2026-09-01", 10, 200}, {"B", "2026-09-05", 3, 300}}, 2900},
		// 2000 + 1500 + 1×250 = 3750
		{"into the third", 16,
			Lots{{"C", "2026-09-10", 7, 250}},
			[]Slice{{"A", "2026-09-01", 10, 200}, {"B", "2026-09-05", 5, 300}, {"C", "2026-09-10", 1, 250}}, 3750},
		{"everything", 23, Lots{},
			[]Slice{{"A", "2026-09-01", 10, 200}, {"B", "2026-09-05", 5, 300}, {"C", "2026-09-10", 8, 250}}, 5500},
		{"nothing", 0, abc(), nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := abc()
			left, taken, ok := before.Consume(c.qty)
			if !ok || !reflect.DeepEqual(left, c.left) || !reflect.DeepEqual(taken, c.taken) || SlicesValue(taken) != c.cost {
				t.Fatalf("left %v taken %v (%d) ok %v", left, taken, SlicesValue(taken), ok)
			}
			if left.Value()+SlicesValue(taken) != 5500 {
				t.Fatalf("value not kept: %d + %d", left.Value(), SlicesValue(taken))
			}
			if !reflect.DeepEqual(before, abc()) {
				t.Fatal("Consume changed its receiver")
			}
		})
	}
	if left, taken, ok := abc().Consume(24); ok || taken != nil || !reflect.DeepEqual(left, abc()) {
		t.Fatalf("more than on hand: %v %v %v", left, taken, ok)
	}
	if _, _, ok := abc().Consume(-1); ok {
		t.Fatal("negative quantity consumed")
	}
}

func TestUnwindAndRestore(t *testing.T) {
	_, taken, _ := abc().Consume(16) // A10, B5, C1
	// Returning 3 gives back C1 then B2, newest first: 250 + 2×300 = 850.
	back := Unwind(taken, 3)
	if want := []Slice{{"C", "2026-09-10", 1, 250}, {"B", "2026-09-05", 2, 300}}; !reflect.DeepEqual(back, want) {
		t.Fatalf("unwind %v", back)
	}
	if SlicesValue(back) != 850 {
		t.Fatalf("value %d", SlicesValue(back))
	}
	// Restoring into the lots left (C7): B is reopened in its FIFO place before C.
	left, _, _ := abc().Consume(16)
	got := left.Restore(back)
	if want := (Lots{{"B", "2026-09-05", 2, 300}, {"C", "2026-09-10", 8, 250}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("restore %v", got)
	}
	// The next issue takes the returned B goods first: 2×300 + 1×250 = 850.
	if _, again, _ := got.Consume(3); SlicesValue(again) != 850 {
		t.Fatalf("after return %v", again)
	}
	if u := Unwind(taken, 100); SlicesValue(u) != 3750 {
		t.Fatalf("unwind beyond %v", u)
	}
}

func TestStockAsOf(t *testing.T) {
	moves := []Movement{
		{On: "2026-09-01", Kind: MoveReceived, Quantity: 10, ValueFen: 2000},
		{On: "2026-09-05", Kind: MoveReceived, Quantity: 5, ValueFen: 1500},
		{On: "2026-09-06", Kind: MoveIssued, Quantity: -13, ValueFen: -2900},
		{On: "2026-09-06", Kind: MoveReturned, Quantity: 1, ValueFen: 300},
		{On: "2026-09-30", Kind: MoveAdjusted, Quantity: -1, ValueFen: -300},
	}
	for _, c := range []struct {
		day        string
		qty, value int64
	}{
		{"2026-08-31", 0, 0},
		{"2026-09-01", 10, 2000},
		{"2026-09-04", 10, 2000},
		{"2026-09-05", 15, 3500},
		{"2026-09-06", 3, 900}, // 15 − 13 + 1; 3500 − 2900 + 300
		{"2026-09-29", 3, 900}, //
		{"2026-09-30", 2, 600}, // after the shortage
		{"2027-01-01", 2, 600}, //
	} {
		if q, v := StockAsOf(moves, c.day); q != c.qty || v != c.value {
			t.Errorf("%s: %d %d, want %d %d", c.day, q, v, c.qty, c.value)
		}
	}
}
