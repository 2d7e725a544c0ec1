// Package eventstore is a service's PostgreSQL event store: append events at an expected
// version together with their outbox rows, the request's idempotency record and any unique
// keys, all in one transaction and one round trip; load streams; verify hash chains.
package eventstore

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"houqin.dev/platform/errs"
	"houqin.dev/platform/event"
	"houqin.dev/platform/pgkit"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate creates the event store tables.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgkit.Migrate(ctx, pool, "eventstore", migrations, "migrations")
}

// NotifyChannel is the LISTEN/NOTIFY channel that wakes a service's relay.
func NotifyChannel(service string) string { return "houqin_outbox_" + service }

// Store appends to and reads from one service's event store.
type Store struct {
	pool    *pgxpool.Pool
	service string
	wake    chan struct{}
	hooks   []func()
	group   *groupCommit
}

// New returns a store for service (the first token of its bus subjects).
func New(pool *pgxpool.Pool, service string) *Store {
	return &Store{pool: pool, service: service, wake: make(chan struct{}, 1)}
}

// Service is the name the store publishes under.
func (s *Store) Service() string { return s.service }

// Pool is the store's connection pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// OnAppend registers f to be called after every committed append: an in-process relay uses
// it to wake at once instead of waiting for NOTIFY.
func (s *Store) OnAppend(f func()) { s.hooks = append(s.hooks, f) }

