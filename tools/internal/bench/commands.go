package bench

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"houqin.dev/tools/internal/stack"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	assetssvc "houqin.dev/assets/service"
	"houqin.dev/platform/auth"
	"houqin.dev/platform/runtime"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
	"houqin.dev/tools/internal/demo"
)

// commands drives the real assets service — gRPC, JWT check, authorisation, decider, event
// store append, with its relay publishing meanwhile — as logistics directors registering
// assets would.
type commands struct {
	stop      func() error
	pool      *pgxpool.Pool // our own pool on the service's database: outbox checks, CHECKPOINT
	conns     []*grpc.ClientConn
	clients   []assetsv1.AssetsServiceClient
	director  string // token of the school's logistics director (总务主任)
	school    demo.School
	templates []*assetsv1.RegisterAssetRequest
	run       string // makes this run's tags and request ids unique
	seq       atomic.Int64
}

// The issuer, audience and district of this run's tokens.
const (
	benchIssuer   = "houqin-bench"
	benchAudience = "houqin"
	benchDistrict = "bench"
)

const (
	assetsDB = "houqin_assets"
	// clientConns is how many gRPC connections the load goroutines share, as a few gateway
	// replicas would.
	clientConns = 4
)

func startCommands(ctx context.Context, e *env, log *slog.Logger) (c *commands, err error) {
	signer, verifier, err := benchAuth()
	if err != nil {
		return nil, err
	}
	c = &commands{school: demo.Schools[0], templates: demo.Assets(demo.Schools[0]), run: randomHex(3)}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	if c.pool, err = e.database(ctx, assetsDB, 2); err != nil {
		return c, err
	}
	// The same settings stack.StartAssets gives the service under `houqin dev`.
	cfg := stack.AssetsConfig("127.0.0.1:0", e.pg.URL(assetsDB), e.nats.ClientURL())
	svc, err := assetssvc.New(ctx, cfg, runtime.Deps{Log: log.With("bench", "assets"), Verifier: verifier})
	if err != nil {
		return c, err
	}
	c.stop = runtime.Go(ctx, svc.Run)
	if err := c.dial(svc.Addr(), signer); err != nil {
		return c, err
	}
	return c, c.registerSchool(ctx, signer)
}

// benchAuth makes a fresh signing key for this run and the verifier that accepts it.
func benchAuth() (*auth.Signer, *auth.Verifier, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	signer := auth.NewSigner(priv, benchIssuer, benchAudience)
	verifier, err := auth.NewVerifier([]ed25519.PublicKey{signer.Public()}, benchIssuer, benchAudience, benchDistrict)
	return signer, verifier, err
}

func (c *commands) dial(addr string, signer *auth.Signer) error {
	var err error
	c.director, err = signer.Sign(auth.Identity{Subject: "bench-logistics_director-" + c.school.ID, Name: "总务主任",
		Roles: []auth.Role{auth.RoleLogisticsDirector}, SchoolID: c.school.ID, District: benchDistrict}, 24*time.Hour)
	if err != nil {
		return err
	}
	for range clientConns {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		c.conns = append(c.conns, conn)
		c.clients = append(c.clients, assetsv1.NewAssetsServiceClient(conn))
	}
	return nil
}

func (c *commands) registerSchool(ctx context.Context, signer *auth.Signer) error {
	tok, err := signer.Sign(auth.Identity{Subject: "bench-bureau-admin", Name: "教育局装备科",
		Roles: []auth.Role{auth.RoleBureauAdmin}, District: benchDistrict}, time.Hour)
	if err != nil {
		return err
	}
	_, err = c.clients[0].RegisterSchool(bearer(ctx, tok), &assetsv1.RegisterSchoolRequest{RequestId: "bench-school-" + c.run,
		SchoolId: c.school.ID, Name: c.school.Name, Kind: c.school.Kind, Boarding: c.school.Boarding})
	if err != nil {
		return fmt.Errorf("bench: register school: %w", err)
	}
	return nil
}

