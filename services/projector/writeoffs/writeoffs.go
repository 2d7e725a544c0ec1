// Package writeoffs is the read model of write-offs (报废/报损) by approval tier: each request
// with its tier, values and outcome.
package writeoffs

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/event"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Projection builds the table.
type Projection struct{}

// Name is also the live schema.
func (Projection) Name() string { return "writeoffs" }

// Version of the tables and of what Apply writes (bump it when you change either).
func (Projection) Version() int { return 1 }

// Setup creates the table in schema.
func (Projection) Setup(ctx context.Context, tx pgx.Tx, schema string) error {
	_, err := tx.Exec(ctx, fmt.Sprintf(`
CREATE TABLE IF NOT EXISTS %[1]s.writeoffs (
    write_off_id       text PRIMARY KEY,
    stream_id          text NOT NULL,
    school_id          text NOT NULL,
    asset_id           text NOT NULL,
    kind               text NOT NULL,
    tier               text NOT NULL,
    policy_version     text NOT NULL,
    value_fen          bigint NOT NULL,
    residual_value_fen bigint NOT NULL,
    requested_on       date NOT NULL,
    written_off_on     date,
    rejected_at        timestamptz,
    disposed_on        date,
    proceeds_fen       bigint
);
CREATE INDEX IF NOT EXISTS writeoffs_by_school_requested ON %[1]s.writeoffs (school_id, requested_on);`, pgx.Identifier{schema}.Sanitize()))
	return err
}

// Apply applies a batch in order: a request is inserted once and each outcome is set once, so
// a redelivered or repeated event changes nothing.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, schema string, events []event.Event) error {
	s := pgx.Identifier{schema}.Sanitize()
	b := &pgx.Batch{}
	for _, e := range events {
		m, err := e.Decode()
		if err != nil {
			return err
		}
		switch p := m.(type) {
		case *eventsv1.WriteOffRequested:
			on, err := time.Parse(domain.DateLayout, p.RequestedOn)
			if err != nil {
				return fmt.Errorf("writeoffs: event %s: requested_on %q", e.ID, p.RequestedOn)
			}
			b.Queue(fmt.Sprintf(`INSERT INTO %s.writeoffs (write_off_id, stream_id, school_id, asset_id, kind, tier, policy_version,
					value_fen, residual_value_fen, requested_on)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (write_off_id) DO NOTHING`, s),
				p.WriteOffId, e.StreamID, e.SchoolID, p.AssetId, p.Kind, p.Tier, p.PolicyVersion, p.ValueFen, p.ResidualValueFen, on)
		case *eventsv1.AssetWrittenOff:
			on, err := time.Parse(domain.DateLayout, p.WrittenOffOn)
			if err != nil {
				return fmt.Errorf("writeoffs: event %s: written_off_on %q", e.ID, p.WrittenOffOn)
			}
			b.Queue(fmt.Sprintf(`UPDATE %s.writeoffs SET written_off_on=$2 WHERE write_off_id=$1 AND written_off_on IS NULL AND rejected_at IS NULL`, s),
				p.WriteOffId, on)
		case *eventsv1.WriteOffRejected:
			b.Queue(fmt.Sprintf(`UPDATE %s.writeoffs SET rejected_at=$2 WHERE write_off_id=$1 AND rejected_at IS NULL AND written_off_on IS NULL`, s),
				p.WriteOffId, e.OccurredAt)
		case *eventsv1.WriteOffDisposed:
			on, err := time.Parse(domain.DateLayout, p.DisposedOn)
			if err != nil {
				return fmt.Errorf("writeoffs: event %s: disposed_on %q", e.ID, p.DisposedOn)
			}
			b.Queue(fmt.Sprintf(`UPDATE %s.writeoffs SET disposed_on=$2, proceeds_fen=$3 WHERE write_off_id=$1 AND disposed_on IS NULL`, s),
				p.WriteOffId, on, p.ProceedsFen)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// Tier is one tier's write-offs requested in a window, as they stood at its end.
type Tier struct {
	Tier                                    string
	Requests, WrittenOff, Rejected, Pending int64
	ValueFen, ResidualValueFen              int64
}

// Reader answers from the live table.
type Reader struct{ Pool *pgxpool.Pool }

// ByTier returns school's write-offs requested from from to to (dates, inclusive) per tier,
// by tier name: written off by the end of to, rejected before end (the instant after to).
func (r Reader) ByTier(ctx context.Context, school string, from, to, end time.Time) ([]Tier, error) {
	rows, err := r.Pool.Query(ctx, `SELECT tier, count(*),
			count(*) FILTER (WHERE written_off_on <= $3),
			count(*) FILTER (WHERE rejected_at < $4),
			coalesce(sum(value_fen), 0)::bigint, coalesce(sum(residual_value_fen), 0)::bigint
		FROM writeoffs.writeoffs WHERE school_id=$1 AND requested_on BETWEEN $2 AND $3
		GROUP BY tier ORDER BY tier`, school, from, to, end)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Tier, error) {
		var t Tier
		err := row.Scan(&t.Tier, &t.Requests, &t.WrittenOff, &t.Rejected, &t.ValueFen, &t.ResidualValueFen)
		t.Pending = t.Requests - t.WrittenOff - t.Rejected
		return t, err
	})
}

// Write-off states a drill can ask for (as ByTier counts them at the end of a window).
const (
	StateAny        = ""
	StateWrittenOff = "written_off"
	StateRejected   = "rejected"
	StatePending    = "pending"
)

// Streams are the streams of school's write-offs of tier (empty: every tier) requested from
// from to to, in state (StateAny: all) at the end of to (end: the instant after it).
func (r Reader) Streams(ctx context.Context, school, tier, state string, from, to, end time.Time) ([]string, error) {
	rows, err := r.Pool.Query(ctx, `SELECT DISTINCT stream_id FROM (
			SELECT stream_id, CASE WHEN written_off_on <= $4 THEN 'written_off' WHEN rejected_at < $5 THEN 'rejected'
				ELSE 'pending' END state
			FROM writeoffs.writeoffs
			WHERE school_id=$1 AND ($2 = '' OR tier=$2) AND requested_on BETWEEN $3 AND $4) w
		WHERE $6 = '' OR state = $6 ORDER BY stream_id`, school, tier, from, to, end, state)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
