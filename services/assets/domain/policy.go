package domain

import (
	"time"

	"houqin.dev/platform/dated"
)

// Policy is the asset rules in force from a date. Rules change by decree, so they are data
// with effective dates, and every decision records the version it was judged against.
type Policy struct {
	Version       string
	EffectiveFrom time.Time
	// CapitalisationThresholdFen: a unit price at or above it makes a fixed asset (固定资产);
	// below it, a low-value item (低值易耗品).
	CapitalisationThresholdFen int64
	// CategoryThresholdFen overrides the threshold for a top-level category (专用设备 had a
	// higher one until 2022).
	CategoryThresholdFen map[string]int64
	// AlwaysFixed lists top-level categories held as fixed assets whatever their unit price
	// (图书: large batches of like items in use for years).
	AlwaysFixed []string
	// MinUseMonths: a fixed asset is expected to be used for more than this many months
	// (使用期限超过一年, 一年不含). An item expected to wear out sooner is a low-value item.
	MinUseMonths int
	// DepreciationStart: "same_month" (当月增加当月计提) or "next_month" (次月计提).
	DepreciationStart string
	// WriteOffTiers are the approval steps of a write-off by its value (see writeoff.go).
	WriteOffTiers []WriteOffTier
}

// Policies is a policy history.
type Policies []Policy

// DefaultWriteOffTiers: one municipal school rule (districts differ): up to 20,000 yuan the
// vice-principal, up to 50,000 the principal, up to 200,000 the principal's office meeting,
// above that the bureau and then the finance bureau.
var DefaultWriteOffTiers = []WriteOffTier{
	{Tier: "vice_principal", UpToFen: 2_000_000, Steps: []WriteOffStep{{Step: "vice_principal", Role: "vice_principal"}}},
	{Tier: "principal", UpToFen: 5_000_000, Steps: []WriteOffStep{{Step: "principal", Role: "principal"}}},
	// 校长办公会: the principal records the meeting's decision.
	{Tier: "office_meeting", UpToFen: 20_000_000, Steps: []WriteOffStep{{Step: "office_meeting", Role: "principal"}}},
	// 教育局 then 财政局: the bureau's administrator records each decision.
	{Tier: "bureau", Steps: []WriteOffStep{{Step: "bureau", Role: "bureau_admin"}, {Step: "finance_bureau", Role: "bureau_admin"}}},
}

// WriteOffTier is one approval tier of write-offs (报废审批权限): values up to UpToFen
// (0: no upper bound, the last tier) need every step, in order.
type WriteOffTier struct {
	Tier    string
	UpToFen int64
	Steps   []WriteOffStep
}

// WriteOffStep is one approval of a tier and the role that must give it.
type WriteOffStep struct {
	Step string
	Role string
}

// WriteOffTier returns the tier for a write-off of valueFen.
func (p Policy) WriteOffTier(valueFen int64) WriteOffTier {
	for _, t := range p.WriteOffTiers {
		if t.UpToFen == 0 || valueFen <= t.UpToFen {
			return t
		}
	}
	return p.WriteOffTiers[len(p.WriteOffTiers)-1]
}

// DefaultPolicies follow the national rules for public institutions (事业单位财务规则).
var DefaultPolicies = Policies{
	// 1997 rules: 500 yuan for general equipment, 800 yuan for special equipment.
	{Version: "cap-1997", EffectiveFrom: date(1997, 1, 1), CapitalisationThresholdFen: 50000,
		CategoryThresholdFen: map[string]int64{"3": 80000}, AlwaysFixed: []string{"5"}, MinUseMonths: 12,
		DepreciationStart: "same_month", WriteOffTiers: DefaultWriteOffTiers},
	// 财政部令第68号, in force 2012-04-01: 1,000 yuan, special equipment 1,500 yuan.
	{Version: "cap-2012", EffectiveFrom: date(2012, 4, 1), CapitalisationThresholdFen: 100000,
		CategoryThresholdFen: map[string]int64{"3": 150000}, AlwaysFixed: []string{"5"}, MinUseMonths: 12,
		DepreciationStart: "same_month", WriteOffTiers: DefaultWriteOffTiers},
	// 财政部令第108号 art. 41, in force 2022-03-01: 1,000 yuan, use over one year.
	{Version: "cap-2022", EffectiveFrom: date(2022, 3, 1), CapitalisationThresholdFen: 100000,
		AlwaysFixed: []string{"5"}, MinUseMonths: 12, DepreciationStart: "same_month", WriteOffTiers: DefaultWriteOffTiers},
}

// At returns the policy in force at t (the earliest one for dates before all of them).
func (ps Policies) At(t time.Time) Policy {
	return dated.At(ps, func(p Policy) time.Time { return p.EffectiveFrom }, t)
}

// ThresholdFen is the capitalisation threshold for category (a code of the tree).
func (p Policy) ThresholdFen(category string) int64 {
	if t, ok := p.CategoryThresholdFen[TopLevel(category)]; ok {
		return t
	}
	return p.CapitalisationThresholdFen
}

// FixedAsset judges whether an item is a fixed asset: unit price at or above the threshold
// (or a class held as fixed whatever its price) and expected use over MinUseMonths.
// expectedUseMonths 0 means not stated: the item is taken to last over a year.
func (p Policy) FixedAsset(category string, unitPriceFen int64, expectedUseMonths int) bool {
	if expectedUseMonths != 0 && expectedUseMonths <= p.MinUseMonths {
		return false
	}
	for _, c := range p.AlwaysFixed {
		if c == TopLevel(category) {
			return true
		}
	}
	return unitPriceFen >= p.ThresholdFen(category)
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
