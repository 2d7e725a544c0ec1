package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"houqin.dev/platform/errs"
	"houqin.dev/platform/event"
	"houqin.dev/platform/eventstore"
	"houqin.dev/platform/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func newStore(t *testing.T) *eventstore.Store {
	t.Helper()
	pool := testkit.Pool(t)
	if err := eventstore.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return eventstore.New(pool, "assets")
}

func appendN(t *testing.T, s *eventstore.Store, stream string, expected int64, prev []byte, n int) []event.Event {
	t.Helper()
	evs := make([]eventstore.NewEvent, n)
	for i := range evs {
		evs[i] = eventstore.NewEvent{Type: "houqin.test.v1.Thing", Payload: []byte(fmt.Sprintf("p%d", i)),
			OccurredAt: time.Date(2024, 9, 1, 8, 0, 0, 0, time.UTC)}
	}
	out, err := s.Append(context.Background(), eventstore.Append{
		StreamType: "thing", StreamID: stream, SchoolID: "s1", Expected: expected, PrevHash: prev, Events: evs,
		Metadata: eventstore.Metadata{Actor: "u1", PolicyVersion: "p1"},
	})
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return out
}

func TestAppendAndLoad(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	first := appendN(t, s, "thing:a", 0, nil, 2)
	appendN(t, s, "thing:a", 2, first[1].Hash, 3)

	st, err := s.Load(ctx, "thing:a")
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != 5 || len(st.Events) != 5 {
		t.Fatalf("version %d, %d events; want 5, 5", st.Version, len(st.Events))
	}
	for i, e := range st.Events {
		if e.Version != int64(i+1) {
			t.Errorf("event %d has version %d", i, e.Version)
		}
		if !e.OccurredAt.Equal(time.Date(2024, 9, 1, 8, 0, 0, 0, time.UTC)) {
			t.Errorf("business time lost: %v", e.OccurredAt)
		}
		if e.RecordedAt.IsZero() || e.Actor != "u1" || e.PolicyVersion != "p1" || e.SchoolID != "s1" {
			t.Errorf("metadata lost: %+v", e)
		}
	}
	if err := s.Verify(ctx, "thing:a"); err != nil {
		t.Fatalf("verify: %v", err)
	}
	var outbox int
	if err := s.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&outbox); err != nil {
		t.Fatal(err)
	}
	if outbox != 5 {
		t.Fatalf("outbox has %d rows, want 5", outbox)
	}
	// Outbox order is publication order: versions in order.
	var ordered bool
	if err := s.Pool().QueryRow(ctx, `SELECT bool_and(v = rn) FROM (SELECT e.version v, row_number() OVER (ORDER BY o.id) rn
		FROM outbox o JOIN events e USING (event_id)) x`).Scan(&ordered); err != nil || !ordered {
		t.Fatalf("outbox not in version order (%v)", err)
	}
	empty, err := s.Load(ctx, "thing:none")
	if err != nil || empty.Version != 0 || len(empty.Events) != 0 {
		t.Fatalf("missing stream: %+v %v", empty, err)
	}
}

