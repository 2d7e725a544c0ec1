package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"houqin.dev/platform/bus"
	"houqin.dev/platform/logging"
	"houqin.dev/platform/projection"
	"houqin.dev/platform/testkit"
	"houqin.dev/tools/internal/stack"
)

// rebuildEveryProjection rebuilds every read model of the registry `houqin rebuild` uses (the
// catalogs the services run), once each has caught up with its streams, and checks that the
// rebuilt tables equal the live ones row for row. It returns the projections that have rows.
func rebuildEveryProjection(t *testing.T, st *stack.Stack) map[string]bool {
	t.Helper()
	ctx := context.Background()
	nc, err := nats.Connect(st.NatsURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	had := map[string]bool{}
	for _, rm := range stack.ReadModels {
		pool, err := pgxpool.New(ctx, st.DatabaseURL(rm.Database))
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		for _, name := range rm.Catalog.Names() {
			caughtUp(t, pool, js, rm.Catalog, name)
			live := tables(t, pool, name)
			if _, err := rm.Catalog.Rebuild(ctx, pool, js, name, logging.Discard()); err != nil {
				t.Fatalf("rebuild %s/%s: %v", rm.Catalog.Owner, name, err)
			}
			if rebuilt := tables(t, pool, name); rebuilt != live {
				t.Errorf("%s/%s rebuilt differs from live:\nlive    %s\nrebuilt %s", rm.Catalog.Owner, name, live, rebuilt)
			}
			had[name] = !allEmpty(live)
		}
	}
	return had
}

// caughtUp waits until the live projection has applied every event of its streams.
func caughtUp(t *testing.T, pool *pgxpool.Pool, js jetstream.JetStream, c projection.Catalog, name string) {
	t.Helper()
	_, services := c.Find(name)
	testkit.Eventually(t, 60*time.Second, 50*time.Millisecond, func() (bool, string) {
		for _, svc := range services {
			s, err := js.Stream(context.Background(), bus.StreamName(svc))
			if err != nil {
				return false, err.Error()
			}
			info, err := s.Info(context.Background())
			if err != nil {
				return false, err.Error()
			}
			cp, err := projection.Checkpoint(context.Background(), pool, name, svc)
			if err != nil || cp < info.State.LastSeq {
				return false, fmt.Sprintf("%s at %d of %s's %d (%v)", name, cp, svc, info.State.LastSeq, err)
			}
		}
		return true, ""
	})
}

// tables describes the tables of schema: per table its row count and a digest of its rows.
func tables(t *testing.T, pool *pgxpool.Pool, schema string) string {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, schema)
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(names) == 0 {
		t.Fatalf("schema %s: tables %v, %v", schema, names, err)
	}
	var b strings.Builder
	for _, n := range names {
		var count int
		var digest string
		tbl := pgx.Identifier{schema, n}.Sanitize()
		if err := pool.QueryRow(ctx, `SELECT count(*), coalesce(md5(string_agg(t::text, E'\n' ORDER BY t::text)), '') FROM `+tbl+` t`).
			Scan(&count, &digest); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s: %d rows %.8s; ", n, count, digest)
	}
	return b.String()
}

// allEmpty says every table in a tables description has 0 rows.
func allEmpty(desc string) bool {
	for _, part := range strings.Split(strings.TrimSuffix(desc, "; "), "; ") {
		if !strings.Contains(part, ": 0 rows") {
			return false
		}
	}
	return true
}