// RunNotifier wakes relays in other processes: after appends it sends NOTIFY on the service's
// channel, one per burst, unless local() says this process's own relay is the active one
// (OnAppend already woke it). A NOTIFY inside the append transaction would take
// PostgreSQL's global notify lock at commit and serialise every command's commit behind it;
// sent from here it never blocks a command, and with synchronous_commit off it does not wait
// for a WAL flush either (a lost notification only delays the relay to its next poll).
func (s *Store) RunNotifier(ctx context.Context, local func() bool) {
	ch := NotifyChannel(s.service)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
			if local != nil && local() {
				continue
			}
			_, _ = s.pool.Exec(ctx, `SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, '')`, ch)
			// Coalesce a burst of appends into one notification.
			select {
			case <-ctx.Done():
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
}

// NewEvent is one event to append.
type NewEvent struct {
	Type       string // full protobuf name
	Payload    []byte
	OccurredAt time.Time
}

// Metadata is what every event of one command shares.
type Metadata struct {
	Actor         string
	CorrelationID string
	CausationID   string
	TraceParent   string
	PolicyVersion string
}

// Request records a client request id in the same transaction as its events.
type Request struct {
	Key         string
	Fingerprint []byte
}

// UniqueKey claims a value unique within Scope. Reason is returned to the client when the
// value is already taken by another stream.
type UniqueKey struct {
	Scope   string
	Key     string
	Reason  errs.Reason
	Message string
}

// Append is one command's write.
type Append struct {
	StreamType string
	StreamID   string
	SchoolID   string
	// Expected is the stream's version before this append (0 for a new stream) and PrevHash
	// the hash of its last event; both come from the Stream the decision was made on.
	Expected   int64
	PrevHash   []byte
	Events     []NewEvent
	Metadata   Metadata
	Request    *Request
	UniqueKeys []UniqueKey
	// Now is the record time (defaults to the wall clock).
	Now time.Time
}

// Outcome is what a command did; it is stored with the request id and returned for repeats.
type Outcome struct {
	StreamID string   `json:"stream_id"`
	Version  int64    `json:"version"`
	EventIDs []string `json:"event_ids,omitempty"`
}

// DuplicateRequestError means the request id was used before: Outcome is the first result.
type DuplicateRequestError struct {
	Outcome     Outcome
	Fingerprint []byte
}

func (e *DuplicateRequestError) Error() string { return "request id already used" }

// Stream is a loaded stream.
type Stream struct {
	ID       string
	SchoolID string
	Events   []event.Event
	Version  int64
	LastHash []byte
}

// PriorRequest is a request id found already recorded.
type PriorRequest struct {
	Outcome     Outcome
	Fingerprint []byte
}

// Matches reports whether a repeated request carries the same command as the first.
func (p *PriorRequest) Matches(fingerprint []byte) bool {
	return bytes.Equal(p.Fingerprint, fingerprint)
}

const eventColumns = `event_id, stream_id, stream_type, version, school_id, event_type, payload,
	occurred_at, recorded_at, actor, correlation_id, causation_id, trace_parent, policy_version, prev_hash, hash`

// Append writes a command's events in one transaction, sent as a single pipelined batch: the
// request id first (a repeat fails before anything else), then unique keys, events and outbox
// rows. It returns the stored events, or:
//   - *DuplicateRequestError when the request id was already recorded,
//   - *errs.RuleError with the key's reason when a unique key is taken,
//   - an error wrapping errs.ErrConflict when another writer took the version first.
func (s *Store) Append(ctx context.Context, a Append) ([]event.Event, error) {
	if len(a.Events) == 0 {
		return nil, errors.New("eventstore: append of no events")
	}
	now := a.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.Truncate(time.Microsecond)
	prev := a.PrevHash
	switch {
	case a.Expected == 0:
		prev = event.GenesisHash
	case len(prev) == 0:
		return nil, fmt.Errorf("eventstore: append to %s at version %d without the previous hash", a.StreamID, a.Expected)
	}

	stored := make([]event.Event, len(a.Events))
	ids := make([]string, len(a.Events))
	for i, ne := range a.Events {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, err
		}
		e := event.Event{
			ID: id, StreamID: a.StreamID, StreamType: a.StreamType, Version: a.Expected + int64(i) + 1,
			SchoolID: a.SchoolID, Type: ne.Type, Payload: ne.Payload,
			OccurredAt: ne.OccurredAt.Truncate(time.Microsecond), RecordedAt: now,
			Actor: a.Metadata.Actor, CorrelationID: a.Metadata.CorrelationID, CausationID: a.Metadata.CausationID,
			TraceParent: a.Metadata.TraceParent, PolicyVersion: a.Metadata.PolicyVersion,
			PrevHash: prev,
		}
		if e.OccurredAt.IsZero() {
			e.OccurredAt = now
		}
		e.Hash = e.ComputeHash(prev)
		prev = e.Hash
		stored[i] = e
		ids[i] = id.String()
	}
	outcome := Outcome{StreamID: a.StreamID, Version: stored[len(stored)-1].Version, EventIDs: ids}

	// One statement writes the request id, the unique keys, the events and their outbox
	// rows: one parse, one plan, one round trip.
	var reqKey string
	var fingerprint, out []byte
	if a.Request != nil {
		reqKey, fingerprint = a.Request.Key, a.Request.Fingerprint
		out, _ = json.Marshal(outcome)
	}
	scopes, keys := make([]string, len(a.UniqueKeys)), make([]string, len(a.UniqueKeys))
	for i, k := range a.UniqueKeys {
		scopes[i], keys[i] = k.Scope, k.Key
	}
	n := len(stored)
	// Ids go as [16]byte: pgx encodes that directly, a uuid.UUID only via its text form.
	evIDs, versions, types := make([][16]byte, n), make([]int64, n), make([]string, n)
	payloads, prevs, hashes := make([][]byte, n), make([][]byte, n), make([][]byte, n)
	occurred, subjects := make([]time.Time, n), make([]string, n)
	for i, e := range stored {
		subject, err := event.Subject(s.service, e.SchoolID, e.StreamType, e.Type)
		if err != nil {
			return nil, err
		}
		evIDs[i], versions[i], types[i] = [16]byte(e.ID), e.Version, e.Type
		payloads[i], prevs[i], hashes[i] = e.Payload, e.PrevHash, e.Hash
		occurred[i], subjects[i] = e.OccurredAt, subject
	}
	m := a.Metadata
	b := &pgx.Batch{}
	b.Queue(appendSQL, a.SchoolID, reqKey, fingerprint, out, a.StreamID, scopes, keys, a.StreamType, now,
		m.Actor, m.CorrelationID, m.CausationID, m.TraceParent, m.PolicyVersion,
		evIDs, versions, types, payloads, occurred, prevs, hashes, subjects)
	// A batch without explicit BEGIN runs as one implicit transaction: all or nothing.
	var err error
	if s.group != nil {
		err = s.group.send(ctx, b)
	} else {
		err = s.pool.SendBatch(ctx, b).Close()
	}
	if err != nil {
		return nil, s.appendError(ctx, a, err)
	}
	for _, h := range s.hooks {
		h()
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return stored, nil
}

// appendSQL is the whole append. The parts of a WITH run in no set order, so which unique
// violation fires first is not known; appendError therefore asks about the request id before
// anything else. Outbox rows are inserted in version order (their ids are publication order).
const appendSQL = `WITH r AS (
    INSERT INTO requests (school_id, request_id, fingerprint, outcome)
    SELECT $1, $2, $3, $4 WHERE $2::text <> ''
), k AS (
    INSERT INTO unique_keys (scope, key, stream_id)
    SELECT u.s, u.k, $5 FROM unnest($6::text[], $7::text[]) AS u(s, k)
), e AS (
    INSERT INTO events (event_id, stream_id, stream_type, version, school_id, event_type, payload, occurred_at,
        recorded_at, actor, correlation_id, causation_id, trace_parent, policy_version, prev_hash, hash)
    SELECT x.id, $5, $8, x.v, $1, x.t, x.p, x.o, $9, $10, $11, $12, $13, $14, x.ph, x.h
    FROM unnest($15::uuid[], $16::bigint[], $17::text[], $18::bytea[], $19::timestamptz[], $20::bytea[], $21::bytea[])
        AS x(id, v, t, p, o, ph, h)
    RETURNING event_id, version
)
INSERT INTO outbox (event_id, subject)
SELECT e.event_id, y.s FROM e JOIN unnest($15::uuid[], $22::text[]) AS y(id, s) ON y.id = e.event_id
ORDER BY e.version`

func (s *Store) appendError(ctx context.Context, a Append, err error) error {
	constraint, ok := pgkit.IsUniqueViolation(err)
	if !ok {
		return fmt.Errorf("eventstore: append to %s: %w", a.StreamID, err)
	}
	// A repeated request id wins over any other violation of the same append.
	if a.Request != nil {
		prior, lerr := s.LookupRequest(ctx, a.SchoolID, a.Request.Key)
		if lerr != nil {
			return lerr
		}
		if prior != nil {
			return &DuplicateRequestError{Outcome: prior.Outcome, Fingerprint: prior.Fingerprint}
		}
	}
	switch constraint {
	case "requests_pkey": // the first request with this id was rolled back meanwhile
		return fmt.Errorf("eventstore: request %s raced: %w", a.Request.Key, errs.ErrConflict)
	case "events_stream_version":
		return fmt.Errorf("eventstore: %s moved past version %d: %w", a.StreamID, a.Expected, errs.ErrConflict)
	case "unique_keys_pkey":
		if err := s.CheckUniqueKeys(ctx, a.StreamID, a.UniqueKeys); err != nil {
			return err
		}
		// The key was taken by a concurrent writer that has since gone: try again.
		return fmt.Errorf("eventstore: unique key race on %s: %w", a.StreamID, errs.ErrConflict)
	}
	return fmt.Errorf("eventstore: append to %s: %w", a.StreamID, err)
}

// CheckUniqueKeys returns the refusal an append of streamID claiming keys would get for a key
// held by another stream — the key's reason, with the holder's stream id in the metadata — or
// nil when every key is free or already streamID's. A validate-only command asks it instead of
// appending; a free key may still be taken before a later append.
func (s *Store) CheckUniqueKeys(ctx context.Context, streamID string, keys []UniqueKey) error {
	for _, k := range keys {
		var owner string
		err := s.pool.QueryRow(ctx, `SELECT stream_id FROM unique_keys WHERE scope=$1 AND key=$2`, k.Scope, k.Key).Scan(&owner)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("eventstore: unique key %s/%s: %w", k.Scope, k.Key, err)
		}
		if owner != streamID {
			return errs.Rule(k.Reason, k.Message, "scope", k.Scope, "key", k.Key, "stream_id", owner)
		}
	}
	return nil
}

