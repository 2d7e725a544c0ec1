package bench

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	assetssvc "houqin.dev/assets/service"
	"houqin.dev/platform/auth"
	"houqin.dev/platform/runtime"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
	"houqin.dev/tools/internal/demo"
	"houqin.dev/tools/internal/stack"
)

// A stocktake session (清查/盘点) as a school runs it: start (the snapshot of the ledger), one
// scan per item by several scanners at once, close. Scans are small commands on one stream, so
// they append one after another; the raw limit they are compared with is pgbench appending
// the same kind of transaction from one connection, back to back.

const (
	stocktakeDB       = "stocktake_assets"
	stocktakeRawDB    = "stocktake_raw"
	stocktakeScanners = 8
	itemsPerRoom      = 50
)

// StocktakeRun is one session measured.
type StocktakeRun struct {
	Items    int     `json:"items"`
	Rooms    int     `json:"rooms"`
	Scanners int     `json:"scanners"`
	Cached   bool    `json:"cached"`
	StartMs  float64 `json:"start_ms"`
	CloseMs  float64 `json:"close_ms"`
	Seconds  float64 `json:"seconds"` // start to closed
	ScansSec float64 `json:"scans_per_sec"`
	P50Ms    float64 `json:"p50_ms"`
	P99Ms    float64 `json:"p99_ms"`
	Errors   int64   `json:"errors"`
	// Retries of scans answered Aborted (without the cache, scanners race for the version).
	Retries int64 `json:"retries"`
}

// StocktakeResult is the stocktake phase.
type StocktakeResult struct {
	Session  StocktakeRun  `json:"session"`
	Uncached StocktakeRun  `json:"uncached"`
	Raw      PgbenchResult `json:"raw_serial_append"`
}

type stocktakeBench struct {
	keeper string
	school demo.School
	conns  []*grpc.ClientConn
	stops  []func() error
	run    string
}

func (b *stocktakeBench) close() {
	for _, c := range b.conns {
		c.Close()
	}
	for _, s := range b.stops {
		_ = s()
	}
}

// startService starts an assets service on the stocktake database and dials it.
func (b *stocktakeBench) startService(ctx context.Context, e *env, verifier *auth.Verifier, cached int, log *slog.Logger) (assetsv1.StocktakeServiceClient, assetsv1.AssetsServiceClient, error) {
	cfg := stack.AssetsConfig("127.0.0.1:0", e.pg.URL(stocktakeDB), e.nats.ClientURL())
	cfg.CachedSessions = cached
	svc, err := assetssvc.New(ctx, cfg, runtime.Deps{Log: log.With("bench", "stocktake"), Verifier: verifier})
	if err != nil {
		return nil, nil, err
	}
	b.stops = append(b.stops, runtime.Go(ctx, svc.Run))
	conn, err := grpc.NewClient(svc.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, nil, err
	}
	b.conns = append(b.conns, conn)
	return assetsv1.NewStocktakeServiceClient(conn), assetsv1.NewAssetsServiceClient(conn), nil
}

func stocktakeTag(i int) string  { return fmt.Sprintf("PD-%06d", i) }
func stocktakeRoom(i int) string { return fmt.Sprintf("教学楼%03d室", i/itemsPerRoom) }

