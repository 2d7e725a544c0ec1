// Package readmodel holds the procurement service's own small read models, built from its own
// events by the platform's projection runner (in the service's database, a schema per
// projection). They answer what the event store cannot answer by stream id: which budget
// commitments have no order (the commitment sweeper).
package readmodel

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"houqin.dev/platform/event"
	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

// Commitments keeps one row per order that committed budget: whether the commitment is still
// open and whether the order was placed. The runner applies each event once, in stream order.
type Commitments struct{}

// Name is also the live schema; prefixed with the service, so a schema says whose it is
// (durable consumers are per owner: proj-procurement-<name>).
func (Commitments) Name() string { return "procurement_commitments" }

// Version of the tables and of what Apply writes (bump it when you change either).
func (Commitments) Version() int { return 1 }

// Setup creates the table in schema.
func (Commitments) Setup(ctx context.Context, tx pgx.Tx, schema string) error {
	_, err := tx.Exec(ctx, fmt.Sprintf(`
CREATE TABLE IF NOT EXISTS %[1]s.commitments (
    purchase_order_id   text PRIMARY KEY,
    school_id           text NOT NULL,
    budget_line_id      text NOT NULL DEFAULT '',
    purchase_request_id text NOT NULL DEFAULT '',
    committed_at        timestamptz,
    open                boolean NOT NULL DEFAULT false,
    placed              boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS commitments_orphan ON %[1]s.commitments (committed_at) WHERE open AND NOT placed;`,
		pgx.Identifier{schema}.Sanitize()))
	return err
}

// Apply applies a batch in order.
func (Commitments) Apply(ctx context.Context, tx pgx.Tx, schema string, events []event.Event) error {
	s := pgx.Identifier{schema}.Sanitize()
	b := &pgx.Batch{}
	for _, e := range events {
		if e.StreamType != "budget" && e.StreamType != "purchase_order" {
			continue
		}
		m, err := e.Decode()
		if err != nil {
			return err
		}
		switch x := m.(type) {
		case *eventsv1.BudgetCommitted:
			b.Queue(`INSERT INTO `+s+`.commitments (purchase_order_id, school_id, budget_line_id, purchase_request_id, committed_at, open)
				VALUES ($1, $2, $3, $4, $5, true) ON CONFLICT (purchase_order_id) DO UPDATE
				SET budget_line_id=$3, purchase_request_id=$4, committed_at=$5, open=true`,
				x.PurchaseOrderId, e.SchoolID, x.BudgetLineId, x.PurchaseRequestId, e.RecordedAt)
		case *eventsv1.BudgetCommitmentReleased:
			b.Queue(`UPDATE `+s+`.commitments SET open=false WHERE purchase_order_id=$1`, x.PurchaseOrderId)
		case *eventsv1.PurchaseOrderPlaced:
			b.Queue(`INSERT INTO `+s+`.commitments (purchase_order_id, school_id, placed) VALUES ($1, $2, true)
				ON CONFLICT (purchase_order_id) DO UPDATE SET placed=true`, x.PurchaseOrderId, e.SchoolID)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// Orphan is an open commitment whose order was not placed.
type Orphan struct {
	SchoolID, OrderID, BudgetLineID, PurchaseRequestID string
	CommittedAt                                        time.Time
}

// CommitmentQueries reads the live commitments read model.
type CommitmentQueries struct {
	Pool *pgxpool.Pool
}

var schema = pgx.Identifier{Commitments{}.Name()}.Sanitize()

// Orphans returns up to limit open commitments without a placed order recorded before
// before, oldest first.
func (q CommitmentQueries) Orphans(ctx context.Context, before time.Time, limit int) ([]Orphan, error) {
	rows, err := q.Pool.Query(ctx, `SELECT school_id, purchase_order_id, budget_line_id, purchase_request_id, committed_at
		FROM `+schema+`.commitments WHERE open AND NOT placed AND committed_at < $1 ORDER BY committed_at LIMIT $2`, before, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Orphan, error) {
		var o Orphan
		err := r.Scan(&o.SchoolID, &o.OrderID, &o.BudgetLineID, &o.PurchaseRequestID, &o.CommittedAt)
		return o, err
	})
}
