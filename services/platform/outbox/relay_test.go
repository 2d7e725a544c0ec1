package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"houqin.dev/platform/bus"
	"houqin.dev/platform/eventstore"
	"houqin.dev/platform/outbox"
	"houqin.dev/platform/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type fixture struct {
	pool  *pgxpool.Pool
	store *eventstore.Store
	nc    *nats.Conn
	js    jetstream.JetStream
	st    jetstream.Stream
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	pool := testkit.Pool(t)
	if err := eventstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	nc, js := testkit.JetStream(t, testkit.NATS(t))
	st, err := bus.EnsureStream(ctx, js, "assets", bus.StreamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{pool: pool, store: eventstore.New(pool, "assets"), nc: nc, js: js, st: st}
}

// write appends per events to each of streams streams, one command per event.
func (f *fixture) write(t *testing.T, prefix string, streams, per int) int {
	t.Helper()
	ctx := context.Background()
	for s := 0; s < streams; s++ {
		id := fmt.Sprintf("asset:%s%03d", prefix, s)
		var prev []byte
		for v := 0; v < per; v++ {
			out, err := f.store.Append(ctx, eventstore.Append{
				StreamType: "asset", StreamID: id, SchoolID: fmt.Sprintf("school-%d", s%3), Expected: int64(v), PrevHash: prev,
				Events: []eventstore.NewEvent{{Type: "houqin.assets.events.v1.AssetTransferred", Payload: []byte{byte(v)}}},
			})
			if err != nil {
				t.Fatal(err)
			}
			prev = out[0].Hash
		}
	}
	return streams * per
}

func (f *fixture) msgs(t *testing.T) uint64 {
	t.Helper()
	info, err := f.st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

func (f *fixture) outboxRows(t *testing.T) int {
	var n int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func run(t *testing.T, r *outbox.Relay) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	return func() error { cancel(); return <-done }
}

func TestRelayPublishesInAggregateOrder(t *testing.T) {
	f := setup(t)
	n := f.write(t, "a", 10, 30)
	r, err := outbox.New(f.pool, f.nc, "assets", quiet, outbox.Options{Batch: 64})
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, r)
	defer stop()
	testkit.Eventually(t, 20*time.Second, 20*time.Millisecond, func() (bool, string) {
		got := f.msgs(t)
		return got == uint64(n) && f.outboxRows(t) == 0, fmt.Sprintf("%d of %d published", got, n)
	})

	// Read the stream back: each aggregate's versions arrive 1, 2, 3…
	cons, err := f.st.OrderedConsumer(context.Background(), jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]int64{}
	for i := 0; i < n; i++ {
		m, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		e, err := bus.FromMsg(m)
		if err != nil {
			t.Fatal(err)
		}
		if e.Version != last[e.StreamID]+1 {
			t.Fatalf("%s: version %d after %d", e.StreamID, e.Version, last[e.StreamID])
		}
		last[e.StreamID] = e.Version
		want := fmt.Sprintf("houqin.assets.%s.asset.AssetTransferred", e.SchoolID)
		if m.Subject() != want {
			t.Fatalf("subject %s, want %s", m.Subject(), want)
		}
	}
}

// The relay dies after JetStream acknowledged a batch but before it deleted the rows. The next
// relay publishes the batch again and JetStream drops every duplicate: each event is in the
// stream once.
func TestRelayCrashBetweenPublishAndDelete(t *testing.T) {
	f := setup(t)
	n := f.write(t, "a", 5, 40)
	crash := errors.New("killed")
	r1, _ := outbox.New(f.pool, f.nc, "assets", quiet, outbox.Options{Batch: 50, AfterPublish: func(int) error { return crash }})
	err := r1.Run(context.Background())
	if !errors.Is(err, crash) {
		t.Fatalf("relay should have stopped at the hook, got %v", err)
	}
	if got := f.msgs(t); got != 50 {
		t.Fatalf("%d messages after the crash, want the first batch of 50", got)
	}
	if rows := f.outboxRows(t); rows != n {
		t.Fatalf("%d outbox rows after the crash, want all %d kept", rows, n)
	}

	r2, _ := outbox.New(f.pool, f.nc, "assets", quiet, outbox.Options{Batch: 50})
	stop := run(t, r2)
	defer stop()
	testkit.Eventually(t, 20*time.Second, 20*time.Millisecond, func() (bool, string) {
		return f.outboxRows(t) == 0, fmt.Sprintf("%d rows left", f.outboxRows(t))
	})
	if got := f.msgs(t); got != uint64(n) {
		t.Fatalf("stream holds %d messages, want exactly %d", got, n)
	}
}

// Two relays of one service: only the lock holder publishes; the other takes over when the
// first stops.
func TestOneActiveRelayPerService(t *testing.T) {
	f := setup(t)
	var pubA, pubB atomic.Int64
	a, _ := outbox.New(f.pool, f.nc, "assets", quiet, outbox.Options{AfterPublish: func(n int) error { pubA.Add(int64(n)); return nil }})
	b, _ := outbox.New(f.pool, f.nc, "assets", quiet, outbox.Options{AfterPublish: func(n int) error { pubB.Add(int64(n)); return nil }})
	stopA := run(t, a)
	testkit.Eventually(t, 5*time.Second, 10*time.Millisecond, func() (bool, string) {
		var held bool
		_ = f.pool.QueryRow(context.Background(), `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory')`).Scan(&held)
		return held, "relay A has not taken the lock"
	})
	stopB := run(t, b)
	defer stopB()
	n := f.write(t, "a", 4, 25)
	testkit.Eventually(t, 20*time.Second, 20*time.Millisecond, func() (bool, string) {
		return f.outboxRows(t) == 0, "outbox not drained"
	})
	if pubA.Load() != int64(n) || pubB.Load() != 0 {
		t.Fatalf("A published %d, B %d; want %d and 0", pubA.Load(), pubB.Load(), n)
	}
	if err := stopA(); err != nil {
		t.Fatal(err)
	}
	m := f.write(t, "b", 1, 10)
	testkit.Eventually(t, 20*time.Second, 20*time.Millisecond, func() (bool, string) {
		return pubB.Load() == int64(m), fmt.Sprintf("standby published %d of %d", pubB.Load(), m)
	})
}

// A relay in another process hears of new events by NOTIFY, long before its poll.
func TestRelayWakesOnNotify(t *testing.T) {
	f := setup(t)
	r, _ := outbox.New(f.pool, f.nc, "assets", quiet, outbox.Options{Poll: time.Hour})
	stop := run(t, r)
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go f.store.RunNotifier(ctx, nil)
	time.Sleep(200 * time.Millisecond) // let the first (startup) drain pass
	n := f.write(t, "a", 2, 5)
	testkit.Eventually(t, 10*time.Second, 20*time.Millisecond, func() (bool, string) {
		return f.msgs(t) == uint64(n), fmt.Sprintf("%d of %d published", f.msgs(t), n)
	})
}
