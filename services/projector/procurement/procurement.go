// Package procurement is the procurement read model (采购报表): budget lines with what is
// committed and spent, and purchase requests with the approval step they wait at, built from
// the procurement service's events.
package procurement

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"houqin.dev/platform/event"
	"houqin.dev/procurement/domain"
	"houqin.dev/projector/eventlog"
	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

// Projection builds the procurement read model.
type Projection struct{}

// Name is also the live schema.
func (Projection) Name() string { return "procurement" }

// Version of the tables and of what Apply writes (bump it when you change either). 2: the
// compliance dates and approval history (request_steps) of requests projected before them.
func (Projection) Version() int { return 2 }

// Setup creates the tables in schema.
func (Projection) Setup(ctx context.Context, tx pgx.Tx, schema string) error {
	s := pgx.Identifier{schema}.Sanitize()
	_, err := tx.Exec(ctx, fmt.Sprintf(`
CREATE TABLE IF NOT EXISTS %[1]s.budget_lines (
    budget_line_id text PRIMARY KEY,
    stream_id      text NOT NULL,
    school_id      text NOT NULL,
    fiscal_year    integer NOT NULL,
    code           text NOT NULL,
    name           text NOT NULL,
    funding_source text NOT NULL,
    amount_fen     bigint NOT NULL,
    version        bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS budget_lines_by_school ON %[1]s.budget_lines (school_id, fiscal_year);
-- Every change of a line's commitment and spend, keyed by the event's stream position so a
-- redelivered event counts once. committed_fen is signed (a release or a spend drawing the
-- commitment down is negative).
CREATE TABLE IF NOT EXISTS %[1]s.budget_moves (
    stream_id      text NOT NULL,
    version        bigint NOT NULL,
    budget_line_id text NOT NULL,
    committed_fen  bigint NOT NULL,
    spent_fen      bigint NOT NULL,
    spent_on       date,
    PRIMARY KEY (stream_id, version)
);
CREATE INDEX IF NOT EXISTS budget_moves_by_line ON %[1]s.budget_moves (budget_line_id);
CREATE TABLE IF NOT EXISTS %[1]s.spend_categories (
    stream_id      text NOT NULL,
    version        bigint NOT NULL,
    idx            integer NOT NULL,
    budget_line_id text NOT NULL,
    category       text NOT NULL,
    amount_fen     bigint NOT NULL,
    PRIMARY KEY (stream_id, version, idx)
);
CREATE INDEX IF NOT EXISTS spend_categories_by_line ON %[1]s.spend_categories (budget_line_id);
-- A purchase request as it stands: waiting at step (role) since waiting_since, approved or
-- rejected. Updates apply only newer versions.
CREATE TABLE IF NOT EXISTS %[1]s.requests (
    purchase_request_id text PRIMARY KEY,
    stream_id           text NOT NULL,
    school_id           text NOT NULL,
    department          text NOT NULL,
    estimated_total_fen bigint NOT NULL,
    submitted_on        date NOT NULL,
    status              text NOT NULL,
    step                text NOT NULL,
    role                text NOT NULL,
    waiting_since       date NOT NULL,
    version             bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_waiting ON %[1]s.requests (school_id, waiting_since) WHERE status = 'waiting';
-- Every step of a request's approval: the state after the event (waiting at step since
-- since_on, approved or rejected), keyed by stream position, so a request's state as of any
-- day is its last step dated on or before it.
CREATE TABLE IF NOT EXISTS %[1]s.request_steps (
    stream_id text NOT NULL,
    version   bigint NOT NULL,
    school_id text NOT NULL,
    status    text NOT NULL,
    step      text NOT NULL,
    role      text NOT NULL,
    since_on  date NOT NULL,
    PRIMARY KEY (stream_id, version)
);
-- Compliance facts (合规): a quote choice that needed 货比三家 and whether it had enough
-- distinct suppliers; a goods receipt accepted and by how many different people; invoice
-- signatures and reimbursements. Keyed by what they are about: a replay changes nothing.
CREATE TABLE IF NOT EXISTS %[1]s.quote_choices (
    purchase_request_id text PRIMARY KEY,
    school_id           text NOT NULL,
    compliant           boolean NOT NULL
);
CREATE TABLE IF NOT EXISTS %[1]s.acceptances (
    receipt_id text PRIMARY KEY,
    school_id  text NOT NULL,
    signers    integer NOT NULL
);
CREATE TABLE IF NOT EXISTS %[1]s.invoice_signatures (
    invoice_id text NOT NULL,
    role       text NOT NULL,
    signer     text NOT NULL,
    PRIMARY KEY (invoice_id, role, signer)
);
CREATE TABLE IF NOT EXISTS %[1]s.invoices_reimbursed (
    invoice_id text PRIMARY KEY,
    school_id  text NOT NULL
);
-- The event each fact came from (for drill-down) and its business date (for the window).
-- Rows projected before these columns existed keep the defaults until a rebuild.
ALTER TABLE %[1]s.quote_choices ADD COLUMN IF NOT EXISTS stream_id text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 0, ADD COLUMN IF NOT EXISTS decided_on date NOT NULL DEFAULT '-infinity';
ALTER TABLE %[1]s.acceptances ADD COLUMN IF NOT EXISTS stream_id text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 0, ADD COLUMN IF NOT EXISTS decided_on date NOT NULL DEFAULT '-infinity';
ALTER TABLE %[1]s.invoices_reimbursed ADD COLUMN IF NOT EXISTS stream_id text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 0, ADD COLUMN IF NOT EXISTS decided_on date NOT NULL DEFAULT '-infinity';
ALTER TABLE %[1]s.invoice_signatures ADD COLUMN IF NOT EXISTS stream_id text NOT NULL DEFAULT '',
    ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 0;
-- Stock movements (材料账) as the procurement domain reads them (domain.MovementOf): signed
-- quantity and value by business date, one row per event.
CREATE TABLE IF NOT EXISTS %[1]s.stock_moves (
    stream_id   text NOT NULL,
    version     bigint NOT NULL,
    school_id   text NOT NULL,
    item_code   text NOT NULL,
    category    text NOT NULL,
    moved_on    text NOT NULL,
    kind        text NOT NULL,
    quantity    bigint NOT NULL,
    value_fen   bigint NOT NULL,
    PRIMARY KEY (stream_id, version)
);
CREATE INDEX IF NOT EXISTS stock_moves_by_school ON %[1]s.stock_moves (school_id, moved_on);
-- A fee standard as it stands: the events carry the totals after them, so each event sets
-- its columns if it is newer than the row.
CREATE TABLE IF NOT EXISTS %[1]s.fees (
    fee_id                 text PRIMARY KEY,
    stream_id              text NOT NULL,
    school_id              text NOT NULL,
    term                   text NOT NULL,
    item                   text NOT NULL,
    kind                   text NOT NULL DEFAULT '',
    amount_per_student_fen bigint NOT NULL DEFAULT 0,
    students               bigint NOT NULL DEFAULT 0,
    collected_fen          bigint NOT NULL DEFAULT 0,
    spent_fen              bigint NOT NULL DEFAULT 0,
    surplus_fen            bigint NOT NULL DEFAULT 0,
    refund_total_fen       bigint NOT NULL DEFAULT 0,
    status                 text NOT NULL,
    version                bigint NOT NULL
);`, s))
	return err
}

