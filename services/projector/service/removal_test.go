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

// An entry that leaves the ledger — written off, removed by a stocktake shortage, transferred
// to another school, its registration reversed — is held up to the day before it left and not
// from that day, in the school's ledger, its breakdown and the district's; a removal delivered
// twice counts once.
func TestLedgerLeavesOnRemovalDate(t *testing.T) {
	e := start(t)
	viewer := testkit.Ctx(e.auth.Token(t, auth.RoleBureauViewer, ""))
	dir := testkit.Ctx(e.auth.Token(t, auth.RoleLogisticsDirector, "s1"))
	e.publish("s1", 1, &eventsv1.SchoolRegistered{SchoolId: "s1", Name: "石牌中心小学", Kind: "primary"}, uuid.New())
	bus, speaker, piano, desk, kept := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	e.publish("s1", 1, asset(bus, "s1", "2", 25_000_000, 1, "2016-09-05"), uuid.New())
	e.publish("s1", 1, asset(speaker, "s1", "2", 300_000, 1, "2020-03-10"), uuid.New())
	e.publish("s1", 1, asset(piano, "s1", "2", 1_000_000, 1, "2020-03-10"), uuid.New())
	e.publish("s1", 1, asset(desk, "s1", "6", 40_000, 10, "2021-01-04"), uuid.New())
	e.publish("s1", 1, asset(kept, "s1", "2", 600_000, 1, "2021-06-20"), uuid.New())
	e.publishAt("s1", 2, &eventsv1.AssetRemovedByStocktake{AssetId: speaker, StocktakeId: uuid.NewString(),
		AdjustmentId: uuid.NewString(), Reason: "盘亏"}, uuid.New(), day("2021-12-20").Add(14*time.Hour))
	wo := &eventsv1.AssetWrittenOff{WriteOffId: uuid.NewString(), AssetId: bus, Kind: "scrap", ValueFen: 25_000_000,
		Tier: "bureau", WrittenOffOn: "2022-01-10"}
	e.publishAt("s1", 3, wo, uuid.New(), day("2022-01-10").Add(10*time.Hour))
	e.publishAt("s1", 3, wo, uuid.New(), day("2022-01-10").Add(10*time.Hour)) // delivered again
	e.publishAt("s1", 2, &eventsv1.AssetTransferredOut{TransferId: uuid.NewString(), AssetId: piano, ToSchoolId: "s2",
		ToAssetId: uuid.NewString(), TransferredOn: "2022-01-11", ValueFen: 1_000_000}, uuid.New(), day("2022-01-11"))
	e.publishAt("s1", 2, &eventsv1.AssetRegistrationReversed{AssetId: desk, Reason: "重复登记", ReversedOn: "2022-01-12"},
		uuid.New(), day("2022-01-12"))

	type totals struct{ entries, quantity, value int64 }
	school := func(asOf string) (totals, totals, totals) {
		t.Helper()
		l, err := e.reports.GetAssetLedger(dir, &reportsv1.GetAssetLedgerRequest{SchoolId: "s1", AsOf: asOf})
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.reports.GetLedgerBreakdown(dir, &reportsv1.GetLedgerBreakdownRequest{SchoolId: "s1", AsOf: asOf, Dimension: "status"})
		if err != nil {
			t.Fatal(err)
		}
		d, err := e.reports.GetDistrictLedger(viewer, &reportsv1.GetDistrictLedgerRequest{AsOf: asOf})
		if err != nil {
			t.Fatal(err)
		}
		return totals{l.Entries, l.Quantity, l.ValueFen}, totals{b.Entries, b.Quantity, b.ValueFen}, totals{d.Entries, d.Quantity, d.ValueFen}
	}
	// Everything gone as of 2022-01-12: only the laptop (600,000) is left.
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		l, err := e.reports.GetAssetLedger(dir, &reportsv1.GetAssetLedgerRequest{SchoolId: "s1", AsOf: "2022-01-12"})
		return err == nil && l.Entries == 1 && l.ValueFen == 600_000, fmt.Sprint("ledger as of 2022-01-12: ", l, err)
	})
	for _, c := range []struct {
		asOf string
		want totals
	}{
		// All five: 25,000,000 + 300,000 + 1,000,000 + 10 × 40,000 + 600,000 = 27,300,000.
		{"2021-12-19", totals{5, 14, 27_300_000}},
		// The speaker left on the day of the approved shortage: 27,000,000.
		{"2021-12-20", totals{4, 13, 27_000_000}},
		{"2022-01-09", totals{4, 13, 27_000_000}},
		// The bus on its written_off_on: 2,000,000.
		{"2022-01-10", totals{3, 12, 2_000_000}},
		// The piano on its transferred_on: 1,000,000.
		{"2022-01-11", totals{2, 11, 1_000_000}},
		// The desks on reversed_on: 600,000.
		{"2022-01-12", totals{1, 1, 600_000}},
	} {
		l, b, d := school(c.asOf)
		if l != c.want || b != c.want || d != c.want {
			t.Errorf("as of %s: ledger %v breakdown %v district %v, want %v", c.asOf, l, b, d, c.want)
		}
	}
}
