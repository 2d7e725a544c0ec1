// Package service wires the procurement service: database, event store, relay, gRPC server. The
// binary (cmd/procurement) and `houqin dev` both start it through New and Run.
package service

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"houqin.dev/platform/eventstore"
	"houqin.dev/platform/grpckit"
	"houqin.dev/platform/outbox"
	"houqin.dev/platform/projection"
	"houqin.dev/platform/reactor"
	"houqin.dev/platform/runtime"
	"houqin.dev/platform/writeside"
	"houqin.dev/procurement/app"
	"houqin.dev/procurement/ports"
	"houqin.dev/procurement/readmodel"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

// Name is the service's name on the bus (subjects houqin.procurement.…, stream HOUQIN_PROCUREMENT).
const Name = "procurement"

// Config is the service's configuration: flags and HOUQIN_* variables (see cmd/procurement --help).
type Config struct {
	GRPCAddr         string        `conf:"default:127.0.0.1:7103,help:gRPC listen address"`
	AdminAddr        string        `conf:"default:127.0.0.1:7193,help:HTTP address of /metrics /healthz /readyz (empty: off)"`
	DatabaseURL      string        `conf:"default:postgres://houqin@127.0.0.1:5432/houqin_procurement?sslmode=disable,mask,help:PostgreSQL URL of the event store"`
	DBMaxConns       int32         `conf:"default:32,help:connection pool size"`
	NatsURL          string        `conf:"default:nats://127.0.0.1:4222,help:NATS server URL"`
	StreamReplicas   int           `conf:"default:1,help:JetStream replicas (3 in a cluster)"`
	DuplicateWindow  time.Duration `conf:"default:2m,help:JetStream de-duplication window"`
	Timezone         string        `conf:"default:Asia/Shanghai,help:district time zone for business dates"`
	Retries          int           `conf:"default:3,help:retries of a command that lost a concurrency race"`
	RelayBatch       int           `conf:"default:1000,help:events per outbox publish batch"`
	GroupCommit      int           `conf:"default:1,help:committers that combine concurrent commands into one transaction (0: off)"`
	CachedStockItems int           `conf:"default:4096,help:stock items whose folded state is kept in memory so a command reads only the item's new events (negative: off)"`
	AssetsAddr       string        `conf:"help:gRPC address of the assets service: accepted fixed-asset lines are registered there (empty: they wait on the stream)"`
	ServiceKey       string        `conf:"mask,help:PEM file of this service's Ed25519 private key; it signs the short-lived service tokens of its calls to other services (the assets service must trust its public key)"`
	CommitmentSweep  time.Duration `conf:"default:1m,help:how often the commitment sweeper looks for budget commitments whose order was never placed (released after the policy's grace period, default 1h)"`
	// Now is the service's clock (tests inject one; default time.Now).
	Now func() time.Time `conf:"-"`
	// App hooks for crash tests; not configurable.
	AppHooks app.Hooks `conf:"-"`
	// Relay hooks for crash tests; not configurable.
	Relay outbox.Options `conf:"-"`
	// Credentials of calls to other services; cmd/procurement builds them from ServiceKey,
	// houqin dev from its signing key.
	Credentials *grpckit.ServiceCredentials `conf:"-"`
	// Reactor tunes the process managers (tests shorten the backoff).
	Reactor reactor.Options `conf:"-"`
}

// ReadModels are the service's own read models, over its own stream: it runs them, and
// `houqin rebuild` rebuilds them.
var ReadModels = projection.Catalog{Owner: Name, Subscriptions: []projection.Subscription{
	{Projection: readmodel.Commitments{}, Service: Name},
}}

