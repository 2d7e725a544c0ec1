// Package service wires the assets service: database, event store, relay, gRPC server. The
// binary (cmd/assets) and `houqin dev` both start it through New and Run.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"

	"houqin.dev/assets/app"
	"houqin.dev/assets/ports"
	"houqin.dev/platform/bus"
	"houqin.dev/platform/eventstore"
	"houqin.dev/platform/grpckit"
	"houqin.dev/platform/outbox"
	"houqin.dev/platform/pgkit"
	"houqin.dev/platform/runtime"
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
	// Relay hooks for crash tests; not configurable.
	Relay outbox.Options `conf:"-"`
}

// Service is a running assets service.
type Service struct {
	cfg    Config
	log    *slog.Logger
	pool   *pgxpool.Pool
	nc     *nats.Conn
	store  *eventstore.Store
	relay  *outbox.Relay
	server *runtime.Server
}

// New connects, migrates and prepares the service; Run serves it.
func New(ctx context.Context, cfg Config, deps runtime.Deps) (*Service, error) {
	log := deps.Log
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, fmt.Errorf("assets: timezone: %w", err)
	}
	s := &Service{cfg: cfg, log: log}
	if s.pool, err = pgkit.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns); err != nil {
		return nil, err
	}
	if err := eventstore.Migrate(ctx, s.pool); err != nil {
		s.Close()
		return nil, err
	}
	if s.nc, err = runtime.ConnectNATS(cfg.NatsURL, "houqin-assets", log); err != nil {
		s.Close()
		return nil, err
	}
	js, err := jetstream.New(s.nc)
	if err != nil {
		s.Close()
		return nil, err
	}
	if _, err := bus.EnsureStream(ctx, js, Name, bus.StreamConfig{Replicas: cfg.StreamReplicas, Duplicates: cfg.DuplicateWindow}); err != nil {
		s.Close()
		return nil, err
	}
	s.store = eventstore.New(s.pool, Name)
	ropts := cfg.Relay
	if ropts.Batch == 0 {
		ropts.Batch = cfg.RelayBatch
	}
	if s.relay, err = outbox.New(s.pool, s.nc, Name, log, ropts); err != nil {
		s.Close()
		return nil, err
	}
	s.store.OnAppend(s.relay.Wake)
	if err := s.metrics(); err != nil {
		s.Close()
		return nil, err
	}

	a := app.New(s.store, app.Options{Retries: cfg.Retries, Location: loc})
	gs, hs := grpckit.NewServer(grpckit.Config{Log: log, Verifier: deps.Verifier})
	assetsv1.RegisterAssetsServiceServer(gs, ports.NewServer(a))
	lis, err := runtime.Listen(cfg.GRPCAddr)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.server = &runtime.Server{Log: log, GRPC: gs, Health: hs, Lis: lis, Metrics: deps.Metrics,
		Services: []string{assetsv1.AssetsService_ServiceDesc.ServiceName},
		Background: []func(context.Context) error{
			func(ctx context.Context) error { s.store.RunNotifier(ctx); return nil },
			s.relay.Run,
		},
		// Publish what the last calls committed before going away.
		Drain: func(ctx context.Context) error { _, err := s.relay.Drain(ctx); return err },
	}
	if cfg.AdminAddr != "" {
		if s.server.Admin, err = runtime.Listen(cfg.AdminAddr); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Addr is the gRPC address the service listens on.
func (s *Service) Addr() string { return s.server.Lis.Addr().String() }

// Store is the service's event store (tests, audit).
func (s *Service) Store() *eventstore.Store { return s.store }

// Run serves until ctx ends, then shuts down gracefully and closes the connections.
func (s *Service) Run(ctx context.Context) error {
	defer s.Close()
	return s.server.Run(ctx)
}

// Close releases the connections.
func (s *Service) Close() {
	if s.nc != nil {
		s.nc.Close()
	}
	if s.pool != nil {
		s.pool.Close()
	}
}

// metrics registers the outbox lag gauges.
func (s *Service) metrics() error {
	m := otel.Meter("houqin.dev/assets")
	pending, err := m.Int64ObservableGauge("houqin.outbox.pending", metric.WithDescription("events committed but not yet published"))
	if err != nil {
		return err
	}
	age, err := m.Float64ObservableGauge("houqin.outbox.oldest_age", metric.WithUnit("s"),
		metric.WithDescription("age of the oldest unpublished event"))
	if err != nil {
		return err
	}
	_, err = m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		n, oldest, err := outbox.Pending(ctx, s.pool)
		if err != nil {
			return err
		}
		attrs := metric.WithAttributes()
		o.ObserveInt64(pending, n, attrs)
		o.ObserveFloat64(age, oldest.Seconds(), attrs)
		return nil
	}, pending, age)
	return err
}
