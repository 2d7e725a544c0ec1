package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"houqin.dev/platform/natsserver"
	"houqin.dev/platform/pgkit"
	"houqin.dev/platform/pgserver"
)

// env is what every measurement runs on: one durable PostgreSQL cluster and one JetStream
// server that fsyncs every write, both private to this run and removed afterwards. Baselines
// and Houqin share them, so a ratio compares code, not settings.
type env struct {
	dir  string
	pg   *pgserver.Server
	nats *server.Server
	log  *slog.Logger
}

func startEnv(ctx context.Context, log *slog.Logger) (e *env, err error) {
	dir, err := os.MkdirTemp("", "houqin-bench-")
	if err != nil {
		return nil, err
	}
	e = &env{dir: dir, log: log}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	e.pg, err = pgserver.Start(ctx, pgserver.Options{Dir: filepath.Join(dir, "postgres"), Durable: true})
	if err != nil {
		return e, err
	}
	e.nats, err = natsserver.Start(natsserver.Options{StoreDir: filepath.Join(dir, "nats"), SyncAlways: true})
	if err != nil {
		return e, err
	}
	return e, nil
}

// close stops the servers and removes their files. It is safe on a half-started env.
func (e *env) close() {
	if e.nats != nil {
		e.nats.Shutdown()
		e.nats.WaitForShutdown()
	}
	if e.pg != nil {
		if err := e.pg.Stop(); err != nil {
			e.log.Warn("postgres stop", "err", err)
		}
	}
	_ = os.RemoveAll(e.dir)
}

// database creates db and opens a pool of conns connections on it.
func (e *env) database(ctx context.Context, db string, conns int32) (*pgxpool.Pool, error) {
	if err := e.pg.CreateDatabase(ctx, db); err != nil {
		return nil, fmt.Errorf("bench: create database %s: %w", db, err)
	}
	return pgkit.Open(ctx, e.pg.URL(db), conns)
}

// connect opens a NATS connection of its own: the relay, the projection and each baseline get
// one each, as separate processes would.
func (e *env) connect(name string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(e.nats.ClientURL(), nats.Name(name))
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// checkpoint flushes dirty pages so each measured point starts from the same state instead of
// paying for the previous point's checkpoint.
func checkpoint(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := pool.Exec(ctx, "CHECKPOINT")
	return err
}
