// Package readmodel holds the assets service's own small read models, built from the service's
// own events by the platform's projection runner (in the service's database, schema per
// projection). They answer what the event store cannot answer by stream id: which repair
// clocks are due, a school's repair history per asset or class.
package readmodel

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"google.golang.org/protobuf/types/known/timestamppb"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/event"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Repairs is the repairs read model: one row per repair, one row per repair clock.
type Repairs struct{}

// Name is also the live schema. Prefixed with the service, so a schema says whose it is
// (durable consumers are per owner: proj-assets-<name>).
func (Repairs) Name() string { return "assets_repairs" }

// Version of the tables and of what Apply writes (bump it when you change either).
func (Repairs) Version() int { return 1 }

// Setup creates the tables in schema.
func (Repairs) Setup(ctx context.Context, tx pgx.Tx, schema string) error {
	_, err := tx.Exec(ctx, fmt.Sprintf(`
CREATE TABLE IF NOT EXISTS %[1]s.repairs (
    repair_id         text PRIMARY KEY,
    school_id         text NOT NULL,
    location          text NOT NULL,
    asset_id          text NOT NULL,
    asset_tag         text NOT NULL,
    class_name        text NOT NULL,
    description       text NOT NULL,
    photo_ref         text NOT NULL,
    severity          text NOT NULL,
    reported_by       text NOT NULL,
    status            text NOT NULL,
    reported_at       timestamptz NOT NULL,
    on_site_due       timestamptz,
    fix_due           timestamptz,
    assignee_kind     text NOT NULL DEFAULT '',
    assignee          text NOT NULL DEFAULT '',
    started_at        timestamptz,
    completed_at      timestamptz,
    work_done         text NOT NULL DEFAULT '',
    cost_fen          bigint NOT NULL DEFAULT 0,
    delay_reason      text NOT NULL DEFAULT '',
    delay_note        text NOT NULL DEFAULT '',
    delay_recorded_at timestamptz,
    breached          text[] NOT NULL DEFAULT '{}',
    version           bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS repairs_by_asset ON %[1]s.repairs (school_id, asset_id, reported_at);
CREATE INDEX IF NOT EXISTS repairs_by_class ON %[1]s.repairs (school_id, class_name, reported_at);
-- The repair clocks. settled: met in time, excused in time, or breach recorded; the repair
-- clock looks only at unsettled rows past due (the decider has the last word).
CREATE TABLE IF NOT EXISTS %[1]s.deadlines (
    repair_id text NOT NULL,
    kind      text NOT NULL,
    school_id text NOT NULL,
    due_at    timestamptz NOT NULL,
    settled   boolean NOT NULL DEFAULT false,
    PRIMARY KEY (repair_id, kind)
);
CREATE INDEX IF NOT EXISTS deadlines_open ON %[1]s.deadlines (due_at) WHERE NOT settled;`, pgx.Identifier{schema}.Sanitize()))
	return err
}

func opt(t *timestamppb.Timestamp) *time.Time {
	if t == nil {
		return nil
	}
	v := t.AsTime()
	return &v
}