// Service is a running procurement service.
type Service struct {
	runtime.Base
	store    *eventstore.Store
	writer   *writeside.Writer
	assets   *grpc.ClientConn
	reactors []*reactor.Reactor
	app      *app.App
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
		return fmt.Errorf("procurement: timezone: %w", err)
	}
	if err := s.Open(ctx, deps, cfg.DatabaseURL, cfg.DBMaxConns, cfg.NatsURL, "houqin-procurement"); err != nil {
		return err
	}
	if s.writer, err = writeside.Open(ctx, &s.Base, deps.Log, writeside.Options{Name: Name,
		StreamReplicas: cfg.StreamReplicas, DuplicateWindow: cfg.DuplicateWindow, GroupCommit: cfg.GroupCommit,
		RelayBatch: cfg.RelayBatch, Relay: cfg.Relay}); err != nil {
		return err
	}
	s.store = s.writer.Store
	if err := reactor.Migrate(ctx, s.Pool); err != nil {
		return err
	}
	if err := projection.Migrate(ctx, s.Pool); err != nil {
		return err
	}
	a := app.New(s.store, app.Options{Retries: cfg.Retries, Location: loc, CachedStockItems: cfg.CachedStockItems, Now: cfg.Now,
		Hooks: cfg.AppHooks})
	s.app = a
	if err := s.Listen(deps, cfg.GRPCAddr, cfg.AdminAddr, func(gs *grpc.Server) {
		procurementv1.RegisterProcurementServiceServer(gs, ports.NewServer(a))
		procurementv1.RegisterStockServiceServer(gs, ports.NewStockServer(a))
		procurementv1.RegisterFeesServiceServer(gs, ports.NewFeesServer(a))
		procurementv1.RegisterFulfilmentServiceServer(gs, ports.NewFulfilmentServer(a))
	}, procurementv1.ProcurementService_ServiceDesc.ServiceName, procurementv1.StockService_ServiceDesc.ServiceName,
		procurementv1.FeesService_ServiceDesc.ServiceName, procurementv1.FulfilmentService_ServiceDesc.ServiceName); err != nil {
		return err
	}
	s.Server.Background = s.writer.Background()
	// The service's own read models (one runner each, leader only) and the commitment
	// sweeper that reads them (in every instance; its request ids keep it single).
	runners, err := ReadModels.Start(ctx, s.Pool, s.JS, deps.Log, projection.Options{})
	if err != nil {
		return err
	}
	for _, r := range runners {
		s.Server.Background = append(s.Server.Background, r.Run)
	}
	every := cfg.CommitmentSweep
	if every <= 0 {
		every = time.Minute
	}
	s.Server.Background = append(s.Server.Background, func(ctx context.Context) error {
		return a.RunCommitmentSweeper(ctx, s.Commitments(), every, deps.Log)
	})
	// Process managers (see ARCHITECTURE.md): accepted fixed-asset lines → assets, other
	// accepted lines → stock, and assets registered from lines → the lines' orders.
	var assets app.AssetRegistrar
	if cfg.AssetsAddr != "" {
		if cfg.Credentials == nil {
			return fmt.Errorf("procurement: --assets-addr needs --service-key to sign its calls")
		}
		opts := append(grpckit.ClientOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithPerRPCCredentials(cfg.Credentials))
		if s.assets, err = grpc.NewClient(cfg.AssetsAddr, opts...); err != nil {
			return fmt.Errorf("procurement: assets client: %w", err)
		}
		assets = assetsv1.NewAssetsServiceClient(s.assets)
	} else {
		deps.Log.Warn("no assets service configured: accepted fixed-asset lines are not registered")
	}
	// Refused reactions are parked in this database (houqin parked list / retry).
	ropt := cfg.Reactor
	ropt.Parking = reactor.NewParking(s.Pool)
	if err := reactor.ObserveParked(otel.Meter("houqin.dev/procurement"), ropt.Parking); err != nil {
		return err
	}
	for _, r := range a.Reactions(assets) {
		rc := reactor.New(s.JS, r.Name, r.Service, r.Handlers, deps.Log, ropt)
		s.reactors = append(s.reactors, rc)
		s.Server.Background = append(s.Server.Background, rc.Run)
	}
	// After the last call: stop combining appends, publish what was committed.
	s.Server.Drain = s.writer.Drain
	return nil
}

// Close releases the connections.
func (s *Service) Close() {
	if s.assets != nil {
		s.assets.Close()
	}
	s.Base.Close()
}

// Run serves until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	defer s.Close()
	return s.Server.Run(ctx)
}

// Reactors are the service's process managers (tests read their stats).
func (s *Service) Reactors() []*reactor.Reactor { return s.reactors }

// App is the service's application layer (tests drive the commitment sweeper through it).
func (s *Service) App() *app.App { return s.app }

// Commitments reads the service's commitments read model.
func (s *Service) Commitments() readmodel.CommitmentQueries {
	return readmodel.CommitmentQueries{Pool: s.Pool}
}

// Store is the service's event store (tests, audit).
func (s *Service) Store() *eventstore.Store { return s.store }
