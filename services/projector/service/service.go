// Package service wires the projector: it runs every projection over the service streams it
// needs and serves ReportsService from the read models.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"

	"houqin.dev/platform/projection"
	"houqin.dev/platform/runtime"
	"houqin.dev/projector/custody"
	"houqin.dev/projector/eventlog"
	"houqin.dev/projector/ledger"
	"houqin.dev/projector/loans"
	"houqin.dev/projector/ports"
	"houqin.dev/projector/procurement"
	"houqin.dev/projector/repairs"
	"houqin.dev/projector/stocktakes"
	"houqin.dev/projector/writeoffs"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// Config is the projector's configuration (see cmd/projector --help).
type Config struct {
	GRPCAddr    string        `conf:"default:127.0.0.1:7102,help:gRPC listen address"`
	AdminAddr   string        `conf:"default:127.0.0.1:7192,help:HTTP address of /metrics /healthz /readyz (empty: off)"`
	DatabaseURL string        `conf:"default:postgres://houqin@127.0.0.1:5432/houqin_projector?sslmode=disable,mask,help:PostgreSQL URL of the read models"`
	DBMaxConns  int32         `conf:"default:16,help:connection pool size"`
	NatsURL     string        `conf:"default:nats://127.0.0.1:4222,help:NATS server URL"`
	Timezone    string        `conf:"default:Asia/Shanghai,help:district time zone for as-of dates"`
	Batch       int           `conf:"default:1000,help:events applied per transaction"`
	AckWait     time.Duration `conf:"default:30s,help:JetStream redelivery delay for unacknowledged events"`
	// Runner hooks for crash tests; not configurable.
	Runner projection.Options `conf:"-"`
}

// Name of the service.
const Name = "projector"

// ReadModels lists what the projector builds, from which streams: it runs them, and `houqin
// rebuild` rebuilds them.
var ReadModels = projection.Catalog{Owner: Name, Subscriptions: []projection.Subscription{
	{Projection: ledger.Projection{}, Service: "assets"},
	{Projection: eventlog.Projection{}, Service: "assets"},
	{Projection: procurement.Projection{}, Service: "procurement"},
	{Projection: eventlog.Projection{}, Service: "procurement"},
	{Projection: repairs.Projection{}, Service: "assets"},
	{Projection: loans.Projection{}, Service: "assets"},
	{Projection: custody.Projection{}, Service: "assets"},
	{Projection: writeoffs.Projection{}, Service: "assets"},
	{Projection: stocktakes.Projection{}, Service: "assets"},
}}

// Service is a running projector.
type Service struct {
	runtime.Base
	log     *slog.Logger
	runners []*projection.Runner
}

// New connects, migrates and prepares the projector.
func New(ctx context.Context, cfg Config, deps runtime.Deps) (*Service, error) {
	s := &Service{log: deps.Log}
	if err := s.init(ctx, cfg, deps); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Service) init(ctx context.Context, cfg Config, deps runtime.Deps) error {
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return fmt.Errorf("projector: timezone: %w", err)
	}
	if err := s.Open(ctx, deps, cfg.DatabaseURL, cfg.DBMaxConns, cfg.NatsURL, "houqin-projector"); err != nil {
		return err
	}
	opts := cfg.Runner
	if opts.Batch == 0 {
		opts.Batch = cfg.Batch
	}
	if opts.AckWait == 0 {
		opts.AckWait = cfg.AckWait
	}
	// Tables exist before the first query, even while the stream is still empty.
	if s.runners, err = ReadModels.Start(ctx, s.Pool, s.JS, deps.Log, opts); err != nil {
		return err
	}
	var bg []func(context.Context) error
	for _, r := range s.runners {
		bg = append(bg, r.Run)
	}
	if err := s.metrics(); err != nil {
		return err
	}
	reports := &ports.Server{Ledger: ledger.Reader{Pool: s.Pool}, Events: eventlog.Reader{Pool: s.Pool},
		Repairs: repairs.Reader{Pool: s.Pool}, Loans: loans.Reader{Pool: s.Pool},
		Custody: custody.Reader{Pool: s.Pool}, Loc: loc, Now: time.Now}
	reports.Procurement = procurement.Reader{Pool: s.Pool}
	reports.WriteOffs = writeoffs.Reader{Pool: s.Pool}
	reports.Stocktakes = stocktakes.Reader{Pool: s.Pool}
	if err := s.Listen(deps, cfg.GRPCAddr, cfg.AdminAddr, func(gs *grpc.Server) {
		reportsv1.RegisterReportsServiceServer(gs, reports)
	}, reportsv1.ReportsService_ServiceDesc.ServiceName); err != nil {
		return err
	}
	s.Server.Background = bg
	return nil
}

// Runners are the projection runners (tests, stats).
func (s *Service) Runners() []*projection.Runner { return s.runners }

// Rebuild replays every subscription of the projection named name into fresh tables and
// swaps them in.
func (s *Service) Rebuild(ctx context.Context, name string) (projection.RebuildResult, error) {
	return ReadModels.Rebuild(ctx, s.Pool, s.JS, name, s.log)
}

// metrics registers the projection lag gauge: events in a stream not yet applied.
func (s *Service) metrics() error {
	m := otel.Meter("houqin.dev/projector")
	lag, err := m.Int64ObservableGauge("houqin.projection.lag", metric.WithDescription("events published but not yet applied to a projection"))
	if err != nil {
		return err
	}
	_, err = m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		for _, r := range s.runners {
			n, err := r.Lag(ctx)
			if err != nil {
				continue // the stream may not exist yet
			}
			o.ObserveInt64(lag, int64(n), metric.WithAttributes(attribute.String("projection", r.Name()), attribute.String("stream", r.Service())))
		}
		return nil
	}, lag)
	return err
}