// ScopeKeys returns the keys claimed in each of scopes (an index range per scope). A scope
// whose keys are numbered 1, 2, … — each claimed as the count plus one, in the append that
// needs it — is a version several streams contend on: two appends decided on the same count
// claim the same key and only one commits.
func (s *Store) ScopeKeys(ctx context.Context, scopes ...string) (map[string][]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT scope, key FROM unique_keys WHERE scope = ANY($1)`, scopes)
	if err != nil {
		return nil, fmt.Errorf("eventstore: scope keys: %w", err)
	}
	out := map[string][]string{}
	for rows.Next() {
		var scope, key string
		if err := rows.Scan(&scope, &key); err != nil {
			return nil, fmt.Errorf("eventstore: scope keys: %w", err)
		}
		out[scope] = append(out[scope], key)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("eventstore: scope keys: %w", err)
	}
	return out, nil
}

// LookupRequest returns the recorded outcome of a request id, or nil.
func (s *Store) LookupRequest(ctx context.Context, school, key string) (*PriorRequest, error) {
	var p PriorRequest
	var out []byte
	err := s.pool.QueryRow(ctx, `SELECT fingerprint, outcome FROM requests WHERE school_id=$1 AND request_id=$2`,
		school, key).Scan(&p.Fingerprint, &out)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("eventstore: lookup request: %w", err)
	}
	if err := json.Unmarshal(out, &p.Outcome); err != nil {
		return nil, err
	}
	return &p, nil
}

// Load reads a whole stream in version order. A stream that does not exist has version 0.
func (s *Store) Load(ctx context.Context, streamID string) (Stream, error) {
	st, _, err := s.LoadForCommand(ctx, streamID, "", "")
	return st, err
}

// LoadForCommand reads a stream and, in the same round trip, looks up the request id (when
// given) so a repeated command is answered without deciding again.
func (s *Store) LoadForCommand(ctx context.Context, streamID, school, requestKey string) (Stream, *PriorRequest, error) {
	return s.LoadForCommandAfter(ctx, streamID, school, requestKey, Stream{})
}

// LoadForCommandAfter is LoadForCommand for a caller that already holds the stream up to
// known.Version (a cached state): it reads only the events after it. The returned Stream has
// those events and the stream's current version, hash and school.
func (s *Store) LoadForCommandAfter(ctx context.Context, streamID, school, requestKey string, known Stream) (Stream, *PriorRequest, error) {
	b := &pgx.Batch{}
	var prior *PriorRequest
	if requestKey != "" {
		b.Queue(`SELECT fingerprint, outcome FROM requests WHERE school_id=$1 AND request_id=$2`, school, requestKey).
			QueryRow(func(row pgx.Row) error {
				var p PriorRequest
				var out []byte
				err := row.Scan(&p.Fingerprint, &out)
				if errors.Is(err, pgx.ErrNoRows) {
					return nil
				}
				if err != nil {
					return err
				}
				if err := json.Unmarshal(out, &p.Outcome); err != nil {
					return err
				}
				prior = &p
				return nil
			})
	}
	st := Stream{ID: streamID, LastHash: event.GenesisHash}
	if known.Version > 0 {
		st = Stream{ID: streamID, SchoolID: known.SchoolID, Version: known.Version, LastHash: known.LastHash}
	}
	b.Queue(`SELECT `+eventColumns+` FROM events WHERE stream_id=$1 AND version > $2 ORDER BY version`, streamID, known.Version).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				e, err := scanEvent(rows)
				if err != nil {
					return err
				}
				st.Events = append(st.Events, e)
			}
			return rows.Err()
		})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return Stream{}, nil, fmt.Errorf("eventstore: load %s: %w", streamID, err)
	}
	if n := len(st.Events); n > 0 {
		st.Version = st.Events[n-1].Version
		st.LastHash = st.Events[n-1].Hash
		st.SchoolID = st.Events[0].SchoolID
	}
	return st, prior, nil
}

// LoadType reads every stream of one aggregate type of a school, each in version order (e.g.
// a school's assets, for a stocktake's snapshot). It scans the school's events of that type:
// meant for occasional commands, not for every call.
func (s *Store) LoadType(ctx context.Context, school, streamType string) ([]Stream, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM events WHERE school_id=$1 AND stream_type=$2
		ORDER BY stream_id, version`, school, streamType)
	if err != nil {
		return nil, fmt.Errorf("eventstore: load %s of %s: %w", streamType, school, err)
	}
	defer rows.Close()
	var out []Stream
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].ID != e.StreamID {
			out = append(out, Stream{ID: e.StreamID, SchoolID: e.SchoolID})
		}
		st := &out[len(out)-1]
		st.Events = append(st.Events, e)
		st.Version, st.LastHash = e.Version, e.Hash
	}
	return out, rows.Err()
}

