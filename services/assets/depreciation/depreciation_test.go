package depreciation

import (
	"testing"
	"time"
)

func d(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// Every expected number below is computed by hand: accumulated = ⌊cost × months / life⌋.
func TestAsOf(t *testing.T) {
	computer := Asset{CostFen: 720000, LifeMonths: 72, Start: SameMonth, AcquiredOn: d("2024-09-15")}
	nextMonth := computer
	nextMonth.Start = NextMonth
	removed := computer
	removed.RemovedOn = d("2025-03-10")
	removedSameMonth := computer
	removedSameMonth.RemovedOn = d("2024-09-20")
	oneThousand := Asset{CostFen: 100000, LifeMonths: 72, Start: SameMonth, AcquiredOn: d("2024-01-31")}
	books := Asset{CostFen: 5000000, LifeMonths: 0, Start: SameMonth, AcquiredOn: d("2020-05-05")}
	december := Asset{CostFen: 120000, LifeMonths: 12, Start: NextMonth, AcquiredOn: d("2024-12-31")}
	huge := Asset{CostFen: 10_000_000_000_000_000, LifeMonths: 600, Start: SameMonth, AcquiredOn: d("2000-01-01")}
	oneMonth := Asset{CostFen: 999, LifeMonths: 1, Start: SameMonth, AcquiredOn: d("2024-02-29")}
	free := Asset{CostFen: 0, LifeMonths: 72, Start: SameMonth, AcquiredOn: d("2024-01-01")}
	for _, tc := range []struct {
		name   string
		a      Asset
		asOf   string
		months int
		acc    int64
		nbv    int64
	}{
		{"before acquisition", computer, "2024-08-31", 0, 0, 0},
		{"month of addition, first day", computer, "2024-09-01", 1, 10000, 710000},
		{"month of addition, last day", computer, "2024-09-30", 1, 10000, 710000},
		{"four months: Sep–Dec", computer, "2024-12-31", 4, 40000, 680000},
		{"one year", computer, "2025-08-31", 12, 120000, 600000},
		{"last month of life", computer, "2030-08-01", 72, 720000, 0},
		{"month before the last", computer, "2030-07-31", 71, 710000, 10000},
		{"long after: capped at cost", computer, "2040-01-01", 72, 720000, 0},
		{"next month: not in month of addition", nextMonth, "2024-09-30", 0, 0, 720000},
		{"next month: first month", nextMonth, "2024-10-01", 1, 10000, 710000},
		{"next month: one short in Aug 2030", nextMonth, "2030-08-31", 71, 710000, 10000},
		{"next month: done in Sep 2030", nextMonth, "2030-09-01", 72, 720000, 0},
		{"removed: before removal month", removed, "2025-01-31", 5, 50000, 670000},
		{"removed: month before removal", removed, "2025-02-28", 6, 60000, 660000},
		{"removed: removal month not depreciated", removed, "2025-03-31", 6, 60000, 660000},
		{"removed: frozen afterwards", removed, "2027-01-01", 6, 60000, 660000},
		{"removed in the month of addition", removedSameMonth, "2024-09-30", 0, 0, 720000},
		{"rounding: month 1", oneThousand, "2024-01-31", 1, 1388, 98612},
		{"rounding: month 2", oneThousand, "2024-02-01", 2, 2777, 97223},
		{"rounding: month 3", oneThousand, "2024-03-15", 3, 4166, 95834},
		{"rounding: month 71", oneThousand, "2029-11-30", 71, 98611, 1389},
		{"rounding: last month takes the remainder", oneThousand, "2029-12-01", 72, 100000, 0},
		{"never depreciated", books, "2030-01-01", 0, 0, 5000000},
		{"never depreciated, day one", books, "2020-05-05", 0, 0, 5000000},
		{"next month across the year end", december, "2024-12-31", 0, 0, 120000},
		{"next month: January", december, "2025-01-01", 1, 10000, 110000},
		{"next month: December done", december, "2025-12-31", 12, 120000, 0},
		{"no overflow near the limits", huge, "2049-11-30", 599, 9_983_333_333_333_333, 16_666_666_666_667},
		{"life of one month", oneMonth, "2024-02-29", 1, 999, 0},
		{"zero cost", free, "2025-01-01", 0, 0, 0},
	} {
		got := tc.a.AsOf(d(tc.asOf))
		want := Position{Months: tc.months, AccumulatedFen: tc.acc, NetBookValueFen: tc.nbv}
		if got != want {
			t.Errorf("%s: as of %s %+v, want %+v", tc.name, tc.asOf, got, want)
		}
	}
}

// The months of a whole life add up to the cost to the fen, and no month is negative.
func TestMonthsAddUpToCost(t *testing.T) {
	for _, a := range []Asset{
		{CostFen: 100000, LifeMonths: 72}, {CostFen: 1, LifeMonths: 600}, {CostFen: 123457, LifeMonths: 180},
		{CostFen: 99_999_999, LifeMonths: 96},
	} {
		a.Start, a.AcquiredOn = SameMonth, d("2020-01-01")
		prev := int64(0)
		for m := range a.LifeMonths + 3 {
			p := a.AsOf(a.AcquiredOn.AddDate(0, m, 0))
			if p.AccumulatedFen < prev || p.AccumulatedFen-prev > a.MonthlyFen()+1 {
				t.Fatalf("%+v month %d: accumulated %d after %d", a, m, p.AccumulatedFen, prev)
			}
			prev = p.AccumulatedFen
		}
		if prev != a.CostFen {
			t.Fatalf("%+v: %d accumulated over the life, want %d", a, prev, a.CostFen)
		}
	}
}

func TestStartValid(t *testing.T) {
	if !SameMonth.Valid() || !NextMonth.Valid() || Start("").Valid() || Start("yearly").Valid() {
		t.Fatal("Valid")
	}
}
