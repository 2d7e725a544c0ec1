// Package repairs is the read model of repairs and damage (报修/维修, 损坏赔偿): repairs opened
// and closed, the share fixed within the policy's clock (24 h for major repairs) and damage
// by class, the classes with most damage first.
package repairs

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/event"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Projection builds the tables.
type Projection struct{}

// Name is also the live schema.
func (Projection) Name() string { return "repairs" }

// Version of the tables and of what Apply writes (bump it when you change either).
func (Projection) Version() int { return 1 }

// Setup creates the tables in schema.
func (Projection) Setup(ctx context.Context, tx pgx.Tx, schema string) error {
	_, err := tx.Exec(ctx, fmt.Sprintf(`
CREATE TABLE IF NOT EXISTS %[1]s.repairs (
    repair_id           text PRIMARY KEY,
    stream_id           text NOT NULL,
    school_id           text NOT NULL,
    class_name          text NOT NULL,
    location            text NOT NULL,
    severity            text NOT NULL,
    reported_at         timestamptz NOT NULL,
    completed_at        timestamptz,
    had_fix_clock       boolean,
    fixed_within_target boolean,
    minutes_taken       bigint,
    breaches            int NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS repairs_by_school_reported ON %[1]s.repairs (school_id, reported_at);
CREATE INDEX IF NOT EXISTS repairs_by_school_completed ON %[1]s.repairs (school_id, completed_at);
CREATE TABLE IF NOT EXISTS %[1]s.breaches (
    repair_id  text NOT NULL,
    deadline   text NOT NULL,
    PRIMARY KEY (repair_id, deadline)
);
CREATE TABLE IF NOT EXISTS %[1]s.damage (
    charge_id   text PRIMARY KEY,
    stream_id   text NOT NULL,
    school_id   text NOT NULL,
    class_name  text NOT NULL,
    liable      text NOT NULL,
    amount_fen  bigint NOT NULL,
    damaged_on  date NOT NULL,
    intentional boolean NOT NULL
);
CREATE INDEX IF NOT EXISTS damage_by_school_date ON %[1]s.damage (school_id, damaged_on);`, pgx.Identifier{schema}.Sanitize()))
	return err
}

