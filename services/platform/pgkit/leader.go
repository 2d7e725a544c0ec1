package pgkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Leadership describes one advisory-lock leadership.
type Leadership struct {
	// Name of the lock; one holder at a time across every process on the database.
	Name string
	// Listen, when set, is a NOTIFY channel; each notification calls OnNotify.
	Listen   string
	OnNotify func()
	// Retry is how often a standby tries for the lock (default 2 s).
	Retry time.Duration
	// Heartbeat is how often the lock connection is checked when idle (default 2 s).
	Heartbeat time.Duration
}

// Lead runs fn while this process holds the session advisory lock l.Name, so that one instance
// of a relay or projection runs at a time and the others wait as standbys.
//
// The lock lives on a dedicated connection that Lead watches: it LISTENs there when asked and
// pings it when idle. If that connection fails, the lock is gone, so fn's context is
// cancelled. Lead returns fn's error, or ctx's once ctx ends.
func Lead(ctx context.Context, pool *pgxpool.Pool, l Leadership, log *slog.Logger, fn func(ctx context.Context) error) error {
	if l.Retry <= 0 {
		l.Retry = 2 * time.Second
	}
	if l.Heartbeat <= 0 {
		l.Heartbeat = 2 * time.Second
	}
	key := LockKey(l.Name)
	for {
		pc, err := pool.Acquire(ctx)
		if err != nil {
			return fmt.Errorf("pgkit: leader %s: %w", l.Name, err)
		}
		var got bool
		if err := pc.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
			pc.Release()
			return fmt.Errorf("pgkit: leader %s: %w", l.Name, err)
		}
		if !got {
			pc.Release()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(l.Retry):
				continue
			}
		}
		// The connection now belongs to the lock: closing it releases the lock.
		conn := pc.Hijack()
		log.Info("leader lock acquired", "lock", l.Name)
		err = lead(ctx, conn, l, fn)
		conn.Close(context.WithoutCancel(ctx))
		log.Info("leader lock released", "lock", l.Name, "err", err)
		return err
	}
}

func lead(ctx context.Context, conn *pgx.Conn, l Leadership, fn func(ctx context.Context) error) error {
	if l.Listen != "" {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.Listen}.Sanitize()); err != nil {
			return fmt.Errorf("pgkit: listen %s: %w", l.Listen, err)
		}
	}
	fctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for fctx.Err() == nil {
			wctx, wcancel := context.WithTimeout(fctx, l.Heartbeat)
			n, err := conn.WaitForNotification(wctx)
			wcancel()
			switch {
			case err == nil:
				if n != nil && l.OnNotify != nil {
					l.OnNotify()
				}
			case fctx.Err() != nil:
				return
			case pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded):
				pctx, pcancel := context.WithTimeout(fctx, 5*time.Second)
				_, perr := conn.Exec(pctx, "SELECT 1")
				pcancel()
				if perr != nil && fctx.Err() == nil {
					cancel(fmt.Errorf("pgkit: leader %s lost its connection: %w", l.Name, perr))
					return
				}
			default:
				cancel(fmt.Errorf("pgkit: leader %s lost its connection: %w", l.Name, err))
				return
			}
		}
	}()
	err := fn(fctx)
	cancel(nil)
	<-watchDone
	if cause := context.Cause(fctx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) && ctx.Err() == nil {
		return cause
	}
	return err
}
