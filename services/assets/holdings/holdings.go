// Package holdings is the assets service's own read model of who holds what: assets by
// custodian, loans, and issued items still out. Commands work on one aggregate each, but two
// questions span many — the overdue loans of a school and everything one person still holds
// (教职工调离) — so the service keeps this model from its own events with the platform's
// projection runner, in its own database.
package holdings

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/event"
	"houqin.dev/platform/projection"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Projection builds the holdings tables.
type Projection struct{}

// Name is also the live schema. Prefixed with the service, so a schema says whose it is
// (durable consumers are per owner: proj-assets-<name>).
func (Projection) Name() string { return "assets_holdings" }

// Version of the tables and of what Apply writes (bump it when you change either).
// 2: staff numbers (工号) of custodians, borrowers and issued items.
func (Projection) Version() int { return 2 }

// Setup creates the tables in schema.
func (Projection) Setup(ctx context.Context, tx pgx.Tx, schema string) error {
	_, err := tx.Exec(ctx, fmt.Sprintf(`
CREATE TABLE IF NOT EXISTS %[1]s.assets (
    asset_id    uuid PRIMARY KEY,
    school_id   text NOT NULL,
    tag         text NOT NULL,
    name        text NOT NULL,
    location    text NOT NULL,
    custodian   text NOT NULL,
    on_ledger   boolean NOT NULL DEFAULT true,
    version     bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS assets_by_custodian ON %[1]s.assets (school_id, custodian) WHERE on_ledger;
CREATE INDEX IF NOT EXISTS assets_by_location ON %[1]s.assets (school_id, location) WHERE on_ledger;
CREATE TABLE IF NOT EXISTS %[1]s.loans (
    loan_id     uuid PRIMARY KEY,
    asset_id    uuid NOT NULL,
    school_id   text NOT NULL,
    tag         text NOT NULL,
    name        text NOT NULL,
    borrower    text NOT NULL,
    lent_on     date NOT NULL,
    due_on      date NOT NULL,
    returned_on date,
    off_campus  boolean NOT NULL
);
CREATE INDEX IF NOT EXISTS loans_by_school_due ON %[1]s.loans (school_id, due_on);
CREATE INDEX IF NOT EXISTS loans_open_by_borrower ON %[1]s.loans (school_id, borrower) WHERE returned_on IS NULL;
CREATE TABLE IF NOT EXISTS %[1]s.issued (
    requisition_id uuid   NOT NULL,
    line           int    NOT NULL,
    school_id      text   NOT NULL,
    person         text   NOT NULL,
    item           text   NOT NULL,
    returnable     boolean NOT NULL,
    issued         bigint NOT NULL DEFAULT 0,
    returned       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (requisition_id, line)
);
CREATE INDEX IF NOT EXISTS issued_out_by_person ON %[1]s.issued (school_id, person) WHERE returnable AND issued > returned;
-- 工号 of the custodian and the borrower where the events carry one (a school with a staff
-- directory); '' where they name a person only.
ALTER TABLE %[1]s.assets ADD COLUMN IF NOT EXISTS custodian_staff text NOT NULL DEFAULT '';
ALTER TABLE %[1]s.loans ADD COLUMN IF NOT EXISTS borrower_staff text NOT NULL DEFAULT '';
ALTER TABLE %[1]s.issued ADD COLUMN IF NOT EXISTS person_staff text NOT NULL DEFAULT '';`,
		pgx.Identifier{schema}.Sanitize()))
	return err
}