// bearer returns ctx carrying token for every call made with it.
func bearer(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

func (c *commands) close() {
	for _, conn := range c.conns {
		conn.Close()
	}
	if c.stop != nil {
		_ = c.stop()
	}
	if c.pool != nil {
		c.pool.Close()
	}
}

// CommandPoint is one measured concurrency level.
type CommandPoint struct {
	Clients    int     `json:"clients"`
	Calls      int     `json:"calls"`
	Errors     int64   `json:"errors"`
	Seconds    float64 `json:"seconds"`
	PerSec     float64 `json:"per_sec"`
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	FirstError string  `json:"first_error,omitempty"`
}

// measure warms up at the given concurrency (connections, pools, caches), then drives load for
// d and reports successful commands only.
func (c *commands) measure(ctx context.Context, clients int, warm, d time.Duration) (CommandPoint, error) {
	if warm > 0 {
		c.drive(ctx, clients, warm)
	}
	if err := c.settle(ctx); err != nil {
		return CommandPoint{}, err
	}
	l := c.drive(ctx, clients, d)
	if err := ctx.Err(); err != nil {
		return CommandPoint{}, err
	}
	p := CommandPoint{Clients: clients, Calls: len(l.lat), Errors: l.errors, Seconds: l.elapsed.Seconds()}
	if l.first != nil {
		p.FirstError = l.first.Error()
	}
	if len(l.lat) == 0 {
		return p, fmt.Errorf("bench: no RegisterAsset succeeded with %d clients: %v", clients, l.first)
	}
	p.PerSec = float64(len(l.lat)) / l.elapsed.Seconds()
	slices.Sort(l.lat)
	p.P50Ms, p.P99Ms = percentileMs(l.lat, 0.50), percentileMs(l.lat, 0.99)
	return p, nil
}

// settle waits for the relay to publish what the previous load committed, then checkpoints,
// so the next point starts where a pgbench point starts: nothing pending.
func (c *commands) settle(ctx context.Context) error {
	if err := waitOutboxEmpty(ctx, c.pool, 2*time.Minute); err != nil {
		return err
	}
	return checkpoint(ctx, c.pool)
}

type load struct {
	lat     []time.Duration
	errors  int64
	first   error
	elapsed time.Duration
}

// drive runs clients goroutines issuing RegisterAsset back to back until d has passed.
func (c *commands) drive(ctx context.Context, clients int, d time.Duration) load {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		result load
	)
	start := time.Now()
	deadline := start.Add(d)
	for i := range clients {
		client := c.clients[i%len(c.clients)]
		wg.Go(func() {
			lat, n, first := c.worker(ctx, client, deadline)
			mu.Lock()
			defer mu.Unlock()
			result.lat = append(result.lat, lat...)
			result.errors += n
			if result.first == nil {
				result.first = first
			}
		})
	}
	wg.Wait()
	result.elapsed = time.Since(start)
	return result
}

func (c *commands) worker(ctx context.Context, client assetsv1.AssetsServiceClient, deadline time.Time) ([]time.Duration, int64, error) {
	ctx = bearer(ctx, c.director)
	lat := make([]time.Duration, 0, 4096)
	var errs int64
	var first error
	for ctx.Err() == nil && time.Now().Before(deadline) {
		req := c.next()
		t0 := time.Now()
		_, err := client.RegisterAsset(ctx, req)
		if err != nil {
			if ctx.Err() == nil {
				errs++
				if first == nil {
					first = err
				}
			}
			continue
		}
		lat = append(lat, time.Since(t0))
	}
	return lat, errs, first
}

// next is a fresh registration from the demo catalogue with a new tag and request id.
func (c *commands) next() *assetsv1.RegisterAssetRequest {
	n := c.seq.Add(1)
	req := proto.Clone(c.templates[int(n)%len(c.templates)]).(*assetsv1.RegisterAssetRequest)
	req.RequestId = fmt.Sprintf("bench-%s-%09d", c.run, n)
	req.Tag = fmt.Sprintf("BZ-%s-%09d", c.run, n)
	return req
}

// waitOutboxEmpty polls until the outbox of pool's event store is empty.
func waitOutboxEmpty(ctx context.Context, pool *pgxpool.Pool, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		var pending bool
		if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM outbox)`).Scan(&pending); err != nil {
			return err
		}
		if !pending {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("bench: outbox still not empty after " + limit.String())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// percentileMs returns the q-quantile of sorted latencies in milliseconds (nearest rank).
func percentileMs(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	i = min(max(i, 0), len(sorted)-1)
	return float64(sorted[i].Microseconds()) / 1000
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
