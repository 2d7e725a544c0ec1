package domain

import (
	"time"

	"houqin.dev/platform/dated"
)

// RepairPolicy is the repair clocks in force from a date (报修时限). A zero duration means no
// clock for that severity.
type RepairPolicy struct {
	Version       string
	EffectiveFrom time.Time
	// OnSite: how soon a worker must be on site after the report, per severity.
	OnSite map[string]time.Duration
	// Fix: how soon the repair must be completed after the report, per severity. Past it,
	// only a reason recorded before the deadline (outside vendor, parts) avoids a breach.
	Fix map[string]time.Duration
}

// RepairPolicies is a repair policy history.
type RepairPolicies []RepairPolicy

// DefaultRepairPolicies follow the school repair rules of domain.md: major repairs fixed
// within 24 h, emergencies on site within 30 min (and fixed within 24 h); minor repairs have
// no clock.
var DefaultRepairPolicies = RepairPolicies{
	{Version: "repair-24h-2015", EffectiveFrom: date(2015, 1, 1),
		OnSite: map[string]time.Duration{SeverityEmergency: 30 * time.Minute},
		Fix:    map[string]time.Duration{SeverityMajor: 24 * time.Hour, SeverityEmergency: 24 * time.Hour}},
}

// At returns the repair policy in force at t (the earliest one for times before all of them).
func (ps RepairPolicies) At(t time.Time) RepairPolicy {
	return dated.At(ps, func(p RepairPolicy) time.Time { return p.EffectiveFrom }, t)
}
