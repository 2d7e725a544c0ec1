package e2e

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/bus"
	"houqin.dev/platform/outbox"
	"houqin.dev/platform/projection"
	"houqin.dev/platform/testkit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

// The relay dies between JetStream's ack and deleting its outbox rows; the projector dies
// between committing a batch and acknowledging it; clients retry what failed while the
// assets service was down, with the same request ids. Afterwards every asset is in the
// ledger exactly once, the stream holds every event once, and the outbox is empty.
func TestCrashesLoseNothingAndDoubleNothing(t *testing.T) {
	st := startStack(t)
	ctx := context.Background()
	const n = 1500

	var relayCrashed, projectorCrashed atomic.Bool
	errKilled := errors.New("killed")
	relayBatches := 0
	stopAssets, err := st.StartAssets(ctx, outbox.Options{AfterPublish: func(int) error {
		relayBatches++
		if relayBatches == 3 {
			relayCrashed.Store(true)
			return errKilled
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	projBatches := 0
	stopProjector, err := st.StartProjector(ctx, projection.Options{Batch: 200, AfterCommit: func(uint64) error {
		projBatches++
		if projBatches == 2 {
			projectorCrashed.Store(true)
			return errKilled
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}

	c := assets(t, st)
	registerSchool(t, st, c, "s1", "第一小学", assetsv1.SchoolKind_SCHOOL_KIND_PRIMARY)
	registerSchool(t, st, c, "s2", "第二小学", assetsv1.SchoolKind_SCHOOL_KIND_PRIMARY)
	reqs := make([]*assetsv1.RegisterAssetRequest, n)
	var want int64
	for i := range reqs {
		school := []string{"s1", "s2"}[i%2]
		reqs[i] = asset(school, fmt.Sprintf("ZC-%05d", i), "台式计算机", "2", int64(100000+i), 1, "2024-09-01")
		want += int64(100000 + i)
	}
	ctxs := map[string]context.Context{
		"s1": as(t, st, auth.RoleLogisticsDirector, "s1"),
		"s2": as(t, st, auth.RoleLogisticsDirector, "s2"),
	}
	// send registers every request not yet acknowledged, 16 at a time, and returns those
	// that failed because the service was down.
	send := func(pending []*assetsv1.RegisterAssetRequest, opts ...grpc.CallOption) []*assetsv1.RegisterAssetRequest {
		var mu sync.Mutex
		var failed []*assetsv1.RegisterAssetRequest
		sem := make(chan struct{}, 16)
		var wg sync.WaitGroup
		for _, r := range pending {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				cctx, cancel := context.WithTimeout(ctxs[r.SchoolId], 10*time.Second)
				defer cancel()
				_, err := c.RegisterAsset(cctx, r, opts...)
				if err != nil {
					if code := status.Code(err); code != codes.Unavailable && code != codes.DeadlineExceeded && code != codes.Canceled {
						t.Errorf("register %s: %v", r.Tag, err)
					}
					mu.Lock()
					failed = append(failed, r)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return failed
	}
	failed := send(reqs)

	testkit.Eventually(t, 30*time.Second, 20*time.Millisecond, func() (bool, string) {
		return relayCrashed.Load(), "relay has not crashed"
	})
	if err := stopAssets(); !errors.Is(err, errKilled) {
		t.Fatalf("assets service should have died with the relay: %v", err)
	}
	if _, err := st.StartAssets(ctx, outbox.Options{}); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; len(failed) > 0 && attempt < 5; attempt++ {
		// A client retries once the service is back (the channel reconnects with backoff).
		failed = send(failed, grpc.WaitForReady(true))
	}
	if len(failed) > 0 {
		t.Fatalf("%d registrations still failing after restart", len(failed))
	}
	// Everything is sent again, as a client unsure of its acks would: nothing doubles.
	if again := send(reqs, grpc.WaitForReady(true)); len(again) > 0 {
		t.Fatalf("%d repeats failed", len(again))
	}

	testkit.Eventually(t, 30*time.Second, 20*time.Millisecond, func() (bool, string) {
		return projectorCrashed.Load(), "projector has not crashed"
	})
	if err := stopProjector(); !errors.Is(err, errKilled) {
		t.Fatalf("projector should have died with its runner: %v", err)
	}
	stopProjector, err = st.StartProjector(ctx, projection.Options{Batch: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer stopProjector()

	pool := st.Projector.Pool
	testkit.Eventually(t, 60*time.Second, 50*time.Millisecond, func() (bool, string) {
		var rows int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM ledger.assets`).Scan(&rows)
		return rows >= n, fmt.Sprintf("%d of %d assets projected", rows, n)
	})
	var rows, tags int
	var value int64
	if err := pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT (school_id, tag)), sum(value_fen) FROM ledger.assets`).Scan(&rows, &tags, &value); err != nil {
		t.Fatal(err)
	}
	if rows != n || tags != n || value != want {
		t.Fatalf("ledger holds %d rows, %d distinct tags, value %d; want %d, %d, %d", rows, tags, value, n, n, want)
	}

	// The event store has each registration once, the stream each event once, the outbox
	// is empty.
	store := st.Assets.Store()
	var events, outboxRows int
	_ = store.Pool().QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&events)
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		_ = store.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&outboxRows)
		return outboxRows == 0, fmt.Sprintf("%d outbox rows left", outboxRows)
	})
	if events != n+2 {
		t.Fatalf("%d events stored, want %d", events, n+2)
	}
	nc, js := testkit.JetStream(t, st.NATS)
	defer nc.Close()
	s, err := js.Stream(ctx, bus.StreamName("assets"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != uint64(events) {
		t.Fatalf("stream holds %d messages for %d events", info.State.Msgs, events)
	}
	if _, broken, err := store.VerifyAll(ctx); err != nil || len(broken) > 0 {
		t.Fatalf("hash chains: %v %v", broken, err)
	}
}
