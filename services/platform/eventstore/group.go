package eventstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"houqin.dev/platform/errs"
)

// Group commit: concurrent appends ride in one transaction.
//
// Each append is already one pipelined batch. With group commit on, committers take the
// appends queued at that moment (never waiting for more) and send them as one batch, so one
// transaction, one round trip and one WAL flush serve them all. If the combined transaction
// fails — a version conflict, a repeated request id, a taken unique key: all rare — each
// append of the group runs again alone and gets its own outcome, so a failure of one never
// touches the others.
type groupCommit struct {
	pool  *pgxpool.Pool
	queue chan *pending
	max   int
}

type pending struct {
	ctx  context.Context
	b    *pgx.Batch
	done chan error
}

// EnableGroupCommit starts committers goroutines that combine up to max concurrent appends
// into one transaction, until ctx ends. Call it once, before the store is used.
func (s *Store) EnableGroupCommit(ctx context.Context, committers, max int) {
	if committers <= 0 || max <= 1 {
		return
	}
	g := &groupCommit{pool: s.pool, queue: make(chan *pending, committers*max), max: max}
	for range committers {
		go g.run(ctx)
	}
	s.group = g
}

var errStopped = fmt.Errorf("eventstore: group commit stopped: %w", errs.ErrUnavailable)

func (g *groupCommit) send(ctx context.Context, b *pgx.Batch) error {
	p := &pending{ctx: ctx, b: b, done: make(chan error, 1)}
	select {
	case g.queue <- p:
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued the append may commit even if ctx ends now; the caller's request id
	// answers a retry with the outcome.
	return <-p.done
}

func (g *groupCommit) run(ctx context.Context) {
	group := make([]*pending, 0, g.max)
	for {
		group = group[:0]
		select {
		case <-ctx.Done():
			g.drainStopped()
			return
		case p := <-g.queue:
			group = append(group, p)
		}
	more:
		for len(group) < g.max {
			select {
			case p := <-g.queue:
				group = append(group, p)
			default:
				break more
			}
		}
		g.commit(ctx, group)
	}
}

func (g *groupCommit) commit(ctx context.Context, group []*pending) {
	if len(group) == 1 {
		p := group[0]
		p.done <- g.pool.SendBatch(p.ctx, p.b).Close()
		return
	}
	all := &pgx.Batch{}
	for _, p := range group {
		for _, q := range p.b.QueuedQueries {
			all.Queue(q.SQL, q.Arguments...)
		}
	}
	if err := g.pool.SendBatch(ctx, all).Close(); err == nil {
		for _, p := range group {
			p.done <- nil
		}
		return
	}
	for _, p := range group {
		p.done <- g.pool.SendBatch(p.ctx, p.b).Close()
	}
}

// drainStopped fails what is still queued when the store shuts down.
func (g *groupCommit) drainStopped() {
	for {
		select {
		case p := <-g.queue:
			p.done <- errStopped
		default:
			return
		}
	}
}
