package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"houqin.dev/platform/bus"
	"houqin.dev/platform/event"
	"houqin.dev/platform/eventstore"
	"houqin.dev/platform/outbox"
	"houqin.dev/platform/runtime"
)

// Rate is how fast a fixed amount of work went.
type Rate struct {
	Events  int     `json:"events"`
	Seconds float64 `json:"seconds"`
	PerSec  float64 `json:"per_sec"`
}

func newRate(n int, d time.Duration) Rate {
	return Rate{Events: n, Seconds: d.Seconds(), PerSec: float64(n) / d.Seconds()}
}

// streamConfig is how the assets service keeps its stream on one node (assets.Config defaults).
var streamConfig = bus.StreamConfig{Replicas: 1, Duplicates: 2 * time.Minute}

const relayDB = "relay_bench"

// measureRelay fills a fresh event store's outbox with the corpus while no relay runs, then
// starts the real relay and times it until the outbox is empty and HOUQIN_ASSETS holds every
// event. The stream is left full for the projection measurement.
func measureRelay(ctx context.Context, e *env, c *corpus, log *slog.Logger) (Rate, error) {
	pool, err := e.database(ctx, relayDB, 8)
	if err != nil {
		return Rate{}, err
	}
	defer pool.Close()
	if err := eventstore.Migrate(ctx, pool); err != nil {
		return Rate{}, err
	}
	if err := fillOutbox(ctx, pool, assetsService, c.events); err != nil {
		return Rate{}, err
	}
	nc, js, err := e.connect("bench-relay")
	if err != nil {
		return Rate{}, err
	}
	defer nc.Close()
	if err := freshStream(ctx, js, assetsService); err != nil {
		return Rate{}, err
	}
	if err := checkpoint(ctx, pool); err != nil {
		return Rate{}, err
	}
	d, err := timeRelay(ctx, pool, nc, len(c.events), log)
	if err != nil {
		return Rate{}, err
	}
	if err := expectMessages(ctx, js, assetsService, len(c.events)); err != nil {
		return Rate{}, err
	}
	return newRate(len(c.events), d), nil
}

// timeRelay runs the relay from a full outbox until it has published n events and deleted
// their rows.
func timeRelay(ctx context.Context, pool *pgxpool.Pool, nc *nats.Conn, n int, log *slog.Logger) (time.Duration, error) {
	var published atomic.Int64
	all := make(chan struct{})
	var once sync.Once
	relay, err := outbox.New(pool, nc, assetsService, log.With("bench", "relay"), outbox.Options{Batch: 1000,
		// Counting acknowledged batches tells when to look at the outbox, without polling
		// the table while the relay works on it.
		AfterPublish: func(k int) error {
			if published.Add(int64(k)) >= int64(n) {
				once.Do(func() { close(all) })
			}
			return nil
		}})
	if err != nil {
		return 0, err
	}
	start := time.Now()
	stop := runtime.Go(ctx, relay.Run)
	defer stop() //nolint:errcheck // Run returns nil once cancelled
	select {
	case <-all:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	// The last batch's rows are deleted right after its acks.
	if err := waitOutboxEmpty(ctx, pool, time.Minute); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// fillOutbox writes events and their outbox rows as eventstore.Append would have, with COPY
// in large transactions: this is set-up, not measured.
func fillOutbox(ctx context.Context, pool *pgxpool.Pool, service string, events []event.Event) error {
	const chunk = 10000
	for lo := 0; lo < len(events); lo += chunk {
		part := events[lo:min(lo+chunk, len(events))]
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"event_id", "stream_id", "stream_type", "version",
				"school_id", "event_type", "payload", "occurred_at", "recorded_at", "actor", "correlation_id", "causation_id",
				"trace_parent", "policy_version", "prev_hash", "hash"},
				pgx.CopyFromSlice(len(part), func(i int) ([]any, error) {
					e := part[i]
					return []any{e.ID, e.StreamID, e.StreamType, e.Version, e.SchoolID, e.Type, e.Payload, e.OccurredAt,
						e.RecordedAt, e.Actor, e.CorrelationID, e.CausationID, e.TraceParent, e.PolicyVersion, e.PrevHash, e.Hash}, nil
				})); err != nil {
				return err
			}
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"outbox"}, []string{"event_id", "subject"},
				pgx.CopyFromSlice(len(part), func(i int) ([]any, error) {
					return []any{part[i].ID, subject(service, part[i])}, nil
				}))
			return err
		})
		if err != nil {
			return fmt.Errorf("bench: fill outbox: %w", err)
		}
	}
	return nil
}

// freshStream (re)creates service's stream empty, with the assets service's settings.
func freshStream(ctx context.Context, js jetstream.JetStream, service string) error {
	if err := js.DeleteStream(ctx, bus.StreamName(service)); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return err
	}
	_, err := bus.EnsureStream(ctx, js, service, streamConfig)
	return err
}

// expectMessages checks service's stream holds exactly n messages.
func expectMessages(ctx context.Context, js jetstream.JetStream, service string, n int) error {
	st, err := js.Stream(ctx, bus.StreamName(service))
	if err != nil {
		return err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return err
	}
	if info.State.Msgs != uint64(n) {
		return fmt.Errorf("bench: stream %s holds %d messages, want %d", bus.StreamName(service), info.State.Msgs, n)
	}
	return nil
}

// rawPublishService names the baseline's stream, beside HOUQIN_ASSETS with the same settings.
const rawPublishService = "rawpublish"

// measureRawPublish is the bus's limit: the corpus published straight to a fresh stream with
// async publish, the same messages (headers, Nats-Msg-Id, payload) the relay sends.
func measureRawPublish(ctx context.Context, e *env, c *corpus) (Rate, error) {
	nc, _, err := e.connect("bench-raw-publish")
	if err != nil {
		return Rate{}, err
	}
	defer nc.Close()
	var failed atomic.Int64
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4000),
		jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) { failed.Add(1) }))
	if err != nil {
		return Rate{}, err
	}
	if err := freshStream(ctx, js, rawPublishService); err != nil {
		return Rate{}, err
	}
	defer js.DeleteStream(context.WithoutCancel(ctx), bus.StreamName(rawPublishService)) //nolint:errcheck // clean-up only
	d, err := publishAll(ctx, js, rawPublishService, c.events)
	if err != nil {
		return Rate{}, err
	}
	if n := failed.Load(); n > 0 {
		return Rate{}, fmt.Errorf("bench: %d raw publishes failed", n)
	}
	if err := expectMessages(ctx, js, rawPublishService, len(c.events)); err != nil {
		return Rate{}, err
	}
	return newRate(len(c.events), d), nil
}

// publishAll publishes events as service with async publish and waits for every ack.
func publishAll(ctx context.Context, js jetstream.JetStream, service string, events []event.Event) (time.Duration, error) {
	start := time.Now()
	for _, e := range events {
		msg := bus.ToMsg(subject(service, e), e)
		for {
			_, err := js.PublishMsgAsync(msg)
			if err == nil {
				break
			}
			// A full window that did not drain within the stall wait: try again.
			if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				return 0, err
			}
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(time.Minute):
		return 0, fmt.Errorf("bench: %d publish acks missing after a minute", js.PublishAsyncPending())
	}
	return time.Since(start), nil
}
