package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"houqin.dev/platform/errs"
	"houqin.dev/platform/eventstore"
)

// With group commit on, concurrent appends share transactions, yet each gets its own outcome:
// distinct streams all commit, one of many writers of the same version wins, a repeated
// request id is answered with the first outcome, a taken key is refused.
func TestGroupCommitKeepsOutcomesApart(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.EnableGroupCommit(ctx, 2, 32)

	type result struct {
		i   int
		err error
	}
	run := func(n int, f func(i int) error) []result {
		var wg sync.WaitGroup
		out := make([]result, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out[i] = result{i, f(i)}
			}()
		}
		wg.Wait()
		return out
	}
	one := func(stream, req, key string) error {
		a := eventstore.Append{StreamType: "thing", StreamID: stream, SchoolID: "s1",
			Events: []eventstore.NewEvent{{Type: "houqin.test.v1.Thing", Payload: []byte(stream)}}}
		if req != "" {
			a.Request = &eventstore.Request{Key: req, Fingerprint: []byte(req)}
		}
		if key != "" {
			a.UniqueKeys = []eventstore.UniqueKey{{Scope: "tag", Key: key, Reason: "TAG_TAKEN"}}
		}
		_, err := s.Append(ctx, a)
		return err
	}

	for _, r := range run(200, func(i int) error { return one(fmt.Sprintf("thing:d%d", i), fmt.Sprintf("req-d%d", i), "") }) {
		if r.err != nil {
			t.Fatalf("distinct stream %d: %v", r.i, r.err)
		}
	}
	wins, conflicts := 0, 0
	for _, r := range run(50, func(i int) error { return one("thing:same", fmt.Sprintf("req-s%d", i), "") }) {
		switch {
		case r.err == nil:
			wins++
		case errors.Is(r.err, errs.ErrConflict):
			conflicts++
		default:
			t.Fatalf("same stream: %v", r.err)
		}
	}
	if wins != 1 || conflicts != 49 {
		t.Fatalf("same version: %d won, %d conflicted", wins, conflicts)
	}
	firsts, dups := 0, 0
	for _, r := range run(30, func(i int) error { return one(fmt.Sprintf("thing:r%d", i), "req-repeated", "") }) {
		if _, ok := errs.As[*eventstore.DuplicateRequestError](r.err); ok {
			dups++
		} else if r.err == nil {
			firsts++
		} else {
			t.Fatalf("repeated request: %v", r.err)
		}
	}
	if firsts != 1 || dups != 29 {
		t.Fatalf("repeated request id: %d first, %d repeats", firsts, dups)
	}
	taken := 0
	for _, r := range run(20, func(i int) error { return one(fmt.Sprintf("thing:k%d", i), fmt.Sprintf("req-k%d", i), "s1/TAG") }) {
		if re, ok := errs.As[*errs.RuleError](r.err); ok && re.Reason == "TAG_TAKEN" {
			taken++
		} else if r.err != nil {
			t.Fatalf("unique key: %v", r.err)
		}
	}
	if taken != 19 {
		t.Fatalf("%d refused for a taken key, want 19", taken)
	}
	var events, outbox int
	_ = s.Pool().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM outbox)`).Scan(&events, &outbox)
	if want := 200 + 1 + 1 + 1; events != want || outbox != want {
		t.Fatalf("%d events, %d outbox rows; want %d", events, outbox, want)
	}
}
