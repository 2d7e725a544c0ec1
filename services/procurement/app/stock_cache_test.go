package app

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	"houqin.dev/platform/eventstore"
	"houqin.dev/platform/testkit"
	"houqin.dev/procurement/domain"
	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// Stock items' states are cached between commands (es.Handler.WithCache), and deciders are
// handed the cached state. Whatever a command does with it — fold events into it to look
// ahead and then refuse, lose a race to another process and decide again — the cached state
// must stay the fold of exactly the committed events: after each step the state the next
// command is given is compared with a fresh fold of the stream.
func TestStockItemCacheNeverCorrupted(t *testing.T) {
	ctx := context.Background()
	pool := testkit.Pool(t)
	if err := eventstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(pool, "procurement")
	now := func() time.Time { return time.Date(2026, 9, 30, 10, 0, 0, 0, time.UTC) }
	cached := New(store, Options{CachedStockItems: 8, Now: now})
	other := New(store, Options{CachedStockItems: -1, Now: now}) // another process: no cache of its own
	const school, line = "s1", "0192f0c4-0000-7000-8000-0000000000a1"
	n := 0
	meta := func() es.Meta {
		n++
		return es.Meta{RequestID: fmt.Sprintf("cache-test-%04d", n), SchoolID: school, Actor: "保管员", Fingerprint: []byte{byte(n)}}
	}
	chalk := domain.StockItemSpec{Code: "BJ-001", Name: "无尘粉笔", Unit: "盒", Category: "教学耗材"}

	// given is the state the cached handler gives its next decider; the probe refuses, so
	// it writes nothing and keeps the cache.
	errProbe := errs.Rule("PROBE", "probe")
	given := func() domain.StockItem {
		t.Helper()
		var got domain.StockItem
		_, err := cached.stock.items.Execute(ctx, meta(), es.Command[domain.StockItem]{ID: itemID(school, chalk.Code),
			Decide: func(s domain.StockItem) (es.Decision, error) { got = s; return es.Decision{}, errProbe }})
		if !errors.Is(err, errProbe) {
			t.Fatalf("probe: %v", err)
		}
		return got
	}
	check := func(step string) {
		t.Helper()
		fresh, _, _, err := cached.GetStockItem(ctx, school, chalk.Code)
		if err != nil {
			t.Fatal(err)
		}
		if got := given(); !reflect.DeepEqual(got, fresh) {
			t.Fatalf("%s: the cached state is not the fold of the stream:\ncached %+v\nfresh  %+v", step, got, fresh)
		}
	}

	if _, err := cached.ReceiveGoods(ctx, meta(), domain.ReceiveStock{Item: chalk, Quantity: 10, UnitCostFen: 200,
		ReceivedOn: "2026-09-01", Source: "donation"}); err != nil {
		t.Fatal(err)
	}
	req, _, err := other.RequestRequisition(ctx, meta(), domain.RequestRequisition{Department: "三年级二班",
		Lines: []domain.RequisitionLine{{ItemCode: chalk.Code, Quantity: 8}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.ApproveRequisition(ctx, es.Meta{RequestID: "cache-test-approve", SchoolID: school, Actor: "总务主任", Fingerprint: []byte("a")}, req, 0, nil); err != nil {
		t.Fatal(err)
	}
	// Something issued and counted, so the tables the look-ahead below writes to hold entries.
	if _, err := cached.RecordStockCount(ctx, meta(), chalk.Code, domain.RecordStockCount{StocktakeID: "pd-1", Counted: 10, CountedOn: "2026-09-01"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cached.IssueStock(ctx, meta(), chalk.Code, 0, domain.IssueStock{RequisitionID: req, Quantity: 1, IssuedOn: "2026-09-01"}); err != nil {
		t.Fatal(err)
	}
	check("after a goods in, a count and an issue")

	// A decider that folds a receipt of the line and an issue into the state it is given
	// (looking ahead), then refuses. Had the fold written into the cached state, the line
	// would count as received and the units as issued.
	lookahead := func(s domain.StockItem) (es.Decision, error) {
		s = domain.EvolveStockItem(s, &eventsv1.StockReceived{ItemCode: chalk.Code, LotId: "ahead", Quantity: 5, UnitCostFen: 1,
			ReceivedOn: "2026-09-02", AcceptanceLineId: line})
		s = domain.EvolveStockItem(s, &eventsv1.StockIssued{ItemCode: chalk.Code, RequisitionId: req, Quantity: 3, IssuedOn: "2026-09-02",
			Slices: []*eventsv1.StockLotSlice{{LotId: "ahead", ReceivedOn: "2026-09-02", Quantity: 3, UnitCostFen: 1}}})
		_ = domain.EvolveStockItem(s, &eventsv1.StockCounted{ItemCode: chalk.Code, StocktakeId: "pd-1", CountedOn: "2026-09-02", CountedQuantity: 1})
		return es.Decision{}, errs.Rule(domain.ReasonStockInsufficient, "looked ahead, then refused")
	}
	if _, err := cached.stock.items.Execute(ctx, meta(), es.Command[domain.StockItem]{ID: itemID(school, chalk.Code), Decide: lookahead}); err == nil {
		t.Fatal("the look-ahead decider's refusal was lost")
	}
	check("after a decider looked ahead and refused")

	// The same look-ahead in a decision that does append (the events it returns are its own).
	if _, err := cached.stock.items.Execute(ctx, meta(), es.Command[domain.StockItem]{ID: itemID(school, chalk.Code),
		Decide: func(s domain.StockItem) (es.Decision, error) {
			_, _ = lookahead(s)
			ev, err := domain.DecideIssueStock(s, domain.Requisition{ID: req, Department: "三年级二班", Status: domain.RequisitionApproved,
				Approved: map[string]int64{chalk.Code: 8}}, domain.IssueStock{RequisitionID: req, Quantity: 2, IssuedOn: "2026-09-03"}, "2026-09-30")
			return es.Decision{Events: ev}, err
		}}); err != nil {
		t.Fatal(err)
	}
	check("after a decider looked ahead and issued")

	// Another process issues: the cached state is now behind. The cached handler's next
	// issue decides on it, conflicts on the append, reads the tail and decides again.
	if _, err := other.IssueStock(ctx, meta(), chalk.Code, 0, domain.IssueStock{RequisitionID: req, Quantity: 3, IssuedOn: "2026-09-04"}); err != nil {
		t.Fatal(err)
	}
	iss, err := cached.IssueStock(ctx, meta(), chalk.Code, 0, domain.IssueStock{RequisitionID: req, Quantity: 2, IssuedOn: "2026-09-05"})
	if err != nil {
		t.Fatal(err)
	}
	if iss.Version != 7 || iss.CostFen != 400 {
		t.Fatalf("issue after the other process's: %+v", iss)
	}
	check("after a conflict retried")

	// Approved 8 and 8 out: nothing more.
	if _, err := cached.IssueStock(ctx, meta(), chalk.Code, 0, domain.IssueStock{RequisitionID: req, Quantity: 1, IssuedOn: "2026-09-05"}); reasonOf(err) != domain.ReasonIssueExceedsApproved {
		t.Fatalf("issue beyond the approval: %v", err)
	}
	// A return by the other process, then a count and its adjustment through the cache.
	if _, _, err := other.ReturnStock(ctx, meta(), chalk.Code, domain.ReturnStock{RequisitionID: req, Quantity: 1, ReturnedOn: "2026-09-06"}); err != nil {
		t.Fatal(err)
	}
	if _, err := cached.RecordStockCount(ctx, meta(), chalk.Code, domain.RecordStockCount{StocktakeID: "pd-1", Counted: 2, CountedOn: "2026-09-07"}); err != nil {
		t.Fatal(err)
	}
	if adj, err := cached.ApproveStockAdjustment(ctx, es.Meta{RequestID: "cache-test-adjust", SchoolID: school, Actor: "总务主任", Fingerprint: []byte("b")}, chalk.Code,
		domain.ApproveStockAdjustment{StocktakeID: "pd-1", AdjustedOn: "2026-09-07"}); err != nil || adj.Difference != -1 {
		t.Fatalf("adjustment: %+v %v", adj, err)
	}
	check("after a return elsewhere and an adjustment")

	// The line the look-ahead pretended to receive is received for real, once.
	r, err := cached.ReceiveAcceptedLine(ctx, meta(), domain.ReceiveStock{Item: chalk, Quantity: 4, UnitCostFen: 250, ReceivedOn: "2026-09-08",
		AcceptanceLineID: line})
	if err != nil || r.Already {
		t.Fatalf("the accepted line: %+v %v", r, err)
	}
	if r, err = cached.ReceiveAcceptedLine(ctx, meta(), domain.ReceiveStock{Item: chalk, Quantity: 4, UnitCostFen: 250, ReceivedOn: "2026-09-08",
		AcceptanceLineID: line}); err != nil || !r.Already {
		t.Fatalf("the accepted line again: %+v %v", r, err)
	}
	check("after the accepted line")
	fresh, _, _, _ := cached.GetStockItem(ctx, school, chalk.Code)
	if fresh.Lots.Quantity() != 2+4 || fresh.Issue(req).Out() != 7 {
		t.Fatalf("final: %d on hand, %d out", fresh.Lots.Quantity(), fresh.Issue(req).Out())
	}
}

func reasonOf(err error) errs.Reason {
	if r, ok := errs.As[*errs.RuleError](err); ok {
		return r.Reason
	}
	return ""
}
