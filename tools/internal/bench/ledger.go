package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"houqin.dev/assets/domain"
	gatewaysvc "houqin.dev/gateway/service"
	"houqin.dev/platform/auth"
	"houqin.dev/platform/event"
	"houqin.dev/platform/pgkit"
	"houqin.dev/platform/runtime"
	"houqin.dev/projector/ledger"
	projectorsvc "houqin.dev/projector/service"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// LedgerResult is the as-of ledger query measurement: how the read model was seeded and the
// latency of each query kind.
type LedgerResult struct {
	Schools     int           `json:"schools"`
	Assets      int           `json:"assets_per_school"`
	SeedSeconds float64       `json:"seed_seconds"`
	Dates       []string      `json:"as_of_dates"`
	Queries     []LedgerQuery `json:"queries"`
}

// LedgerQuery is one query kind's latency over every date.
type LedgerQuery struct {
	Key     string  `json:"key"`
	Metric  string  `json:"metric"`
	Samples int     `json:"samples"`
	PerSec  float64 `json:"per_sec"` // one client, back to back
	P50Ms   float64 `json:"p50_ms"`
	P95Ms   float64 `json:"p95_ms"`
	P99Ms   float64 `json:"p99_ms"`
}

const (
	ledgerDB = "projector_ledger_bench"
	// ledgerTargetP95Ms: an as-of ledger query of a district answers within 100 ms at p95.
	ledgerTargetP95Ms = 100
)

// measureLedger seeds the projector's ledger with schools × perSchool registrations through
// the projection's own Apply (what the projector does with the events, minus the bus), then
// times the school and district as-of queries through the real projector (gRPC, token check,
// authorisation) and through the gateway's HTTP routes, one client, at several dates.
func measureLedger(ctx context.Context, e *env, schools, perSchool, queries int, log *slog.Logger, progress func(string, ...any)) (LedgerResult, error) {
	res := LedgerResult{Schools: schools, Assets: perSchool}
	nc, js, err := e.connect("bench-ledger")
	if err != nil {
		return res, err
	}
	defer nc.Close()
	// The projector subscribes to HOUQIN_ASSETS; empty it so only the seeded rows are read.
	if err := freshStream(ctx, js, assetsService); err != nil {
		return res, err
	}
	if err := e.pg.CreateDatabase(ctx, ledgerDB); err != nil {
		return res, err
	}
	signer, verifier, err := benchAuth()
	if err != nil {
		return res, err
	}
	svc, err := projectorsvc.New(ctx, projectorsvc.Config{GRPCAddr: "127.0.0.1:0", DatabaseURL: e.pg.URL(ledgerDB),
		DBMaxConns: 16, NatsURL: e.nats.ClientURL(), Timezone: "Asia/Shanghai", Batch: batch, AckWait: 30 * time.Second},
		runtime.Deps{Log: log.With("bench", "projector"), Verifier: verifier})
	if err != nil {
		return res, err
	}
	stopProjector := runtime.Go(ctx, svc.Run)
	defer stopProjector() //nolint:errcheck // Run returns nil once cancelled
	gw, err := gatewaysvc.New(gatewaysvc.Config{HTTPAddr: "127.0.0.1:0", AssetsAddr: "127.0.0.1:1", ProcurementAddr: "127.0.0.1:1", ReportsAddr: svc.Addr()},
		log.With("bench", "gateway"), nil)
	if err != nil {
		return res, err
	}
	stopGateway := runtime.Go(ctx, gw.Run)
	defer stopGateway() //nolint:errcheck

	pool, err := pgkit.Open(ctx, e.pg.URL(ledgerDB), 4)
	if err != nil {
		return res, err
	}
	defer pool.Close()
	progress("台帐：写入 %d 所学校 × %d 条资产 / ledger: seeding %d schools × %d assets", schools, perSchool, schools, perSchool)
	start := time.Now()
	ids, err := seedLedger(ctx, pool, schools, perSchool)
	if err != nil {
		return res, err
	}
	res.SeedSeconds = time.Since(start).Seconds()
	progress("台帐：已写入，用时 %.1f s / ledger seeded in %.1f s", res.SeedSeconds, res.SeedSeconds)

	bureau, err := signer.Sign(auth.Identity{Subject: "bench-bureau-viewer", Name: "教育局", Roles: []auth.Role{auth.RoleBureauViewer},
		District: benchDistrict}, 24*time.Hour)
	if err != nil {
		return res, err
	}
	conn, err := grpc.NewClient(svc.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return res, err
	}
	defer conn.Close()
	reports := reportsv1.NewReportsServiceClient(conn)
	rctx := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+bureau)
	httpc := &http.Client{Timeout: 30 * time.Second}
	get := func(path string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, gw.URL()+path, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+bureau)
		resp, err := httpc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return nil
	}
	// Dates across the ledger's life: early (few rows qualify), middle, recent, today.
	res.Dates = []string{"2000-01-01", "2012-06-30", "2020-09-01", time.Now().Format(domain.DateLayout)}
	kinds := []struct {
		key, metric string
		run         func(school, asOf string) error
	}{
		{"ledger_school_grpc", "单校台帐 gRPC / school ledger as of, gRPC", func(school, asOf string) error {
			r, err := reports.GetAssetLedger(rctx, &reportsv1.GetAssetLedgerRequest{SchoolId: school, AsOf: asOf})
			if err == nil && asOf == res.Dates[len(res.Dates)-1] && r.Entries != int64(perSchool) {
				err = fmt.Errorf("bench: %s has %d entries as of today, want %d", school, r.Entries, perSchool)
			}
			return err
		}},
		{"ledger_district_grpc", "全区台帐 gRPC / district ledger as of, gRPC", func(_, asOf string) error {
			r, err := reports.GetDistrictLedger(rctx, &reportsv1.GetDistrictLedgerRequest{AsOf: asOf})
			if err == nil && asOf == res.Dates[len(res.Dates)-1] && r.Entries != int64(schools*perSchool) {
				err = fmt.Errorf("bench: the district has %d entries as of today, want %d", r.Entries, schools*perSchool)
			}
			return err
		}},
		{"ledger_district_breakdown_grpc", "全区台帐分类与净值 gRPC / district ledger by category with net book value, gRPC", func(_, asOf string) error {
			r, err := reports.GetDistrictLedgerBreakdown(rctx, &reportsv1.GetDistrictLedgerBreakdownRequest{AsOf: asOf, Dimension: "category"})
			if err == nil && asOf == res.Dates[len(res.Dates)-1] && r.Entries != int64(schools*perSchool) {
				err = fmt.Errorf("bench: the district breakdown has %d entries as of today, want %d", r.Entries, schools*perSchool)
			}
			return err
		}},
		{"ledger_school_http", "单校台帐 HTTP / school ledger as of, gateway", func(school, asOf string) error {
			return get("/api/v1/schools/" + school + "/ledger?as_of=" + asOf)
		}},
		{"ledger_district_http", "全区台帐 HTTP / district ledger as of, gateway", func(_, asOf string) error {
			return get("/api/v1/district/ledger?as_of=" + asOf)
		}},
	}
	for _, k := range kinds {
		// A few unmeasured calls open connections and warm the caches, as a serving system's are.
		for i := range 3 {
			if err := k.run(ids[i%len(ids)], res.Dates[i%len(res.Dates)]); err != nil {
				return res, fmt.Errorf("%s: %w", k.key, err)
			}
		}
		var lat []time.Duration
		begin := time.Now()
		for i := range queries {
			t := time.Now()
			if err := k.run(ids[i%len(ids)], res.Dates[i%len(res.Dates)]); err != nil {
				return res, fmt.Errorf("%s: %w", k.key, err)
			}
			lat = append(lat, time.Since(t))
		}
		total := time.Since(begin)
		slices.Sort(lat)
		q := LedgerQuery{Key: k.key, Metric: k.metric, Samples: len(lat), PerSec: float64(len(lat)) / total.Seconds(),
			P50Ms: percentileMs(lat, 0.50), P95Ms: percentileMs(lat, 0.95), P99Ms: percentileMs(lat, 0.99)}
		progress("%s: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms", k.metric, q.P50Ms, q.P95Ms, q.P99Ms)
		res.Queries = append(res.Queries, q)
	}
	return res, nil
}

