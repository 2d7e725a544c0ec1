package es

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"houqin.dev/platform/errs"
	"houqin.dev/platform/event"
	"houqin.dev/platform/eventstore"
)

// stateCache keeps folded states of recently used streams, so a command on a long stream
// (a stocktake session of thousands of scans) reads only the events appended since, not the
// whole stream. Each entry has a lock: commands on one stream take turns within a process
// (they would conflict anyway); across processes the optimistic lock still decides.
type stateCache[S any] struct {
	mu      sync.Mutex
	max     int
	entries map[string]*cached[S]
}

type cached[S any] struct {
	mu sync.Mutex
	// state folds the stream's events up to st.Version; only committed events are folded.
	state S
	st    eventstore.Stream // Version, LastHash, SchoolID; no events
	ok    bool
}

// WithCache makes h keep the states of up to n streams in memory between commands. Evolve
// may then update a state in place (maps), since a cached state is only ever touched under
// its entry's lock; deciders must not change the state they are given.
func (h *Handler[S]) WithCache(n int) *Handler[S] {
	h.cache = &stateCache[S]{max: n, entries: map[string]*cached[S]{}}
	return h
}

func (c *stateCache[S]) entry(id string) *cached[S] {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[id]; ok {
		return e
	}
	if len(c.entries) >= c.max {
		for k := range c.entries { // evict one; a holder finishes with its copy
			delete(c.entries, k)
			break
		}
	}
	e := &cached[S]{}
	c.entries[id] = e
	return e
}

func (c *stateCache[S]) drop(id string, e *cached[S]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[id] == e {
		delete(c.entries, id)
	}
}

// executeCached is Execute over the cache.
func (h *Handler[S]) executeCached(ctx context.Context, meta Meta, cmd Command[S]) (res Result[S], err error) {
	streamID := event.StreamID(h.agg.Type, cmd.ID)
	ce := h.cache.entry(streamID)
	ce.mu.Lock()
	defer ce.mu.Unlock()
	defer func() {
		// Anything unexpected: forget the state rather than risk a half-folded one.
		if err != nil && !isRefusal(err) {
			ce.ok = false
			h.cache.drop(streamID, ce)
		}
	}()
	if !ce.ok {
		ce.state, ce.st = h.agg.Initial(), eventstore.Stream{ID: streamID, LastHash: event.GenesisHash}
	}
	// A warm entry is usually current (this process made the last append): decide on it and
	// append at once, one round trip. If another writer appended meanwhile, the append
	// conflicts and the next attempt reads the tail; a repeated request id fails the append
	// and is answered with the first outcome. A refusal or an empty decision is not trusted
	// as the answer before looking up the request id (it may be a repeat of a command the
	// state has moved past), and an expected version is checked against a read version.
	optimistic := ce.ok && !cmd.New && !meta.DryRun && cmd.Expected == 0
	for attempt := 0; ; attempt++ {
		var prior *eventstore.PriorRequest
		skip := (cmd.New && attempt == 0 && !ce.ok) || (optimistic && attempt == 0)
		if !skip {
			st, p, err := h.store.LoadForCommandAfter(ctx, streamID, meta.SchoolID, meta.RequestID, ce.st)
			if err != nil {
				return Result[S]{}, err
			}
			ce.ok = false // until the tail is folded
			for _, e := range st.Events {
				m, err := e.Decode()
				if err != nil {
					return Result[S]{}, err
				}
				ce.state = h.agg.Evolve(ce.state, m)
			}
			st.Events = nil
			ce.st, ce.ok, prior = st, true, p
		}
		ce.ok = true
		if prior != nil {
			if !prior.Matches(meta.Fingerprint) {
				return Result[S]{}, reused()
			}
			return Result[S]{Outcome: prior.Outcome, Repeated: true}, nil
		}
		st := ce.st
		if st.Version > 0 && st.SchoolID != meta.SchoolID {
			return Result[S]{}, errs.NotFound(h.agg.Type, cmd.ID)
		}
		if cmd.Expected != 0 && cmd.Expected != st.Version {
			return Result[S]{}, fmt.Errorf("%s is at version %d, not %d: %w", streamID, st.Version, cmd.Expected, errs.ErrConflict)
		}
		d, err := cmd.Decide(ce.state)
		if optimistic && attempt == 0 && (err != nil || len(d.Events) == 0) {
			continue
		}
		if err != nil {
			return Result[S]{}, err
		}
		if len(d.Events) == 0 {
			return Result[S]{Outcome: eventstore.Outcome{StreamID: streamID, Version: st.Version}}, nil
		}
		if meta.DryRun {
			if err := h.store.CheckUniqueKeys(ctx, streamID, d.UniqueKeys); err != nil {
				return Result[S]{}, err
			}
			return Result[S]{Outcome: eventstore.Outcome{StreamID: streamID, Version: st.Version}, DryRun: true}, nil
		}
		stored, res, err := h.append(ctx, meta, streamID, st, d)
		if errors.Is(err, errs.ErrConflict) && cmd.Expected == 0 && attempt < h.retries {
			continue
		}
		if err != nil || res.Repeated {
			return res, err
		}
		for _, m := range d.Events {
			ce.state = h.agg.Evolve(ce.state, m)
		}
		last := stored[len(stored)-1]
		ce.st = eventstore.Stream{ID: streamID, SchoolID: meta.SchoolID, Version: last.Version, LastHash: last.Hash}
		return res, nil
	}
}

// isRefusal reports whether err is an answer about the command (the cached state is fine).
func isRefusal(err error) bool {
	if _, ok := errs.As[*errs.RuleError](err); ok {
		return true
	}
	if _, ok := errs.As[*errs.InvalidError](err); ok {
		return true
	}
	if _, ok := errs.As[*errs.NotFoundError](err); ok {
		return true
	}
	return errors.Is(err, errs.ErrConflict)
}
