package domain

import (
	"sort"
	"time"
)

// Policy is the asset rules in force from a date. Rules change by decree, so they are data
// with effective dates, and every decision records the version it was judged against.
type Policy struct {
	Version       string
	EffectiveFrom time.Time
	// CapitalisationThresholdFen: a unit price at or above it makes a fixed asset (固定资产);
	// below it, a low-value item (低值易耗品).
	CapitalisationThresholdFen int64
}

// Policies is a policy history.
type Policies []Policy

// DefaultPolicies follow the national rules for public institutions (事业单位财务规则).
var DefaultPolicies = Policies{
	{Version: "cap-1997", EffectiveFrom: date(1997, 1, 1), CapitalisationThresholdFen: 50000},
	// 财政部令第68号, in force 2012-04-01: 1,000 yuan for general equipment.
	{Version: "cap-2012", EffectiveFrom: date(2012, 4, 1), CapitalisationThresholdFen: 100000},
	// 财政部令第108号 art. 41, in force 2022-03-01.
	{Version: "cap-2022", EffectiveFrom: date(2022, 3, 1), CapitalisationThresholdFen: 100000},
}

// At returns the policy in force at t (the earliest one for dates before all of them).
func (ps Policies) At(t time.Time) Policy {
	sorted := append(Policies(nil), ps...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].EffectiveFrom.Before(sorted[j].EffectiveFrom) })
	p := sorted[0]
	for _, x := range sorted {
		if !x.EffectiveFrom.After(t) {
			p = x
		}
	}
	return p
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
