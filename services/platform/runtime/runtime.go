// Package runtime holds what every Houqin process does the same way: connect to the bus, serve
// gRPC and the admin endpoints, run background loops, and shut down in order.
package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"houqin.dev/platform/auth"
)

// Deps are what a process hands each service it starts.
type Deps struct {
	Log      *slog.Logger
	Verifier *auth.Verifier
	// Metrics serves /metrics on the admin endpoint (nil: none).
	Metrics http.Handler
}

// ConnectNATS connects to url with reconnects forever: the relay and runners ride out a
// restarting server.
func ConnectNATS(url, name string, log *slog.Logger) (*nats.Conn, error) {
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(500*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) { log.Info("nats reconnected") }))
	if err != nil {
		return nil, fmt.Errorf("runtime: nats %s: %w", url, err)
	}
	return nc, nil
}

// Server is a gRPC server with its listener, health and optional admin endpoint.
type Server struct {
	Log    *slog.Logger
	GRPC   *grpc.Server
	Health *health.Server
	Lis    net.Listener
	// Admin serves /metrics, /healthz and /readyz when set.
	Admin    net.Listener
	Metrics  http.Handler
	Services []string // names marked SERVING in health
	// Background loops (relay, notifier, projection runners) run until shutdown.
	Background []func(ctx context.Context) error
	// Drain runs after the gRPC server stopped taking calls and before Background is
	// cancelled (flush the outbox).
	Drain func(ctx context.Context) error
	// ShutdownTimeout bounds the graceful stop (default 10 s).
	ShutdownTimeout time.Duration
}

// Listen opens a TCP listener ("127.0.0.1:0" picks a free port).
func Listen(addr string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("runtime: listen %s: %w", addr, err)
	}
	return l, nil
}

// Run serves until ctx ends, then stops: health goes NOT_SERVING, in-flight calls finish
// (up to ShutdownTimeout), Drain runs, background loops end.
func (s *Server) Run(ctx context.Context) error {
	if s.ShutdownTimeout <= 0 {
		s.ShutdownTimeout = 10 * time.Second
	}
	bgCtx, bgCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer bgCancel()
	g, gctx := errgroup.WithContext(bgCtx)
	for _, f := range s.Background {
		g.Go(func() error { return f(gctx) })
	}
	for _, name := range append([]string{""}, s.Services...) {
		s.Health.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.GRPC.Serve(s.Lis) }()
	var admin *http.Server
	if s.Admin != nil {
		admin = &http.Server{Handler: s.adminMux(), ReadHeaderTimeout: 5 * time.Second}
		go admin.Serve(s.Admin) //nolint:errcheck
	}
	s.Log.Info("serving", "grpc", s.Lis.Addr().String())

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	case <-gctx.Done():
		err = g.Wait()
	}
	s.Log.Info("shutting down")
	s.Health.Shutdown()
	stopped := make(chan struct{})
	go func() { s.GRPC.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(s.ShutdownTimeout):
		s.GRPC.Stop()
	}
	if s.Drain != nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.ShutdownTimeout)
		if derr := s.Drain(dctx); derr != nil {
			s.Log.Warn("drain on shutdown", "err", derr)
		}
		cancel()
	}
	bgCancel()
	if gerr := g.Wait(); gerr != nil && !errors.Is(gerr, context.Canceled) && err == nil {
		err = gerr
	}
	if admin != nil {
		_ = admin.Close()
	}
	return err
}

func (s *Server) adminMux() *http.ServeMux {
	mux := http.NewServeMux()
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		resp, err := s.Health.Check(r.Context(), &healthpb.HealthCheckRequest{})
		if err != nil || resp.Status != healthpb.HealthCheckResponse_SERVING {
			http.Error(w, "not serving", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// Go runs f in the background; the returned function cancels f's context, waits for f to
// return and gives its error (the same error on every call).
func Go(ctx context.Context, f func(context.Context) error) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
}
