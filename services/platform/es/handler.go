// Package es runs commands against event-sourced aggregates: load the stream (and the request
// id) in one round trip, fold it into state, let the pure decider decide, and append the events
// at the expected version. Conflicts are retried a few times; a repeated request id returns the
// first outcome.
package es

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	"houqin.dev/platform/event"
	"houqin.dev/platform/eventstore"
)

// Aggregate describes one aggregate type to the handler.
type Aggregate[S any] struct {
	// Type is the aggregate type: the stream id prefix and the subject token ("asset").
	Type string
	// Initial is the state of a stream with no events.
	Initial func() S
	// Evolve folds one decoded event into the state. It must be pure.
	Evolve func(state S, payload proto.Message) S
}

// Meta is what the caller brings to a command.
type Meta struct {
	RequestID     string
	SchoolID      string
	Actor         string
	CorrelationID string
	CausationID   string
	TraceParent   string
	// Fingerprint identifies the command's content, so a reused request id carrying a
	// different command is refused rather than answered with another command's result.
	Fingerprint []byte
	// DryRun (a request's validate_only) runs the command as far as the append — input, state,
	// decision, unique keys — and writes nothing: the answer is what the command would get now.
	DryRun bool
}

// Validate checks the parts a client supplies.
func (m Meta) Validate() error {
	var v errs.Violations
	if n := len(m.RequestID); n < 8 || n > 64 {
		v.Add("request_id", "请求编号须为8–64个字符 / request_id must be 8–64 characters")
	}
	if m.SchoolID == "" {
		v.Add("school_id", "必填 / required")
	} else if !event.ValidToken(m.SchoolID) {
		v.Add("school_id", "学校编号只能含小写字母、数字和-，2–32个字符 / lower-case letters, digits and '-' only")
	}
	return v.Err()
}

// Decision is what a decider returns for one command.
type Decision struct {
	Events []proto.Message
	// OccurredAt is the business time of the events (default: now).
	OccurredAt time.Time
	// PolicyVersion is the version of the policy data the decision was judged against.
	PolicyVersion string
	// UniqueKeys are claimed with the events.
	UniqueKeys []eventstore.UniqueKey
}

// Command is one command on one aggregate.
type Command[S any] struct {
	// ID of the aggregate (without the type prefix).
	ID string
	// Expected, when non-zero, is the version the client saw; if the stream moved on the
	// command is Aborted without retry.
	Expected int64
	// New says the id was just minted, so there is no stream to load.
	New bool
	// Decide is the pure decision on the current state.
	Decide func(state S) (Decision, error)
}

// Result is the outcome of a command.
type Result[S any] struct {
	eventstore.Outcome
	// Repeated is set when the request id had been seen: nothing new was appended.
	Repeated bool
	// DryRun is set when the command was only checked (Meta.DryRun): nothing was appended.
	DryRun bool
}

// Handler executes commands of one aggregate type.
type Handler[S any] struct {
	store   *eventstore.Store
	agg     Aggregate[S]
	retries int
	now     func() time.Time
	cache   *stateCache[S]
}

// NewHandler returns a handler that retries a conflicting command up to retries times.
func NewHandler[S any](store *eventstore.Store, agg Aggregate[S], retries int, now func() time.Time) *Handler[S] {
	if now == nil {
		now = time.Now
	}
	return &Handler[S]{store: store, agg: agg, retries: retries, now: now}
}

// ErrRequestReused is returned when a request id comes back with a different command.
const ReasonRequestReused errs.Reason = "REQUEST_ID_REUSED"

func reused() error {
	return errs.Rule(ReasonRequestReused, "请求编号已用于另一条指令 / request_id was already used for a different command")
}

