package domain

import (
	"time"

	"houqin.dev/platform/dated"
)

// StockPolicy is the stores rules in force from a date (减少库存，避免积压资金): data with an
// effective date like every policy; the slow-moving report records the version it used.
type StockPolicy struct {
	Version       string
	EffectiveFrom time.Time
	// SlowMovingDays: an item with stock on hand and no issue for this many days is
	// slow-moving (呆滞); it is also the window over which usage is averaged.
	SlowMovingDays int
	// OverstockCoverDays: an item whose stock on hand would last longer than this at its
	// average daily issue over the window is overstocked (积压).
	OverstockCoverDays int
}

// StockPolicies is a stock policy history.
type StockPolicies []StockPolicy

// DefaultStockPolicies: half a year without issue is slow-moving; more than a term's worth
// (about 180 days) of stock is overstock.
var DefaultStockPolicies = StockPolicies{
	{Version: "stock-2020", EffectiveFrom: date(2020, 1, 1), SlowMovingDays: 180, OverstockCoverDays: 180},
}

// At returns the policy in force at t (the earliest one for dates before all of them).
func (ps StockPolicies) At(t time.Time) StockPolicy {
	return dated.At(ps, func(p StockPolicy) time.Time { return p.EffectiveFrom }, t)
}