// Apply applies a batch in order. Inserts skip rows already there; a completion only fills
// an open repair; a breach counts once per repair and deadline: a replay changes nothing.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, schema string, events []event.Event) error {
	s := pgx.Identifier{schema}.Sanitize()
	b := &pgx.Batch{}
	for _, e := range events {
		m, err := e.Decode()
		if err != nil {
			return err
		}
		switch p := m.(type) {
		case *eventsv1.RepairReported:
			at := e.OccurredAt
			if p.ReportedAt != nil {
				at = p.ReportedAt.AsTime()
			}
			b.Queue(fmt.Sprintf(`INSERT INTO %s.repairs (repair_id, stream_id, school_id, class_name, location, severity, reported_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (repair_id) DO NOTHING`, s),
				p.RepairId, e.StreamID, e.SchoolID, p.ClassName, p.Location, p.Severity, at)
		case *eventsv1.RepairCompleted:
			at := e.OccurredAt
			if p.CompletedAt != nil {
				at = p.CompletedAt.AsTime()
			}
			b.Queue(fmt.Sprintf(`UPDATE %s.repairs SET completed_at=$2, had_fix_clock=$3, fixed_within_target=$4, minutes_taken=$5
				WHERE repair_id=$1 AND completed_at IS NULL`, s), p.RepairId, at, p.HadFixClock, p.FixedWithinTarget, p.MinutesTaken)
		case *eventsv1.RepairDeadlineBreached:
			b.Queue(fmt.Sprintf(`WITH n AS (INSERT INTO %[1]s.breaches VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING repair_id)
				UPDATE %[1]s.repairs SET breaches = breaches + 1 WHERE repair_id IN (SELECT repair_id FROM n)`, s), p.RepairId, p.Deadline)
		case *eventsv1.DamageCharged:
			on, err := time.Parse(domain.DateLayout, p.DamagedOn)
			if err != nil {
				on = e.OccurredAt
			}
			b.Queue(fmt.Sprintf(`INSERT INTO %s.damage (charge_id, stream_id, school_id, class_name, liable, amount_fen, damaged_on, intentional)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (charge_id) DO NOTHING`, s),
				p.ChargeId, e.StreamID, e.SchoolID, p.ClassName, p.Liable, p.AmountFen, on, p.Intentional)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// Summary is a school's repairs within a window [from, to).
type Summary struct {
	Opened, Closed int64
	// ClosedWithClock: closed repairs that had a fix clock; WithinTarget: of those, fixed by it.
	ClosedWithClock, WithinTarget int64
	// OpenAtEnd: reported before to and not completed before it.
	OpenAtEnd int64
	Breaches  int64
}

// ClassDamage is one class's repairs and damage charges in a window.
type ClassDamage struct {
	ClassName        string
	Repairs, Charges int64
	DamageFen        int64
}

// Reader answers from the live tables.
type Reader struct{ Pool *pgxpool.Pool }

// Summary counts school's repairs in [from, to).
func (r Reader) Summary(ctx context.Context, school string, from, to time.Time) (Summary, error) {
	var s Summary
	err := r.Pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE reported_at >= $2 AND reported_at < $3),
			count(*) FILTER (WHERE completed_at >= $2 AND completed_at < $3),
			count(*) FILTER (WHERE completed_at >= $2 AND completed_at < $3 AND had_fix_clock),
			count(*) FILTER (WHERE completed_at >= $2 AND completed_at < $3 AND had_fix_clock AND fixed_within_target),
			count(*) FILTER (WHERE reported_at < $3 AND (completed_at IS NULL OR completed_at >= $3)),
			coalesce(sum(breaches) FILTER (WHERE reported_at >= $2 AND reported_at < $3), 0)
		FROM repairs.repairs WHERE school_id = $1`, school, from, to).
		Scan(&s.Opened, &s.Closed, &s.ClosedWithClock, &s.WithinTarget, &s.OpenAtEnd, &s.Breaches)
	return s, err
}

// ByClass returns repairs reported and damage charged per class in [from, to) (dates:
// fromDay ≤ damaged_on < toDay), the classes with most damage first: most repairs and charges,
// then the larger amount. Reports without a class are left out.
func (r Reader) ByClass(ctx context.Context, school string, from, to, fromDay, toDay time.Time) ([]ClassDamage, error) {
	rows, err := r.Pool.Query(ctx, `SELECT class_name, sum(repairs)::bigint, sum(charges)::bigint, sum(amount)::bigint FROM (
			SELECT class_name, 1 repairs, 0 charges, 0 amount FROM repairs.repairs
			WHERE school_id = $1 AND reported_at >= $2 AND reported_at < $3 AND class_name <> ''
			UNION ALL
			SELECT class_name, 0, 1, amount_fen FROM repairs.damage
			WHERE school_id = $1 AND damaged_on >= $4 AND damaged_on < $5 AND class_name <> '') x
		GROUP BY class_name`, school, from, to, fromDay, toDay)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ClassDamage, error) {
		var c ClassDamage
		err := row.Scan(&c.ClassName, &c.Repairs, &c.Charges, &c.DamageFen)
		return c, err
	})
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Repairs+a.Charges != b.Repairs+b.Charges {
			return a.Repairs+a.Charges > b.Repairs+b.Charges
		}
		if a.DamageFen != b.DamageFen {
			return a.DamageFen > b.DamageFen
		}
		return a.ClassName < b.ClassName
	})
	return out, err
}

// Streams returns the streams behind a number: which is opened | closed | with_clock (closed
// with a fix clock) | within_target (of those, fixed by it) | open_at_end | breached (reported in
// the window with a breach) | class (key: the class).
func (r Reader) Streams(ctx context.Context, school, which, key string, from, to, fromDay, toDay time.Time) ([]string, error) {
	var q string
	switch which {
	case "opened":
		q = `SELECT stream_id FROM repairs.repairs WHERE school_id=$1 AND reported_at >= $2 AND reported_at < $3 AND $6::text IS NOT NULL
			AND $4::date IS NOT NULL AND $5::date IS NOT NULL`
	case "closed":
		q = `SELECT stream_id FROM repairs.repairs WHERE school_id=$1 AND completed_at >= $2 AND completed_at < $3 AND $6::text IS NOT NULL
			AND $4::date IS NOT NULL AND $5::date IS NOT NULL`
	case "with_clock", "within_target":
		q = `SELECT stream_id FROM repairs.repairs WHERE school_id=$1 AND completed_at >= $2 AND completed_at < $3 AND had_fix_clock
			AND ($6 <> 'within_target' OR fixed_within_target) AND $4::date IS NOT NULL AND $5::date IS NOT NULL`
		key = which
	case "open_at_end":
		q = `SELECT stream_id FROM repairs.repairs WHERE school_id=$1 AND reported_at < $3 AND (completed_at IS NULL OR completed_at >= $3)
			AND $2::timestamptz IS NOT NULL AND $6::text IS NOT NULL AND $4::date IS NOT NULL AND $5::date IS NOT NULL`
	case "breached":
		q = `SELECT stream_id FROM repairs.repairs WHERE school_id=$1 AND reported_at >= $2 AND reported_at < $3 AND breaches > 0
			AND $6::text IS NOT NULL AND $4::date IS NOT NULL AND $5::date IS NOT NULL`
	case "class":
		q = `SELECT stream_id FROM repairs.repairs WHERE school_id=$1 AND reported_at >= $2 AND reported_at < $3 AND class_name=$6
			UNION ALL SELECT stream_id FROM repairs.damage WHERE school_id=$1 AND damaged_on >= $4 AND damaged_on < $5 AND class_name=$6`
	default:
		return nil, fmt.Errorf("repairs: no row kind %q", which)
	}
	rows, err := r.Pool.Query(ctx, q, school, from, to, fromDay, toDay, key)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
