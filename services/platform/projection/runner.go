// Package projection runs read-model projections: it consumes a service stream with a durable
// pull consumer, applies a batch of events and stores the checkpoint (stream sequence) in the
// same PostgreSQL transaction, and acknowledges only after the commit. Anything at or below
// the checkpoint is skipped, so a redelivery never applies twice: the effect is exactly once
// without trusting acks.
package projection

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"houqin.dev/platform/bus"
	"houqin.dev/platform/event"
	"houqin.dev/platform/pgkit"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate creates the checkpoint and version tables.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgkit.Migrate(ctx, pool, "projection", migrations, "migrations")
}

// Projection builds read models from events. Its tables live in a PostgreSQL schema, named
// after the projection when live and something else during a rebuild, so Setup and Apply take
// the schema to write in.
type Projection interface {
	// Name identifies the projection; it is also its live schema.
	Name() string
	// Version is the schema version of its tables and of what Apply writes into them, from 1.
	// Bump it when you change either: a runner then rebuilds the live tables from the streams
	// once before it goes on (see upgrade).
	Version() int
	// Setup creates the projection's tables in schema if they are not there.
	Setup(ctx context.Context, tx pgx.Tx, schema string) error
	// Apply applies a batch of events in stream order. It must write only through tx.
	Apply(ctx context.Context, tx pgx.Tx, schema string, events []event.Event) error
}

// Options tune a runner.
type Options struct {
	// Batch is the most events applied per transaction (default 1000).
	Batch int
	// AckWait is how long JetStream waits for an ack before redelivering (default 30 s).
	AckWait time.Duration
	// AfterCommit runs after a batch commits and before it is acknowledged. It is a test seam:
	// an error stops the runner there as a crash would; ErrSkipAck drops the ack and goes on,
	// as a lost ack would.
	AfterCommit func(lastSeq uint64) error
}

// ErrSkipAck, returned by AfterCommit, skips one ack.
var ErrSkipAck = errors.New("projection: skip ack")

// ErrGap means a batch did not start right after the checkpoint; the runner re-anchors its
// consumer at the checkpoint and goes on.
var ErrGap = errors.New("projection: gap after checkpoint")

// Stats counts what a runner did.
type Stats struct {
	Applied uint64 // events applied
	Skipped uint64 // redelivered events at or below the checkpoint
	Batches uint64
	// Rebuilds counts rebuilds this runner made because its projection's version changed.
	Rebuilds uint64
}

type counters struct{ applied, skipped, batches, rebuilds atomic.Uint64 }

// Runner applies one service stream to one projection.
type Runner struct {
	pool    *pgxpool.Pool
	js      jetstream.JetStream
	p       Projection
	owner   string
	service string
	log     *slog.Logger
	opts    Options
	stats   counters
	// services are all the streams the projection reads, set by Catalog.Start: a runner that
	// knows them upgrades the projection to its version before it consumes (see upgrade).
	services []string
}

// NewRunner returns a runner of p, kept by owner (the service whose database holds it), over
// service's stream. Services start theirs from their Catalog; a runner made here alone does
// not check the projection's version (it does not know the other streams a rebuild needs).
func NewRunner(pool *pgxpool.Pool, js jetstream.JetStream, owner string, p Projection, service string, log *slog.Logger, opts Options) *Runner {
	if opts.Batch <= 0 {
		opts.Batch = 1000
	}
	if opts.AckWait <= 0 {
		opts.AckWait = 30 * time.Second
	}
	return &Runner{pool: pool, js: js, p: p, owner: owner, service: service, opts: opts,
		log: log.With("projection", p.Name(), "owner", owner, "stream", bus.StreamName(service))}
}

// Stats returns the counts so far.
func (r *Runner) Stats() Stats {
	return Stats{Applied: r.stats.applied.Load(), Skipped: r.stats.skipped.Load(), Batches: r.stats.batches.Load(),
		Rebuilds: r.stats.rebuilds.Load()}
}

