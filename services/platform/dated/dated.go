// Package dated picks, from the dated versions of a policy (政策版本, each with the date it
// takes effect), the one in force at a time. It is pure (no clock, no I/O), so domain packages
// may import it, as they import errs and district.
package dated

import "time"

// At returns the version of ps in force at t: the one that took effect last on or before t, or
// the earliest for times before all of them. effective gives a version's effective date; ps
// must not be empty.
func At[P any](ps []P, effective func(P) time.Time, t time.Time) P {
	earliest, current := 0, -1
	for i, p := range ps {
		from := effective(p)
		if from.Before(effective(ps[earliest])) {
			earliest = i
		}
		if !from.After(t) && (current < 0 || !from.Before(effective(ps[current]))) {
			current = i
		}
	}
	if current < 0 {
		return ps[earliest]
	}
	return ps[current]
}
