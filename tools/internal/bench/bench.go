// Package bench measures Houqin against the raw limits of the machine it runs on, in one run
// on one private PostgreSQL (fsync on) and one embedded JetStream (fsync every write):
//
//   - commands: RegisterAsset over gRPC against the real assets service, at several client
//     counts, against pgbench appending the same rows to the same schema;
//   - relay: the outbox relay draining a full outbox, against async publish of the same
//     messages;
//   - projection: the ledger projection applying the same events, against a bare consumer
//     (fetch and ack) and a bare batch insert; and a rebuild of it;
//   - stocktake: one session of thousands of scans, against pgbench's serial append (and the
//     same session without the state cache);
//   - stock: stock issues on one hot item against pgbench's serial append (and the same without
//     the state cache, each issue reading the item's whole history), and over many items
//     against pgbench at as many connections as clients.
//
// A ratio of Houqin to the raw limit says what the platform costs on top of the machine, which
// a bare rate cannot: it travels between machines. `make bench` runs cmd/loadgen on it.
package bench

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"
)

// Phases a run can include, in the order they run.
const (
	PhaseCommands   = "commands"
	PhaseRelay      = "relay"
	PhaseProjection = "projection"
	PhaseLedger     = "ledger"
	PhaseStocktake  = "stocktake"
	PhaseStock      = "stock"
)

// AllPhases lists every phase in run order.
var AllPhases = []string{PhaseCommands, PhaseRelay, PhaseProjection, PhaseLedger, PhaseStocktake, PhaseStock}

// Config says what to measure.
type Config struct {
	// Duration of each timed point (commands and pgbench at one client count).
	Duration time.Duration
	// Warmup runs before each command point, unmeasured (pool connections, caches).
	Warmup time.Duration
	// Rounds splits each command point into alternating rounds of pgbench and the service;
	// the round with the median ratio is reported. On a machine whose speed drifts (a shared
	// VM's disk), one long pgbench run followed by one long service run compares two
	// different machines.
	Rounds int
	// Events is how many events the relay and projection measurements move.
	Events int
	// Clients are the concurrency levels of the command measurement.
	Clients []int
	// LedgerSchools × LedgerAssets registrations seed the read model the as-of ledger queries
	// read; LedgerQueries is how many of each query kind are timed.
	LedgerSchools, LedgerAssets, LedgerQueries int
	// StocktakeItems is the size of the measured stocktake session; StocktakeUncached the size
	// of the same session measured without the state cache (every scan reads the session).
	StocktakeItems, StocktakeUncached int
	// StockIssues is how many issues the hot stock item takes (the many items share as many);
	// StockUncached how many more it takes without the state cache.
	StockIssues, StockUncached int
	// Phases to run (default all).
	Phases []string
	// Log receives the services' logs.
	Log *slog.Logger
	// Progress receives one line per measured point.
	Progress io.Writer
}

type run struct {
	cfg Config
	env *env
	rep *Report
	c   *corpus
}

// Run measures and returns the report. On error the report holds what was measured so far.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if len(cfg.Phases) == 0 {
		cfg.Phases = AllPhases
	}
	rep := newReport(cfg)
	err := measure(ctx, cfg, rep)
	rep.FinishedAt = time.Now()
	if err != nil {
		rep.Error = err.Error()
	}
	return rep, err
}