// Request statuses.
const (
	StatusWaiting  = "waiting"
	StatusApproved = "approved"
	StatusRejected = "rejected"
)

// day reads a YYYY-MM-DD of an event, or the event's business date if it is empty.
func day(v string, e event.Event) string {
	if v == "" {
		return e.OccurredAt.Format(time.DateOnly)
	}
	return v
}

// Apply applies a batch in order. Inserts skip rows already present and updates skip older
// versions, so a replay changes nothing.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, schema string, events []event.Event) error {
	s := pgx.Identifier{schema}.Sanitize()
	b := &pgx.Batch{}
	addStep := func(e event.Event, status, step, role, on string) {
		b.Queue(fmt.Sprintf(`INSERT INTO %s.request_steps (stream_id, version, school_id, status, step, role, since_on)
			VALUES ($1, $2, $3, $4, $5, $6, $7::date) ON CONFLICT DO NOTHING`, s), e.StreamID, e.Version, e.SchoolID, status, step, role, on)
	}
	move := func(e event.Event, line string, committed, spent int64, on any) {
		b.Queue(fmt.Sprintf(`INSERT INTO %s.budget_moves (stream_id, version, budget_line_id, committed_fen, spent_fen, spent_on)
			VALUES ($1, $2, $3, $4, $5, $6::date) ON CONFLICT DO NOTHING`, s), e.StreamID, e.Version, line, committed, spent, on)
	}
	for _, e := range events {
		m, err := e.Decode()
		if err != nil {
			return err
		}
		if mv, ok := domain.MovementOf(m); ok {
			b.Queue(fmt.Sprintf(`INSERT INTO %s.stock_moves (stream_id, version, school_id, item_code, category, moved_on, kind,
				quantity, value_fen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`, s),
				e.StreamID, e.Version, e.SchoolID, mv.ItemCode, mv.Category, mv.On, string(mv.Kind), mv.Quantity, mv.ValueFen)
			continue
		}
		switch p := m.(type) {
		case *eventsv1.BudgetLineOpened:
			b.Queue(fmt.Sprintf(`INSERT INTO %s.budget_lines (budget_line_id, stream_id, school_id, fiscal_year, code, name,
				funding_source, amount_fen, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
				ON CONFLICT (budget_line_id) DO NOTHING`, s),
				p.BudgetLineId, e.StreamID, p.SchoolId, p.FiscalYear, p.Code, p.Name, p.FundingSource, p.AmountFen, e.Version)
		case *eventsv1.BudgetAdjustmentApproved:
			b.Queue(fmt.Sprintf(`UPDATE %s.budget_lines SET amount_fen=$2, version=$3 WHERE budget_line_id=$1 AND version < $3`, s),
				p.BudgetLineId, p.NewAmountFen, e.Version)
		case *eventsv1.BudgetCommitted:
			move(e, p.BudgetLineId, p.AmountFen, 0, nil)
		case *eventsv1.BudgetCommitmentReleased:
			move(e, p.BudgetLineId, -p.AmountFen, 0, nil)
		case *eventsv1.BudgetSpent:
			move(e, p.BudgetLineId, -p.FromCommitmentFen, p.AmountFen, day(p.SpentOn, e))
			for i, c := range p.Categories {
				b.Queue(fmt.Sprintf(`INSERT INTO %s.spend_categories (stream_id, version, idx, budget_line_id, category, amount_fen)
					VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, s), e.StreamID, e.Version, i, p.BudgetLineId, c.Category, c.AmountFen)
			}
		case *eventsv1.BudgetSpendReversed:
			// 红字冲销: the spend is negative in the month of the reversal, by category too.
			move(e, p.BudgetLineId, 0, -p.AmountFen, day(p.ReversedOn, e))
			for i, c := range p.Categories {
				b.Queue(fmt.Sprintf(`INSERT INTO %s.spend_categories (stream_id, version, idx, budget_line_id, category, amount_fen)
					VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, s), e.StreamID, e.Version, i, p.BudgetLineId, c.Category, -c.AmountFen)
			}
		case *eventsv1.PurchaseRequestSubmitted:
			status, step, role := StatusApproved, "", ""
			if len(p.Chain) > 0 {
				status, step, role = StatusWaiting, p.Chain[0].Step, p.Chain[0].Role
			}
			on := day(p.SubmittedOn, e)
			b.Queue(fmt.Sprintf(`INSERT INTO %s.requests (purchase_request_id, stream_id, school_id, department,
				estimated_total_fen, submitted_on, status, step, role, waiting_since, version)
				VALUES ($1, $2, $3, $4, $5, $6::date, $7, $8, $9, $6::date, $10) ON CONFLICT (purchase_request_id) DO NOTHING`, s),
				p.PurchaseRequestId, e.StreamID, p.SchoolId, p.Department, p.EstimatedTotalFen, on, status, step, role, e.Version)
			addStep(e, status, step, role, on)
		case *eventsv1.PurchaseRequestApproved:
			status := StatusWaiting
			if p.Final {
				status = StatusApproved
			}
			b.Queue(fmt.Sprintf(`UPDATE %s.requests SET status=$2, step=$3, role=$4, waiting_since=$5::date, version=$6
				WHERE purchase_request_id=$1 AND version < $6`, s),
				p.PurchaseRequestId, status, p.NextStep, p.NextRole, day(p.ApprovedOn, e), e.Version)
			addStep(e, status, p.NextStep, p.NextRole, day(p.ApprovedOn, e))
		case *eventsv1.QuoteChosen:
			if p.QuotesRequired {
				// The choice carries no date of its own: its business time is the day it was made.
				b.Queue(fmt.Sprintf(`INSERT INTO %s.quote_choices (purchase_request_id, school_id, compliant, stream_id, version, decided_on)
					VALUES ($1, $2, $3, $4, $5, $6::date) ON CONFLICT DO NOTHING`, s), p.PurchaseRequestId, e.SchoolID,
					p.DistinctSuppliers >= p.MinQuotes && p.MinQuotes > 0, e.StreamID, e.Version, day("", e))
			}
		case *eventsv1.GoodsAccepted:
			signers := map[string]bool{}
			for _, x := range p.Signers {
				signers[x] = true
			}
			b.Queue(fmt.Sprintf(`INSERT INTO %s.acceptances (receipt_id, school_id, signers, stream_id, version, decided_on)
				VALUES ($1, $2, $3, $4, $5, $6::date) ON CONFLICT DO NOTHING`, s), p.ReceiptId, e.SchoolID, len(signers),
				e.StreamID, e.Version, day(p.AcceptedOn, e))
		case *eventsv1.InvoiceSigned:
			b.Queue(fmt.Sprintf(`INSERT INTO %s.invoice_signatures (invoice_id, role, signer, stream_id, version)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, s), p.InvoiceId, p.Role, p.Signer, e.StreamID, e.Version)
		case *eventsv1.InvoiceReimbursed:
			b.Queue(fmt.Sprintf(`INSERT INTO %s.invoices_reimbursed (invoice_id, school_id, stream_id, version, decided_on)
				VALUES ($1, $2, $3, $4, $5::date) ON CONFLICT DO NOTHING`, s), p.InvoiceId, e.SchoolID, e.StreamID, e.Version,
				day(p.ReimbursedOn, e))
		case *eventsv1.InvoiceReversed:
			// The red-letter invoice is a reimbursed document of its own: compliance checks its
			// three signatures like any invoice's.
			b.Queue(fmt.Sprintf(`INSERT INTO %s.invoices_reimbursed (invoice_id, school_id, stream_id, version, decided_on)
				VALUES ($1, $2, $3, $4, $5::date) ON CONFLICT DO NOTHING`, s), p.ReversalInvoiceId, e.SchoolID, e.StreamID, e.Version,
				day(p.ReversedOn, e))
		case *eventsv1.FeeStandardPublished:
			fee(b, s, e, p.FeeId, p.Term, p.Item, FeePublished, map[string]int{"kind": 8, "amount_per_student_fen": 9}, p.Kind, p.AmountPerStudentFen)
		case *eventsv1.FeeCollected:
			fee(b, s, e, p.FeeId, p.Term, p.Item, FeeCollecting, map[string]int{"collected_fen": 8, "students": 9}, p.CollectedTotalFen, p.StudentsTotal)
		case *eventsv1.FeeSettled:
			fee(b, s, e, p.FeeId, p.Term, p.Item, FeeSettled, map[string]int{"collected_fen": 8, "spent_fen": 9, "surplus_fen": 10,
				"refund_total_fen": 11, "students": 12},
				p.CollectedFen, p.SpentFen, p.SurplusFen, p.RefundTotalFen, p.Students)
		case *eventsv1.FeeSettlementApproved:
			fee(b, s, e, p.FeeId, p.Term, p.Item, FeeApproved, nil)
		case *eventsv1.FeeSettlementPublished:
			fee(b, s, e, p.FeeId, p.Term, p.Item, FeeSettlementPublished, nil)
		case *eventsv1.PurchaseRequestRejected:
			b.Queue(fmt.Sprintf(`UPDATE %s.requests SET status=$2, step=$3, role=$4, version=$5
				WHERE purchase_request_id=$1 AND version < $5`, s),
				p.PurchaseRequestId, StatusRejected, p.Step, p.Role, e.Version)
			addStep(e, StatusRejected, p.Step, p.Role, day(p.RejectedOn, e))
		}
	}
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// Fee statuses.
const (
	FeePublished           = "published"            // 已公示
	FeeCollecting          = "collecting"           // 收费中
	FeeSettled             = "settled"              // 已结算
	FeeApproved            = "approved"             // 结算已审批
	FeeSettlementPublished = "settlement_published" // 结算已公示
)

// FeeStatusNames are the fee statuses in Chinese.
var FeeStatusNames = map[string]string{FeePublished: "已公示", FeeCollecting: "收费中", FeeSettled: "已结算",
	FeeApproved: "结算已审批", FeeSettlementPublished: "结算已公示"}

// fee upserts a fee row from an event: the status and the columns of set (values from $8 on)
// apply only if the event is newer than the row.
func fee(b *pgx.Batch, s string, e event.Event, id, term, item, status string, set map[string]int, args ...any) {
	cols, vals, upd := "", "", "status=$7, version=$6"
	for c, n := range set {
		cols += ", " + c
		vals += fmt.Sprintf(", $%d", n)
		upd += fmt.Sprintf(", %s=$%d", c, n)
	}
	b.Queue(fmt.Sprintf(`INSERT INTO %[1]s.fees (fee_id, stream_id, school_id, term, item, version, status`+cols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7`+vals+`)
		ON CONFLICT (fee_id) DO UPDATE SET `+upd+` WHERE fees.version < $6`, s),
		append([]any{id, e.StreamID, e.SchoolID, term, item, e.Version, status}, args...)...)
}

// Line is one budget line with its commitment and spend.
type Line struct {
	ID, StreamID, Code, Name, FundingSource string
	BudgetFen, CommittedFen, SpentFen       int64
}

// Amount is a sum under a key (a month YYYY-MM or a category).
type Amount struct {
	Key string
	Fen int64
}

// Spend is a school's budget for a fiscal year.
type Spend struct {
	Lines      []Line
	Months     []Amount
	Categories []Amount
}

// Reader answers procurement queries from the live tables.
type Reader struct{ Pool *pgxpool.Pool }

// BudgetSpend returns school's budget lines of year with their commitment and spend, and the
// spend by month and category.
func (r Reader) BudgetSpend(ctx context.Context, school string, year int32) (Spend, error) {
	var out Spend
	rows, err := r.Pool.Query(ctx, `SELECT l.budget_line_id, l.stream_id, l.code, l.name, l.funding_source, l.amount_fen,
		coalesce(sum(m.committed_fen),0)::bigint, coalesce(sum(m.spent_fen),0)::bigint
		FROM procurement.budget_lines l LEFT JOIN procurement.budget_moves m ON m.budget_line_id = l.budget_line_id
		WHERE l.school_id=$1 AND l.fiscal_year=$2 GROUP BY l.budget_line_id ORDER BY l.code, l.budget_line_id`, school, year)
	if err != nil {
		return out, err
	}
	out.Lines, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Line, error) {
		var l Line
		err := row.Scan(&l.ID, &l.StreamID, &l.Code, &l.Name, &l.FundingSource, &l.BudgetFen, &l.CommittedFen, &l.SpentFen)
		return l, err
	})
	if err != nil {
		return out, err
	}
	if out.Months, err = r.amounts(ctx, `SELECT to_char(m.spent_on, 'YYYY-MM'), sum(m.spent_fen)::bigint
		FROM procurement.budget_moves m JOIN procurement.budget_lines l ON l.budget_line_id = m.budget_line_id
		WHERE l.school_id=$1 AND l.fiscal_year=$2 AND m.spent_on IS NOT NULL GROUP BY 1 ORDER BY 1`, school, year); err != nil {
		return out, err
	}
	out.Categories, err = r.amounts(ctx, `SELECT c.category, sum(c.amount_fen)::bigint
		FROM procurement.spend_categories c JOIN procurement.budget_lines l ON l.budget_line_id = c.budget_line_id
		WHERE l.school_id=$1 AND l.fiscal_year=$2 GROUP BY 1 ORDER BY 2 DESC, 1`, school, year)
	return out, err
}

