package reactor_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"houqin.dev/platform/event"
	"houqin.dev/platform/reactor"
	"houqin.dev/platform/runtime"
	"houqin.dev/platform/testkit"
)

// refuser refuses "refused" (FailedPrecondition, as the assets service answers) until cured,
// and fails "flaky" twice with a transient error.
type refuser struct {
	mu       sync.Mutex
	cured    bool
	attempts map[string]int
	done     map[string]int
}

func (f *refuser) handle(_ context.Context, _ event.Event, m proto.Message) error {
	v := m.(*wrapperspb.StringValue).Value
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts[v]++
	switch {
	case v == "refused" && !f.cured:
		return reactor.Permanent(fmt.Errorf("line l1: %w", status.Error(codes.FailedPrecondition, "category not capitalised")))
	case v == "flaky" && f.attempts[v] <= 2:
		return status.Error(codes.Unavailable, "the other service is down")
	}
	f.done[v]++
	return nil
}

func TestReactorParksRefusalsOnceAndRetriesThem(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	pool := testkit.Pool(t)
	if err := reactor.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	parking := reactor.NewParking(pool)
	h := &refuser{attempts: map[string]int{}, done: map[string]int{}}
	newReactor := func() *reactor.Reactor {
		return reactor.New(f.js, "test", "assets", map[string]reactor.Handler{event.TypeOf(&wrapperspb.StringValue{}): h.handle},
			quiet, reactor.Options{Parking: parking, Backoff: func(uint64) time.Duration { return 20 * time.Millisecond },
				RetryEvery: time.Hour}) // retries are run by hand below
	}
	f.publish(t, wrapperspb.String("ok"), wrapperspb.String("flaky"), wrapperspb.String("refused"))

	run := func(want reactor.Stats) *reactor.Reactor {
		t.Helper()
		r := newReactor()
		stop := runtime.Go(ctx, r.Run)
		defer stop()
		testkit.Eventually(t, 20*time.Second, 20*time.Millisecond, func() (bool, string) {
			s := r.Stats()
			return s == want, fmt.Sprintf("%+v, want %+v", s, want)
		})
		return r
	}
	r := run(reactor.Stats{Handled: 2, Retried: 2, Parked: 1})

	// Delivered again (the consumer is reset: everything comes back): parked once still.
	if err := f.js.DeleteConsumer(ctx, "HOUQIN_ASSETS", r.ConsumerName()); err != nil {
		t.Fatal(err)
	}
	run(reactor.Stats{Handled: 2, Parked: 1})

	ps, err := parking.List(ctx, reactor.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 {
		t.Fatalf("parked %+v, want the refused event once (not the flaky one)", ps)
	}
	p := ps[0]
	if p.Reactor != "test" || p.Code != "FailedPrecondition" || p.Attempts != 2 || p.SchoolID != "s1" ||
		p.StreamID != "thing:1" || p.EventType != event.TypeOf(&wrapperspb.StringValue{}) || p.BusSequence != 3 ||
		p.Message != "line l1: rpc error: code = FailedPrecondition desc = category not capitalised" {
		t.Fatalf("parked %+v", p)
	}
	reader := sdkmetric.NewManualReader()
	if err := reactor.ObserveParked(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter("test"), parking); err != nil {
		t.Fatal(err)
	}
	if n := gauge(t, reader); n != 1 {
		t.Fatalf("houqin.reactor.parked{reactor=test} = %d, want 1", n)
	}

	// Nothing asked: nothing retried. Asked before the cause is fixed: parked again.
	r = newReactor()
	if n, err := r.RetryParked(ctx); err != nil || n != 0 || h.attempts["refused"] != 2 {
		t.Fatalf("retry without a request: %d, %v, %d attempts", n, err, h.attempts["refused"])
	}
	if n, err := parking.RequestRetry(ctx, reactor.Filter{Reactor: "test", EventID: p.EventID}); err != nil || n != 1 {
		t.Fatalf("request retry: %d, %v", n, err)
	}
	if n, err := r.RetryParked(ctx); err != nil || n != 0 {
		t.Fatalf("retry before the fix: %d, %v", n, err)
	}
	ps, err = parking.List(ctx, reactor.Filter{})
	if err != nil || len(ps) != 1 || ps[0].Attempts != 3 || ps[0].RetryRequested != nil || ps[0].Resolved != nil {
		t.Fatalf("after a refused retry: %+v, %v", ps, err)
	}

	// Fixed: the retry reads the event back and performs it, once.
	h.mu.Lock()
	h.cured = true
	h.mu.Unlock()
	if n, err := parking.RequestRetry(ctx, reactor.Filter{}); err != nil || n != 1 {
		t.Fatalf("request retry: %d, %v", n, err)
	}
	if n, err := r.RetryParked(ctx); err != nil || n != 1 {
		t.Fatalf("retry after the fix: %d, %v", n, err)
	}
	if n, err := r.RetryParked(ctx); err != nil || n != 0 {
		t.Fatalf("second retry: %d, %v", n, err)
	}
	if h.done["refused"] != 1 || h.done["ok"] != 2 || h.done["flaky"] != 2 { // ok and flaky: once per consumer
		t.Fatalf("done %v", h.done)
	}
	if open, err := parking.List(ctx, reactor.Filter{}); err != nil || len(open) != 0 {
		t.Fatalf("open after the retry: %+v, %v", open, err)
	}
	all, err := parking.List(ctx, reactor.Filter{Resolved: true})
	if err != nil || len(all) != 1 || all[0].Resolved == nil {
		t.Fatalf("history: %+v, %v", all, err)
	}
	if n := gauge(t, reader); n != 0 {
		t.Fatalf("houqin.reactor.parked{reactor=test} = %d after the retry, want 0", n)
	}
	if s := r.Stats(); s.Resolved != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// gauge reads houqin.reactor.parked{reactor="test"} (0 when not observed).
func gauge(t *testing.T, reader *sdkmetric.ManualReader) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "houqin.reactor.parked" {
				continue
			}
			for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
				if v, ok := dp.Attributes.Value("reactor"); ok && v.AsString() == "test" {
					return dp.Value
				}
			}
		}
	}
	return 0
}

