package domain

import (
	"time"

	"houqin.dev/platform/dated"
)

// Policy is the procurement rules in force from a date. Rules change by decree and differ by
// district, so they are data with effective dates, and every decision records the version it
// was judged against.
type Policy struct {
	Version       string
	EffectiveFrom time.Time

	// Approval chain of purchase requests (购物申请审批): the department head and the logistics
	// director always approve; the principal too when a line's unit price is above
	// PrincipalUnitPriceFen or the total above PrincipalTotalFen; the bureau too when the total
	// is above DistrictLimitFen or the request says government procurement is required.
	PrincipalUnitPriceFen int64
	PrincipalTotalFen     int64
	DistrictLimitFen      int64

	// 货比三家: a request whose estimated total is above QuoteThresholdFen needs MinQuotes quotes
	// from different suppliers before one is chosen.
	QuoteThresholdFen int64
	MinQuotes         int

	// Budget adjustments (预算调整) up to AdjustmentPrincipalMaxFen are approved by the
	// principal; larger ones by the bureau.
	AdjustmentPrincipalMaxFen int64

	// 验收: a goods receipt is accepted once AcceptanceMinSigners different people signed it.
	AcceptanceMinSigners int
	// 报账: an invoice is valid only when signed in each of InvoiceSignerRoles (经手人、验收人、
	// 审核人), each by a different person.
	InvoiceSignerRoles []string

	// 预算占用超时释放: a commitment whose order was never appended (the client gave up
	// between the two steps of PlacePurchaseOrder) is released by the sweeper once it is
	// older than CommitmentGrace.
	CommitmentGrace time.Duration
}

// Policies is a policy history.
type Policies []Policy

// DefaultPolicies are the district defaults (domain.md: three quotes above 500 yuan, the
// principal above 3,000 yuan unit price).
var DefaultPolicies = Policies{
	{Version: "proc-2020", EffectiveFrom: date(2020, 1, 1),
		PrincipalUnitPriceFen: 300_000, PrincipalTotalFen: 1_000_000, DistrictLimitFen: 5_000_000,
		QuoteThresholdFen: 50_000, MinQuotes: 3, AdjustmentPrincipalMaxFen: 2_000_000,
		AcceptanceMinSigners: 2, InvoiceSignerRoles: []string{InvoiceHandler, InvoiceInspector, InvoiceAuditor},
		CommitmentGrace: time.Hour},
}

// At returns the policy in force at t (the earliest one for dates before all of them).
func (ps Policies) At(t time.Time) Policy {
	return dated.At(ps, func(p Policy) time.Time { return p.EffectiveFrom }, t)
}

// Version returns the policy of version v, or the one in force at fallback if none has it.
func (ps Policies) Version(v string, fallback time.Time) Policy {
	for _, p := range ps {
		if p.Version == v {
			return p
		}
	}
	return ps.At(fallback)
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
