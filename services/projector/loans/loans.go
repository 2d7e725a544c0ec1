// Package loans is the read model of lending (借还): loans open and overdue as of any date.
package loans

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
func (Projection) Name() string { return "loans" }

// Version of the tables and of what Apply writes (bump it when you change either).
func (Projection) Version() int { return 1 }

// Setup creates the table in schema.
func (Projection) Setup(ctx context.Context, tx pgx.Tx, schema string) error {
	_, err := tx.Exec(ctx, fmt.Sprintf(`
CREATE TABLE IF NOT EXISTS %[1]s.loans (
    loan_id     text PRIMARY KEY,
    stream_id   text NOT NULL,
    school_id   text NOT NULL,
    asset_id    text NOT NULL,
    tag         text NOT NULL,
    name        text NOT NULL,
    borrower    text NOT NULL,
    lent_on     date NOT NULL,
    due_on      date NOT NULL,
    returned_on date,
    off_campus  boolean NOT NULL
);
CREATE INDEX IF NOT EXISTS loans_by_school_lent ON %[1]s.loans (school_id, lent_on);`, pgx.Identifier{schema}.Sanitize()))
	return err
}

// Apply applies a batch in order: a loan is inserted once and returned once.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, schema string, events []event.Event) error {
	s := pgx.Identifier{schema}.Sanitize()
	b := &pgx.Batch{}
	for _, e := range events {
		m, err := e.Decode()
		if err != nil {
			return err
		}
		switch p := m.(type) {
		case *eventsv1.AssetLent:
			lent, err1 := time.Parse(domain.DateLayout, p.LentOn)
			due, err2 := time.Parse(domain.DateLayout, p.DueOn)
			if err1 != nil || err2 != nil {
				return fmt.Errorf("loans: event %s: dates %q %q", e.ID, p.LentOn, p.DueOn)
			}
			b.Queue(fmt.Sprintf(`INSERT INTO %s.loans (loan_id, stream_id, school_id, asset_id, tag, name, borrower, lent_on, due_on, off_campus)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (loan_id) DO NOTHING`, s),
				p.LoanId, e.StreamID, e.SchoolID, p.AssetId, p.Tag, p.Name, p.Borrower, lent, due, p.OffCampus)
		case *eventsv1.AssetReturned:
			ret, err := time.Parse(domain.DateLayout, p.ReturnedOn)
			if err != nil {
				return fmt.Errorf("loans: event %s: returned_on %q", e.ID, p.ReturnedOn)
			}
			b.Queue(fmt.Sprintf(`UPDATE %s.loans SET returned_on=$2 WHERE loan_id=$1 AND returned_on IS NULL`, s), p.LoanId, ret)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// Loan is a loan open at the end of a date.
type Loan struct {
	LoanID, StreamID, AssetID, Tag, Name, Borrower string
	LentOn, DueOn                                  time.Time
	OffCampus                                      bool
	DaysOverdue                                    int64 // 0 when not past due
}

// Reader answers from the live table.
type Reader struct{ Pool *pgxpool.Pool }

// Open returns school's loans open at the end of asOf (lent by then, not returned by then),
// the longest overdue first.
func (r Reader) Open(ctx context.Context, school string, asOf time.Time) ([]Loan, error) {
	rows, err := r.Pool.Query(ctx, `SELECT loan_id, stream_id, asset_id, tag, name, borrower, lent_on, due_on, off_campus,
			greatest($2::date - due_on, 0)
		FROM loans.loans WHERE school_id=$1 AND lent_on <= $2 AND (returned_on IS NULL OR returned_on > $2)
		ORDER BY due_on, lent_on, loan_id`, school, asOf)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Loan, error) {
		var l Loan
		var days int32
		err := row.Scan(&l.LoanID, &l.StreamID, &l.AssetID, &l.Tag, &l.Name, &l.Borrower, &l.LentOn, &l.DueOn, &l.OffCampus, &days)
		l.DaysOverdue = int64(days)
		return l, err
	})
}

// Streams are the streams (the lent assets') of school's loans open at the end of asOf, or of
// those of them past their due date when overdue.
func (r Reader) Streams(ctx context.Context, school string, asOf time.Time, overdue bool) ([]string, error) {
	rows, err := r.Pool.Query(ctx, `SELECT DISTINCT stream_id FROM loans.loans
		WHERE school_id=$1 AND lent_on <= $2 AND (returned_on IS NULL OR returned_on > $2) AND (NOT $3 OR due_on < $2)
		ORDER BY stream_id`, school, asOf, overdue)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
