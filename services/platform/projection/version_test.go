package projection_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"houqin.dev/platform/event"
	"houqin.dev/platform/projection"
	"houqin.dev/platform/testkit"
)

// stamped writes, with each event, the version of the Apply that wrote it: a rebuild with a
// newer version shows in every row.
type stamped struct{ version int }

func (stamped) Name() string { return "stamped" }

func (s stamped) Version() int { return s.version }

func (stamped) Setup(ctx context.Context, tx pgx.Tx, schema string) error {
	_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+pgx.Identifier{schema, "applied"}.Sanitize()+
		` (event_id uuid PRIMARY KEY, written_by integer NOT NULL)`)
	return err
}

func (s stamped) Apply(ctx context.Context, tx pgx.Tx, schema string, events []event.Event) error {
	for _, e := range events {
		if _, err := tx.Exec(ctx, `INSERT INTO `+pgx.Identifier{schema, "applied"}.Sanitize()+
			` (event_id, written_by) VALUES ($1, $2) ON CONFLICT DO NOTHING`, e.ID, s.version); err != nil {
			return err
		}
	}
	return nil
}

// runVersion starts the catalog's runner of stamped at version v, waits until it has applied
// the stream (all rows written by Apply version v, plus the marker row if one is expected) and
// stops it. A version is recorded by then: the runner checks it before it consumes.
func (f *fixture) runVersion(t *testing.T, v, writtenByV int, marker bool) projection.Stats {
	t.Helper()
	ctx := context.Background()
	c := projection.Catalog{Owner: "test", Subscriptions: []projection.Subscription{{Projection: stamped{v}, Service: "assets"}}}
	runners, err := c.Start(ctx, f.pool, f.js, quiet, projection.Options{Batch: 50})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(runners[0])
	testkit.Eventually(t, 30*time.Second, 20*time.Millisecond, func() (bool, string) {
		var byV, markers, all int
		if err := f.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE written_by=$1), count(*) FILTER (WHERE written_by=0), count(*)
			FROM stamped.applied`, v).Scan(&byV, &markers, &all); err != nil {
			return false, err.Error()
		}
		if rec, err := projection.Version(ctx, f.pool, "stamped"); err != nil || rec == 0 {
			return false, fmt.Sprintf("no version recorded yet (%v)", err)
		}
		wantMarkers := 0
		if marker {
			wantMarkers = 1
		}
		return byV == writtenByV && markers == wantMarkers && all == f.n+wantMarkers,
			fmt.Sprintf("%d rows by version %d, %d markers, %d rows; want %d by version %d of %d events, %d markers", byV, v, markers, all, writtenByV, v, f.n, wantMarkers)
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	return runners[0].Stats()
}

// mark puts a row no Apply writes into the live table: a rebuild drops it, a restart keeps it.
func (f *fixture) mark(t *testing.T) {
	t.Helper()
	if _, err := f.pool.Exec(context.Background(), `INSERT INTO stamped.applied VALUES (gen_random_uuid(), 0)`); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) recordedVersion(t *testing.T, want int) {
	t.Helper()
	got, err := projection.Version(context.Background(), f.pool, "stamped")
	if err != nil || got != want {
		t.Fatalf("recorded version %d (%v), want %d", got, err, want)
	}
}

func TestVersionChangeRebuildsOnceFromTheStreams(t *testing.T) {
	f := setup(t)

	// A fresh install records its version and builds from the stream without a rebuild.
	f.publish(t, 300)
	if st := f.runVersion(t, 1, 300, false); st.Rebuilds != 0 || st.Applied != 300 {
		t.Fatalf("fresh start: %+v, want 300 applied and no rebuild", st)
	}
	f.recordedVersion(t, 1)

	// Version 2: the live rows (and the marker) are replaced by a replay with the new Apply.
	f.publish(t, 100)
	f.mark(t)
	if st := f.runVersion(t, 2, 400, false); st.Rebuilds != 1 {
		t.Fatalf("version 2: %+v, want one rebuild", st)
	}
	f.recordedVersion(t, 2)

	// Version 2 again: no rebuild, the marker stays, new events are applied as usual.
	f.publish(t, 50)
	f.mark(t)
	if st := f.runVersion(t, 2, 450, true); st.Rebuilds != 0 || st.Applied != 50 {
		t.Fatalf("version 2 again: %+v, want 50 applied and no rebuild", st)
	}

	// An older build (version 1) meeting tables of version 2 goes on as they are.
	f.publish(t, 10)
	if st := f.runVersion(t, 1, 10, true); st.Rebuilds != 0 {
		t.Fatalf("older build: %+v, want no rebuild", st)
	}
	f.recordedVersion(t, 2)
}

// Tables built before versions were recorded count as version 1: a projection at version 1
// only records it, one at version 2 rebuilds.
func TestTablesFromBeforeVersionsCountAsVersionOne(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.publish(t, 120)
	f.runVersion(t, 1, 120, false)
	forget := func() {
		if _, err := f.pool.Exec(ctx, `DELETE FROM projection_versions`); err != nil {
			t.Fatal(err)
		}
	}
	forget()
	f.mark(t)
	if st := f.runVersion(t, 1, 120, true); st.Rebuilds != 0 {
		t.Fatalf("unrecorded, version 1: %+v, want no rebuild", st)
	}
	f.recordedVersion(t, 1)
	forget()
	if st := f.runVersion(t, 2, 120, false); st.Rebuilds != 1 {
		t.Fatalf("unrecorded, version 2: %+v, want one rebuild", st)
	}
	f.recordedVersion(t, 2)
}