// The stream no longer holds a parked event (purged, aged out): the retry runs it from the
// copy its row keeps. A row parked before events were kept is read back from the stream, and
// without the stream it stays parked with the reason.
func TestRetryOfAParkedEventTheStreamNoLongerHolds(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	pool := testkit.Pool(t)
	if err := reactor.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	parking := reactor.NewParking(pool)
	h := &refuser{attempts: map[string]int{}, done: map[string]int{}}
	r := reactor.New(f.js, "test", "assets", map[string]reactor.Handler{event.TypeOf(&wrapperspb.StringValue{}): h.handle},
		quiet, reactor.Options{Parking: parking, RetryEvery: time.Hour})
	f.publish(t, wrapperspb.String("refused"), wrapperspb.String("refused"))
	stop := runtime.Go(ctx, r.Run)
	testkit.Eventually(t, 20*time.Second, 20*time.Millisecond, func() (bool, string) {
		return r.Stats().Parked == 2, fmt.Sprintf("%+v", r.Stats())
	})
	stop()
	ps, err := parking.List(ctx, reactor.Filter{})
	if err != nil || len(ps) != 2 || !ps[0].Kept || !ps[1].Kept {
		t.Fatalf("parked %+v, %v", ps, err)
	}
	// The second as an older version parked it: without the event.
	legacy := ps[1].EventID
	if _, err := pool.Exec(ctx, `UPDATE parked_reactions SET event_headers = NULL, event_payload = NULL WHERE event_id = $1`, legacy); err != nil {
		t.Fatal(err)
	}
	stream, err := f.js.Stream(ctx, "HOUQIN_ASSETS")
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	h.cured = true
	h.mu.Unlock()
	if _, err := parking.RequestRetry(ctx, reactor.Filter{}); err != nil {
		t.Fatal(err)
	}
	if n, err := r.RetryParked(ctx); err != nil || n != 1 || h.done["refused"] != 1 {
		t.Fatalf("retry: %d resolved, %v, done %v", n, err, h.done)
	}
	open, err := parking.List(ctx, reactor.Filter{})
	if err != nil || len(open) != 1 || open[0].EventID != legacy || open[0].Code != "NotFound" || open[0].Attempts != 2 {
		t.Fatalf("open after the retry: %+v, %v", open, err)
	}
}
