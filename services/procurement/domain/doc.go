// Package domain holds the procurement service's rules (采购 / 物资): pure types, deciders and
// evolvers, one file per area (supplier.go, budget.go, request.go, quote.go, order.go, …).
// It imports nothing from the outside world; time, policy and the caller's roles are passed in.
package domain

import (
	"time"
	"unicode/utf8"

	"houqin.dev/platform/errs"
)

// DateLayout is the layout of business dates in commands and events.
const DateLayout = "2006-01-02"

// MaxAmountFen bounds money amounts (100 million yuan) so sums cannot overflow.
const MaxAmountFen = 100_000_000_00

// ValidDate reports whether s is a YYYY-MM-DD date.
func ValidDate(s string) bool {
	_, err := time.Parse(DateLayout, s)
	return err == nil
}

// Day formats t (a date in the district's time zone) as YYYY-MM-DD.
func Day(t time.Time) string { return t.Format(DateLayout) }

// text checks a text field's length in characters and records a violation.
func text(v *errs.Violations, field, value string, min, max int, what string) {
	n := utf8.RuneCountInString(value)
	switch {
	case min > 0 && n == 0:
		v.Addf(field, "必填 / %s is required", what)
	case n < min || n > max:
		v.Addf(field, "长度须为%d–%d个字 / %s must be %d–%d characters", min, max, what, min, max)
	}
}