// Apply applies a batch in stream order. Inserts skip rows already there and updates are
// guarded (versions, open loans only), so a replay changes nothing.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, schema string, events []event.Event) error {
	s := pgx.Identifier{schema}.Sanitize()
	b := &pgx.Batch{}
	for _, e := range events {
		m, err := e.Decode()
		if err != nil {
			return err
		}
		switch p := m.(type) {
		case *eventsv1.AssetRegistered:
			b.Queue(fmt.Sprintf(`INSERT INTO %s.assets (asset_id, school_id, tag, name, location, custodian, custodian_staff, version)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (asset_id) DO NOTHING`, s),
				p.AssetId, e.SchoolID, p.Tag, p.Name, p.Location, p.Custodian, p.CustodianStaffNo, e.Version)
		case *eventsv1.AssetTransferred:
			// Transfers recorded before they carried the 工号 keep the old one for an unchanged
			// custodian and none for a new one.
			b.Queue(fmt.Sprintf(`UPDATE %s.assets SET location=$2, custodian=$3, version=$4,
					custodian_staff = CASE WHEN $5 <> '' THEN $5 WHEN custodian = $3 THEN custodian_staff ELSE '' END
				WHERE asset_id=$1 AND version < $4`, s), p.AssetId, p.ToLocation, p.ToCustodian, e.Version, p.ToCustodianStaffNo)
		case *eventsv1.AssetWrittenOff:
			b.Queue(offLedger(s), p.AssetId, e.Version)
		case *eventsv1.AssetRemovedByStocktake:
			b.Queue(offLedger(s), p.AssetId, e.Version)
		case *eventsv1.AssetLent:
			lent, _ := domain.ParseDay(p.LentOn)
			due, _ := domain.ParseDay(p.DueOn)
			b.Queue(fmt.Sprintf(`INSERT INTO %s.loans (loan_id, asset_id, school_id, tag, name, borrower, borrower_staff, lent_on, due_on, off_campus)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (loan_id) DO NOTHING`, s),
				p.LoanId, p.AssetId, e.SchoolID, p.Tag, p.Name, p.Borrower, p.BorrowerStaffNo, lent, due, p.OffCampus)
		case *eventsv1.RequisitionIssued:
			// Events carry running totals, so GREATEST makes a replay harmless.
			for _, l := range p.Lines {
				b.Queue(fmt.Sprintf(`INSERT INTO %s.issued (requisition_id, line, school_id, person, person_staff, item, returnable, issued)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (requisition_id, line)
					DO UPDATE SET issued = GREATEST(issued.issued, EXCLUDED.issued)`, s),
					p.RequisitionId, l.Line, e.SchoolID, p.IssuedTo, p.IssuedToStaffNo, l.Item, l.Returnable, l.Total)
			}
		case *eventsv1.IssuedItemsReturned:
			for _, l := range p.Lines {
				b.Queue(fmt.Sprintf(`UPDATE %s.issued SET returned = GREATEST(returned, $3) WHERE requisition_id=$1 AND line=$2`, s),
					p.RequisitionId, l.Line, l.Total)
			}
		case *eventsv1.AssetReturned:
			ret, _ := domain.ParseDay(p.ReturnedOn)
			b.Queue(fmt.Sprintf(`UPDATE %s.loans SET returned_on=$2 WHERE loan_id=$1 AND returned_on IS NULL`, s),
				p.LoanId, ret)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// offLedger takes an asset off the ledger (written off, removed by stocktake): nobody holds
// it any more.
func offLedger(schema string) string {
	return fmt.Sprintf(`UPDATE %s.assets SET on_ledger=false, version=$2 WHERE asset_id=$1 AND version < $2`, schema)
}

// Loan is one loan as the read model holds it.
type Loan struct {
	LoanID, AssetID, Tag, Name, Borrower string
	LentOn, DueOn                        time.Time
	ReturnedOn                           *time.Time
	OffCampus                            bool
}

// Reader answers holdings queries from the live tables.
type Reader struct {
	Pool *pgxpool.Pool
	// LastSeq returns the last sequence of the service's stream (for Current).
	LastSeq func(context.Context) (uint64, error)
	// Service is the stream's service (the checkpoint's key).
	Service string
}

// OverdueLoans are school's loans open at the end of asOf whose due date was before it, the
// longest overdue first.
func (r Reader) OverdueLoans(ctx context.Context, school string, asOf time.Time) ([]Loan, error) {
	rows, err := r.Pool.Query(ctx, `SELECT loan_id::text, asset_id::text, tag, name, borrower, lent_on, due_on, returned_on, off_campus
		FROM assets_holdings.loans WHERE school_id=$1 AND lent_on <= $2 AND due_on < $2 AND (returned_on IS NULL OR returned_on > $2)
		ORDER BY due_on, lent_on, loan_id`, school, asOf)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Loan, error) {
		var l Loan
		err := row.Scan(&l.LoanID, &l.AssetID, &l.Tag, &l.Name, &l.Borrower, &l.LentOn, &l.DueOn, &l.ReturnedOn, &l.OffCampus)
		return l, err
	})
}