// seedLedger writes schools × perSchool registrations (and the schools) into the live ledger
// through ledger.Projection.Apply, a batch per transaction as the runner applies them, then
// vacuums and analyses the tables as autovacuum would have long since done on a read model
// that size. It returns the school ids.
func seedLedger(ctx context.Context, pool *pgxpool.Pool, schools, perSchool int) ([]string, error) {
	rng := rand.New(rand.NewPCG(4, 20))
	first := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)
	days := int(time.Since(first).Hours()/24) - 1
	now := time.Now()
	kinds := []string{"kindergarten", "primary", "middle", "high", "nine_year"}
	names := []string{"多媒体一体机", "课桌椅", "钢琴", "图书", "投影仪", "办公电脑", "空调", "实验台", "篮球架", "消毒柜"}
	var ids []string
	var pending []event.Event
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			return ledger.Projection{}.Apply(ctx, tx, ledger.Projection{}.Name(), pending)
		})
		pending = pending[:0]
		return err
	}
	add := func(m proto.Message, stream, school string, occurred time.Time) error {
		payload, err := event.Marshal(m)
		if err != nil {
			return err
		}
		e := event.Event{ID: uuid.Must(uuid.NewV7()), StreamID: stream, StreamType: "asset", Version: 1, SchoolID: school,
			Type: event.TypeOf(m), Payload: payload, OccurredAt: occurred, RecordedAt: now, PrevHash: event.GenesisHash}
		e.Hash = e.ComputeHash(e.PrevHash)
		pending = append(pending, e)
		if len(pending) >= 5*batch {
			return flush()
		}
		return nil
	}
	for s := range schools {
		id := fmt.Sprintf("bench-%03d", s)
		ids = append(ids, id)
		sr := &eventsv1.SchoolRegistered{SchoolId: id, Name: fmt.Sprintf("基准测试第%d学校", s+1), Kind: kinds[s%len(kinds)], Boarding: s%4 == 0}
		if err := add(sr, "school:"+id, id, now); err != nil {
			return nil, err
		}
		for j := range perSchool {
			acquired := first.AddDate(0, 0, rng.IntN(days))
			cat := domain.DefaultCategories[rng.IntN(len(domain.DefaultCategories))]
			price := int64(rng.IntN(2_000_000) + 1_000)
			m := &eventsv1.AssetRegistered{AssetId: uuid.Must(uuid.NewV7()).String(), SchoolId: id, Tag: fmt.Sprintf("ZC-%06d", j),
				Name: names[j%len(names)], Category: cat.Code, Model: "型号", UnitPriceFen: price, Quantity: int64(1 + rng.IntN(40)),
				AcquiredOn: acquired.Format(domain.DateLayout), Source: "purchase", FundingSource: "财政拨款",
				Location: fmt.Sprintf("教学楼%d", 100+j%60), Department: "总务处", Custodian: "李老师",
				FixedAsset: price >= domain.DefaultPolicies.At(acquired).CapitalisationThresholdFen}
			if err := add(m, "asset:"+m.AssetId, id, acquired); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	_, err := pool.Exec(ctx, "VACUUM ANALYZE")
	return ids, err
}