func (r Reader) amounts(ctx context.Context, sql string, args ...any) ([]Amount, error) {
	rows, err := r.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Amount, error) {
		var a Amount
		err := row.Scan(&a.Key, &a.Fen)
		return a, err
	})
}

// Waiting is a purchase request waiting for approval.
type Waiting struct {
	ID, StreamID, Department, Step, Role string
	EstimatedTotalFen                    int64
	SubmittedOn, WaitingSince            time.Time
}

// waitingSQL selects the requests waiting at the end of the day given as the SQL parameter
// asOf: each request submitted by then, in the state of its last step dated by then — the step
// it waited at then and since when — with its school_id. A request projected before steps
// were kept has none and shows as it stands now, until a rebuild.
func waitingSQL(asOf string) string {
	return `SELECT r.school_id, r.purchase_request_id, r.stream_id, r.department, coalesce(h.step, r.step) AS step,
			coalesce(h.role, r.role) AS role, r.estimated_total_fen, r.submitted_on, coalesce(h.since_on, r.waiting_since) AS since_on
		FROM procurement.requests r LEFT JOIN LATERAL (SELECT h.status, h.step, h.role, h.since_on
			FROM procurement.request_steps h WHERE h.stream_id = r.stream_id AND h.since_on <= ` + asOf + `
			ORDER BY h.version DESC LIMIT 1) h ON true
		WHERE r.submitted_on <= ` + asOf + ` AND coalesce(h.status, r.status) = 'waiting'`
}

