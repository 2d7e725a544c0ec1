package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/logging"
	"houqin.dev/platform/testkit"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
	"houqin.dev/tools/internal/demo"
	"houqin.dev/tools/internal/stack"
)

// What `houqin dev` does, twice on one data folder: the second run finds the cluster, the
// stream and the demo district of the first, and seeding again doubles nothing.
func TestDevStackRunsTwiceOnOneDataFolder(t *testing.T) {
	dir, err := os.MkdirTemp("", "houqin-dev-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var first *reportsv1.GetDistrictLedgerResponse
	for run := 1; run <= 2; run++ {
		ctx := context.Background()
		st, err := stack.Start(ctx, stack.Options{DataDir: dir, Log: logging.Discard()})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.StartAll(ctx); err != nil {
			st.Close()
			t.Fatal(err)
		}
		conn, err := stack.Dial(st.AssetsAddr())
		if err != nil {
			t.Fatal(err)
		}
		tok := func(role auth.Role, school, name string) (string, error) {
			return st.Token(role, school, name, time.Hour)
		}
		res, err := demo.Seed(ctx, conn, tok, 8, nil)
		conn.Close()
		if err != nil {
			st.Close()
			t.Fatalf("run %d: seed: %v", run, err)
		}
		if res.Schools < 20 || res.Assets+res.Kept < 1000 {
			t.Fatalf("run %d: seeded %+v", run, res)
		}
		pconn, err := stack.Dial(st.ProcurementAddr())
		if err != nil {
			t.Fatal(err)
		}
		pres, err := demo.SeedProcurement(ctx, pconn, tok, demo.FiscalYear())
		if err != nil {
			st.Close()
			t.Fatalf("run %d: procurement seed: %v", run, err)
		}
		sres, err := demo.SeedStockAndFees(ctx, pconn, tok, demo.Today(), pres.OrderIDs)
		pconn.Close()
		if err != nil {
			st.Close()
			t.Fatalf("run %d: stock and fees seed: %v", run, err)
		}
		if sres.Schools != demo.StockFeesSchools || sres.Issues != 4*demo.StockFeesSchools || sres.Fees != 2*demo.StockFeesSchools {
			t.Fatalf("run %d: stock and fees %+v", run, sres)
		}
		// Once per school, whatever the number of runs: one order and one commitment each.
		var orders, commitments int
		pool := st.Procurement.Store().Pool()
		_ = pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE event_type LIKE '%.PurchaseOrderPlaced'),
			count(*) FILTER (WHERE event_type LIKE '%.BudgetCommitted') FROM events`).Scan(&orders, &commitments)
		if pres.Orders != len(demo.Schools) || orders != len(demo.Schools) || commitments != len(demo.Schools) {
			t.Fatalf("run %d: procurement %+v, %d orders and %d commitments stored", run, pres, orders, commitments)
		}
		// Stores and fees once too: per school 4 issues, a return, an adjustment, 6 fee
		// collections, one settlement; the keyboard sets of the delivered order reach stock
		// through the process manager (5 goods in by hand + 1).
		testkit.Eventually(t, 60*time.Second, 100*time.Millisecond, func() (bool, string) {
			var issued, returned, adjusted, collected, settled, received int
			_ = pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE event_type LIKE '%.StockIssued'), count(*) FILTER (WHERE event_type LIKE '%.StockReturned'),
				count(*) FILTER (WHERE event_type LIKE '%.StockAdjusted'), count(*) FILTER (WHERE event_type LIKE '%.FeeCollected'),
				count(*) FILTER (WHERE event_type LIKE '%.FeeSettled'), count(*) FILTER (WHERE event_type LIKE '%.StockReceived') FROM events`).
				Scan(&issued, &returned, &adjusted, &collected, &settled, &received)
			n := demo.StockFeesSchools
			got := fmt.Sprint(issued, returned, adjusted, collected, settled, received)
			return got == fmt.Sprint(4*n, n, n, 6*n, n, 6*n), "stock and fee events (issued returned adjusted collected settled received): " + got
		})
		// The ledger: the demo's assets and the delivered computers (one registration per
		// school whose order was delivered), once the projection has caught up.
		rconn, err := stack.Dial(st.ReportsAddr())
		if err != nil {
			t.Fatal(err)
		}
		var d *reportsv1.GetDistrictLedgerResponse
		testkit.Eventually(t, 60*time.Second, 100*time.Millisecond, func() (bool, string) {
			d, err = reportsv1.NewReportsServiceClient(rconn).GetDistrictLedger(as(t, st, auth.RoleBureauViewer, ""), &reportsv1.GetDistrictLedgerRequest{})
			if err != nil {
				return false, err.Error()
			}
			want := int64(res.Assets + res.Kept + demo.StockFeesSchools)
			return d.Entries == want, fmt.Sprintf("%d ledger entries, want %d", d.Entries, want)
		})
		rconn.Close()
		st.Close()
		kinds := map[string]bool{}
		for _, s := range d.Schools {
			kinds[s.Kind] = true
			if s.Entries == 0 {
				t.Errorf("run %d: %s has no assets", run, s.Name)
			}
		}
		if len(d.Schools) < 20 || len(kinds) != 5 || d.Entries != int64(res.Assets+res.Kept+demo.StockFeesSchools) {
			t.Fatalf("run %d: %d schools of %d kinds, %d entries for %d seeded", run, len(d.Schools), len(kinds), d.Entries, res.Assets+res.Kept)
		}
		if run == 1 {
			first = d
			continue
		}
		if d.Entries != first.Entries || d.ValueFen != first.ValueFen || len(d.Schools) != len(first.Schools) {
			t.Fatalf("second run changed the district: %d entries ¥%d, first %d entries ¥%d", d.Entries, d.ValueFen, first.Entries, first.ValueFen)
		}
	}
}
