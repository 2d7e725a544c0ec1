// Package stocktakes is the read model of stocktakes (清查/盘点): per session and room, the
// items expected, the scans by outcome, the differences at closing and the adjustments approved.
package stocktakes

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"houqin.dev/platform/event"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Projection builds the tables. Every fact is keyed so that an event applied twice (a
// redelivery) changes nothing: scans by stream position, rooms by session and room, adjustments by id.
type Projection struct{}

// Name is also the live schema.
func (Projection) Name() string { return "stocktakes" }

// Version of the tables and of what Apply writes (bump it when you change either).
func (Projection) Version() int { return 1 }

// Setup creates the tables in schema.
func (Projection) Setup(ctx context.Context, tx pgx.Tx, schema string) error {
	_, err := tx.Exec(ctx, fmt.Sprintf(`
CREATE TABLE IF NOT EXISTS %[1]s.sessions (
    stocktake_id text PRIMARY KEY,
    stream_id    text NOT NULL,
    school_id    text NOT NULL,
    started_at   timestamptz NOT NULL,
    closed_at    timestamptz
);
CREATE INDEX IF NOT EXISTS sessions_by_school ON %[1]s.sessions (school_id, started_at);
CREATE TABLE IF NOT EXISTS %[1]s.rooms (
    stocktake_id text NOT NULL,
    room         text NOT NULL,
    expected     bigint NOT NULL DEFAULT 0,
    missing      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (stocktake_id, room)
);
CREATE TABLE IF NOT EXISTS %[1]s.scans (
    stream_id    text NOT NULL,
    version      bigint NOT NULL,
    stocktake_id text NOT NULL,
    room         text NOT NULL,
    outcome      text NOT NULL,
    PRIMARY KEY (stream_id, version)
);
CREATE INDEX IF NOT EXISTS scans_by_session ON %[1]s.scans (stocktake_id);
CREATE TABLE IF NOT EXISTS %[1]s.adjustments (
    stocktake_id  text NOT NULL,
    adjustment_id text NOT NULL,
    kind          text NOT NULL,
    room          text NOT NULL,
    value_fen     bigint NOT NULL,
    approved      boolean NOT NULL DEFAULT false,
    PRIMARY KEY (stocktake_id, adjustment_id)
);`, pgx.Identifier{schema}.Sanitize()))
	return err
}

// Apply applies a batch in order.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, schema string, events []event.Event) error {
	s := pgx.Identifier{schema}.Sanitize()
	b := &pgx.Batch{}
	for _, e := range events {
		m, err := e.Decode()
		if err != nil {
			return err
		}
		switch p := m.(type) {
		case *eventsv1.StocktakeStarted:
			started := e.OccurredAt
			if p.StartedAt != nil {
				started = p.StartedAt.AsTime()
			}
			b.Queue(fmt.Sprintf(`INSERT INTO %s.sessions (stocktake_id, stream_id, school_id, started_at)
				VALUES ($1, $2, $3, $4) ON CONFLICT (stocktake_id) DO NOTHING`, s), p.StocktakeId, e.StreamID, e.SchoolID, started)
		case *eventsv1.StocktakeRoomExpected:
			if p.OutsideScope { // listed only to tell wrong room from unknown; not counted here
				continue
			}
			// The snapshot of a room is set, not added: applied twice it is the same.
			b.Queue(fmt.Sprintf(`INSERT INTO %s.rooms (stocktake_id, room, expected) VALUES ($1, $2, $3)
				ON CONFLICT (stocktake_id, room) DO UPDATE SET expected=EXCLUDED.expected`, s), p.StocktakeId, p.Room, int64(len(p.Items)))
		case *eventsv1.StocktakeItemScanned:
			// A scan is its place in the session's stream: the same event delivered again (even
			// under another message id) is counted once.
			b.Queue(fmt.Sprintf(`INSERT INTO %s.scans (stream_id, version, stocktake_id, room, outcome) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (stream_id, version) DO NOTHING`, s), e.StreamID, e.Version, p.StocktakeId, p.Room, p.Outcome)
		case *eventsv1.StocktakeRoomReconciled:
			if len(p.Missing) == 0 { // only misplaced or unknown: counted by the scans
				continue
			}
			b.Queue(fmt.Sprintf(`INSERT INTO %s.rooms (stocktake_id, room, missing) VALUES ($1, $2, $3)
				ON CONFLICT (stocktake_id, room) DO UPDATE SET missing=EXCLUDED.missing`, s), p.StocktakeId, p.Room, int64(len(p.Missing)))
		case *eventsv1.StocktakeClosed:
			closed := e.OccurredAt
			if p.ClosedAt != nil {
				closed = p.ClosedAt.AsTime()
			}
			b.Queue(fmt.Sprintf(`UPDATE %s.sessions SET closed_at=$2 WHERE stocktake_id=$1 AND closed_at IS NULL`, s), p.StocktakeId, closed)
		case *eventsv1.StocktakeAdjustmentProposed:
			b.Queue(fmt.Sprintf(`INSERT INTO %s.adjustments (stocktake_id, adjustment_id, kind, room, value_fen) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (stocktake_id, adjustment_id) DO NOTHING`, s), p.StocktakeId, p.AdjustmentId, p.Kind, p.Room, p.ValueFen)
		case *eventsv1.StocktakeAdjustmentApproved:
			b.Queue(fmt.Sprintf(`UPDATE %s.adjustments SET approved=true WHERE stocktake_id=$1 AND adjustment_id=$2`, s), p.StocktakeId, p.AdjustmentId)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// Variance is one room's variance in a session (Room empty: the session's totals).
type Variance struct {
	SessionID, StreamID, Room                                  string
	StartedAt, ClosedAt                                        time.Time // ClosedAt zero: open
	Expected, Counted, Missing, WrongRoom, Duplicates, Unknown int64
	SurplusAdjusted, SurplusAdjustedFen                        int64
	ShortageAdjusted, ShortageAdjustedFen                      int64
}

func (v *Variance) add(o Variance) {
	v.Expected += o.Expected
	v.Counted += o.Counted
	v.Missing += o.Missing
	v.WrongRoom += o.WrongRoom
	v.Duplicates += o.Duplicates
	v.Unknown += o.Unknown
	v.SurplusAdjusted += o.SurplusAdjusted
	v.SurplusAdjustedFen += o.SurplusAdjustedFen
	v.ShortageAdjusted += o.ShortageAdjusted
	v.ShortageAdjustedFen += o.ShortageAdjustedFen
}

// Reader answers from the live tables.
type Reader struct{ Pool *pgxpool.Pool }

// Variance returns school's sessions (only session when not empty), the latest started first,
// each with its totals and its rooms by name: every room expected, scanned or reconciled.
func (r Reader) Variance(ctx context.Context, school, session string) (sessions []Variance, rooms [][]Variance, err error) {
	rows, err := r.Pool.Query(ctx, `
WITH ss AS (
    SELECT stocktake_id, stream_id, started_at, closed_at FROM stocktakes.sessions
    WHERE school_id=$1 AND ($2 = '' OR stocktake_id=$2)
), sc AS (
    SELECT stocktake_id, room,
        count(*) FILTER (WHERE outcome='counted') AS counted,
        count(*) FILTER (WHERE outcome='wrong_room') AS wrong_room,
        count(*) FILTER (WHERE outcome='duplicate') AS duplicates,
        count(*) FILTER (WHERE outcome='unknown') AS unknown
    FROM stocktakes.scans WHERE stocktake_id IN (SELECT stocktake_id FROM ss) GROUP BY 1, 2
), ad AS (
    SELECT stocktake_id, room,
        count(*) FILTER (WHERE kind='surplus') AS surplus, coalesce(sum(value_fen) FILTER (WHERE kind='surplus'), 0) AS surplus_fen,
        count(*) FILTER (WHERE kind='shortage') AS shortage, coalesce(sum(value_fen) FILTER (WHERE kind='shortage'), 0) AS shortage_fen
    FROM stocktakes.adjustments WHERE approved AND stocktake_id IN (SELECT stocktake_id FROM ss) GROUP BY 1, 2
), rm AS (
    SELECT stocktake_id, room FROM stocktakes.rooms WHERE stocktake_id IN (SELECT stocktake_id FROM ss)
    UNION SELECT stocktake_id, room FROM sc UNION SELECT stocktake_id, room FROM ad
)
SELECT ss.stocktake_id, ss.stream_id, ss.started_at, ss.closed_at, rm.room,
    coalesce(r.expected, 0), coalesce(sc.counted, 0), coalesce(r.missing, 0), coalesce(sc.wrong_room, 0),
    coalesce(sc.duplicates, 0), coalesce(sc.unknown, 0),
    coalesce(ad.surplus, 0), coalesce(ad.surplus_fen, 0), coalesce(ad.shortage, 0), coalesce(ad.shortage_fen, 0)
FROM ss LEFT JOIN rm USING (stocktake_id)
LEFT JOIN stocktakes.rooms r ON r.stocktake_id=rm.stocktake_id AND r.room=rm.room
LEFT JOIN sc ON sc.stocktake_id=rm.stocktake_id AND sc.room=rm.room
LEFT JOIN ad ON ad.stocktake_id=rm.stocktake_id AND ad.room=rm.room
ORDER BY ss.started_at DESC, ss.stocktake_id, rm.room`, school, session)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var v Variance
		var closed *time.Time
		var room *string
		if err := rows.Scan(&v.SessionID, &v.StreamID, &v.StartedAt, &closed, &room, &v.Expected, &v.Counted, &v.Missing,
			&v.WrongRoom, &v.Duplicates, &v.Unknown, &v.SurplusAdjusted, &v.SurplusAdjustedFen,
			&v.ShortageAdjusted, &v.ShortageAdjustedFen); err != nil {
			return nil, nil, err
		}
		if closed != nil {
			v.ClosedAt = *closed
		}
		if n := len(sessions); n == 0 || sessions[n-1].SessionID != v.SessionID {
			sessions = append(sessions, Variance{SessionID: v.SessionID, StreamID: v.StreamID, StartedAt: v.StartedAt, ClosedAt: v.ClosedAt})
			rooms = append(rooms, nil)
		}
		if room == nil { // a session with no room yet
			continue
		}
		v.Room = *room
		sessions[len(sessions)-1].add(v)
		rooms[len(rooms)-1] = append(rooms[len(rooms)-1], v)
	}
	return sessions, rooms, rows.Err()
}
