package service_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/testkit"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// groups prints a breakdown as key:entries:value_fen, in the reply's order.
func groups(r *reportsv1.GetLedgerBreakdownResponse) string {
	var b []string
	for _, g := range r.Groups {
		b = append(b, fmt.Sprintf("%s:%d:%d", g.Key, g.Entries, g.ValueFen))
	}
	return strings.Join(b, " ")
}

func TestLedgerBreakdownAsOfAnyDate(t *testing.T) {
	e := start(t)
	e.publish("s1", 1, &eventsv1.SchoolRegistered{SchoolId: "s1", Name: "石牌中心小学", Kind: "primary"}, uuid.New())
	a, b := uuid.NewString(), uuid.NewString()
	e.publishAt("s1", 1, asset(a, "s1", "2", 459900, 10, "2023-09-01"), uuid.New(), day("2023-09-01")) // 45,990.00
	e.publishAt("s1", 1, asset(b, "s1", "6", 38000, 45, "2024-02-20"), uuid.New(), day("2024-02-20"))  // 17,100.00
	e.publishAt("s1", 2, &eventsv1.AssetTransferred{AssetId: a, FromLocation: "仓库", ToLocation: "计算机教室",
		ToDepartment: "信息中心", FromCustodian: "张老师", ToCustodian: "李老师"}, uuid.New(), day("2024-03-01"))
	e.publishAt("s1", 2, &eventsv1.AssetLent{AssetId: b, LoanId: uuid.NewString(), Borrower: "王老师", LentOn: "2024-04-10",
		DueOn: "2024-04-30"}, uuid.New(), day("2024-04-10"))
	e.publishAt("s1", 3, &eventsv1.AssetReturned{AssetId: b, ReturnedOn: "2024-05-10"}, uuid.New(), day("2024-05-10"))
	// The transfer delivered again: no second history row, no change.
	e.publishAt("s1", 2, &eventsv1.AssetTransferred{AssetId: a, FromLocation: "仓库", ToLocation: "计算机教室",
		ToDepartment: "信息中心", FromCustodian: "张老师", ToCustodian: "李老师"}, uuid.New(), day("2024-03-01"))

	dir := testkit.Ctx(e.auth.Token(t, auth.RoleLogisticsDirector, "s1"))
	get := func(dim, asOf string) *reportsv1.GetLedgerBreakdownResponse {
		t.Helper()
		r, err := e.reports.GetLedgerBreakdown(dir, &reportsv1.GetLedgerBreakdownRequest{SchoolId: "s1", Dimension: dim, AsOf: asOf})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		// Every event applied: a at version 2, b at 3.
		var n int
		_ = e.svc.Pool.QueryRow(t.Context(), `SELECT count(*) FROM ledger.assets WHERE (asset_id, version) IN (($1::uuid, 2), ($2::uuid, 3))`, a, b).Scan(&n)
		return n == 2, fmt.Sprint("ledger not caught up: ", n)
	})
	cases := []struct{ dim, asOf, want string }{
		// Before the transfer, both in the store room under 张老师.
		{"location", "2024-02-29", "仓库:2:6309000"},
		{"custodian", "2024-02-29", "张老师:2:6309000"},
		// The transfer counts from its business date; the largest value first.
		{"location", "2024-03-01", "计算机教室:1:4599000 仓库:1:1710000"},
		{"custodian", "2024-03-01", "李老师:1:4599000 张老师:1:1710000"},
		{"department", "2024-03-01", "信息中心:1:4599000 :1:1710000"},
		{"category", "2024-03-01", "2:1:4599000 6:1:1710000"},
		// On loan from 2024-04-10 to 2024-05-10.
		{"status", "2024-04-09", "in_use:2:6309000"},
		{"status", "2024-04-15", "in_use:1:4599000 lent:1:1710000"},
		// Before the desks were bought.
		{"location", "2024-01-01", "仓库:1:4599000"},
		{"location", "2023-08-31", ""},
	}
	for _, c := range cases {
		if got := groups(get(c.dim, c.asOf)); got != c.want {
			t.Errorf("%s as of %s: %q, want %q", c.dim, c.asOf, got, c.want)
		}
	}
	r := get("status", "2024-04-15")
	if r.ValueFen != 6309000 || r.Entries != 2 || r.Groups[1].Name != "借出" || r.Groups[0].Name != "在用" || r.SchoolName != "石牌中心小学" {
		t.Fatalf("status reply %v", r)
	}
	// Net book value, same-month start, ⌊cost × months / life⌋:
	// a: 4,599,000 over 72 months, Sep 2023 – Apr 2024 = 8 months → 511,000;
	// b: 1,710,000 over 180 months, Feb – Apr 2024 = 3 months → 28,500.
	if r.AccumulatedDepreciationFen != 511000+28500 || r.NetBookValueFen != 6309000-539500 ||
		r.Groups[0].NetBookValueFen != 4599000-511000 || r.Groups[1].AccumulatedDepreciationFen != 28500 {
		t.Fatalf("net book value %v", r)
	}
	if d := get("department", "2024-03-01").Groups[1]; d.Name != "（未填）" {
		t.Fatalf("empty department named %q", d.Name)
	}

	// Drill-down of a group: the events of its assets up to the date.
	loc := get("location", "2024-03-01")
	if d := loc.Groups[0].Drill; d.Report != "ledger_location" || d.Key != "计算机教室" || d.To != "2024-03-01" {
		t.Fatalf("drill %v", d)
	}
	e.drillUntil(t, dir, loc.Groups[0].Drill, is("AssetRegistered@2023-09-01,AssetTransferred@2024-03-01"))
	lent := get("status", "2024-04-15").Groups[1].Drill
	e.drillUntil(t, dir, lent, is("AssetRegistered@2024-02-20,AssetLent@2024-04-10"))

	_, err := e.reports.GetLedgerBreakdown(dir, &reportsv1.GetLedgerBreakdownRequest{SchoolId: "s1", Dimension: "colour", AsOf: "2024/01/01"})
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.String(), "dimension") || !strings.Contains(st.String(), "as_of") {
		t.Fatalf("bad input: %v", err)
	}
	if _, err := e.reports.GetLedgerBreakdown(dir, &reportsv1.GetLedgerBreakdownRequest{SchoolId: "s9", Dimension: "status"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("other school: %v", err)
	}

	// Rebuilt from the log: the same numbers as of every date.
	if _, err := e.svc.Rebuild(t.Context(), "ledger"); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if got := groups(get(c.dim, c.asOf)); got != c.want {
			t.Errorf("after rebuild: %s as of %s: %q, want %q", c.dim, c.asOf, got, c.want)
		}
	}
}
