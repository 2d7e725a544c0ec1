package domain

import "sort"

// Lot is an open lot (批次) of an item: what is left of one goods in, at its unit cost.
type Lot struct {
	ID          string
	ReceivedOn  string // YYYY-MM-DD: FIFO order
	Quantity    int64
	UnitCostFen int64
}

// Slice is a quantity taken from (or put back into) one lot at the lot's unit cost.
type Slice struct {
	LotID       string
	ReceivedOn  string
	Quantity    int64
	UnitCostFen int64
}

// Lots are an item's open lots, oldest first (先进先出: receipt date, then receipt order).
type Lots []Lot

// Quantity is the quantity on hand.
func (ls Lots) Quantity() int64 {
	var n int64
	for _, l := range ls {
		n += l.Quantity
	}
	return n
}

// Value is the FIFO value on hand: each lot at its own cost.
func (ls Lots) Value() int64 {
	var v int64
	for _, l := range ls {
		v += l.Quantity * l.UnitCostFen
	}
	return v
}

// Add returns the lots with l added after every lot received on or before its date. The
// receiver is not changed.
func (ls Lots) Add(l Lot) Lots {
	i := sort.Search(len(ls), func(i int) bool { return ls[i].ReceivedOn > l.ReceivedOn })
	out := make(Lots, 0, len(ls)+1)
	out = append(out, ls[:i]...)
	out = append(out, l)
	return append(out, ls[i:]...)
}

// Consume takes qty from the oldest lots first and returns the lots left and the slices
// taken, oldest first. ok is false (and nothing is taken) when fewer than qty are on hand.
// The receiver is not changed.
func (ls Lots) Consume(qty int64) (left Lots, taken []Slice, ok bool) {
	if qty > ls.Quantity() || qty < 0 {
		return ls, nil, false
	}
	left = make(Lots, 0, len(ls))
	for _, l := range ls {
		if qty > 0 {
			n := min(qty, l.Quantity)
			taken = append(taken, Slice{LotID: l.ID, ReceivedOn: l.ReceivedOn, Quantity: n, UnitCostFen: l.UnitCostFen})
			qty -= n
			l.Quantity -= n
		}
		if l.Quantity > 0 {
			left = append(left, l)
		}
	}
	return left, taken, true
}

// Restore puts slices back into their lots (a lot used up meanwhile is opened again with its
// receipt date and cost, so it keeps its FIFO place). The receiver is not changed.
func (ls Lots) Restore(slices []Slice) Lots {
	out := append(Lots(nil), ls...)
	for _, s := range slices {
		found := false
		for i := range out {
			if out[i].ID == s.LotID {
				out[i].Quantity += s.Quantity
				found = true
				break
			}
		}
		if !found {
			out = out.Add(Lot{ID: s.LotID, ReceivedOn: s.ReceivedOn, Quantity: s.Quantity, UnitCostFen: s.UnitCostFen})
		}
	}
	return out
}

// SlicesValue is the value of slices at their costs.
func SlicesValue(ss []Slice) int64 {
	var v int64
	for _, s := range ss {
		v += s.Quantity * s.UnitCostFen
	}
	return v
}

// Unwind returns the last qty units of slices, newest first: what a return of qty gives back
// of goods issued as slices (the goods that left last come back first). slices are in the
// order they were taken.
func Unwind(slices []Slice, qty int64) []Slice {
	var out []Slice
	for i := len(slices) - 1; i >= 0 && qty > 0; i-- {
		s := slices[i]
		s.Quantity = min(s.Quantity, qty)
		qty -= s.Quantity
		out = append(out, s)
	}
	return out
}

// Movement is one change of an item's stock as the reports see it: its business date, the
// signed quantity and value it moved. Stock events carry these, so valuation as of a date
// is a sum, independent of how FIFO reached it.
type Movement struct {
	ItemCode string
	Category string
	On       string // YYYY-MM-DD
	Kind     MovementKind
	Quantity int64 // signed: + in, − out
	ValueFen int64 // signed
}

// MovementKind classifies movements for the monthly audit.
type MovementKind string

// Movement kinds.
const (
	MoveReceived MovementKind = "received" // 入库
	MoveIssued   MovementKind = "issued"   // 出库
	MoveReturned MovementKind = "returned" // 退库
	MoveAdjusted MovementKind = "adjusted" // 盘盈盘亏
)

// StockAsOf is the quantity and value on hand at the end of day (YYYY-MM-DD): the sum of the
// movements dated on or before it.
func StockAsOf(moves []Movement, day string) (qty, value int64) {
	for _, m := range moves {
		if m.On <= day {
			qty += m.Quantity
			value += m.ValueFen
		}
	}
	return qty, value
}