// Waiting returns school's requests waiting for approval at the end of asOf, as they stood
// then (step and waiting since), the longest waiting first.
func (r Reader) Waiting(ctx context.Context, school string, asOf time.Time) ([]Waiting, error) {
	rows, err := r.Pool.Query(ctx, `SELECT purchase_request_id, stream_id, department, step, role, estimated_total_fen,
		submitted_on, since_on FROM (`+waitingSQL("$2::date")+`) w
		WHERE school_id=$1 ORDER BY since_on, purchase_request_id`, school, asOf)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Waiting, error) {
		var w Waiting
		err := row.Scan(&w.ID, &w.StreamID, &w.Department, &w.Step, &w.Role, &w.EstimatedTotalFen, &w.SubmittedOn, &w.WaitingSince)
		return w, err
	})
}

// School is one school's procurement totals.
type School struct {
	ID, Name                          string
	BudgetFen, CommittedFen, SpentFen int64
	Waiting                           int32
	OldestWaiting                     time.Time // zero when nothing waits
}

// District returns every school known to the ledger or to procurement with its budget and
// spend of year and its requests waiting at the end of asOf, by school id.
func (r Reader) District(ctx context.Context, year int32, asOf time.Time) ([]School, error) {
	rows, err := r.Pool.Query(ctx, `WITH waiting_rows AS (`+waitingSQL("$2::date")+`),
		ids AS (
			SELECT school_id FROM ledger.schools
			UNION SELECT school_id FROM procurement.budget_lines WHERE fiscal_year=$1
			UNION SELECT school_id FROM waiting_rows),
		lines AS (
			SELECT l.school_id, sum(l.amount_fen)::bigint AS budget,
				coalesce(sum(m.committed),0)::bigint AS committed, coalesce(sum(m.spent),0)::bigint AS spent
			FROM procurement.budget_lines l LEFT JOIN (SELECT budget_line_id, sum(committed_fen) AS committed,
				sum(spent_fen) AS spent FROM procurement.budget_moves GROUP BY 1) m ON m.budget_line_id = l.budget_line_id
			WHERE l.fiscal_year=$1 GROUP BY 1),
		waiting AS (
			SELECT school_id, count(*)::integer AS n, min(since_on) AS oldest FROM waiting_rows GROUP BY 1)
		SELECT ids.school_id, coalesce(s.name, ids.school_id), coalesce(l.budget,0), coalesce(l.committed,0),
			coalesce(l.spent,0), coalesce(w.n,0), w.oldest
		FROM ids LEFT JOIN ledger.schools s ON s.school_id = ids.school_id
			LEFT JOIN lines l ON l.school_id = ids.school_id LEFT JOIN waiting w ON w.school_id = ids.school_id
		WHERE ids.school_id <> 'district'
		ORDER BY ids.school_id`, year, asOf)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (School, error) {
		var s School
		var oldest *time.Time
		err := row.Scan(&s.ID, &s.Name, &s.BudgetFen, &s.CommittedFen, &s.SpentFen, &s.Waiting, &oldest)
		if oldest != nil {
			s.OldestWaiting = *oldest
		}
		return s, err
	})
}

