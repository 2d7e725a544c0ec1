// Package stack starts the whole district on this host: a private PostgreSQL cluster, an
// embedded NATS JetStream server, the assets and procurement services, the projector and the gateway, all in
// one process. `houqin dev`, the end-to-end tests and the benchmarks use it.
package stack

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	assetssvc "houqin.dev/assets/service"
	gatewaysvc "houqin.dev/gateway/service"
	"houqin.dev/platform/auth"
	"houqin.dev/platform/grpckit"
	"houqin.dev/platform/natsserver"
	"houqin.dev/platform/outbox"
	"houqin.dev/platform/pgserver"
	"houqin.dev/platform/projection"
	"houqin.dev/platform/reactor"
	"houqin.dev/platform/runtime"
	procurementsvc "houqin.dev/procurement/service"
	projectorsvc "houqin.dev/projector/service"
)

// Options say where and how to run.
type Options struct {
	// DataDir keeps the cluster, the JetStream store and the dev signing key. A second run on
	// the same folder reuses them.
	DataDir string
	// Durable keeps fsync on in PostgreSQL and JetStream (dev, benchmarks); tests turn it off.
	Durable bool
	// DatabaseURL, when set, is an existing PostgreSQL server to use instead of a private one
	// (any database on it; the stack creates houqin_assets, houqin_procurement and houqin_projector
	// beside it).
	DatabaseURL string
	// NatsURL, when set, is an existing NATS server with JetStream to use instead of an
	// embedded one.
	NatsURL string
	// HTTPAddr of the gateway (default 127.0.0.1:0, a free port).
	HTTPAddr string
	// District id of tokens.
	District string
	Log      *slog.Logger
	// Metrics, when set, is served at the gateway's /metrics.
	Metrics http.Handler
	// Reactor tunes the process managers (tests shorten their backoff).
	Reactor reactor.Options
	// AssetsNow, when set, is the assets service's clock (tests play a term on a clock they
	// move by hand); RepairClock, when set, is how often its repair clock looks for missed
	// deadlines.
	AssetsNow   func() time.Time
	RepairClock time.Duration
}

// Stack is a running district.
type Stack struct {
	opts     Options
	PG       *pgserver.Server
	NATS     *server.Server
	natsURL  string
	dbURL    func(db string) string
	Signer   *auth.Signer
	Verifier *auth.Verifier

	mu          sync.Mutex
	assetsAddr  string
	procureAddr string
	reportsAddr string
	gateway     *gatewaysvc.Service
	Assets      *assetssvc.Service
	Procurement *procurementsvc.Service
	Projector   *projectorsvc.Service
	stops       []func() error
}

// databases are the service databases the stack creates.
var databases = []string{"houqin_assets", "houqin_procurement", "houqin_projector"}

// ReadModel is the read models one service keeps, and its database in the stack.
type ReadModel struct {
	Catalog  projection.Catalog
	Database string
}

// ReadModels are the read models of every service the stack runs: the very catalogs the
// services start their runners from, so `houqin rebuild` knows every projection there is.
var ReadModels = []ReadModel{
	{Catalog: projectorsvc.ReadModels, Database: "houqin_projector"},
	{Catalog: assetssvc.ReadModels, Database: "houqin_assets"},
	{Catalog: procurementsvc.ReadModels, Database: "houqin_procurement"},
}

// AssetsAddrFile, in the data folder, holds the gRPC address of the running assets service.
const AssetsAddrFile = "assets.addr"

// Issuer and audience of dev tokens.
const (
	Issuer   = "houqin-dev"
	Audience = "houqin"
)