// Apply applies a batch. Rows are inserted once and updated only by newer versions, so a
// redelivered event changes nothing.
func (Repairs) Apply(ctx context.Context, tx pgx.Tx, schema string, events []event.Event) error {
	s := pgx.Identifier{schema}.Sanitize()
	for _, e := range events {
		if e.StreamType != "repair" {
			continue
		}
		m, err := e.Decode()
		if err != nil {
			return err
		}
		id := strings.TrimPrefix(e.StreamID, "repair:")
		update := func(set string, args ...any) error {
			args = append([]any{id, e.Version}, args...)
			_, err := tx.Exec(ctx, `UPDATE `+s+`.repairs SET version=$2, `+set+` WHERE repair_id=$1 AND version < $2`, args...)
			return err
		}
		settle := func(cond string, args ...any) error {
			args = append([]any{id}, args...)
			_, err := tx.Exec(ctx, `UPDATE `+s+`.deadlines SET settled=true WHERE repair_id=$1 AND `+cond, args...)
			return err
		}
		switch x := m.(type) {
		case *eventsv1.RepairReported:
			_, err = tx.Exec(ctx, `INSERT INTO `+s+`.repairs (repair_id, school_id, location, asset_id, asset_tag, class_name,
				description, photo_ref, severity, reported_by, status, reported_at, on_site_due, fix_due, version)
				VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) ON CONFLICT DO NOTHING`,
				id, e.SchoolID, x.Location, x.AssetId, x.AssetTag, x.ClassName, x.Description, x.PhotoRef, x.Severity,
				x.ReportedBy, domain.RepairReported, x.ReportedAt.AsTime(), opt(x.OnSiteDueAt), opt(x.FixDueAt), e.Version)
			for kind, due := range map[string]*timestamppb.Timestamp{domain.DeadlineOnSite: x.OnSiteDueAt, domain.DeadlineFix: x.FixDueAt} {
				if err == nil && due != nil {
					_, err = tx.Exec(ctx, `INSERT INTO `+s+`.deadlines (repair_id, kind, school_id, due_at) VALUES ($1,$2,$3,$4)
						ON CONFLICT DO NOTHING`, id, kind, e.SchoolID, due.AsTime())
				}
			}
		case *eventsv1.RepairDispatched:
			err = update(`status=$3, assignee_kind=$4, assignee=$5`, domain.RepairDispatched, x.AssigneeKind, x.Assignee)
		case *eventsv1.RepairStarted:
			if err = update(`status=$3, started_at=$4`, domain.RepairInProgress, x.StartedAt.AsTime()); err == nil {
				err = settle(`kind=$2 AND due_at >= $3`, domain.DeadlineOnSite, x.StartedAt.AsTime())
			}
		case *eventsv1.RepairDelayReasonRecorded:
			if err = update(`delay_reason=$3, delay_note=$4, delay_recorded_at=$5`, x.Reason, x.Note, x.RecordedAt.AsTime()); err == nil {
				err = settle(`due_at >= $2`, x.RecordedAt.AsTime())
			}
		case *eventsv1.RepairCompleted:
			if err = update(`status=$3, completed_at=$4, work_done=$5, cost_fen=$6`, domain.RepairCompleted,
				x.CompletedAt.AsTime(), x.WorkDone, x.CostFen); err == nil {
				err = settle(`kind=$2 AND due_at >= $3`, domain.DeadlineFix, x.CompletedAt.AsTime())
			}
		case *eventsv1.RepairDeadlineBreached:
			if err = update(`breached=array_append(breached, $3)`, x.Deadline); err == nil {
				err = settle(`kind=$2`, x.Deadline)
			}
		}
		if err != nil {
			return fmt.Errorf("readmodel: repairs: event %s: %w", e.ID, err)
		}
	}
	return nil
}

// Deadline is a repair clock past due and not settled.
type Deadline struct {
	SchoolID, RepairID, Kind string
	DueAt                    time.Time
}

// RepairQueries reads the live repairs read model.
type RepairQueries struct {
	Pool *pgxpool.Pool
}

var schema = pgx.Identifier{Repairs{}.Name()}.Sanitize()

// Due returns up to limit clocks due before now, oldest first.
func (q RepairQueries) Due(ctx context.Context, now time.Time, limit int) ([]Deadline, error) {
	rows, err := q.Pool.Query(ctx, `SELECT school_id, repair_id, kind, due_at FROM `+schema+`.deadlines
		WHERE NOT settled AND due_at < $1 ORDER BY due_at LIMIT $2`, now, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Deadline, error) {
		var d Deadline
		err := r.Scan(&d.SchoolID, &d.RepairID, &d.Kind, &d.DueAt)
		return d, err
	})
}

// RepairFilter selects a school's repairs.
type RepairFilter struct {
	AssetID, ClassName string
	Limit              int
}

// List returns a school's repairs, newest first, with their versions.
func (q RepairQueries) List(ctx context.Context, school string, f RepairFilter) ([]domain.Repair, []int64, error) {
	rows, err := q.Pool.Query(ctx, `SELECT repair_id, school_id, location, asset_id, asset_tag, class_name, description,
		photo_ref, severity, reported_by, status, reported_at, on_site_due, fix_due, assignee_kind, assignee, started_at,
		completed_at, work_done, cost_fen, delay_reason, delay_note, delay_recorded_at, breached, version
		FROM `+schema+`.repairs WHERE school_id=$1 AND ($2 = '' OR asset_id=$2) AND ($3 = '' OR class_name=$3)
		ORDER BY reported_at DESC, repair_id LIMIT $4`, school, f.AssetID, f.ClassName, f.Limit)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var out []domain.Repair
	var versions []int64
	for rows.Next() {
		var r domain.Repair
		var onSite, fix, started, completed, delayed *time.Time
		var v int64
		if err := rows.Scan(&r.ID, &r.SchoolID, &r.Location, &r.AssetID, &r.AssetTag, &r.ClassName, &r.Description,
			&r.PhotoRef, &r.Severity, &r.ReportedBy, &r.Status, &r.ReportedAt, &onSite, &fix, &r.AssigneeKind, &r.Assignee,
			&started, &completed, &r.WorkDone, &r.CostFen, &r.DelayReason, &r.DelayNote, &delayed, &r.Breached, &v); err != nil {
			return nil, nil, err
		}
		r.OnSiteDue, r.FixDue, r.StartedAt, r.CompletedAt, r.DelayRecordedAt = val(onSite), val(fix), val(started), val(completed), val(delayed)
		out = append(out, r)
		versions = append(versions, v)
	}
	return out, versions, rows.Err()
}

func val(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
