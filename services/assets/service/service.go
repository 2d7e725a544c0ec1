// Package service wires the assets service: database, event store, relay, gRPC server. The
// binary (cmd/assets) and `houqin dev` both start it through New and Run.
package service

import (
	"context"
	"fmt"
	"sort"
	"time"

	"go.opentelemetry.io/otel"
	"google.golang.org/grpc"

	"houqin.dev/assets/app"
	"houqin.dev/assets/holdings"
	"houqin.dev/assets/ports"
	"houqin.dev/assets/readmodel"
	"houqin.dev/platform/eventstore"
	"houqin.dev/platform/outbox"
	"houqin.dev/platform/projection"
	"houqin.dev/platform/reactor"
	"houqin.dev/platform/runtime"
	"houqin.dev/platform/writeside"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

// Name is the service's name on the bus (subjects houqin.assets.…).
const Name = "assets"

// Config is the service's configuration: flags and HOUQIN_* variables (see cmd/assets --help).
type Config struct {
	GRPCAddr        string        `conf:"default:127.0.0.1:7101,help:gRPC listen address"`
	AdminAddr       string        `conf:"default:127.0.0.1:7191,help:HTTP address of /metrics /healthz /readyz (empty: off)"`
	DatabaseURL     string        `conf:"default:postgres://houqin@127.0.0.1:5432/houqin_assets?sslmode=disable,mask,help:PostgreSQL URL of the event store"`
	DBMaxConns      int32         `conf:"default:32,help:connection pool size"`
	NatsURL         string        `conf:"default:nats://127.0.0.1:4222,help:NATS server URL"`
	StreamReplicas  int           `conf:"default:1,help:JetStream replicas (3 in a cluster)"`
	DuplicateWindow time.Duration `conf:"default:2m,help:JetStream de-duplication window"`
	Timezone        string        `conf:"default:Asia/Shanghai,help:district time zone for business dates"`
	Retries         int           `conf:"default:3,help:retries of a command that lost a concurrency race"`
	RelayBatch      int           `conf:"default:1000,help:events per outbox publish batch"`
	GroupCommit     int           `conf:"default:1,help:committers that combine concurrent commands into one transaction (0: off)"`
	RepairClock     time.Duration `conf:"default:30s,help:how often the repair clock looks for missed repair deadlines"`
	CachedSessions  int           `conf:"default:64,help:stocktake sessions kept in memory so a scan reads only new events (negative: off)"`
	// Relay hooks for crash tests; not configurable.
	Relay outbox.Options `conf:"-"`
	// Reactor tunes the process managers (tests shorten the backoff).
	Reactor reactor.Options `conf:"-"`
	// WrapReaction, when set, wraps every process-manager handler (crash tests stop the
	// service inside one).
	WrapReaction func(reactor.Handler) reactor.Handler `conf:"-"`
	// Now is the service's clock (tests inject one; default time.Now).
	Now func() time.Time `conf:"-"`
}

// ReadModels are the service's own read models, over its own stream: it runs
// them, and `houqin rebuild` rebuilds them.
var ReadModels = projection.Catalog{Owner: Name, Subscriptions: []projection.Subscription{
	{Projection: holdings.Projection{}, Service: Name},
	{Projection: readmodel.Repairs{}, Service: Name},
}}

// Service is a running assets service.
type Service struct {
	runtime.Base
	store    *eventstore.Store
	writer   *writeside.Writer
	repairs  *app.Repairs
	holdings *projection.Runner
	reactors []*reactor.Reactor
}

// New connects, migrates and prepares the service; Run serves it.
func New(ctx context.Context, cfg Config, deps runtime.Deps) (*Service, error) {
	s := &Service{}
	if err := s.init(ctx, cfg, deps); err != nil {
		s.writer.Stop()
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Service) init(ctx context.Context, cfg Config, deps runtime.Deps) error {
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return fmt.Errorf("assets: timezone: %w", err)
	}
	if err := s.Open(ctx, deps, cfg.DatabaseURL, cfg.DBMaxConns, cfg.NatsURL, "houqin-assets"); err != nil {
		return err
	}
	if s.writer, err = writeside.Open(ctx, &s.Base, deps.Log, writeside.Options{Name: Name,
		StreamReplicas: cfg.StreamReplicas, DuplicateWindow: cfg.DuplicateWindow, GroupCommit: cfg.GroupCommit,
		RelayBatch: cfg.RelayBatch, Relay: cfg.Relay}); err != nil {
		return err
	}
	s.store = s.writer.Store
	// The service's own read models, from its own stream (one runner each, leader only).
	runners, err := ReadModels.Start(ctx, s.Pool, s.JS, deps.Log, projection.Options{})
	if err != nil {
		return err
	}
	for _, r := range runners {
		if r.Name() == (holdings.Projection{}).Name() {
			s.holdings = r
		}
	}
	a := app.New(s.store, app.Options{Retries: cfg.Retries, Location: loc, Now: cfg.Now})
	repairs := app.NewRepairs(a, s.store, readmodel.RepairQueries{Pool: s.Pool}, nil)
	s.repairs = repairs
	cached := cfg.CachedSessions
	if cached == 0 {
		cached = 64
	}
	stocktakes := app.NewStocktakes(a, s.store, app.StocktakeOptions{CachedSessions: cached})
	if err := s.Listen(deps, cfg.GRPCAddr, cfg.AdminAddr, func(gs *grpc.Server) {
		assetsv1.RegisterAssetsServiceServer(gs, ports.NewServer(a))
		s.registerCustody(gs, a)
		assetsv1.RegisterRepairsServiceServer(gs, ports.NewRepairsServer(repairs))
		assetsv1.RegisterLedgerServiceServer(gs, ports.NewLedgerServer(a))
		assetsv1.RegisterStocktakeServiceServer(gs, ports.NewStocktakeServer(stocktakes))
	}, append([]string{assetsv1.AssetsService_ServiceDesc.ServiceName, assetsv1.RepairsService_ServiceDesc.ServiceName,
		assetsv1.LedgerService_ServiceDesc.ServiceName, assetsv1.StocktakeService_ServiceDesc.ServiceName},
		custodyServices...)...); err != nil {
		return err
	}
	s.Server.Background = s.writer.Background()
	for _, r := range runners {
		s.Server.Background = append(s.Server.Background, r.Run)
	}
	every := cfg.RepairClock
	if every <= 0 {
		every = 30 * time.Second
	}
	s.Server.Background = append(s.Server.Background, func(ctx context.Context) error {
		return repairs.RunClock(ctx, every, deps.Log)
	})
	if err := s.initReactors(ctx, cfg, deps, a); err != nil {
		return err
	}
	// After the last call: stop combining appends, publish what was committed.
	s.Server.Drain = s.writer.Drain
	return nil
}

// initReactors starts the service's process managers (see ARCHITECTURE.md): an approved
// transfer between schools → the receiving school's registration. Refused reactions are parked
// in this database (houqin parked list --service assets).
func (s *Service) initReactors(ctx context.Context, cfg Config, deps runtime.Deps, a *app.App) error {
	if err := reactor.Migrate(ctx, s.Pool); err != nil {
		return err
	}
	ropt := cfg.Reactor
	ropt.Parking = reactor.NewParking(s.Pool)
	if err := reactor.ObserveParked(otel.Meter("houqin.dev/assets"), ropt.Parking); err != nil {
		return err
	}
	reactions := a.Reactions()
	names := make([]string, 0, len(reactions))
	for name := range reactions {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		handlers := reactions[name]
		if cfg.WrapReaction != nil {
			for t, h := range handlers {
				handlers[t] = cfg.WrapReaction(h)
			}
		}
		rc := reactor.New(s.JS, name, Name, handlers, deps.Log, ropt)
		s.reactors = append(s.reactors, rc)
		s.Server.Background = append(s.Server.Background, rc.Run)
	}
	return nil
}

// Reactors are the service's process managers (tests read their stats).
func (s *Service) Reactors() []*reactor.Reactor { return s.reactors }

// Repairs is the service's repair use cases (tests drive the repair clock through it).
func (s *Service) Repairs() *app.Repairs { return s.repairs }

// Store is the service's event store (tests, audit).
func (s *Service) Store() *eventstore.Store { return s.store }