// Start brings up PostgreSQL, NATS and the signing key. StartAll then starts the services.
func Start(ctx context.Context, o Options) (*Stack, error) {
	if o.Log == nil {
		return nil, errors.New("stack: Log is required")
	}
	if o.District == "" {
		o.District = "demo"
	}
	if o.HTTPAddr == "" {
		o.HTTPAddr = "127.0.0.1:0"
	}
	if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
		return nil, err
	}
	s := &Stack{opts: o}
	key, err := auth.LoadOrCreateKey(filepath.Join(o.DataDir, "dev-signing-key.pem"))
	if err != nil {
		return nil, err
	}
	s.Signer = auth.NewSigner(key, Issuer, Audience)
	if s.Verifier, err = auth.NewVerifier([]ed25519.PublicKey{s.Signer.Public()}, Issuer, Audience, o.District); err != nil {
		return nil, err
	}

	if o.DatabaseURL != "" {
		base, err := url.Parse(o.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("stack: database url: %w", err)
		}
		s.dbURL = func(db string) string { u := *base; u.Path = "/" + db; return u.String() }
		for _, db := range databases {
			if err := pgserver.EnsureDatabase(ctx, s.dbURL("postgres"), db); err != nil {
				return nil, err
			}
		}
	} else {
		s.PG, err = pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(o.DataDir, "postgres"), Durable: o.Durable})
		if err != nil {
			return nil, err
		}
		s.dbURL = s.PG.URL
		for _, db := range databases {
			if err := s.PG.CreateDatabase(ctx, db); err != nil {
				s.Close()
				return nil, err
			}
		}
	}

	if o.NatsURL != "" {
		s.natsURL = o.NatsURL
	} else {
		s.NATS, err = natsserver.Start(natsserver.Options{StoreDir: filepath.Join(o.DataDir, "nats"), SyncAlways: o.Durable})
		if err != nil {
			s.Close()
			return nil, err
		}
		s.natsURL = s.NATS.ClientURL()
	}
	return s, nil
}

// NatsURL is the NATS server the stack uses.
func (s *Stack) NatsURL() string { return s.natsURL }

// DatabaseURL is the URL of one of the stack's databases.
func (s *Stack) DatabaseURL(db string) string { return s.dbURL(db) }

// Token signs a dev token for role (in school, for school roles) valid for ttl.
func (s *Stack) Token(role auth.Role, school, name string, ttl time.Duration) (string, error) {
	id := auth.Identity{Subject: "dev-" + string(role), Name: name, Roles: []auth.Role{role}, District: s.opts.District}
	if !role.DistrictWide() {
		id.SchoolID = school
		id.Subject += "-" + school
	}
	return s.Signer.Sign(id, ttl)
}

func (s *Stack) deps() runtime.Deps { return runtime.Deps{Log: s.opts.Log, Verifier: s.Verifier} }

// AssetsConfig is the assets service's configuration on one host (the binary's defaults).
func AssetsConfig(grpcAddr, dbURL, natsURL string) assetssvc.Config {
	return assetssvc.Config{GRPCAddr: grpcAddr, DatabaseURL: dbURL, DBMaxConns: 32, NatsURL: natsURL,
		StreamReplicas: 1, DuplicateWindow: 2 * time.Minute, Timezone: "Asia/Shanghai", Retries: 3,
		RelayBatch: 1000, GroupCommit: 1}
}

// StartAssets starts the assets service (again, on the same address after a stop) with the
// given relay options. The returned function stops it and returns its Run error.
func (s *Stack) StartAssets(ctx context.Context, relay outbox.Options) (func() error, error) {
	s.mu.Lock()
	addr := s.assetsAddr
	s.mu.Unlock()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	cfg := AssetsConfig(addr, s.dbURL("houqin_assets"), s.natsURL)
	cfg.Relay = relay
	cfg.Now = s.opts.AssetsNow
	if s.opts.RepairClock > 0 {
		cfg.RepairClock = s.opts.RepairClock
	}
	svc, err := assetssvc.New(ctx, cfg, s.withLog("assets"))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.assetsAddr, s.Assets = svc.Addr(), svc
	s.mu.Unlock()
	// The CLI (houqin import) finds the running service here, as it finds PostgreSQL and NATS.
	if err := os.WriteFile(filepath.Join(s.opts.DataDir, AssetsAddrFile), []byte(svc.Addr()+"\n"), 0o644); err != nil {
		return nil, err
	}
	return runtime.Go(ctx, svc.Run), nil
}

// ProcurementConfig is the procurement service's configuration on one host (the binary's
// defaults).
func ProcurementConfig(grpcAddr, dbURL, natsURL string) procurementsvc.Config {
	return procurementsvc.Config{GRPCAddr: grpcAddr, DatabaseURL: dbURL, DBMaxConns: 16, NatsURL: natsURL,
		StreamReplicas: 1, DuplicateWindow: 2 * time.Minute, Timezone: "Asia/Shanghai", Retries: 3,
		RelayBatch: 1000, GroupCommit: 1}
}

