package reactor_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"houqin.dev/platform/bus"
	"houqin.dev/platform/event"
	"houqin.dev/platform/reactor"
	"houqin.dev/platform/runtime"
	"houqin.dev/platform/testkit"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fixture is a stream of "assets" events and a handler that records what it handled.
type fixture struct {
	js jetstream.JetStream

	mu       sync.Mutex
	attempts map[string]int // calls per value
	done     map[string]int // successful calls per value
}

func setup(t *testing.T) *fixture {
	t.Helper()
	_, js := testkit.JetStream(t, testkit.NATS(t))
	if _, err := bus.EnsureStream(context.Background(), js, "assets", bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	return &fixture{js: js, attempts: map[string]int{}, done: map[string]int{}}
}

// publish puts events with payload m on the stream.
func (f *fixture) publish(t *testing.T, ms ...proto.Message) {
	t.Helper()
	for _, m := range ms {
		b, err := event.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		e := event.Event{ID: uuid.Must(uuid.NewV7()), StreamID: "thing:1", StreamType: "thing", Version: 1, SchoolID: "s1",
			Type: event.TypeOf(m), Payload: b, OccurredAt: time.Now(), RecordedAt: time.Now()}
		if _, err := f.js.PublishMsg(context.Background(), bus.ToMsg("houqin.assets.s1.thing."+e.ShortType(), e)); err != nil {
			t.Fatal(err)
		}
	}
}

// handle succeeds, except "flaky" fails twice and "poison" fails for good.
func (f *fixture) handle(_ context.Context, _ event.Event, m proto.Message) error {
	v := m.(*wrapperspb.StringValue).Value
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts[v]++
	switch {
	case v == "poison":
		return reactor.Permanent(errors.New("refused"))
	case v == "flaky" && f.attempts[v] <= 2:
		return errors.New("the other service is down")
	}
	f.done[v]++
	return nil
}

func (f *fixture) reactor() *reactor.Reactor {
	return reactor.New(f.js, "test", "assets", map[string]reactor.Handler{
		event.TypeOf(&wrapperspb.StringValue{}): f.handle,
	}, quiet, reactor.Options{Backoff: func(uint64) time.Duration { return 20 * time.Millisecond }})
}

// waitDone waits until every value was handled successfully exactly once.
func (f *fixture) waitDone(t *testing.T, values []string) {
	t.Helper()
	testkit.Eventually(t, 20*time.Second, 20*time.Millisecond, func() (bool, string) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, v := range values {
			if f.done[v] != 1 {
				return false, fmt.Sprintf("%s handled %d times", v, f.done[v])
			}
		}
		return len(f.done) == len(values), fmt.Sprintf("%d values handled, want %d", len(f.done), len(values))
	})
}

func values(prefix string, n int) ([]string, []proto.Message) {
	var vs []string
	var ms []proto.Message
	for i := 0; i < n; i++ {
		vs = append(vs, fmt.Sprintf("%s%d", prefix, i))
		ms = append(ms, wrapperspb.String(vs[i]))
	}
	return vs, ms
}

func TestReactorRetriesDropsAndFilters(t *testing.T) {
	f := setup(t)
	vs, ms := values("a", 30)
	f.publish(t, ms...)
	f.publish(t, wrapperspb.String("flaky"), wrapperspb.String("poison"), wrapperspb.Int64(7), wrapperspb.Int64(8))
	// Not an event of ours (no envelope): dropped, not retried forever.
	if _, err := f.js.Publish(context.Background(), "houqin.assets.s1.thing.StringValue", []byte("x")); err != nil {
		t.Fatal(err)
	}
	r := f.reactor()
	stop := runtime.Go(context.Background(), r.Run)
	defer stop()
	f.waitDone(t, append(vs, "flaky"))
	testkit.Eventually(t, 10*time.Second, 20*time.Millisecond, func() (bool, string) {
		s := r.Stats()
		return s == reactor.Stats{Handled: 31, Retried: 2, Dropped: 2}, fmt.Sprintf("%+v", s)
	})
	// Int64Value has no handler: the consumer never delivered it (Handled would count it).
	cons, err := r.Consumer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending != 0 || info.NumAckPending != 0 || info.Delivered.Consumer != 35 {
		t.Fatalf("pending %d, ack pending %d, deliveries %d (want 0, 0, 31+2 retries+2 dropped)",
			info.NumPending, info.NumAckPending, info.Delivered.Consumer)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.attempts["poison"] != 1 || f.attempts["flaky"] != 3 {
		t.Fatalf("attempts: poison %d, flaky %d", f.attempts["poison"], f.attempts["flaky"])
	}
}

func TestReactorResumesAfterRestartAndSharesWork(t *testing.T) {
	f := setup(t)
	first, ms := values("a", 20)
	f.publish(t, ms...)
	stop := runtime.Go(context.Background(), f.reactor().Run)
	f.waitDone(t, first)
	_ = stop()

	// Published while no reactor runs; then two instances share the durable consumer.
	second, ms := values("b", 200)
	f.publish(t, ms...)
	r1, r2 := f.reactor(), f.reactor()
	stop1 := runtime.Go(context.Background(), r1.Run)
	stop2 := runtime.Go(context.Background(), r2.Run)
	defer stop1()
	defer stop2()
	f.waitDone(t, append(first, second...))
	if n := r1.Stats().Handled + r2.Stats().Handled; n != 200 {
		t.Fatalf("the two instances handled %d events, want the 200 new ones", n)
	}
}

func TestCommandID(t *testing.T) {
	a := reactor.CommandID("register-asset", "0190b7a4-0000-7000-8000-000000000001")
	if a != reactor.CommandID("register-asset", "0190b7a4-0000-7000-8000-000000000001") || len(a) != 36 {
		t.Fatalf("not deterministic: %s", a)
	}
	if a == reactor.CommandID("receive-stock", "0190b7a4-0000-7000-8000-000000000001") ||
		a == reactor.CommandID("register-asset", "0190b7a4-0000-7000-8000-000000000002") {
		t.Fatal("different reactions or keys share an id")
	}
}
