package bench

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/runtime"
	procurementsvc "houqin.dev/procurement/service"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
	"houqin.dev/tools/internal/stack"
)

// Stock issues (出库): every issue of an item is a command on the item's stream, which holds
// its whole history. On one hot item the issues append one after another, so they are
// compared with pgbench's serial append; the same issues without the state cache read the
// item's whole stream each time (the cost the cache removes). Issues spread over many items do
// not contend and are compared with pgbench at as many connections as clients.

const (
	stockDB           = "stock_procurement"
	stockRawDB        = "stock_raw"
	stockHotClients   = 8
	stockItems        = 64
	stockItemsClients = 16
	stockSchool       = "bench-stock"
)

// StockRun is one measured series of issues.
type StockRun struct {
	Issues  int     `json:"issues"`
	Items   int     `json:"items"`
	Clients int     `json:"clients"`
	Cached  bool    `json:"cached"`
	History int64   `json:"history_events"` // events of the hot item's stream when the series ended
	PerSec  float64 `json:"issues_per_sec"`
	P50Ms   float64 `json:"p50_ms"`
	P99Ms   float64 `json:"p99_ms"`
	Retries int64   `json:"retries"` // issues answered Aborted and sent again
}

// StockResult is the stock phase.
type StockResult struct {
	Hot       StockRun      `json:"hot_item"`
	Uncached  StockRun      `json:"hot_item_uncached"`
	Items     StockRun      `json:"many_items"`
	RawSerial PgbenchResult `json:"raw_serial_append"`
	RawItems  PgbenchResult `json:"raw_append_many"`
}

type stockBench struct {
	conns []*grpc.ClientConn
	stops []func() error
	run   string
}

func (b *stockBench) close() {
	for _, c := range b.conns {
		c.Close()
	}
	for _, s := range b.stops {
		_ = s()
	}
}