func TestConflictAtSameVersion(t *testing.T) {
	s := newStore(t)
	first := appendN(t, s, "thing:b", 0, nil, 1)
	_, err := s.Append(context.Background(), eventstore.Append{
		StreamType: "thing", StreamID: "thing:b", SchoolID: "s1", Expected: 0,
		Events: []eventstore.NewEvent{{Type: "houqin.test.v1.Thing", Payload: []byte("x")}},
	})
	if !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("want conflict, got %v", err)
	}
	// Nothing of the failed append is left behind.
	var n int
	_ = s.Pool().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM outbox)`).Scan(&n)
	if n != 2 {
		t.Fatalf("partial write: %d rows", n)
	}
	_ = first
}

func TestConcurrentAppendsHaveNoGaps(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	const writers = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each writer reads and appends once: only one of those who read the same
			// version can win it.
			st, err := s.Load(ctx, "thing:c")
			if err != nil {
				t.Error(err)
				return
			}
			_, err = s.Append(ctx, eventstore.Append{
				StreamType: "thing", StreamID: "thing:c", SchoolID: "s1", Expected: st.Version, PrevHash: st.LastHash,
				Events: []eventstore.NewEvent{{Type: "houqin.test.v1.Thing", Payload: []byte("x")}},
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, errs.ErrConflict):
				conflicts++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	st, err := s.Load(ctx, "thing:c")
	if err != nil {
		t.Fatal(err)
	}
	if int(st.Version) != wins || wins+conflicts != writers || wins == 0 {
		t.Fatalf("version %d, wins %d, conflicts %d", st.Version, wins, conflicts)
	}
	if err := eventstore.VerifyChain(st.Events); err != nil {
		t.Fatal(err)
	}
}

func TestEventsAreImmutable(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	appendN(t, s, "thing:d", 0, nil, 1)
	for _, sql := range []string{
		`UPDATE events SET payload = 'evil'`,
		`DELETE FROM events`,
		`TRUNCATE events CASCADE`,
	} {
		if _, err := s.Pool().Exec(ctx, sql); err == nil {
			t.Errorf("%s: allowed", sql)
		}
	}
	if err := s.Verify(ctx, "thing:d"); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	appendN(t, s, "thing:e", 0, nil, 3)
	// A superuser can bypass triggers; the hash chain still tells.
	if _, err := s.Pool().Exec(ctx, `ALTER TABLE events DISABLE TRIGGER events_immutable_rows;
		UPDATE events SET payload = 'forged' WHERE stream_id = 'thing:e' AND version = 2;
		ALTER TABLE events ENABLE TRIGGER events_immutable_rows`); err != nil {
		t.Fatal(err)
	}
	err := s.Verify(ctx, "thing:e")
	ce, ok := errs.As[*eventstore.ChainError](err)
	if !ok || ce.Version != 2 {
		t.Fatalf("want chain error at version 2, got %v", err)
	}
	n, broken, err := s.VerifyAll(ctx)
	if err != nil || n != 1 || len(broken) != 1 {
		t.Fatalf("VerifyAll: %d streams, %v broken, %v", n, broken, err)
	}
}

func TestRequestIdAndUniqueKeys(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	app := func(stream, req, key string) ([]event.Event, error) {
		return s.Append(ctx, eventstore.Append{
			StreamType: "thing", StreamID: stream, SchoolID: "s1",
			Events:     []eventstore.NewEvent{{Type: "houqin.test.v1.Thing", Payload: []byte(stream)}},
			Request:    &eventstore.Request{Key: req, Fingerprint: []byte(req)},
			UniqueKeys: []eventstore.UniqueKey{{Scope: "tag", Key: key, Reason: "TAG_TAKEN", Message: "taken"}},
		})
	}
	first, err := app("thing:f", "req-1", "s1/A1")
	if err != nil {
		t.Fatal(err)
	}
	// The same request id again, even for another new stream: the first outcome comes back.
	_, err = app("thing:g", "req-1", "s1/A2")
	dup, ok := errs.As[*eventstore.DuplicateRequestError](err)
	if !ok || dup.Outcome.StreamID != "thing:f" || dup.Outcome.EventIDs[0] != first[0].ID.String() {
		t.Fatalf("want first outcome, got %v", err)
	}
	// A new request taking a key another stream holds is refused with the key's reason.
	_, err = app("thing:h", "req-2", "s1/A1")
	re, ok := errs.As[*errs.RuleError](err)
	if !ok || re.Reason != "TAG_TAKEN" {
		t.Fatalf("want TAG_TAKEN, got %v", err)
	}
	var events int
	_ = s.Pool().QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&events)
	if events != 1 {
		t.Fatalf("%d events stored, want 1", events)
	}
	prior, err := s.LookupRequest(ctx, "s1", "req-1")
	if err != nil || prior == nil || !prior.Matches([]byte("req-1")) {
		t.Fatalf("lookup: %+v %v", prior, err)
	}
	if _, err := app("thing:i", "req-3", "s1/A3"); err != nil {
		t.Fatal(err)
	}
	keys, err := s.ScopeKeys(ctx, "tag", "other")
	if err != nil || len(keys) != 1 || fmt.Sprint(sorted(keys["tag"])) != "[s1/A1 s1/A3]" {
		t.Fatalf("scope keys %v %v", keys, err)
	}
}

func sorted(s []string) []string { slices.Sort(s); return s }
