package projection

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"houqin.dev/platform/bus"
	"houqin.dev/platform/event"
	"houqin.dev/platform/pgkit"
)

// RebuildResult says what a rebuild did.
type RebuildResult struct {
	Events   uint64
	Duration time.Duration
}

// Rebuild replays services' streams from sequence 1 into fresh tables while the live ones
// keep serving, then swaps them in one transaction.
//
// The swap locks the projection's checkpoints, so the live runner pauses; the rebuilt tables
// are first brought up to the live checkpoint, then the schemas are renamed. If the rebuild
// read further than the live runner, the checkpoint moves up to it and the live runner skips
// those events as already applied.
func Rebuild(ctx context.Context, pool *pgxpool.Pool, js jetstream.JetStream, p Projection, log *slog.Logger, services ...string) (RebuildResult, error) {
	start := time.Now()
	live := p.Name()
	tmp := live + "__rebuild"
	old := live + "__old"
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{tmp}.Sanitize()+" CASCADE; CREATE SCHEMA "+pgx.Identifier{tmp}.Sanitize()); err != nil {
			return err
		}
		return p.Setup(ctx, tx, tmp)
	}); err != nil {
		return RebuildResult{}, fmt.Errorf("projection %s: rebuild setup: %w", live, err)
	}
	if err := Setup(ctx, pool, p, services...); err != nil {
		return RebuildResult{}, err
	}

	type source struct {
		service string
		it      jetstream.MessagesContext
		pos     uint64
	}
	var res RebuildResult
	sources := make([]*source, 0, len(services))
	defer func() {
		for _, s := range sources {
			s.it.Stop()
		}
	}()
	const batchSize = 2000
	// replay applies batches into tmp until pos reaches target.
	replay := func(q pgx.Tx, s *source, target uint64) error {
		batch := make([]jetstream.Msg, 0, batchSize)
		for s.pos < target {
			var err error
			batch, err = nextBatch(ctx, s.it, batch[:0], min(batchSize, int(target-s.pos)))
			if err != nil {
				return err
			}
			events := make([]event.Event, 0, len(batch))
			for _, m := range batch {
				e, err := bus.FromMsg(m)
				if err != nil {
					return err
				}
				events = append(events, e)
				s.pos = e.Sequence
			}
			apply := func(tx pgx.Tx) error { return p.Apply(ctx, tx, tmp, events) }
			var err2 error
			if q != nil {
				err2 = apply(q)
			} else {
				err2 = pgx.BeginFunc(ctx, pool, apply)
			}
			if err2 != nil {
				return fmt.Errorf("projection %s: rebuild apply: %w", live, err2)
			}
			res.Events += uint64(len(events))
		}
		return nil
	}

	for _, svc := range services {
		stream, err := js.Stream(ctx, bus.StreamName(svc))
		if err != nil {
			return res, err
		}
		info, err := stream.Info(ctx)
		if err != nil {
			return res, err
		}
		oc, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
		if err != nil {
			return res, err
		}
		it, err := oc.Messages(jetstream.PullMaxMessages(2 * batchSize))
		if err != nil {
			return res, err
		}
		s := &source{service: svc, it: it}
		sources = append(sources, s)
		if info.State.FirstSeq > 1 {
			s.pos = info.State.FirstSeq - 1
		}
		if err := replay(nil, s, info.State.LastSeq); err != nil {
			return res, err
		}
	}

	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// No Setup may create the live schema while it is being swapped.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, pgkit.LockKey("houqin-projection-setup-"+live)); err != nil {
			return err
		}
		for _, s := range sources {
			var cp int64
			if err := tx.QueryRow(ctx, `SELECT seq FROM projection_checkpoints WHERE projection=$1 AND stream=$2 FOR UPDATE`,
				live, bus.StreamName(s.service)).Scan(&cp); err != nil {
				return err
			}
			if err := replay(tx, s, uint64(cp)); err != nil {
				return err
			}
			if s.pos > uint64(cp) {
				if _, err := tx.Exec(ctx, `UPDATE projection_checkpoints SET seq=$3, updated_at=now() WHERE projection=$1 AND stream=$2`,
					live, bus.StreamName(s.service), int64(s.pos)); err != nil {
					return err
				}
			}
		}
		_, err := tx.Exec(ctx, fmt.Sprintf(`ALTER SCHEMA %[1]s RENAME TO %[2]s; ALTER SCHEMA %[3]s RENAME TO %[1]s; DROP SCHEMA %[2]s CASCADE`,
			pgx.Identifier{live}.Sanitize(), pgx.Identifier{old}.Sanitize(), pgx.Identifier{tmp}.Sanitize()))
		return err
	})
	if err != nil {
		return res, fmt.Errorf("projection %s: swap: %w", live, err)
	}
	res.Duration = time.Since(start)
	log.Info("projection rebuilt", "projection", live, "events", res.Events, "took", res.Duration)
	return res, nil
}