// Compliance is one school's compliance counts.
type Compliance struct {
	SchoolID, Name                   string
	QuotesRequired, QuotesCompliant  int32
	Acceptances, AcceptancesTwo      int32
	InvoicesReimbursed, InvoicesFull int32
}

// Window is an inclusive range of business dates; a zero bound is open.
type Window struct{ From, To time.Time }

// bounds are the window's dates for SQL (open bounds as ±infinity).
func (w Window) bounds() (string, string) {
	from, to := "-infinity", "infinity"
	if !w.From.IsZero() {
		from = w.From.Format(time.DateOnly)
	}
	if !w.To.IsZero() {
		to = w.To.Format(time.DateOnly)
	}
	return from, to
}

// invoiceThreeSigned is true of a reimbursed invoice r signed as handler, inspector and
// auditor by three different people.
const invoiceThreeSigned = `(SELECT count(DISTINCT s.role) = 3 AND count(DISTINCT s.signer) >= 3 FROM procurement.invoice_signatures s
	WHERE s.invoice_id = r.invoice_id AND s.role IN ('handler', 'inspector', 'auditor'))`

// Compliance returns the compliance counts of school, or of every school known to the ledger
// or to procurement when school is empty, by school id: the facts dated within w.
func (r Reader) Compliance(ctx context.Context, school string, w Window) ([]Compliance, error) {
	from, to := w.bounds()
	rows, err := r.Pool.Query(ctx, `WITH ids AS (
			SELECT school_id FROM ledger.schools
			UNION SELECT school_id FROM procurement.quote_choices
			UNION SELECT school_id FROM procurement.acceptances
			UNION SELECT school_id FROM procurement.invoices_reimbursed),
		q AS (SELECT school_id, count(*)::integer AS n, (count(*) FILTER (WHERE compliant))::integer AS ok
			FROM procurement.quote_choices WHERE decided_on BETWEEN $2::date AND $3::date GROUP BY 1),
		a AS (SELECT school_id, count(*)::integer AS n, (count(*) FILTER (WHERE signers >= 2))::integer AS ok
			FROM procurement.acceptances WHERE decided_on BETWEEN $2::date AND $3::date GROUP BY 1),
		i AS (SELECT r.school_id, count(*)::integer AS n, (count(*) FILTER (WHERE `+invoiceThreeSigned+`))::integer AS ok
			FROM procurement.invoices_reimbursed r WHERE r.decided_on BETWEEN $2::date AND $3::date GROUP BY 1)
		SELECT ids.school_id, coalesce(sc.name, ids.school_id), coalesce(q.n,0), coalesce(q.ok,0), coalesce(a.n,0),
			coalesce(a.ok,0), coalesce(i.n,0), coalesce(i.ok,0)
		FROM ids LEFT JOIN ledger.schools sc ON sc.school_id = ids.school_id LEFT JOIN q ON q.school_id = ids.school_id
			LEFT JOIN a ON a.school_id = ids.school_id LEFT JOIN i ON i.school_id = ids.school_id
		WHERE ids.school_id <> 'district' AND ($1 = '' OR ids.school_id = $1)
		ORDER BY ids.school_id`, school, from, to)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Compliance, error) {
		var c Compliance
		err := row.Scan(&c.SchoolID, &c.Name, &c.QuotesRequired, &c.QuotesCompliant, &c.Acceptances, &c.AcceptancesTwo,
			&c.InvoicesReimbursed, &c.InvoicesFull)
		return c, err
	})
}

