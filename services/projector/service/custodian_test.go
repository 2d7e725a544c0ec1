package service_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/testkit"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// Two teachers named 张伟 (staff numbers T0123 and T0456) and a 张伟 recorded by name only,
// before the school kept a staff directory: three rows of the breakdown by custodian, each
// drilling to exactly its own assets.
func TestLedgerByCustodianKeysOnTheStaffNumber(t *testing.T) {
	e := start(t)
	e.publish("s1", 1, &eventsv1.SchoolRegistered{SchoolId: "s1", Name: "石牌中心小学", Kind: "primary"}, uuid.New())
	reg := func(id, name, no string, price int64, qty int64, on string) *eventsv1.AssetRegistered {
		m := asset(id, "s1", "2", price, qty, on)
		m.Custodian, m.CustodianStaffNo = name, no
		return m
	}
	a1, a2, a3, a4 := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	r1 := uuid.New()
	e.publishAt("s1", 1, reg(a3, "张伟", "", 30000, 1, "2023-09-01"), uuid.New(), day("2023-09-01"))       // by name only
	e.publishAt("s1", 1, reg(a1, "张伟", "T0123", 100000, 2, "2024-01-10"), r1, day("2024-01-10"))         // 2,000.00
	e.publishAt("s1", 1, reg(a2, "张伟", "T0456", 50000, 1, "2024-01-10"), uuid.New(), day("2024-01-10"))  // 500.00
	e.publishAt("s1", 1, reg(a4, "李老师", "T0789", 60000, 1, "2024-01-10"), uuid.New(), day("2024-01-10")) // 600.00
	// 李老师 hands a4 over to the second 张伟: the name alone would not tell which.
	transfer := &eventsv1.AssetTransferred{AssetId: a4, FromLocation: "仓库", ToLocation: "仓库", FromCustodian: "李老师",
		ToCustodian: "张伟", FromCustodianStaffNo: "T0789", ToCustodianStaffNo: "T0456"}
	tr := uuid.New()
	e.publishAt("s1", 2, transfer, tr, day("2024-03-01"))

	dir := testkit.Ctx(e.auth.Token(t, auth.RoleLogisticsDirector, "s1"))
	get := func(asOf string) *reportsv1.GetLedgerBreakdownResponse {
		t.Helper()
		r, err := e.reports.GetLedgerBreakdown(dir, &reportsv1.GetLedgerBreakdownRequest{SchoolId: "s1", Dimension: "custodian", AsOf: asOf})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	caughtUp := func(asset string, version int) {
		t.Helper()
		testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
			var n int
			_ = e.svc.Pool.QueryRow(t.Context(), `SELECT count(*) FROM ledger.assets WHERE asset_id = $1 AND version = $2`, asset, version).Scan(&n)
			return n == 1, fmt.Sprint("ledger not caught up with ", asset)
		})
	}
	for _, a := range []string{a1, a2, a3} {
		caughtUp(a, 1)
	}
	caughtUp(a4, 2)

	cases := []struct{ asOf, want string }{
		// Before the hand-over (from asset_history): a4 is 李老师's.
		{"2024-02-29", "staff:T0123:1:200000 staff:T0789:1:60000 staff:T0456:1:50000 张伟:1:30000"},
		// From its date: the second 张伟 holds a2 and a4; the first only a1.
		{"2024-03-01", "staff:T0123:1:200000 staff:T0456:2:110000 张伟:1:30000"},
	}
	check := func(when string) {
		t.Helper()
		for _, c := range cases {
			if got := groups(get(c.asOf)); got != c.want {
				t.Errorf("%s: as of %s: %q, want %q", when, c.asOf, got, c.want)
			}
		}
		r := get("2024-03-01")
		var names []string
		for _, g := range r.Groups {
			names = append(names, g.Name)
		}
		if got := fmt.Sprint(names); got != "[张伟（T0123） 张伟（T0456） 张伟]" {
			t.Fatalf("%s: labels %s", when, got)
		}
		// Net book value as of 2024-03-01, same-month start over 72 months, Jan – Mar 2024 = 3
		// months: a2 ⌊50,000 × 3 / 72⌋ = 2,083, a4 ⌊60,000 × 3 / 72⌋ = 2,500.
		if g := r.Groups[1]; g.AccumulatedDepreciationFen != 2083+2500 || g.NetBookValueFen != 110000-4583 {
			t.Errorf("%s: T0456 depreciation %d, net %d", when, g.AccumulatedDepreciationFen, g.NetBookValueFen)
		}
		if r.ValueFen != 340000 || r.Entries != 4 {
			t.Errorf("%s: totals %d entries %d", when, r.ValueFen, r.Entries)
		}
	}
	check("first delivery")

	// Drill-down of each row: the events of exactly that person's assets.
	r := get("2024-03-01")
	if d := r.Groups[1].Drill; d.Report != "ledger_custodian" || d.Key != "staff:T0456" || d.To != "2024-03-01" {
		t.Fatalf("drill %v", d)
	}
	e.drillStreams(t, dir, r.Groups[0].Drill, "asset:"+a1)
	e.drillStreams(t, dir, r.Groups[1].Drill, "asset:"+a2, "asset:"+a4)
	e.drillStreams(t, dir, r.Groups[2].Drill, "asset:"+a3)
	e.drillUntil(t, dir, get("2024-02-29").Groups[1].Drill, is("AssetRegistered@2024-01-10"))

	// The registration and the hand-over delivered again (same event ids and versions): no
	// second history row, no change. A later asset of another school tells they were applied.
	e.publishAt("s1", 1, reg(a1, "张伟", "T0123", 100000, 2, "2024-01-10"), r1, day("2024-01-10"))
	e.publishAt("s1", 2, transfer, tr, day("2024-03-01"))
	later := uuid.NewString()
	e.publishAt("s2", 1, asset(later, "s2", "2", 1000, 1, "2024-01-10"), uuid.New(), day("2024-01-10"))
	caughtUp(later, 1)
	var rows int
	if err := e.svc.Pool.QueryRow(t.Context(), `SELECT count(*) FROM ledger.asset_history WHERE asset_id = $1 AND custodian_staff_no <> ''`, a4).Scan(&rows); err != nil || rows != 2 {
		t.Fatalf("history of a4: %d rows (%v)", rows, err)
	}
	check("redelivered")

	// Rebuilt from the log: the same rows.
	if _, err := e.svc.Rebuild(t.Context(), "ledger"); err != nil {
		t.Fatal(err)
	}
	check("after rebuild")
}
