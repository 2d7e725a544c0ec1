package dated

import (
	"testing"
	"time"
)

type version struct {
	name string
	from time.Time
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestAtPicksTheVersionInForce(t *testing.T) {
	// Out of order on purpose: the effective dates decide, not the order of the list.
	ps := []version{{"2024", day(2024, 1, 1)}, {"2020", day(2020, 1, 1)}, {"2022", day(2022, 9, 1)}}
	eff := func(v version) time.Time { return v.from }
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{day(2019, 6, 1), "2020"}, // before all of them: the earliest
		{day(2020, 1, 1), "2020"}, // on its first day
		{day(2022, 8, 31), "2020"},
		{day(2022, 9, 1), "2022"},
		{day(2023, 12, 31), "2022"},
		{day(2024, 1, 1), "2024"},
		{day(2030, 1, 1), "2024"},
	} {
		if got := At(ps, eff, c.at).name; got != c.want {
			t.Errorf("At(%s) = %s, want %s", c.at.Format(time.DateOnly), got, c.want)
		}
	}
	if got := At(ps[:1], eff, day(2000, 1, 1)).name; got != "2024" {
		t.Errorf("a single version is always in force, got %s", got)
	}
}