// Compliance facts, for CompliancePositions.
const (
	FactQuotes      = "quotes"      // quote choices that needed 货比三家
	FactAcceptances = "acceptances" // goods receipts accepted
	FactInvoices    = "invoices"    // invoices reimbursed
)

// CompliancePositions returns the events behind one side of a compliance rate of school in
// w: the quote choices (QuoteChosen) with enough suppliers or not, the acceptances
// (GoodsAccepted) by two or more people or not, the reimbursed invoices (InvoiceReimbursed
// and their InvoiceSigned) with three signers or not. ok is false for an unknown fact.
func (r Reader) CompliancePositions(ctx context.Context, school, fact string, compliant bool, w Window) ([]eventlog.Position, bool, error) {
	from, to := w.bounds()
	var sql string
	switch fact {
	case FactQuotes:
		sql = `SELECT stream_id, version FROM procurement.quote_choices
			WHERE school_id=$1 AND decided_on BETWEEN $2::date AND $3::date AND compliant = $4`
	case FactAcceptances:
		sql = `SELECT stream_id, version FROM procurement.acceptances
			WHERE school_id=$1 AND decided_on BETWEEN $2::date AND $3::date AND (signers >= 2) = $4`
	case FactInvoices:
		sql = `WITH inv AS (SELECT r.invoice_id, r.stream_id, r.version FROM procurement.invoices_reimbursed r
				WHERE r.school_id=$1 AND r.decided_on BETWEEN $2::date AND $3::date AND ` + invoiceThreeSigned + ` = $4)
			SELECT stream_id, version FROM inv
			UNION SELECT s.stream_id, s.version FROM procurement.invoice_signatures s JOIN inv USING (invoice_id)`
	default:
		return nil, false, nil
	}
	ps, err := r.positions(ctx, sql, school, from, to, compliant)
	return ps, true, err
}