func measureStocktake(ctx context.Context, e *env, c *corpus, items, uncachedItems int, log *slog.Logger, progress func(string, ...any)) (StocktakeResult, error) {
	var res StocktakeResult
	signer, verifier, err := benchAuth()
	if err != nil {
		return res, err
	}
	b := &stocktakeBench{school: demo.Schools[0], run: randomHex(3)}
	defer b.close()
	pool, err := e.database(ctx, stocktakeDB, 2)
	if err != nil {
		return res, err
	}
	defer pool.Close()
	cached, assets, err := b.startService(ctx, e, verifier, 64, log)
	if err != nil {
		return res, err
	}
	if b.keeper, err = signer.Sign(auth.Identity{Subject: "bench-storekeeper", Name: "保管员", Roles: []auth.Role{auth.RoleStorekeeper},
		SchoolID: b.school.ID, District: benchDistrict}, 24*time.Hour); err != nil {
		return res, err
	}
	admin, err := signer.Sign(auth.Identity{Subject: "bench-bureau-admin", Name: "教育局装备科",
		Roles: []auth.Role{auth.RoleBureauAdmin}, District: benchDistrict}, time.Hour)
	if err != nil {
		return res, err
	}
	if _, err := assets.RegisterSchool(bearer(ctx, admin), &assetsv1.RegisterSchoolRequest{RequestId: "stocktake-school-" + b.run,
		SchoolId: b.school.ID, Name: b.school.Name, Kind: b.school.Kind, Boarding: b.school.Boarding}); err != nil {
		return res, fmt.Errorf("bench: stocktake school: %w", err)
	}
	progress("盘点：登记 %d 件资产 / stocktake: registering %d assets", items, items)
	if err := b.register(ctx, assets, items); err != nil {
		return res, err
	}
	if err := waitOutboxEmpty(ctx, pool, 2*time.Minute); err != nil {
		return res, err
	}
	if err := checkpoint(ctx, pool); err != nil {
		return res, err
	}
	if res.Session, err = b.session(ctx, cached, items, stocktakeScanners, nil); err != nil {
		return res, err
	}
	res.Session.Cached = true
	progress("盘点 %d 件：开始 %.0f ms，扫描 %s/s (p50 %.1f ms, p99 %.1f ms)，结束 %.0f ms / stocktake of %d items",
		items, res.Session.StartMs, thousands(res.Session.ScansSec), res.Session.P50Ms, res.Session.P99Ms, res.Session.CloseMs, items)

	// The same without the state cache: every scan reads its whole session. One scanner, so
	// what it measures is the re-reading, not scanners racing for the session's next version.
	uncached, _, err := b.startService(ctx, e, verifier, -1, log)
	if err != nil {
		return res, err
	}
	uncachedItems = min(uncachedItems, items)
	var rooms []string
	for i := 0; i < uncachedItems; i += itemsPerRoom {
		rooms = append(rooms, stocktakeRoom(i))
	}
	if res.Uncached, err = b.session(ctx, uncached, len(rooms)*itemsPerRoom, 1, rooms); err != nil {
		return res, err
	}
	progress("无缓存 %d 件：扫描 %s/s (p50 %.1f ms, p99 %.1f ms, %d 次重试 / retries) / without the cache", res.Uncached.Items,
		thousands(res.Uncached.ScansSec), res.Uncached.P50Ms, res.Uncached.P99Ms, res.Uncached.Retries)

	raw, err := newRawAppendIn(ctx, e, c.events[0], stocktakeRawDB)
	if err != nil {
		return res, err
	}
	defer raw.close()
	if res.Raw, err = raw.run(ctx, 1, max(2*time.Second, time.Duration(res.Session.Seconds*float64(time.Second)))); err != nil {
		return res, err
	}
	progress("pgbench ×1: %s tps", thousands(res.Raw.TPS))
	return res, nil
}