// ConsumerName is the runner's durable consumer: proj-<owner>-<projection>. Two services may
// name a projection alike; each keeps its own consumer on the stream (one shared consumer
// would hand each of them only some of the events).
func (r *Runner) ConsumerName() string { return "proj-" + r.owner + "-" + r.p.Name() }

// legacyConsumerName is the consumer of runners before the owner was part of the name.
func (r *Runner) legacyConsumerName() string { return "proj-" + r.p.Name() }

// Run applies events until ctx ends. One runner per projection and stream is active across
// processes (advisory lock); others wait. Transient errors are logged and retried; an
// AfterCommit error ends Run.
func (r *Runner) Run(ctx context.Context) error {
	if err := checkNames(r.owner, r.p.Name()); err != nil {
		return err
	}
	backoff := 100 * time.Millisecond
	for {
		var hookErr error
		err := pgkit.Lead(ctx, r.pool, pgkit.Leadership{Name: "houqin-projection-" + r.p.Name() + "-" + r.service}, r.log,
			func(ctx context.Context) error {
				err := r.lead(ctx)
				if errors.Is(err, errHook) {
					hookErr = err
				}
				return err
			})
		if ctx.Err() != nil {
			return nil
		}
		if hookErr != nil {
			return hookErr
		}
		if errors.Is(err, ErrGap) {
			r.log.Warn("re-anchoring consumer at the checkpoint", "err", err)
			backoff = 100 * time.Millisecond
		} else {
			r.log.Error("projection interrupted, retrying", "err", err, "in", backoff)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

var errHook = errors.New("projection: stopped by hook")

// Setup creates the projection's live schema and tables and its checkpoint row.
func Setup(ctx context.Context, pool *pgxpool.Pool, p Projection, services ...string) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// Concurrent CREATE … IF NOT EXISTS of the same schema can still collide (a runner
		// re-anchoring while a rebuild starts): take turns.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgkit.LockKey("houqin-projection-setup-"+p.Name())); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{p.Name()}.Sanitize()); err != nil {
			return err
		}
		if err := p.Setup(ctx, tx, p.Name()); err != nil {
			return fmt.Errorf("projection %s: setup: %w", p.Name(), err)
		}
		for _, s := range services {
			if _, err := tx.Exec(ctx, `INSERT INTO projection_checkpoints (projection, stream) VALUES ($1, $2)
				ON CONFLICT DO NOTHING`, p.Name(), bus.StreamName(s)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Checkpoint returns the last applied stream sequence of p in service's stream.
func Checkpoint(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, projection, service string) (uint64, error) {
	var seq int64
	err := q.QueryRow(ctx, `SELECT seq FROM projection_checkpoints WHERE projection=$1 AND stream=$2`,
		projection, bus.StreamName(service)).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return uint64(seq), err
}

func (r *Runner) lead(ctx context.Context) error {
	if err := Setup(ctx, r.pool, r.p, r.service); err != nil {
		return err
	}
	if r.services != nil {
		rebuilt, _, err := upgrade(ctx, r.pool, r.js, r.p, r.log, false, r.services...)
		if err != nil {
			return err
		}
		if rebuilt {
			r.stats.rebuilds.Add(1)
		}
	}
	cons, cp, err := r.anchor(ctx)
	if err != nil {
		return err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(2 * r.opts.Batch))
	if err != nil {
		return fmt.Errorf("projection: consume: %w", err)
	}
	defer it.Stop()
	// Fetching and decoding the next batch overlaps with applying this one.
	ctx, cancel := context.WithCancel(ctx)
	batches := make(chan fetched, 1)
	fetchErr := make(chan error, 1)
	go func() { fetchErr <- r.fetch(ctx, it, batches) }()
	defer func() { cancel(); <-fetchErr }()
	for {
		select {
		case b := <-batches:
			if err := r.apply(ctx, &cp, b); err != nil {
				return err
			}
		case err := <-fetchErr:
			fetchErr <- err // for the deferred wait
			return err
		}
	}
}

// fetched is a batch of messages, decoded.
type fetched struct {
	events []event.Event
	last   jetstream.Msg
}

// fetch reads batches from it and decodes them until ctx ends or an error.
func (r *Runner) fetch(ctx context.Context, it jetstream.MessagesContext, out chan<- fetched) error {
	for {
		msgs, err := nextBatch(ctx, it, make([]jetstream.Msg, 0, r.opts.Batch), r.opts.Batch)
		if err != nil {
			return err
		}
		b := fetched{events: make([]event.Event, len(msgs)), last: msgs[len(msgs)-1]}
		for i, m := range msgs {
			if b.events[i], err = bus.FromMsg(m); err != nil {
				return err
			}
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// nextBatch blocks for one message, then takes what else is already buffered, up to max.
func nextBatch(ctx context.Context, it jetstream.MessagesContext, batch []jetstream.Msg, max int) ([]jetstream.Msg, error) {
	m, err := it.Next(jetstream.NextContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("projection: next: %w", err)
	}
	batch = append(batch, m)
	for len(batch) < max {
		m, err := it.Next(jetstream.NextMaxWait(time.Millisecond))
		if errors.Is(err, nats.ErrTimeout) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("projection: next: %w", err)
		}
		batch = append(batch, m)
	}
	return batch, nil
}

// anchor returns the durable consumer positioned right after the checkpoint. A consumer whose
// acknowledged floor is not the checkpoint, or that has deliveries outstanding (a runner died
// mid-batch), is recreated at checkpoint+1: otherwise later messages could be applied before
// earlier unacknowledged ones come back, and those would then be skipped as old.
// It returns the checkpoint too; each batch checks it again under the row lock.
func (r *Runner) anchor(ctx context.Context) (jetstream.Consumer, uint64, error) {
	cp, err := Checkpoint(ctx, r.pool, r.p.Name(), r.service)
	if err != nil {
		return nil, 0, err
	}
	stream, err := r.js.Stream(ctx, bus.StreamName(r.service))
	if err != nil {
		return nil, 0, fmt.Errorf("projection: stream: %w", err)
	}
	// Upgrading from proj-<name>: the consumer of this name is created after the checkpoint like
	// any re-anchored one (nothing replayed, nothing skipped), and the old one goes. An older
	// runner of this projection cannot be using it meanwhile: it would hold the same lock.
	switch err := stream.DeleteConsumer(ctx, r.legacyConsumerName()); {
	case err == nil:
		r.log.Info("replaced the consumer of an older version", "old", r.legacyConsumerName(), "new", r.ConsumerName(), "checkpoint", cp)
	case !errors.Is(err, jetstream.ErrConsumerNotFound):
		return nil, 0, fmt.Errorf("projection: delete consumer %s: %w", r.legacyConsumerName(), err)
	}
	cons, err := stream.Consumer(ctx, r.ConsumerName())
	switch {
	case err == nil:
		info, err := cons.Info(ctx)
		if err != nil {
			return nil, 0, err
		}
		if info.AckFloor.Stream == cp && info.NumAckPending == 0 && info.Config.AckWait == r.opts.AckWait {
			return cons, cp, nil
		}
		r.log.Info("recreating consumer at the checkpoint", "checkpoint", cp,
			"ack_floor", info.AckFloor.Stream, "pending", info.NumAckPending)
		if err := stream.DeleteConsumer(ctx, r.ConsumerName()); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return nil, 0, err
		}
	case errors.Is(err, jetstream.ErrConsumerNotFound):
	default:
		return nil, 0, fmt.Errorf("projection: consumer: %w", err)
	}
	cfg := jetstream.ConsumerConfig{
		Durable:       r.ConsumerName(),
		Description:   "Houqin projection " + r.p.Name() + " of " + r.owner,
		AckPolicy:     jetstream.AckAllPolicy,
		AckWait:       r.opts.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: 4 * r.opts.Batch,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
	if cp > 0 {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = cp + 1
	}
	cons, err = stream.CreateOrUpdateConsumer(ctx, cfg)
	if err != nil {
		return nil, 0, fmt.Errorf("projection: create consumer: %w", err)
	}
	return cons, cp, nil
}

// apply applies one batch after checkpoint *cp. Only the lock holder moves the checkpoint, so
// the runner keeps it in memory and checks it under the row lock: if anything else moved it (a
// rebuild's swap), the batch rolls back and the runner re-anchors.
func (r *Runner) apply(ctx context.Context, cp *uint64, b fetched) (err error) {
	// One span per batch, linked to the traces of the commands that produced its events —
	// parsed only when the span is recorded, as most are not.
	ctx, span := otel.Tracer("houqin.dev/platform/projection").Start(ctx, "projection.apply "+r.p.Name(),
		trace.WithAttributes(attribute.Int("events", len(b.events))))
	if span.IsRecording() {
		for _, e := range b.events {
			if e.TraceParent == "" {
				continue
			}
			sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": e.TraceParent}))
			if sc.IsValid() {
				span.AddLink(trace.Link{SpanContext: sc})
			}
		}
	}
	defer func() {
		if err != nil {
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}()

	next := *cp + 1
	events := b.events[:0:0]
	for _, e := range b.events {
		if e.Sequence < next {
			continue
		}
		if e.Sequence != next {
			return fmt.Errorf("%w: sequence %d after checkpoint %d", ErrGap, e.Sequence, next-1)
		}
		events = append(events, e)
		next++
	}
	skipped := len(b.events) - len(events)
	if len(events) > 0 {
		err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
			// Lock the checkpoint before touching any table, the order a rebuild's swap
			// takes its locks in too, so the two cannot deadlock.
			var seq int64
			if err := tx.QueryRow(ctx, `SELECT seq FROM projection_checkpoints WHERE projection=$1 AND stream=$2 FOR UPDATE`,
				r.p.Name(), bus.StreamName(r.service)).Scan(&seq); err != nil {
				return fmt.Errorf("projection: checkpoint: %w", err)
			}
			if uint64(seq) != *cp {
				return fmt.Errorf("%w: the checkpoint moved from %d to %d", ErrGap, *cp, seq)
			}
			if err := r.p.Apply(ctx, tx, r.p.Name(), events); err != nil {
				return fmt.Errorf("projection %s: apply: %w", r.p.Name(), err)
			}
			_, err := tx.Exec(ctx, `UPDATE projection_checkpoints SET seq=$3, updated_at=now() WHERE projection=$1 AND stream=$2`,
				r.p.Name(), bus.StreamName(r.service), int64(next-1))
			return err
		})
		if err != nil {
			return err
		}
		*cp = next - 1
	}
	r.stats.applied.Add(uint64(len(events)))
	r.stats.skipped.Add(uint64(skipped))
	r.stats.batches.Add(1)
	if r.opts.AfterCommit != nil {
		if err := r.opts.AfterCommit(*cp); err != nil {
			if errors.Is(err, ErrSkipAck) {
				return nil
			}
			return fmt.Errorf("%w: %w", errHook, err)
		}
	}
	// AckAll: acknowledging the last message acknowledges the whole batch.
	return b.last.Ack()
}

// Lag returns how many events of the stream the projection has not applied yet: the stream's
// last sequence minus the checkpoint.
func (r *Runner) Lag(ctx context.Context) (uint64, error) {
	cp, err := Checkpoint(ctx, r.pool, r.p.Name(), r.service)
	if err != nil {
		return 0, err
	}
	stream, err := r.js.Stream(ctx, bus.StreamName(r.service))
	if err != nil {
		return 0, err
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return 0, err
	}
	if info.State.LastSeq <= cp {
		return 0, nil
	}
	return info.State.LastSeq - cp, nil
}

// Name is the projection's name.
func (r *Runner) Name() string { return r.p.Name() }

// Service is the stream's service.
func (r *Runner) Service() string { return r.service }