// SpendPositions returns the BudgetSpent events of school's budget lines of year spent in
// month (YYYY-MM), or, with month empty, those with spend on category.
func (r Reader) SpendPositions(ctx context.Context, school string, year int32, month, category string) ([]eventlog.Position, error) {
	if month != "" {
		return r.positions(ctx, `SELECT m.stream_id, m.version FROM procurement.budget_moves m
			JOIN procurement.budget_lines l ON l.budget_line_id = m.budget_line_id
			WHERE l.school_id=$1 AND l.fiscal_year=$2 AND m.spent_on IS NOT NULL AND to_char(m.spent_on, 'YYYY-MM') = $3`,
			school, year, month)
	}
	return r.positions(ctx, `SELECT DISTINCT c.stream_id, c.version FROM procurement.spend_categories c
		JOIN procurement.budget_lines l ON l.budget_line_id = c.budget_line_id
		WHERE l.school_id=$1 AND l.fiscal_year=$2 AND c.category = $3`, school, year, category)
}

// StockPositions returns school's stock movement events dated up to the end of day, of one
// item or one category when given.
func (r Reader) StockPositions(ctx context.Context, school, day, item, category string) ([]eventlog.Position, error) {
	return r.positions(ctx, `SELECT stream_id, version FROM procurement.stock_moves
		WHERE school_id=$1 AND moved_on <= $2 AND ($3 = '' OR item_code = $3) AND ($4 = '' OR category = $4)`,
		school, day, item, category)
}

// BudgetStreams returns the streams of school's budget lines of a fiscal year.
func (r Reader) BudgetStreams(ctx context.Context, school string, year int32) ([]string, error) {
	rows, err := r.Pool.Query(ctx, `SELECT stream_id FROM procurement.budget_lines WHERE school_id=$1 AND fiscal_year=$2`, school, year)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// FeeStreams returns the streams of school's fee standards of term (every term when empty).
func (r Reader) FeeStreams(ctx context.Context, school, term string) ([]string, error) {
	rows, err := r.Pool.Query(ctx, `SELECT stream_id FROM procurement.fees WHERE school_id=$1 AND ($2 = '' OR term = $2)`, school, term)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func (r Reader) positions(ctx context.Context, sql string, args ...any) ([]eventlog.Position, error) {
	rows, err := r.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (eventlog.Position, error) {
		var p eventlog.Position
		err := row.Scan(&p.StreamID, &p.Version)
		return p, err
	})
}

// Fee is one fee standard as it stands.
type Fee struct {
	ID, StreamID, Term, Item, Kind, Status          string
	PerStudentFen, Students, CollectedFen, SpentFen int64
	SurplusFen, RefundTotalFen                      int64
}

// Fees returns school's fee standards of term (every term when empty), by term and item.
func (r Reader) Fees(ctx context.Context, school, term string) ([]Fee, error) {
	rows, err := r.Pool.Query(ctx, `SELECT fee_id, stream_id, term, item, kind, status, amount_per_student_fen, students,
		collected_fen, spent_fen, surplus_fen, refund_total_fen FROM procurement.fees
		WHERE school_id=$1 AND ($2 = '' OR term = $2) ORDER BY term, item, fee_id`, school, term)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Fee, error) {
		var f Fee
		err := row.Scan(&f.ID, &f.StreamID, &f.Term, &f.Item, &f.Kind, &f.Status, &f.PerStudentFen, &f.Students,
			&f.CollectedFen, &f.SpentFen, &f.SurplusFen, &f.RefundTotalFen)
		return f, err
	})
}