// StartProcurement starts the procurement service (again, on the same address after a stop).
// The returned function stops it and returns its Run error.
func (s *Stack) StartProcurement(ctx context.Context, relay outbox.Options) (func() error, error) {
	s.mu.Lock()
	addr := s.procureAddr
	s.mu.Unlock()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	cfg := ProcurementConfig(addr, s.dbURL("houqin_procurement"), s.natsURL)
	cfg.Relay = relay
	// Its process manager calls the assets service with service tokens signed by the dev key.
	cfg.AssetsAddr = s.AssetsAddr()
	cfg.Credentials = &grpckit.ServiceCredentials{Signer: s.Signer, Service: procurementsvc.Name, District: s.opts.District, Insecure: true}
	cfg.Reactor = s.opts.Reactor
	svc, err := procurementsvc.New(ctx, cfg, s.withLog("procurement"))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.procureAddr, s.Procurement = svc.Addr(), svc
	s.mu.Unlock()
	return runtime.Go(ctx, svc.Run), nil
}

// StartProjector starts the projector with the given runner options.
func (s *Stack) StartProjector(ctx context.Context, runner projection.Options) (func() error, error) {
	s.mu.Lock()
	addr := s.reportsAddr
	s.mu.Unlock()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	svc, err := projectorsvc.New(ctx, projectorsvc.Config{GRPCAddr: addr, DatabaseURL: s.dbURL("houqin_projector"),
		DBMaxConns: 16, NatsURL: s.natsURL, Timezone: "Asia/Shanghai", Batch: 1000, AckWait: 30 * time.Second, Runner: runner},
		s.withLog("projector"))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.reportsAddr, s.Projector = svc.Addr(), svc
	s.mu.Unlock()
	return runtime.Go(ctx, svc.Run), nil
}

// StartGateway starts the gateway in front of the running services.
func (s *Stack) StartGateway(ctx context.Context) (func() error, error) {
	svc, err := gatewaysvc.New(gatewaysvc.Config{HTTPAddr: s.opts.HTTPAddr, AssetsAddr: s.assetsAddr, ReportsAddr: s.reportsAddr,
		ProcurementAddr: s.procureAddr},
		s.opts.Log.With("service", "gateway"), s.opts.Metrics)
	if err != nil {
		return nil, err
	}
	s.gateway = svc
	return runtime.Go(ctx, svc.Run), nil
}

// StartAll starts every service.
func (s *Stack) StartAll(ctx context.Context) error {
	for _, start := range []func(context.Context) (func() error, error){
		func(ctx context.Context) (func() error, error) { return s.StartAssets(ctx, outbox.Options{}) },
		func(ctx context.Context) (func() error, error) { return s.StartProcurement(ctx, outbox.Options{}) },
		func(ctx context.Context) (func() error, error) { return s.StartProjector(ctx, projection.Options{}) },
		s.StartGateway,
	} {
		stop, err := start(ctx)
		if err != nil {
			s.Close()
			return err
		}
		s.stops = append(s.stops, stop)
	}
	return nil
}

func (s *Stack) withLog(name string) runtime.Deps {
	d := s.deps()
	d.Log = s.opts.Log.With("service", name)
	return d
}

// URL is the gateway's base URL.
func (s *Stack) URL() string { return s.gateway.URL() }

// AssetsAddr, ProcurementAddr and ReportsAddr are the gRPC addresses.
func (s *Stack) AssetsAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.assetsAddr
}
func (s *Stack) ProcurementAddr() string { return s.procureAddr }
func (s *Stack) ReportsAddr() string     { return s.reportsAddr }

// Dial connects to a gRPC address of the stack.
func Dial(addr string) (*grpc.ClientConn, error) {
	return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
}

// Close stops the services, then NATS and PostgreSQL.
func (s *Stack) Close() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		if err := s.stops[i](); err != nil && !errors.Is(err, context.Canceled) {
			s.opts.Log.Warn("service stopped with error", "err", err)
		}
	}
	s.stops = nil
	if s.NATS != nil {
		s.NATS.Shutdown()
		s.NATS.WaitForShutdown()
	}
	if s.PG != nil {
		if err := s.PG.Stop(); err != nil {
			s.opts.Log.Warn("postgres stop", "err", err)
		}
	}
}
