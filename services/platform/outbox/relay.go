// Package outbox is the relay that moves committed events from a service's outbox table to its
// JetStream stream.
//
// One relay per service is active at a time (a PostgreSQL advisory lock; others wait as
// standbys). It wakes on NOTIFY, on an in-process signal, and on a poll as a safety net. It
// publishes a batch with async publish and Nats-Msg-Id = event id, waits for every ack, and only
// then deletes the batch's rows. A crash between publishing and deleting republishes the batch,
// and JetStream drops the duplicates by message id. Rows go out in outbox order, which for one
// aggregate is commit order (its next command cannot commit before the previous one).
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"houqin.dev/platform/bus"
	"houqin.dev/platform/event"
	"houqin.dev/platform/eventstore"
	"houqin.dev/platform/pgkit"
)

// Options tune a relay.
type Options struct {
	// Batch is the most rows published per round (default 1000).
	Batch int
	// Poll is the safety-net interval when no wake-up arrives (default 1 s).
	Poll time.Duration
	// AckTimeout bounds the wait for a batch's publish acks (default 10 s).
	AckTimeout time.Duration
	// Linger is how long the relay waits after a wake-up for more commits to join the
	// batch (default 2 ms; negative: none).
	Linger time.Duration
	// AfterPublish, when set, runs after a batch is acknowledged and before its rows are
	// deleted. It is a test seam: an error stops the relay there as a crash would.
	AfterPublish func(n int) error
}

// Relay publishes one service's outbox.
type Relay struct {
	pool    *pgxpool.Pool
	js      jetstream.JetStream
	service string
	log     *slog.Logger
	opts    Options
	wake    chan struct{}
	leading atomic.Bool
}

// ErrStopped wraps the error of an AfterPublish hook.
var ErrStopped = errors.New("outbox: relay stopped by hook")

// New returns a relay for service publishing through nc.
func New(pool *pgxpool.Pool, nc *nats.Conn, service string, log *slog.Logger, opts Options) (*Relay, error) {
	if opts.Batch <= 0 {
		opts.Batch = 1000
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.AckTimeout <= 0 {
		opts.AckTimeout = 10 * time.Second
	}
	if opts.Linger == 0 {
		opts.Linger = 2 * time.Millisecond
	}
	// The relay's own JetStream context: PublishAsyncComplete then waits for its acks only.
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(2*opts.Batch))
	if err != nil {
		return nil, err
	}
	return &Relay{pool: pool, js: js, service: service, log: log.With("relay", service), opts: opts,
		wake: make(chan struct{}, 1)}, nil
}

// Wake asks the relay to look at the outbox now. It never blocks.
func (r *Relay) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run relays until ctx ends. While another process holds the service's relay lock it waits as
// a standby. Errors of the database or the bus are logged and retried; only an AfterPublish
// hook's error ends Run early.
func (r *Relay) Run(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for {
		err := pgkit.Lead(ctx, r.pool, pgkit.Leadership{
			Name:     "houqin-relay-" + r.service,
			Listen:   eventstore.NotifyChannel(r.service),
			OnNotify: r.Wake,
		}, r.log, r.lead)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrStopped) {
			return err
		}
		r.log.Error("relay interrupted, retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// Leading reports whether this relay holds its service's relay lock now.
func (r *Relay) Leading() bool { return r.leading.Load() }

func (r *Relay) lead(ctx context.Context) error {
	r.leading.Store(true)
	defer r.leading.Store(false)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.wake:
			// Let a burst of commits gather into one batch: a round of select, publish
			// and delete per command would cost more than the few milliseconds waited.
			if r.opts.Linger > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(r.opts.Linger):
				}
			}
		case <-timer.C:
		}
		if _, err := r.Drain(ctx); err != nil {
			return err
		}
		timer.Reset(r.opts.Poll)
	}
}

type row struct {
	id      int64
	subject string
	ev      event.Event
}

// Drain publishes everything in the outbox now and returns how many events went out. It does
// not take the relay lock: Run calls it as leader, and shutdown calls it to flush.
func (r *Relay) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		rows, err := r.next(ctx)
		if err != nil {
			return total, err
		}
		if len(rows) == 0 {
			return total, nil
		}
		if err := r.publish(ctx, rows); err != nil {
			return total, err
		}
		if r.opts.AfterPublish != nil {
			if err := r.opts.AfterPublish(len(rows)); err != nil {
				return total, fmt.Errorf("%w: %w", ErrStopped, err)
			}
		}
		ids := make([]int64, len(rows))
		for i, rw := range rows {
			ids[i] = rw.id
		}
		// The delete need not wait for a WAL flush: if a crash loses it, the rows are
		// published again and JetStream drops them as duplicates.
		b := &pgx.Batch{}
		b.Queue(`SELECT set_config('synchronous_commit', 'off', true)`)
		b.Queue(`DELETE FROM outbox WHERE id = ANY($1)`, ids)
		if err := r.pool.SendBatch(ctx, b).Close(); err != nil {
			return total, fmt.Errorf("outbox: delete published rows: %w", err)
		}
		total += len(rows)
	}
}

func (r *Relay) next(ctx context.Context) ([]row, error) {
	rs, err := r.pool.Query(ctx, `SELECT o.id, o.subject, e.event_id, e.stream_id, e.stream_type, e.version,
		e.school_id, e.event_type, e.payload, e.occurred_at, e.recorded_at, e.actor, e.correlation_id,
		e.causation_id, e.trace_parent, e.policy_version, e.hash
		FROM outbox o JOIN events e ON e.event_id = o.event_id ORDER BY o.id LIMIT $1`, r.opts.Batch)
	if err != nil {
		return nil, fmt.Errorf("outbox: read: %w", err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var w row
		e := &w.ev
		if err := rs.Scan(&w.id, &w.subject, &e.ID, &e.StreamID, &e.StreamType, &e.Version, &e.SchoolID, &e.Type,
			&e.Payload, &e.OccurredAt, &e.RecordedAt, &e.Actor, &e.CorrelationID, &e.CausationID, &e.TraceParent,
			&e.PolicyVersion, &e.Hash); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rs.Err()
}

func (r *Relay) publish(ctx context.Context, rows []row) error {
	futures := make([]jetstream.PubAckFuture, len(rows))
	for i, rw := range rows {
		f, err := r.js.PublishMsgAsync(bus.ToMsg(rw.subject, rw.ev))
		if err != nil {
			return fmt.Errorf("outbox: publish %s: %w", rw.ev.ID, err)
		}
		futures[i] = f
	}
	select {
	case <-r.js.PublishAsyncComplete():
	case <-time.After(r.opts.AckTimeout):
		return fmt.Errorf("outbox: %d publish acks missing after %v", r.js.PublishAsyncPending(), r.opts.AckTimeout)
	case <-ctx.Done():
		return ctx.Err()
	}
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("outbox: publish %s: %w", rows[i].ev.ID, err)
		}
	}
	return nil
}

// Pending returns the number of rows waiting and the age of the oldest one (outbox lag).
func Pending(ctx context.Context, pool *pgxpool.Pool) (n int64, oldest time.Duration, err error) {
	var at *time.Time
	err = pool.QueryRow(ctx, `SELECT count(*), min(e.recorded_at) FROM outbox o JOIN events e ON e.event_id = o.event_id`).
		Scan(&n, &at)
	if at != nil {
		oldest = time.Since(*at)
	}
	return n, oldest, err
}
