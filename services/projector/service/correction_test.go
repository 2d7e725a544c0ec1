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

// values are a registration's values as a correction carries them.
func values(cat string, price, qty int64, on string) *eventsv1.RegistrationValues {
	return &eventsv1.RegistrationValues{Name: "资产", Category: cat, UnitPriceFen: price, Quantity: qty, AcquiredOn: on,
		FixedAsset: true, DepreciationMonths: lives[cat], DepreciationStart: "same_month"}
}

// nbvGroups prints a breakdown as key:entries:quantity:value:accumulated:net book value.
func nbvGroups(r *reportsv1.GetLedgerBreakdownResponse) string {
	b := []string{fmt.Sprintf("=%d:%d:%d:%d:%d", r.Entries, r.Quantity, r.ValueFen, r.AccumulatedDepreciationFen, r.NetBookValueFen)}
	for _, g := range r.Groups {
		b = append(b, fmt.Sprintf("%s:%d:%d:%d:%d:%d", g.Key, g.Entries, g.Quantity, g.ValueFen, g.AccumulatedDepreciationFen, g.NetBookValueFen))
	}
	return strings.Join(b, " ")
}

// A correction (更正) counts from its date on — in the school's ledger, its breakdown by every
// dimension with net book value, and the district's — and the original values before it; a
// reversal (冲销) takes the entry out of every dimension from its date; a correction
// delivered again changes nothing. Lives: category 2 is 72 months, 6 is 180, both from the
// month of acquisition.
func TestLedgerFollowsCorrectionsFromTheirDate(t *testing.T) {
	e := start(t)
	viewer := testkit.Ctx(e.auth.Token(t, auth.RoleBureauViewer, ""))
	dir := testkit.Ctx(e.auth.Token(t, auth.RoleLogisticsDirector, "s1"))
	e.publish("s1", 1, &eventsv1.SchoolRegistered{SchoolId: "s1", Name: "石牌中心小学", Kind: "primary"}, uuid.New())
	e.publish("s2", 1, &eventsv1.SchoolRegistered{SchoolId: "s2", Name: "城关幼儿园", Kind: "kindergarten"}, uuid.New())
	a, b, d, c := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	e.publishAt("s1", 1, asset(a, "s1", "2", 600_000, 1, "2024-01-15"), uuid.New(), day("2024-01-15"))
	e.publishAt("s1", 1, asset(b, "s1", "6", 40_000, 10, "2024-03-01"), uuid.New(), day("2024-03-01"))
	e.publishAt("s1", 1, asset(d, "s1", "2", 300_000, 1, "2024-02-01"), uuid.New(), day("2024-02-01"))
	e.publishAt("s2", 1, asset(c, "s2", "6", 100_000, 1, "2022-01-01"), uuid.New(), day("2022-01-01"))
	e.publishAt("s1", 2, &eventsv1.AssetTransferred{AssetId: a, FromLocation: "仓库", ToLocation: "计算机教室",
		ToDepartment: "信息中心", FromCustodian: "张老师", ToCustodian: "李老师"}, uuid.New(), day("2024-05-01"))
	// A: 6,000 yuan × 1 bought 2024-01-15 was really 7,200 × 2 bought 2023-09-15, corrected 2024-09-10.
	corA := &eventsv1.AssetRegistrationCorrected{AssetId: a, Reason: "单价数量录错", CorrectedOn: "2024-09-10",
		Before: values("2", 600_000, 1, "2024-01-15"), After: values("2", 720_000, 2, "2023-09-15")}
	e.publishAt("s1", 3, corA, uuid.New(), day("2024-09-10"))
	// B: 10 desks of furniture (6) are 12 pieces of general equipment (2), corrected 2024-10-08.
	corB := &eventsv1.AssetRegistrationCorrected{AssetId: b, Reason: "分类录错", CorrectedOn: "2024-10-08",
		Before: values("6", 40_000, 10, "2024-03-01"), After: values("2", 40_000, 12, "2024-03-01")}
	e.publishAt("s1", 2, corB, uuid.New(), day("2024-10-08"))
	e.publishAt("s1", 2, &eventsv1.AssetRegistrationReversed{AssetId: d, Reason: "重复登记", ReversedOn: "2024-10-20",
		Before: values("2", 300_000, 1, "2024-02-01")}, uuid.New(), day("2024-10-20"))
	e.publishAt("s1", 3, &eventsv1.AssetLent{AssetId: b, LoanId: uuid.NewString(), Borrower: "王老师", LentOn: "2024-11-01",
		DueOn: "2024-11-30"}, uuid.New(), day("2024-11-01"))
	// Both corrections delivered again under other message ids.
	e.publishAt("s1", 3, corA, uuid.New(), day("2024-09-10"))
	e.publishAt("s1", 2, corB, uuid.New(), day("2024-10-08"))
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		var n int
		_ = e.svc.Pool.QueryRow(t.Context(), `SELECT count(*) FROM ledger.assets WHERE (asset_id, version) IN (($1::uuid, 3), ($2::uuid, 3))`, a, b).Scan(&n)
		var r int
		_ = e.svc.Pool.QueryRow(t.Context(), `SELECT count(*) FROM ledger.removals`).Scan(&r)
		return n == 2 && r == 1, fmt.Sprint("ledger not caught up: ", n, r)
	})

	// Depreciation (floor of cost × months / life), by date:
	//   A before: 600,000 from 2024-01: Aug 8 months 66,666; Sep 9 → 75,000.
	//   A after: 1,440,000 from 2023-09: Sep 2024 13 months 260,000; Oct 14 → 280,000; Nov 15 → 300,000.
	//   B before: 400,000 / 180 from 2024-03: Aug 6 → 13,333; Sep 7 → 15,555; Oct 8 → 17,777.
	//   B after: 480,000 / 72: Oct 8 → 53,333; Nov 9 → 60,000.
	//   D: 300,000 / 72 from 2024-02: Aug 7 → 29,166; Sep 8 → 33,333; Oct 9 → 37,500.
	for _, c := range []struct{ asOf, dim, want string }{
		// Before any of them was acquired (A's corrected date, 2023-09, was not yet known then).
		{"2023-12-31", "category", "=0:0:0:0:0"},
		{"2024-08-31", "category", "=3:12:1300000:109165:1190835 2:2:2:900000:95832:804168 6:1:10:400000:13333:386667"},
		{"2024-09-09", "category", "=3:12:1300000:123888:1176112 2:2:2:900000:108333:791667 6:1:10:400000:15555:384445"},
		{"2024-09-10", "category", "=3:13:2140000:308888:1831112 2:2:3:1740000:293333:1446667 6:1:10:400000:15555:384445"},
		{"2024-10-07", "category", "=3:13:2140000:335277:1804723 2:2:3:1740000:317500:1422500 6:1:10:400000:17777:382223"},
		{"2024-10-08", "category", "=3:15:2220000:370833:1849167 2:3:15:2220000:370833:1849167"},
		{"2024-10-09", "location", "=3:15:2220000:370833:1849167 计算机教室:1:2:1440000:280000:1160000 仓库:2:13:780000:90833:689167"},
		{"2024-10-07", "location", "=3:13:2140000:335277:1804723 计算机教室:1:2:1440000:280000:1160000 仓库:2:11:700000:55277:644723"},
		{"2024-09-09", "location", "=3:12:1300000:123888:1176112 仓库:2:11:700000:48888:651112 计算机教室:1:1:600000:75000:525000"},
		{"2024-10-19", "department", "=3:15:2220000:370833:1849167 信息中心:1:2:1440000:280000:1160000 :2:13:780000:90833:689167"},
		{"2024-10-19", "custodian", "=3:15:2220000:370833:1849167 李老师:1:2:1440000:280000:1160000 张老师:2:13:780000:90833:689167"},
		{"2024-10-19", "status", "=3:15:2220000:370833:1849167 in_use:3:15:2220000:370833:1849167"},
		// D reversed: out of every dimension from 2024-10-20.
		{"2024-10-20", "category", "=2:14:1920000:333333:1586667 2:2:14:1920000:333333:1586667"},
		{"2024-10-20", "location", "=2:14:1920000:333333:1586667 计算机教室:1:2:1440000:280000:1160000 仓库:1:12:480000:53333:426667"},
		{"2024-10-20", "department", "=2:14:1920000:333333:1586667 信息中心:1:2:1440000:280000:1160000 :1:12:480000:53333:426667"},
		{"2024-10-20", "custodian", "=2:14:1920000:333333:1586667 李老师:1:2:1440000:280000:1160000 张老师:1:12:480000:53333:426667"},
		{"2024-11-01", "status", "=2:14:1920000:360000:1560000 in_use:1:2:1440000:300000:1140000 lent:1:12:480000:60000:420000"},
	} {
		r, err := e.reports.GetLedgerBreakdown(dir, &reportsv1.GetLedgerBreakdownRequest{SchoolId: "s1", Dimension: c.dim, AsOf: c.asOf})
		if err != nil {
			t.Fatal(err)
		}
		if got := nbvGroups(r); got != c.want {
			t.Errorf("%s by %s:\n got %s\nwant %s", c.asOf, c.dim, got, c.want)
		}
	}

	// The school's ledger by category and the district's totals, as of the same dates.
	for _, c := range []struct{ asOf, ledger, district string }{
		{"2023-12-31", "0:0:0", "s1:0:0:0 s2:1:1:100000"},
		{"2024-09-09", "3:12:1300000 2:2:2:900000 6:1:10:400000", "s1:3:12:1300000 s2:1:1:100000"},
		{"2024-09-10", "3:13:2140000 2:2:3:1740000 6:1:10:400000", "s1:3:13:2140000 s2:1:1:100000"},
		{"2024-10-08", "3:15:2220000 2:3:15:2220000", "s1:3:15:2220000 s2:1:1:100000"},
		{"2024-10-20", "2:14:1920000 2:2:14:1920000", "s1:2:14:1920000 s2:1:1:100000"},
	} {
		l, err := e.reports.GetAssetLedger(dir, &reportsv1.GetAssetLedgerRequest{SchoolId: "s1", AsOf: c.asOf})
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprintf("%d:%d:%d", l.Entries, l.Quantity, l.ValueFen)
		for _, k := range l.Categories {
			got += fmt.Sprintf(" %s:%d:%d:%d", k.Category, k.Entries, k.Quantity, k.ValueFen)
		}
		if got != c.ledger {
			t.Errorf("ledger as of %s: got %s, want %s", c.asOf, got, c.ledger)
		}
		dl, err := e.reports.GetDistrictLedger(viewer, &reportsv1.GetDistrictLedgerRequest{AsOf: c.asOf})
		if err != nil {
			t.Fatal(err)
		}
		var ds []string
		for _, s := range dl.Schools {
			ds = append(ds, fmt.Sprintf("%s:%d:%d:%d", s.SchoolId, s.Entries, s.Quantity, s.ValueFen))
		}
		if got := strings.Join(ds, " "); got != c.district {
			t.Errorf("district as of %s: got %s, want %s", c.asOf, got, c.district)
		}
	}

	// The district's breakdown with net book value; C at s2 is 100,000 / 180 from 2022-01:
	// Sep 2024 33 months → 18,333, Nov 35 → 19,444.
	district := func(asOf, dim, key string) *reportsv1.GetDistrictLedgerBreakdownResponse {
		t.Helper()
		r, err := e.reports.GetDistrictLedgerBreakdown(viewer, &reportsv1.GetDistrictLedgerBreakdownRequest{AsOf: asOf, Dimension: dim, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, c := range []struct{ asOf, dim, key, want string }{
		{"2024-09-09", "school", "", "=4:13:1400000:142221:1257779 s1/石牌中心小学:3:12:1300000:123888:1176112 s2/城关幼儿园:1:1:100000:18333:81667"},
		{"2024-09-10", "school", "", "=4:14:2240000:327221:1912779 s1/石牌中心小学:3:13:2140000:308888:1831112 s2/城关幼儿园:1:1:100000:18333:81667"},
		{"2024-09-10", "category", "", "=4:14:2240000:327221:1912779 2/通用设备:2:3:1740000:293333:1446667 6/家具、用具、装具及动植物:2:11:500000:33888:466112"},
		{"2024-09-10", "category", "6", "=2:11:500000:33888:466112 6/s1:1:10:400000:15555:384445 6/s2:1:1:100000:18333:81667"},
		{"2024-09-10", "school_kind", "", "=4:14:2240000:327221:1912779 primary/小学:3:13:2140000:308888:1831112 kindergarten/幼儿园:1:1:100000:18333:81667"},
		{"2024-11-01", "status", "", "=3:15:2020000:379444:1640556 in_use/在用:2:3:1540000:319444:1220556 lent/借出:1:12:480000:60000:420000"},
		{"2024-11-01", "status", "lent", "=1:12:480000:60000:420000 lent/s1:1:12:480000:60000:420000"},
	} {
		r := district(c.asOf, c.dim, c.key)
		b := []string{fmt.Sprintf("=%d:%d:%d:%d:%d", r.Entries, r.Quantity, r.ValueFen, r.AccumulatedDepreciationFen, r.NetBookValueFen)}
		for _, g := range r.Groups {
			who := g.Name
			if c.key != "" {
				who = g.SchoolId
			}
			b = append(b, fmt.Sprintf("%s/%s:%d:%d:%d:%d:%d", g.Key, who, g.Entries, g.Quantity, g.ValueFen, g.AccumulatedDepreciationFen, g.NetBookValueFen))
		}
		if got := strings.Join(b, " "); got != c.want {
			t.Errorf("district %s by %s %s:\n got %s\nwant %s", c.asOf, c.dim, c.key, got, c.want)
		}
	}
	// A district group drills to its schools, and a school's part to its events.
	g := district("2024-09-10", "category", "").Groups[1]
	if g.Drill.GetReport() != "district_ledger_category" || g.Drill.GetKey() != "6" {
		t.Fatalf("district group drill %v", g.Drill)
	}
	part := district("2024-09-10", "category", g.Drill.Key).Groups[0]
	e.drillUntil(t, dir, part.Drill, is("AssetRegistered@2024-03-01"))
	if _, err := e.reports.GetDistrictLedgerBreakdown(viewer, &reportsv1.GetDistrictLedgerBreakdownRequest{Dimension: "custodian"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("unknown district dimension: %v", err)
	}

	// The category row drills to the asset's events as of its date: the correction only from its day.
	e.drillUntil(t, dir, &reportsv1.Drill{Report: "ledger_location", Key: "计算机教室", To: "2024-09-09"},
		is("AssetRegistered@2024-01-15,AssetTransferred@2024-05-01"))
	e.drillUntil(t, dir, &reportsv1.Drill{Report: "ledger_location", Key: "计算机教室", To: "2024-09-10"},
		is("AssetRegistered@2024-01-15,AssetTransferred@2024-05-01,AssetRegistrationCorrected@2024-09-10"))
}