func (b *stockBench) startService(ctx context.Context, e *env, verifier *auth.Verifier, cached int, log *slog.Logger) (procurementv1.StockServiceClient, error) {
	cfg := stack.ProcurementConfig("127.0.0.1:0", e.pg.URL(stockDB), e.nats.ClientURL())
	cfg.CachedStockItems = cached
	svc, err := procurementsvc.New(ctx, cfg, runtime.Deps{Log: log.With("bench", "stock"), Verifier: verifier})
	if err != nil {
		return nil, err
	}
	b.stops = append(b.stops, runtime.Go(ctx, svc.Run))
	conn, err := grpc.NewClient(svc.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	b.conns = append(b.conns, conn)
	return procurementv1.NewStockServiceClient(conn), nil
}

func stockCode(i int) string { return fmt.Sprintf("WZ-%03d", i) }

func measureStock(ctx context.Context, e *env, c *corpus, issues, uncachedIssues int, log *slog.Logger, progress func(string, ...any)) (StockResult, error) {
	var res StockResult
	signer, verifier, err := benchAuth()
	if err != nil {
		return res, err
	}
	b := &stockBench{run: randomHex(3)}
	defer b.close()
	pool, err := e.database(ctx, stockDB, 2)
	if err != nil {
		return res, err
	}
	defer pool.Close()
	cached, err := b.startService(ctx, e, verifier, 0, log)
	if err != nil {
		return res, err
	}
	tok := func(role auth.Role) (context.Context, error) {
		t, err := signer.Sign(auth.Identity{Subject: "bench-" + string(role), Name: string(role), Roles: []auth.Role{role},
			SchoolID: stockSchool, District: benchDistrict}, 24*time.Hour)
		return bearer(ctx, t), err
	}
	keeper, err := tok(auth.RoleStorekeeper)
	if err != nil {
		return res, err
	}
	teacher, err := tok(auth.RoleTeacher)
	if err != nil {
		return res, err
	}
	director, err := tok(auth.RoleLogisticsDirector)
	if err != nil {
		return res, err
	}
	// Items 0..stockItems: item 0 is the hot one, with enough for every issue of the phase.
	total := issues + uncachedIssues
	var reqs []string
	for first := 0; first < stockItems; first += 50 {
		var lines []*procurementv1.RequisitionLine
		for i := first; i < min(first+50, stockItems); i++ {
			qty := int64(stockItemsIssues(issues))
			if i == 0 {
				qty = int64(total)
			}
			if _, err := cached.ReceiveGoods(keeper, &procurementv1.ReceiveGoodsRequest{RequestId: fmt.Sprintf("stk-in-%s-%03d", b.run, i), SchoolId: stockSchool,
				Item: &procurementv1.StockItemSpec{Code: stockCode(i), Name: "基准物资", Unit: "个", Category: "办公用品"}, Quantity: qty, UnitCostFen: 100,
				ReceivedOn: time.Now().Format("2006-01-02"), Source: "other"}); err != nil {
				return res, fmt.Errorf("bench: stock goods in: %w", err)
			}
			lines = append(lines, &procurementv1.RequisitionLine{ItemCode: stockCode(i), Quantity: qty})
		}
		r, err := cached.RequestRequisition(teacher, &procurementv1.RequestRequisitionRequest{RequestId: fmt.Sprintf("stk-req-%s-%d", b.run, first),
			SchoolId: stockSchool, Department: "总务处", Lines: lines})
		if err != nil {
			return res, fmt.Errorf("bench: stock requisition: %w", err)
		}
		if _, err := cached.ApproveRequisition(director, &procurementv1.ApproveRequisitionRequest{RequestId: fmt.Sprintf("stk-ok-%s-%d", b.run, first),
			SchoolId: stockSchool, RequisitionId: r.RequisitionId}); err != nil {
			return res, fmt.Errorf("bench: stock approval: %w", err)
		}
		reqs = append(reqs, r.RequisitionId)
	}
	reqOf := func(item int) string { return reqs[item/50] }
	if err := waitOutboxEmpty(ctx, pool, 2*time.Minute); err != nil {
		return res, err
	}
	if err := checkpoint(ctx, pool); err != nil {
		return res, err
	}

	hot := func(int) int { return 0 }
	if res.Hot, err = b.issue(ctx, cached, keeper, reqOf, hot, issues, stockHotClients, "hot"); err != nil {
		return res, err
	}
	res.Hot.Cached, res.Hot.History = true, int64(2+issues)
	progress("库存出库（一种物资）%d 笔：%s/s (p50 %.1f ms, p99 %.1f ms) / stock issues on one item", issues, thousands(res.Hot.PerSec), res.Hot.P50Ms, res.Hot.P99Ms)

	// Without the cache every issue reads the hot item's whole stream (by now issues long).
	uncached, err := b.startService(ctx, e, verifier, -1, log)
	if err != nil {
		return res, err
	}
	if res.Uncached, err = b.issue(ctx, uncached, keeper, reqOf, hot, uncachedIssues, 1, "cold"); err != nil {
		return res, err
	}
	res.Uncached.History = int64(2 + total)
	progress("无缓存 %d 笔（物资流已有 %d 个事件）：%s/s (p50 %.1f ms, p99 %.1f ms) / without the cache", uncachedIssues, res.Uncached.History,
		thousands(res.Uncached.PerSec), res.Uncached.P50Ms, res.Uncached.P99Ms)

	many := func(i int) int { return 1 + i%(stockItems-1) }
	n := stockItemsIssues(issues) * (stockItems - 1)
	if res.Items, err = b.issue(ctx, cached, keeper, reqOf, many, n, stockItemsClients, "many"); err != nil {
		return res, err
	}
	res.Items.Cached, res.Items.Items = true, stockItems-1
	progress("库存出库（%d 种物资）%d 笔：%s/s (p50 %.1f ms, p99 %.1f ms) / stock issues over many items", stockItems-1, n,
		thousands(res.Items.PerSec), res.Items.P50Ms, res.Items.P99Ms)

	raw, err := newRawAppendIn(ctx, e, c.events[0], stockRawDB)
	if err != nil {
		return res, err
	}
	defer raw.close()
	d := max(2*time.Second, time.Duration(float64(issues)/max(res.Hot.PerSec, 1)*float64(time.Second)))
	if res.RawSerial, err = raw.run(ctx, 1, d); err != nil {
		return res, err
	}
	if res.RawItems, err = raw.run(ctx, stockItemsClients, d); err != nil {
		return res, err
	}
	progress("pgbench ×1: %s tps, ×%d: %s tps", thousands(res.RawSerial.TPS), stockItemsClients, thousands(res.RawItems.TPS))
	return res, nil
}

// stockItemsIssues is how many issues each of the many items gets.
func stockItemsIssues(hotIssues int) int { return max(10, hotIssues/(stockItems-1)) }

// issue sends n issues of one unit from clients clients, issue i to item item(i).
func (b *stockBench) issue(ctx context.Context, client procurementv1.StockServiceClient, keeper context.Context, reqOf func(int) string,
	item func(int) int, n, clients int, tag string) (StockRun, error) {
	r := StockRun{Issues: n, Items: 1, Clients: clients}
	work := make(chan int)
	var mu sync.Mutex
	var lat []time.Duration
	var first error
	var retries atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	today := time.Now().Format("2006-01-02")
	for range clients {
		wg.Go(func() {
			mine := make([]time.Duration, 0, n/clients+1)
			var err error
			for i := range work {
				if err != nil {
					continue
				}
				it := item(i)
				req := &procurementv1.IssueStockRequest{RequestId: fmt.Sprintf("stk-%s-%s-%06d", tag, b.run, i), SchoolId: stockSchool,
					RequisitionId: reqOf(it), ItemCode: stockCode(it), Quantity: 1, IssuedOn: today}
				s := time.Now()
				_, err = client.IssueStock(keeper, req)
				// Without the cache, clients race for the item's next version; a loser that
				// ran out of retries is Aborted and sends the issue again.
				for try := 0; status.Code(err) == codes.Aborted && try < 50; try++ {
					retries.Add(1)
					_, err = client.IssueStock(keeper, req)
				}
				if err == nil {
					mine = append(mine, time.Since(s))
				}
			}
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, mine...)
			if first == nil && err != nil {
				first = err
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	secs := time.Since(t0).Seconds()
	if first != nil {
		return r, fmt.Errorf("bench: stock issue: %w", first)
	}
	r.PerSec, r.Retries = float64(n)/secs, retries.Load()
	slices.Sort(lat)
	r.P50Ms, r.P99Ms = percentileMs(lat, 0.50), percentileMs(lat, 0.99)
	return r, nil
}
