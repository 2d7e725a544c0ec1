// Package service wires the gateway: HTTP/JSON API and the dashboard, in front of the gRPC
// services.
package service

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"houqin.dev/gateway/httpapi"
	"houqin.dev/gateway/web"
	"houqin.dev/platform/grpckit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// Config is the gateway's configuration (see cmd/gateway --help).
type Config struct {
	HTTPAddr    string `conf:"default:127.0.0.1:8080,help:HTTP listen address of the API and dashboard"`
	AssetsAddr  string `conf:"default:127.0.0.1:7101,help:gRPC address of the assets service"`
	ReportsAddr string `conf:"default:127.0.0.1:7102,help:gRPC address of the projector (reports)"`
	// ProcurementAddr serves the procurement RPCs of the RPC route.
	ProcurementAddr string `conf:"default:127.0.0.1:7103,help:gRPC address of the procurement service"`
}

// Service is a running gateway.
type Service struct {
	log   *slog.Logger
	lis   net.Listener
	srv   *http.Server
	conns []*grpc.ClientConn
}

// New dials the services and prepares the HTTP server.
func New(cfg Config, log *slog.Logger, metrics http.Handler) (*Service, error) {
	s := &Service{log: log}
	dial := func(addr string) (*grpc.ClientConn, error) {
		c, err := grpc.NewClient(addr, append(grpckit.ClientOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
		if err == nil {
			s.conns = append(s.conns, c)
		}
		return c, err
	}
	ac, err := dial(cfg.AssetsAddr)
	if err != nil {
		return nil, err
	}
	rc, err := dial(cfg.ReportsAddr)
	if err != nil {
		s.Close()
		return nil, err
	}
	pc, err := dial(cfg.ProcurementAddr)
	if err != nil {
		s.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	(&httpapi.API{Assets: assetsv1.NewAssetsServiceClient(ac), Reports: reportsv1.NewReportsServiceClient(rc), Log: log,
		Backends: map[string]grpc.ClientConnInterface{"houqin.assets.v1": ac, "houqin.procurement.v1": pc, "houqin.reports.v1": rc}}).Register(mux)
	static := http.FileServerFS(web.Static())
	mux.Handle("GET /static/", http.StripPrefix("/static/", static))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, web.Static(), "index.html")
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	s.lis, err = net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.srv = &http.Server{Handler: otelhttp.NewHandler(secure(mux), "gateway"), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second}
	return s, nil
}

// secure sets the headers every reply carries: no outside scripts or frames.
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// URL is the gateway's base URL.
func (s *Service) URL() string { return "http://" + s.lis.Addr().String() }

// Run serves until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	defer s.Close()
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.lis) }()
	s.log.Info("serving", "http", s.URL())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close closes the backend connections.
func (s *Service) Close() {
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.conns = nil
}
