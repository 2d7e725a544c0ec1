package domain

import (
	"sort"
	"time"

	"google.golang.org/protobuf/proto"

	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

// Reports over stock movements: pure functions of the events, for the projector and the
// service's own reads. Every stock event carries its category, business date, quantity and
// value, so none of them replays FIFO.

// MovementOf returns the movement a stock event records, if it records one.
func MovementOf(m proto.Message) (Movement, bool) {
	switch e := m.(type) {
	case *eventsv1.StockReceived:
		return Movement{ItemCode: e.ItemCode, Category: e.Category, On: e.ReceivedOn, Kind: MoveReceived, Quantity: e.Quantity, ValueFen: e.ValueFen}, true
	case *eventsv1.StockIssued:
		return Movement{ItemCode: e.ItemCode, Category: e.Category, On: e.IssuedOn, Kind: MoveIssued, Quantity: -e.Quantity, ValueFen: -e.CostFen}, true
	case *eventsv1.StockReturned:
		return Movement{ItemCode: e.ItemCode, Category: e.Category, On: e.ReturnedOn, Kind: MoveReturned, Quantity: e.Quantity, ValueFen: e.ValueFen}, true
	case *eventsv1.StockAdjusted:
		return Movement{ItemCode: e.ItemCode, Category: e.Category, On: e.AdjustedOn, Kind: MoveAdjusted, Quantity: e.Difference, ValueFen: e.ValueFen}, true
	}
	return Movement{}, false
}

// CategoryAudit is one row of the monthly categorised audit (按月分类审核): values in fen.
// Closing = Opening + Received − Issued + Returned + Adjusted.
type CategoryAudit struct {
	Category string
	Opening  int64
	Received int64
	Issued   int64 // positive: the FIFO cost of goods out
	Returned int64
	Adjusted int64 // signed
	Closing  int64
}

// MonthlyAudit sums moves by category for month (YYYY-MM): the value at the start of the
// month, what came in, went out, came back and was adjusted in it, and the value at its end.
// Rows are sorted by category; a category with no value and no movement is left out.
func MonthlyAudit(moves []Movement, month string) []CategoryAudit {
	rows := map[string]*CategoryAudit{}
	for _, m := range moves {
		mm := m.On[:min(7, len(m.On))]
		if mm > month {
			continue
		}
		r := rows[m.Category]
		if r == nil {
			r = &CategoryAudit{Category: m.Category}
			rows[m.Category] = r
		}
		if mm < month {
			r.Opening += m.ValueFen
			continue
		}
		switch m.Kind {
		case MoveReceived:
			r.Received += m.ValueFen
		case MoveIssued:
			r.Issued -= m.ValueFen
		case MoveReturned:
			r.Returned += m.ValueFen
		case MoveAdjusted:
			r.Adjusted += m.ValueFen
		}
	}
	var out []CategoryAudit
	for _, r := range rows {
		r.Closing = r.Opening + r.Received - r.Issued + r.Returned + r.Adjusted
		if r.Opening != 0 || r.Received != 0 || r.Issued != 0 || r.Returned != 0 || r.Adjusted != 0 {
			out = append(out, *r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Category < out[j].Category })
	return out
}

// StockFinding is an item of the slow-moving and overstock report (呆滞积压).
type StockFinding struct {
	ItemCode string
	Category string
	OnHand   int64
	ValueFen int64
	// LastIssuedOn is the last issue on or before the day ("" for never).
	LastIssuedOn string
	// SlowMoving: stock on hand and no issue for the policy's SlowMovingDays.
	SlowMoving bool
	// Overstock: at the window's average daily issue the stock would last longer than the
	// policy's OverstockCoverDays. CoverDays is that estimate (0 when nothing was issued).
	Overstock bool
	CoverDays int64
}

// SlowMovingStock finds the slow-moving and overstocked items on day (YYYY-MM-DD) from the
// movements of a school's items, under policy p. An item first received within the window
// is not slow-moving yet (it has not had the time to move). Rows are sorted by item code.
func SlowMovingStock(moves []Movement, day string, p StockPolicy) []StockFinding {
	d, err := time.Parse(DateLayout, day)
	if err != nil {
		return nil
	}
	windowStart := Day(d.AddDate(0, 0, -p.SlowMovingDays))
	type acc struct {
		f            StockFinding
		firstIn      string
		issuedWindow int64
	}
	items := map[string]*acc{}
	for _, m := range moves {
		if m.On > day {
			continue
		}
		a := items[m.ItemCode]
		if a == nil {
			a = &acc{f: StockFinding{ItemCode: m.ItemCode, Category: m.Category}}
			items[m.ItemCode] = a
		}
		a.f.OnHand += m.Quantity
		a.f.ValueFen += m.ValueFen
		switch m.Kind {
		case MoveReceived:
			if a.firstIn == "" || m.On < a.firstIn {
				a.firstIn = m.On
			}
		case MoveIssued:
			if m.On > a.f.LastIssuedOn {
				a.f.LastIssuedOn = m.On
			}
			if m.On > windowStart {
				a.issuedWindow -= m.Quantity
			}
		case MoveReturned:
			if m.On > windowStart {
				a.issuedWindow -= m.Quantity
			}
		}
	}
	var out []StockFinding
	for _, a := range items {
		f := a.f
		if f.OnHand <= 0 {
			continue
		}
		if f.LastIssuedOn <= windowStart && a.firstIn <= windowStart {
			f.SlowMoving = true
		}
		if a.issuedWindow > 0 {
			// cover = on hand ÷ (issued in window ÷ window days), rounded up
			f.CoverDays = (f.OnHand*int64(p.SlowMovingDays) + a.issuedWindow - 1) / a.issuedWindow
			f.Overstock = f.CoverDays > int64(p.OverstockCoverDays)
		}
		if f.SlowMoving || f.Overstock {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ItemCode < out[j].ItemCode })
	return out
}
