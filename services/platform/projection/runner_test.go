package projection_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"houqin.dev/platform/bus"
	"houqin.dev/platform/event"
	"houqin.dev/platform/projection"
	"houqin.dev/platform/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// journal records every event it is given, with no uniqueness of its own: a double apply
// would show as two rows.
type journal struct{}

func (journal) Name() string { return "journal" }

func (journal) Version() int { return 1 }

func (journal) Setup(ctx context.Context, tx pgx.Tx, schema string) error {
	_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+pgx.Identifier{schema, "applied"}.Sanitize()+
		` (event_id uuid NOT NULL, seq bigint NOT NULL, stream_id text NOT NULL, version bigint NOT NULL)`)
	return err
}

func (journal) Apply(ctx context.Context, tx pgx.Tx, schema string, events []event.Event) error {
	rows := make([][]any, len(events))
	for i, e := range events {
		rows[i] = []any{e.ID, int64(e.Sequence), e.StreamID, e.Version}
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{schema, "applied"}, []string{"event_id", "seq", "stream_id", "version"},
		pgx.CopyFromRows(rows))
	return err
}

type fixture struct {
	pool *pgxpool.Pool
	js   jetstream.JetStream
	n    int
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	pool := testkit.Pool(t)
	if err := projection.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	_, js := testkit.JetStream(t, testkit.NATS(t))
	if _, err := bus.EnsureStream(ctx, js, "assets", bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	return &fixture{pool: pool, js: js}
}

func (f *fixture) publish(t *testing.T, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		f.n++
		e := event.Event{ID: uuid.Must(uuid.NewV7()), StreamID: fmt.Sprintf("asset:%d", f.n%17), StreamType: "asset",
			Version: int64(f.n), SchoolID: "s1", Type: "houqin.assets.events.v1.AssetTransferred",
			OccurredAt: time.Now(), RecordedAt: time.Now()}
		if _, err := f.js.PublishMsgAsync(bus.ToMsg("houqin.assets.s1.asset.AssetTransferred", e)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-f.js.PublishAsyncComplete():
	case <-time.After(10 * time.Second):
		t.Fatal("publish acks missing")
	}
	_ = ctx
}

// counts returns rows and distinct event ids in the live journal.
func (f *fixture) counts(t *testing.T) (rows, distinct int) {
	t.Helper()
	err := f.pool.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT event_id) FROM journal.applied`).Scan(&rows, &distinct)
	if err != nil {
		return -1, -1
	}
	return rows, distinct
}

func (f *fixture) waitFor(t *testing.T, want int) {
	t.Helper()
	testkit.Eventually(t, 30*time.Second, 20*time.Millisecond, func() (bool, string) {
		rows, distinct := f.counts(t)
		return rows == want && distinct == want, fmt.Sprintf("%d rows, %d distinct, want %d", rows, distinct, want)
	})
}

func start(r *projection.Runner) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	return func() error { cancel(); return <-done }
}

func TestRunnerAppliesEveryEventOnceWithCheckpoint(t *testing.T) {
	f := setup(t)
	f.publish(t, 2500)
	r := projection.NewRunner(f.pool, f.js, "test", journal{}, "assets", quiet, projection.Options{Batch: 100})
	stop := start(r)
	f.waitFor(t, 2500)
	f.publish(t, 500)
	f.waitFor(t, 3000)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	cp, err := projection.Checkpoint(context.Background(), f.pool, "journal", "assets")
	if err != nil || cp != 3000 {
		t.Fatalf("checkpoint %d (%v), want 3000", cp, err)
	}
	var ordered bool
	_ = f.pool.QueryRow(context.Background(), `SELECT bool_and(seq = rn) FROM (SELECT seq, row_number() OVER (ORDER BY seq) rn FROM journal.applied) x`).Scan(&ordered)
	if !ordered {
		t.Fatal("sequences applied with gaps or repeats")
	}
}

// The projector dies after committing a batch and before acknowledging it. The next runner
// must neither lose nor repeat an event.
func TestCrashBetweenCommitAndAck(t *testing.T) {
	f := setup(t)
	f.publish(t, 1000)
	crash := errors.New("killed")
	batches := 0
	r1 := projection.NewRunner(f.pool, f.js, "test", journal{}, "assets", quiet, projection.Options{Batch: 100,
		AfterCommit: func(uint64) error {
			batches++
			if batches == 3 {
				return crash
			}
			return nil
		}})
	if err := r1.Run(context.Background()); !errors.Is(err, crash) {
		t.Fatalf("runner should stop at the hook: %v", err)
	}
	rows, _ := f.counts(t)
	if rows == 0 || rows == 1000 {
		t.Fatalf("%d rows after the crash: the crash should fall mid-stream", rows)
	}
	r2 := projection.NewRunner(f.pool, f.js, "test", journal{}, "assets", quiet, projection.Options{Batch: 100})
	stop := start(r2)
	defer stop()
	f.waitFor(t, 1000)
}

// Acks are lost: JetStream redelivers after AckWait, and the runner skips what its checkpoint
// already covers.
func TestLostAcksAreSkippedByCheckpoint(t *testing.T) {
	f := setup(t)
	f.publish(t, 300)
	lost := 0
	r := projection.NewRunner(f.pool, f.js, "test", journal{}, "assets", quiet, projection.Options{Batch: 50, AckWait: time.Second,
		AfterCommit: func(last uint64) error {
			// AckAll: a later ack covers earlier batches, so lose the ack of the last one.
			if last == 300 && lost == 0 {
				lost++
				return projection.ErrSkipAck
			}
			return nil
		}})
	stop := start(r)
	defer stop()
	f.waitFor(t, 300)
	testkit.Eventually(t, 15*time.Second, 50*time.Millisecond, func() (bool, string) {
		return r.Stats().Skipped > 0, "no redelivery seen yet"
	})
	f.waitFor(t, 300)
}

func TestRebuildReplacesTablesWhileLive(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.publish(t, 1200)
	r := projection.NewRunner(f.pool, f.js, "test", journal{}, "assets", quiet, projection.Options{Batch: 100})
	stop := start(r)
	defer stop()
	f.waitFor(t, 1200)
	// Damage the live read model: a rebuild from the log must repair it.
	if _, err := f.pool.Exec(ctx, `DELETE FROM journal.applied WHERE seq % 3 = 0`); err != nil {
		t.Fatal(err)
	}
	res, err := projection.Rebuild(ctx, f.pool, f.js, journal{}, quiet, "assets")
	if err != nil {
		t.Fatal(err)
	}
	if res.Events < 1200 {
		t.Fatalf("rebuild replayed %d events", res.Events)
	}
	f.waitFor(t, 1200)
	// The live runner goes on after the swap.
	f.publish(t, 300)
	f.waitFor(t, 1500)
}

// A rebuild while events keep arriving and the live runner keeps applying them: the swap and
// the live batches take their locks in the same order, so neither deadlocks, and afterwards
// every event is in the tables once.
func TestRebuildUnderLoad(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.publish(t, 3000)
	r := projection.NewRunner(f.pool, f.js, "test", journal{}, "assets", quiet, projection.Options{Batch: 50})
	stop := start(r)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 40 {
			f.publish(t, 50)
		}
	}()
	for range 2 {
		if _, err := projection.Rebuild(ctx, f.pool, f.js, journal{}, quiet, "assets"); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	f.waitFor(t, 5000)
}