// StockMoves returns school's stock movements dated up to the end of day (YYYY-MM-DD), for
// the procurement domain's pure reports (domain.MonthlyAudit, domain.StockAsOf).
func (r Reader) StockMoves(ctx context.Context, school, day string) ([]domain.Movement, error) {
	moves, err := r.stockMoves(ctx, school, day)
	out := make([]domain.Movement, len(moves))
	for i, m := range moves {
		out[i] = m.Movement
	}
	return out, err
}

type schoolMove struct {
	school string
	domain.Movement
}

// stockMoves reads the movements of school (every school when empty) up to the end of day.
func (r Reader) stockMoves(ctx context.Context, school, day string) ([]schoolMove, error) {
	rows, err := r.Pool.Query(ctx, `SELECT school_id, item_code, category, moved_on, kind, quantity, value_fen FROM procurement.stock_moves
		WHERE ($1 = '' OR school_id=$1) AND moved_on <= $2 ORDER BY school_id, moved_on, stream_id, version`, school, day)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (schoolMove, error) {
		var m schoolMove
		var kind string
		err := row.Scan(&m.school, &m.ItemCode, &m.Category, &m.On, &kind, &m.Quantity, &m.ValueFen)
		m.Kind = domain.MovementKind(kind)
		return m, err
	})
}

// Named is a school with its name (the school id when the ledger does not know it).
type Named struct{ ID, Name string }

// StockBySchool returns every school known to the ledger or with stock, by school id, and
// the stock movements of each dated up to the end of day.
func (r Reader) StockBySchool(ctx context.Context, day string) ([]Named, map[string][]domain.Movement, error) {
	rows, err := r.Pool.Query(ctx, `WITH ids AS (SELECT school_id FROM ledger.schools UNION SELECT school_id FROM procurement.stock_moves)
		SELECT ids.school_id, coalesce(s.name, ids.school_id) FROM ids LEFT JOIN ledger.schools s ON s.school_id = ids.school_id
		WHERE ids.school_id <> 'district' ORDER BY ids.school_id`)
	if err != nil {
		return nil, nil, err
	}
	schools, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Named, error) {
		var n Named
		err := row.Scan(&n.ID, &n.Name)
		return n, err
	})
	if err != nil {
		return nil, nil, err
	}
	moves, err := r.stockMoves(ctx, "", day)
	if err != nil {
		return nil, nil, err
	}
	by := map[string][]domain.Movement{}
	for _, m := range moves {
		by[m.school] = append(by[m.school], m.Movement)
	}
	return schools, by, nil
}

// FeeTotals is one school's fees: counts of standards and settlements and the sums.
type FeeTotals struct {
	ID, Name                                            string
	Published, OnBehalf, Settled, SettlementsPublished  int32
	CollectedFen, SurplusFen, RefundFen, OutstandingFen int64
}

// DistrictFees returns every school known to the ledger or with fees, with the totals of its
// fees of term (every term when empty), by school id. Refunds are outstanding while the
// settlement is not yet published.
func (r Reader) DistrictFees(ctx context.Context, term string) ([]FeeTotals, error) {
	rows, err := r.Pool.Query(ctx, `WITH ids AS (SELECT school_id FROM ledger.schools UNION SELECT school_id FROM procurement.fees),
		f AS (SELECT school_id, count(*)::integer AS published, sum(collected_fen)::bigint AS collected,
				(count(*) FILTER (WHERE kind = 'on_behalf'))::integer AS on_behalf,
				(count(*) FILTER (WHERE kind = 'on_behalf' AND status IN ('settled', 'approved', 'settlement_published')))::integer AS settled,
				(count(*) FILTER (WHERE status = 'settlement_published'))::integer AS settlement_published,
				sum(surplus_fen)::bigint AS surplus, sum(refund_total_fen)::bigint AS refunds,
				coalesce(sum(refund_total_fen) FILTER (WHERE status IN ('settled', 'approved')), 0)::bigint AS outstanding
			FROM procurement.fees WHERE $1 = '' OR term = $1 GROUP BY 1)
		SELECT ids.school_id, coalesce(s.name, ids.school_id), coalesce(f.published,0), coalesce(f.on_behalf,0),
			coalesce(f.settled,0), coalesce(f.settlement_published,0), coalesce(f.collected,0), coalesce(f.surplus,0),
			coalesce(f.refunds,0), coalesce(f.outstanding,0)
		FROM ids LEFT JOIN ledger.schools s ON s.school_id = ids.school_id LEFT JOIN f ON f.school_id = ids.school_id
		WHERE ids.school_id <> 'district' ORDER BY ids.school_id`, term)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (FeeTotals, error) {
		var f FeeTotals
		err := row.Scan(&f.ID, &f.Name, &f.Published, &f.OnBehalf, &f.Settled, &f.SettlementsPublished, &f.CollectedFen,
			&f.SurplusFen, &f.RefundFen, &f.OutstandingFen)
		return f, err
	})
}