func measure(ctx context.Context, cfg Config, rep *Report) error {
	r := &run{cfg: cfg, rep: rep}
	r.progress("准备事件 / preparing %d events", cfg.Events)
	var err error
	if r.c, err = newCorpus(max(cfg.Events, 1)); err != nil {
		return err
	}
	r.progress("启动 PostgreSQL 与 NATS / starting PostgreSQL and NATS")
	if r.env, err = startEnv(ctx, cfg.Log); err != nil {
		return err
	}
	defer r.env.close()
	for _, p := range []struct {
		name string
		run  func(context.Context) error
	}{{PhaseCommands, r.commands}, {PhaseRelay, r.relay}, {PhaseProjection, r.projection}, {PhaseLedger, r.ledger},
		{PhaseStocktake, r.stocktake}, {PhaseStock, r.stock}} {
		if !slices.Contains(cfg.Phases, p.name) {
			continue
		}
		if err := p.run(ctx); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	return nil
}

func (r *run) progress(format string, args ...any) {
	if r.cfg.Progress != nil {
		fmt.Fprintf(r.cfg.Progress, "· "+format+"\n", args...)
	}
}

// commands alternates pgbench and the service at each client count, so drift in the machine's
// load (other work on it) hits both sides of a ratio alike.
func (r *run) commands(ctx context.Context) error {
	raw, err := newRawAppend(ctx, r.env, r.c.events[0])
	if err != nil {
		return err
	}
	defer raw.close()
	svc, err := startCommands(ctx, r.env, r.cfg.Log)
	if err != nil {
		return err
	}
	defer svc.close()
	rounds := max(1, r.cfg.Rounds)
	for _, n := range r.cfg.Clients {
		type round struct {
			pg PgbenchResult
			p  CommandPoint
		}
		var got []round
		for i := range rounds {
			if err := svc.settle(ctx); err != nil {
				return err
			}
			pg, err := raw.run(ctx, n, r.cfg.Duration/time.Duration(rounds))
			if err != nil {
				return err
			}
			warm := time.Duration(0)
			if i == 0 {
				warm = r.cfg.Warmup
			}
			p, err := svc.measure(ctx, n, warm, r.cfg.Duration/time.Duration(rounds))
			if err != nil {
				return err
			}
			r.progress("%d 客户端 / clients, 第 %d 轮 / round %d: pgbench %s tps, RegisterAsset %s/s (p50 %.1f ms, p99 %.1f ms, %d errors)",
				n, i+1, i+1, thousands(pg.TPS), thousands(p.PerSec), p.P50Ms, p.P99Ms, p.Errors)
			got = append(got, round{pg, p})
		}
		slices.SortFunc(got, func(a, b round) int {
			return cmp.Compare(ratio(a.p.PerSec, a.pg.TPS), ratio(b.p.PerSec, b.pg.TPS))
		})
		median := got[len(got)/2]
		r.rep.addCommands(median.pg, median.p)
	}
	return nil
}

func (r *run) relay(ctx context.Context) error {
	relay, err := measureRelay(ctx, r.env, r.c, r.cfg.Log)
	if err != nil {
		return err
	}
	r.progress("relay: %s events/s", thousands(relay.PerSec))
	raw, err := measureRawPublish(ctx, r.env, r.c)
	if err != nil {
		return err
	}
	r.progress("raw async publish: %s events/s", thousands(raw.PerSec))
	r.rep.addRelay(relay, raw)
	return nil
}

func (r *run) projection(ctx context.Context) error {
	p, err := measureProjection(ctx, r.env, r.c, r.cfg.Log)
	if err != nil {
		return err
	}
	r.progress("projection %s, fetch+ack %s, batch insert %s, rebuild %s events/s", thousands(p.Projection.PerSec),
		thousands(p.RawFetch.PerSec), thousands(p.RawInsert.PerSec), thousands(p.Rebuild.PerSec))
	r.rep.addProjection(p)
	return nil
}

func (r *run) ledger(ctx context.Context) error {
	res, err := measureLedger(ctx, r.env, max(r.cfg.LedgerSchools, 1), max(r.cfg.LedgerAssets, 1), max(r.cfg.LedgerQueries, 1),
		r.cfg.Log, r.progress)
	if err != nil {
		return err
	}
	r.rep.addLedger(res)
	return nil
}

func (r *run) stocktake(ctx context.Context) error {
	res, err := measureStocktake(ctx, r.env, r.c, max(r.cfg.StocktakeItems, itemsPerRoom), max(r.cfg.StocktakeUncached, itemsPerRoom),
		r.cfg.Log, r.progress)
	if err != nil {
		return err
	}
	r.rep.addStocktake(res)
	return nil
}

func (r *run) stock(ctx context.Context) error {
	res, err := measureStock(ctx, r.env, r.c, max(r.cfg.StockIssues, 10), max(r.cfg.StockUncached, 10), r.cfg.Log, r.progress)
	if err != nil {
		return err
	}
	r.rep.addStock(res)
	return nil
}
