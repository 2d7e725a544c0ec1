package domain

import (
	"time"

	"houqin.dev/platform/dated"
)

// CustodyPolicy is the rules of using assets in force from a date: loans, off-campus
// permits, damage charges. Like Policy, it is data with effective dates, and every decision
// records the version it was judged against.
type CustodyPolicy struct {
	Version       string
	EffectiveFrom time.Time
	// MaxLoanDays is the longest loan (借用期限) from the day of lending.
	MaxLoanDays int
	// MaxPermitDays is the longest an off-campus permit (出校许可) may run.
	MaxPermitDays int
	// DamageRateBP is the default damage charge as a share of the asset's unit price, in
	// basis points (10000 = the full price: 照价赔偿).
	DamageRateBP int64
}

// CustodyPolicies is a policy history.
type CustodyPolicies []CustodyPolicy

// DefaultCustodyPolicies: loans of at most a term's month, permits of at most two weeks,
// intentional damage charged at price (seeds: 损坏公物照价赔偿).
var DefaultCustodyPolicies = CustodyPolicies{
	{Version: "custody-2020", EffectiveFrom: date(2020, 1, 1), MaxLoanDays: 30, MaxPermitDays: 14, DamageRateBP: 10000},
}

// At returns the policy in force at t (the earliest one for dates before all of them).
func (ps CustodyPolicies) At(t time.Time) CustodyPolicy {
	return dated.At(ps, func(p CustodyPolicy) time.Time { return p.EffectiveFrom }, t)
}

// Day is a business date (YYYY-MM-DD) in the district's time zone, held as midnight UTC so
// that differences are whole days.
type Day = time.Time

// ParseDay parses a business date.
func ParseDay(s string) (Day, bool) {
	d, err := time.Parse(DateLayout, s)
	return d, err == nil
}

// FormatDay formats a business date.
func FormatDay(d Day) string { return d.Format(DateLayout) }

// DaysBetween is to − from in whole days.
func DaysBetween(from, to Day) int64 { return int64(to.Sub(from).Hours() / 24) }