// AssetsAt lists the ids of school's assets on the ledger at location, by tag.
func (r Reader) AssetsAt(ctx context.Context, school, location string) ([]string, error) {
	rows, err := r.Pool.Query(ctx, `SELECT asset_id::text FROM assets_holdings.assets
		WHERE school_id=$1 AND location=$2 AND on_ledger ORDER BY tag`, school, location)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// PersonHeld is what person holds in school: assets in their custody, open loans, and
// returnable items issued and not returned. With staffNo (a school with a staff directory),
// custody and loans recorded with that 工号 are theirs, and those recorded by a name only
// (before the directory) when the name is theirs; those recorded with another 工号 are not,
// even under the same name (two 张伟). Issued items likewise.
func (r Reader) PersonHeld(ctx context.Context, school, person, staffNo string) (domain.Held, error) {
	rows, err := r.Pool.Query(ctx, `
SELECT 'custodian', asset_id::text, '', '', 0, tag, name, 1 FROM assets_holdings.assets
 WHERE school_id=$1 AND on_ledger
   AND (custodian_staff = $3 AND $3 <> '' OR custodian_staff = '' AND custodian = $2)
UNION ALL
SELECT 'loan', asset_id::text, loan_id::text, '', 0, tag, name, 1 FROM assets_holdings.loans
 WHERE school_id=$1 AND returned_on IS NULL
   AND (borrower_staff = $3 AND $3 <> '' OR borrower_staff = '' AND borrower = $2)
UNION ALL
SELECT 'issued', '', '', requisition_id::text, line, '', item, issued - returned FROM assets_holdings.issued
 WHERE school_id=$1 AND returnable AND issued > returned
   AND (person_staff = $3 AND $3 <> '' OR person_staff = '' AND person = $2)
ORDER BY 1, 6, 7, 4, 5`, school, person, staffNo)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*eventsv1.HeldItem, error) {
		h := &eventsv1.HeldItem{}
		err := row.Scan(&h.Kind, &h.AssetId, &h.LoanId, &h.RequisitionId, &h.Line, &h.Tag, &h.Name, &h.Quantity)
		return h, err
	})
}

// Current waits until the model holds every event committed before the call: first until
// the outbox rows present now are published, then until the projection's checkpoint reaches
// the stream's last sequence after that. A rule that refuses on the model's word (a
// clearance with items outstanding) must not judge a stale model. It gives up with
// errs.ErrUnavailable when ctx or the wait (5 s) ends first.
func (r Reader) Current(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var last int64
	if err := r.Pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM outbox`).Scan(&last); err != nil {
		return err
	}
	wait := func(done func() (bool, error)) error {
		for {
			ok, err := done()
			if err != nil || ok {
				return err
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("holdings: not current yet: %w", errs.ErrUnavailable)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	err := wait(func() (bool, error) {
		var pending bool
		err := r.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM outbox WHERE id <= $1)`, last).Scan(&pending)
		return !pending, err
	})
	if err != nil {
		return unavailable(err)
	}
	seq, err := r.LastSeq(ctx)
	if err != nil {
		return unavailable(err)
	}
	return unavailable(wait(func() (bool, error) {
		cp, err := projection.Checkpoint(ctx, r.Pool, Projection{}.Name(), r.Service)
		return cp >= seq, err
	}))
}

// unavailable reports a wait cut short by its deadline as errs.ErrUnavailable.
func unavailable(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("holdings: not current yet: %w", errs.ErrUnavailable)
	}
	return err
}
