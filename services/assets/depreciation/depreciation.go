// Package depreciation computes the depreciation of a ledger entry (固定资产折旧) as of any
// date: monthly, straight-line over the category's life, no residual value (政府会计准则第3号).
// It is pure (no clock, no policy tables): everything it needs is recorded on the
// registration event, so the projector and reports compute net book value from events alone.
package depreciation

import (
	"math/bits"
	"time"
)

// Start says which month depreciation starts in (a policy value judged at registration).
type Start string

const (
	// SameMonth 当月计提: the month of addition is depreciated (the national default).
	SameMonth Start = "same_month"
	// NextMonth 次月计提: depreciation starts the month after addition.
	NextMonth Start = "next_month"
)

// Valid reports whether s is a known start rule.
func (s Start) Valid() bool { return s == SameMonth || s == NextMonth }

// Asset is what depreciation needs of one ledger entry.
type Asset struct {
	// CostFen is the original value (原值): unit price × quantity, in fen.
	CostFen int64
	// LifeMonths is the depreciation life; 0 = never depreciated (books and archives,
	// cultural relics, animals and plants).
	LifeMonths int
	Start      Start
	// AcquiredOn is the date of addition (only its year and month count).
	AcquiredOn time.Time
	// RemovedOn is the date the entry left the ledger (write-off, transfer out); zero while
	// it is held. The month of removal is not depreciated.
	RemovedOn time.Time
}

// Position is an entry's depreciation as of a date.
type Position struct {
	// Months depreciated so far (计提月数).
	Months int
	// AccumulatedFen is the accumulated depreciation (累计折旧).
	AccumulatedFen int64
	// NetBookValueFen is cost minus accumulated depreciation (净值); 0 before acquisition.
	NetBookValueFen int64
}

// MonthlyFen is the depreciation of a full month before rounding is settled: the last month
// takes the remainder, so the months add up to the cost exactly.
func (a Asset) MonthlyFen() int64 {
	if a.LifeMonths <= 0 {
		return 0
	}
	return a.CostFen / int64(a.LifeMonths)
}

// AsOf returns the position at the end of the day asOf. Depreciation is booked monthly: as of
// any day of a month, that month's depreciation counts (if the month is depreciated at all).
// Accumulated depreciation after n months is ⌊cost × n / life⌋, so rounding never drifts and
// the entry is fully depreciated, to the fen, after life months.
func (a Asset) AsOf(asOf time.Time) Position {
	acquired := month(a.AcquiredOn)
	at := month(asOf)
	if at < acquired || a.CostFen <= 0 {
		return Position{}
	}
	first := acquired
	if a.Start == NextMonth {
		first++
	}
	last := at
	if !a.RemovedOn.IsZero() && month(a.RemovedOn) <= last {
		last = month(a.RemovedOn) - 1
	}
	n := 0
	if a.LifeMonths > 0 && last >= first {
		n = min(last-first+1, a.LifeMonths)
	}
	acc := int64(0)
	if n > 0 {
		hi, lo := bits.Mul64(uint64(a.CostFen), uint64(n))
		q, _ := bits.Div64(hi, lo, uint64(a.LifeMonths)) // n ≤ life: no overflow of the quotient
		acc = int64(q)
	}
	return Position{Months: n, AccumulatedFen: acc, NetBookValueFen: a.CostFen - acc}
}

// month numbers calendar months consecutively.
func month(t time.Time) int { return t.Year()*12 + int(t.Month()) - 1 }
