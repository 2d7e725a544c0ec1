// Package testkit starts the real parts tests need: a private PostgreSQL cluster (one per test
// binary, a fresh database per test) and embedded NATS JetStream servers on random ports, all
// cleaned up afterwards. No mocks of the store or the bus.
package testkit

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"houqin.dev/platform/natsserver"
	"houqin.dev/platform/pgserver"
)

var (
	pgOnce sync.Once
	pgSrv  *pgserver.Server
	pgDir  string
	pgErr  error
	dbSeq  atomic.Int64
)

// Main runs a package's tests and stops what they started. Use it as TestMain:
//
//	func TestMain(m *testing.M) { testkit.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if pgSrv != nil {
		_ = pgSrv.Stop()
		_ = os.RemoveAll(pgDir)
	}
	os.Exit(code)
}

// Server returns the package's PostgreSQL server, starting it on first use.
func Server(t testing.TB) *pgserver.Server {
	t.Helper()
	pgOnce.Do(func() {
		pgDir, pgErr = os.MkdirTemp("", "houqin-testpg-")
		if pgErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		pgSrv, pgErr = pgserver.Start(ctx, pgserver.Options{Dir: pgDir})
	})
	if pgErr != nil {
		t.Fatalf("testkit: postgres: %v", pgErr)
	}
	return pgSrv
}

// DatabaseURL creates a fresh database for the calling test and returns its URL.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	srv := Server(t)
	name := fmt.Sprintf("t%d_%s", dbSeq.Add(1), sanitize(t.Name()))
	if len(name) > 60 {
		name = name[:60]
	}
	ctx := context.Background()
	if err := srv.CreateDatabase(ctx, name); err != nil {
		t.Fatalf("testkit: create database: %v", err)
	}
	return srv.URL(name)
}

// Pool creates a fresh database and returns a pool on it, closed when the test ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return PoolFor(t, DatabaseURL(t))
}

// PoolFor opens a pool on url, closed when the test ends.
func PoolFor(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatalf("testkit: pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// NATS starts an embedded JetStream server for the calling test, shut down when it ends.
func NATS(t testing.TB) *server.Server {
	t.Helper()
	ns, err := natsserver.Start(natsserver.Options{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatalf("testkit: nats: %v", err)
	}
	t.Cleanup(ns.Shutdown)
	return ns
}

// JetStream connects to ns and returns the connection and a JetStream context.
func JetStream(t testing.TB, ns *server.Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatalf("testkit: nats connect: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("testkit: jetstream: %v", err)
	}
	return nc, js
}

// Eventually polls cond every step until it holds or total passes, then fails the test with
// the last message cond returned. Use it instead of sleeping.
func Eventually(t testing.TB, total, step time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testkit: condition not met after %v: %s", total, msg)
		}
		time.Sleep(step)
	}
}

// Clock is a service clock a test moves by hand (inject its Now as the service's clock).
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