// register enters n assets, itemsPerRoom per room, from 16 clients.
func (b *stocktakeBench) register(ctx context.Context, assets assetsv1.AssetsServiceClient, n int) error {
	ctx = bearer(ctx, b.keeper)
	tmpl := demo.Assets(b.school)
	work := make(chan int)
	errc := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range work {
				req := proto.Clone(tmpl[i%len(tmpl)]).(*assetsv1.RegisterAssetRequest)
				req.RequestId, req.SchoolId = fmt.Sprintf("stk-%s-%06d", b.run, i), b.school.ID
				req.Tag, req.Location = stocktakeTag(i), stocktakeRoom(i)
				if _, err := assets.RegisterAsset(ctx, req); err != nil {
					errc <- fmt.Errorf("bench: stocktake register %d: %w", i, err)
					return
				}
			}
		})
	}
	for i := range n {
		select {
		case work <- i:
		case err := <-errc:
			close(work)
			wg.Wait()
			return err
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// session starts a stocktake of rooms (all: nil), scans items 0..n-1 in their rooms from
// scanners clients, and closes it.
func (b *stocktakeBench) session(ctx context.Context, client assetsv1.StocktakeServiceClient, n, scanners int, rooms []string) (StocktakeRun, error) {
	ctx = bearer(ctx, b.keeper)
	r := StocktakeRun{Items: n, Scanners: scanners}
	t0 := time.Now()
	st, err := client.StartStocktake(ctx, &assetsv1.StartStocktakeRequest{RequestId: "stk-start-" + randomHex(6),
		SchoolId: b.school.ID, Rooms: rooms, Note: "基准测试 / benchmark"})
	if err != nil {
		return r, fmt.Errorf("bench: start stocktake: %w", err)
	}
	r.StartMs = float64(time.Since(t0).Microseconds()) / 1000
	r.Rooms = int(st.Rooms)
	if st.ExpectedItems != int64(n) {
		return r, fmt.Errorf("bench: stocktake expects %d items, want %d", st.ExpectedItems, n)
	}
	work := make(chan int)
	var mu sync.Mutex
	var lat []time.Duration
	var first error
	var wg sync.WaitGroup
	scan0 := time.Now()
	for range scanners {
		wg.Go(func() {
			mine := make([]time.Duration, 0, n/scanners+1)
			var errs, retries int64
			var firstErr error
			for i := range work {
				code := stocktakeTag(i)
				if i%2 == 1 {
					code = "houqin:asset:" + code // half the labels are QR codes
				}
				s := time.Now()
				req := &assetsv1.ScanStocktakeItemRequest{RequestId: fmt.Sprintf("scan-%s-%06d", st.StocktakeId[24:], i),
					SchoolId: b.school.ID, StocktakeId: st.StocktakeId, Room: stocktakeRoom(i), Code: code}
				out, err := client.ScanStocktakeItem(ctx, req)
				// A scan that lost the race for the session's next version too often comes
				// back Aborted; the scanner sends it again, as a handset would.
				for try := 0; status.Code(err) == codes.Aborted && try < 50; try++ {
					retries++
					out, err = client.ScanStocktakeItem(ctx, req)
				}
				if err == nil && out.Outcome != assetsv1.ScanOutcome_SCAN_OUTCOME_COUNTED {
					err = fmt.Errorf("scan %d: %v", i, out.Outcome)
				}
				if err != nil {
					errs++
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				mine = append(mine, time.Since(s))
			}
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, mine...)
			r.Errors += errs
			r.Retries += retries
			if first == nil {
				first = firstErr
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	scanSecs := time.Since(scan0).Seconds()
	if first != nil {
		return r, fmt.Errorf("bench: %d scans failed, first: %w", r.Errors, first)
	}
	t1 := time.Now()
	closed, err := client.CloseStocktake(ctx, &assetsv1.CloseStocktakeRequest{RequestId: "stk-close-" + randomHex(6),
		SchoolId: b.school.ID, StocktakeId: st.StocktakeId})
	if err != nil {
		return r, fmt.Errorf("bench: close stocktake: %w", err)
	}
	r.CloseMs = float64(time.Since(t1).Microseconds()) / 1000
	r.Seconds = time.Since(t0).Seconds()
	if closed.Summary.Counted != int64(n) || len(closed.Summary.Missing) != 0 {
		return r, fmt.Errorf("bench: stocktake counted %d of %d, %d missing", closed.Summary.Counted, n, len(closed.Summary.Missing))
	}
	r.ScansSec = float64(len(lat)) / scanSecs
	slices.Sort(lat)
	r.P50Ms, r.P99Ms = percentileMs(lat, 0.50), percentileMs(lat, 0.99)
	return r, nil
}