// Execute runs cmd for meta.
func (h *Handler[S]) Execute(ctx context.Context, meta Meta, cmd Command[S]) (Result[S], error) {
	if err := meta.Validate(); err != nil {
		return Result[S]{}, err
	}
	if h.cache != nil {
		return h.executeCached(ctx, meta, cmd)
	}
	streamID := event.StreamID(h.agg.Type, cmd.ID)
	for attempt := 0; ; attempt++ {
		var st eventstore.Stream
		var prior *eventstore.PriorRequest
		var err error
		if cmd.New && attempt == 0 {
			st = eventstore.Stream{ID: streamID, LastHash: event.GenesisHash}
		} else {
			st, prior, err = h.store.LoadForCommand(ctx, streamID, meta.SchoolID, meta.RequestID)
			if err != nil {
				return Result[S]{}, err
			}
		}
		if prior != nil {
			if !prior.Matches(meta.Fingerprint) {
				return Result[S]{}, reused()
			}
			return Result[S]{Outcome: prior.Outcome, Repeated: true}, nil
		}
		if st.Version > 0 && st.SchoolID != meta.SchoolID {
			// Another school's aggregate: as far as this caller knows, it does not exist.
			return Result[S]{}, errs.NotFound(h.agg.Type, cmd.ID)
		}
		if cmd.Expected != 0 && cmd.Expected != st.Version {
			return Result[S]{}, fmt.Errorf("%s is at version %d, not %d: %w", streamID, st.Version, cmd.Expected, errs.ErrConflict)
		}
		state, err := h.fold(st)
		if err != nil {
			return Result[S]{}, err
		}
		d, err := cmd.Decide(state)
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
		_, res, err := h.append(ctx, meta, streamID, st, d)
		if errors.Is(err, errs.ErrConflict) && cmd.Expected == 0 && attempt < h.retries {
			continue
		}
		return res, err
	}
}

// append appends a decision's events to a stream loaded at st. A repeated request id is
// answered with the first outcome (Repeated); a conflict is returned wrapping errs.ErrConflict.
func (h *Handler[S]) append(ctx context.Context, meta Meta, streamID string, st eventstore.Stream, d Decision) ([]event.Event, Result[S], error) {
	now := h.now()
	occurred := d.OccurredAt
	if occurred.IsZero() {
		occurred = now
	}
	evs := make([]eventstore.NewEvent, len(d.Events))
	for i, m := range d.Events {
		b, err := event.Marshal(m)
		if err != nil {
			return nil, Result[S]{}, err
		}
		evs[i] = eventstore.NewEvent{Type: event.TypeOf(m), Payload: b, OccurredAt: occurred}
	}
	stored, err := h.store.Append(ctx, eventstore.Append{
		StreamType: h.agg.Type, StreamID: streamID, SchoolID: meta.SchoolID,
		Expected: st.Version, PrevHash: st.LastHash, Events: evs,
		Metadata: eventstore.Metadata{Actor: meta.Actor, CorrelationID: meta.CorrelationID,
			CausationID: meta.CausationID, TraceParent: meta.TraceParent, PolicyVersion: d.PolicyVersion},
		Request:    &eventstore.Request{Key: meta.RequestID, Fingerprint: meta.Fingerprint},
		UniqueKeys: d.UniqueKeys,
		Now:        now,
	})
	if dup, ok := errs.As[*eventstore.DuplicateRequestError](err); ok {
		if !(&eventstore.PriorRequest{Fingerprint: dup.Fingerprint}).Matches(meta.Fingerprint) {
			return nil, Result[S]{}, reused()
		}
		return nil, Result[S]{Outcome: dup.Outcome, Repeated: true}, nil
	}
	if err != nil {
		return nil, Result[S]{}, err
	}
	out := eventstore.Outcome{StreamID: streamID, Version: stored[len(stored)-1].Version}
	for _, e := range stored {
		out.EventIDs = append(out.EventIDs, e.ID.String())
	}
	return stored, Result[S]{Outcome: out}, nil
}

// Load returns the current state of an aggregate of school, and its version. An aggregate of
// another school is reported as not found.
func (h *Handler[S]) Load(ctx context.Context, school, id string) (S, int64, error) {
	st, err := h.store.Load(ctx, event.StreamID(h.agg.Type, id))
	if err != nil {
		var zero S
		return zero, 0, err
	}
	if st.Version == 0 || st.SchoolID != school {
		var zero S
		return zero, 0, errs.NotFound(h.agg.Type, id)
	}
	s, err := h.fold(st)
	return s, st.Version, err
}

func (h *Handler[S]) fold(st eventstore.Stream) (S, error) {
	s := h.agg.Initial()
	for _, e := range st.Events {
		m, err := e.Decode()
		if err != nil {
			return s, err
		}
		s = h.agg.Evolve(s, m)
	}
	return s, nil
}