func scanEvent(row pgx.Row) (event.Event, error) {
	var e event.Event
	err := row.Scan(&e.ID, &e.StreamID, &e.StreamType, &e.Version, &e.SchoolID, &e.Type, &e.Payload,
		&e.OccurredAt, &e.RecordedAt, &e.Actor, &e.CorrelationID, &e.CausationID, &e.TraceParent,
		&e.PolicyVersion, &e.PrevHash, &e.Hash)
	return e, err
}

// ChainError reports where a stream's hash chain breaks.
type ChainError struct {
	StreamID string
	Version  int64
	Problem  string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("eventstore: stream %s breaks at version %d: %s", e.StreamID, e.Version, e.Problem)
}

// Verify recomputes the hash chain of a stream and returns a *ChainError at the first event
// whose version, link or content does not match what was stored.
func (s *Store) Verify(ctx context.Context, streamID string) error {
	st, err := s.Load(ctx, streamID)
	if err != nil {
		return err
	}
	return VerifyChain(st.Events)
}

// VerifyChain checks the events of one stream, in version order.
func VerifyChain(events []event.Event) error {
	prev := event.GenesisHash
	for i, e := range events {
		if e.Version != int64(i)+1 {
			return &ChainError{StreamID: e.StreamID, Version: e.Version, Problem: fmt.Sprintf("expected version %d", i+1)}
		}
		if !bytes.Equal(e.PrevHash, prev) {
			return &ChainError{StreamID: e.StreamID, Version: e.Version, Problem: "link to the previous event does not match"}
		}
		if !bytes.Equal(e.ComputeHash(prev), e.Hash) {
			return &ChainError{StreamID: e.StreamID, Version: e.Version, Problem: "content does not match its hash"}
		}
		prev = e.Hash
	}
	return nil
}

// VerifyAll checks every stream of the store and returns the broken ones.
func (s *Store) VerifyAll(ctx context.Context) (streams int, broken []error, err error) {
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM events ORDER BY stream_id, version`)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	var cur []event.Event
	flush := func() {
		if len(cur) == 0 {
			return
		}
		streams++
		if err := VerifyChain(cur); err != nil {
			broken = append(broken, err)
		}
		cur = cur[:0]
	}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return streams, broken, err
		}
		if len(cur) > 0 && cur[0].StreamID != e.StreamID {
			flush()
		}
		cur = append(cur, e)
	}
	flush()
	return streams, broken, rows.Err()
}
