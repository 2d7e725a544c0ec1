// Package ledger is the asset ledger read model (资产台帐): schools and their assets, built from
// the assets service's events, queried by school and district as of any business date.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/event"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Projection builds the ledger.
type Projection struct{}

// Name is also the live schema.
func (Projection) Name() string { return "ledger" }

// Version of the tables and of what Apply writes (bump it when you change either).
// 2: corrections (更正) and custodians' staff numbers (工号).
func (Projection) Version() int { return 2 }

// Setup creates the tables in schema.
func (Projection) Setup(ctx context.Context, tx pgx.Tx, schema string) error {
	s := pgx.Identifier{schema}.Sanitize()
	_, err := tx.Exec(ctx, fmt.Sprintf(`
CREATE TABLE IF NOT EXISTS %[1]s.schools (
    school_id     text PRIMARY KEY,
    name          text NOT NULL,
    kind          text NOT NULL,
    boarding      boolean NOT NULL,
    event_id      uuid NOT NULL,
    registered_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS %[1]s.assets (
    asset_id       uuid PRIMARY KEY,
    school_id      text NOT NULL,
    tag            text NOT NULL,
    name           text NOT NULL,
    category       text NOT NULL,
    unit_price_fen bigint NOT NULL,
    quantity       bigint NOT NULL,
    value_fen      bigint NOT NULL,
    acquired_on    date NOT NULL,
    fixed_asset    boolean NOT NULL,
    location       text NOT NULL,
    department     text NOT NULL,
    custodian      text NOT NULL,
    version        bigint NOT NULL,
    event_id       uuid NOT NULL, -- the registration behind the row (drill-down)
    registered_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS assets_by_school_date ON %[1]s.assets (school_id, acquired_on)
    INCLUDE (category, quantity, value_fen);
-- Where the row stands now (状态) and the business time of its last change after
-- registration: an as-of query before that time reads asset_history instead. Tables made
-- before these columns get them with defaults that read as "never changed".
ALTER TABLE %[1]s.assets ADD COLUMN IF NOT EXISTS status text NOT NULL DEFAULT 'in_use';
ALTER TABLE %[1]s.assets ADD COLUMN IF NOT EXISTS changed_at timestamptz NOT NULL DEFAULT '-infinity';
-- Depreciation as judged at registration (services/assets/depreciation).
ALTER TABLE %[1]s.assets ADD COLUMN IF NOT EXISTS depreciation_months integer NOT NULL DEFAULT 0;
ALTER TABLE %[1]s.assets ADD COLUMN IF NOT EXISTS depreciation_start text NOT NULL DEFAULT '';
-- Every state of an asset's location, department, custodian and status, from the business
-- time of the event that made it: the ledger by those dimensions as of any date.
CREATE TABLE IF NOT EXISTS %[1]s.asset_history (
    asset_id     uuid NOT NULL,
    version      bigint NOT NULL,
    school_id    text NOT NULL,
    effective_at timestamptz NOT NULL,
    location     text NOT NULL,
    department   text NOT NULL,
    custodian    text NOT NULL,
    status       text NOT NULL,
    PRIMARY KEY (asset_id, version)
);
CREATE INDEX IF NOT EXISTS asset_history_as_of ON %[1]s.asset_history (asset_id, effective_at DESC, version DESC);
-- Entries that left the ledger (write-off, stocktake shortage, transfer out, reversal) and the
-- business date they left: held as of a date means acquired by then and not removed by then.
CREATE TABLE IF NOT EXISTS %[1]s.removals (
    asset_id   uuid PRIMARY KEY,
    school_id  text NOT NULL,
    removed_on date NOT NULL,
    quantity   bigint NOT NULL,
    value_fen  bigint NOT NULL,
    event_id   uuid NOT NULL
);
CREATE INDEX IF NOT EXISTS removals_by_date ON %[1]s.removals (removed_on) INCLUDE (school_id, quantity, value_fen);
-- The acquisition date the entry left with: the district's sums take a removal off only where
-- they counted the entry (rows made before read as acquired long ago).
ALTER TABLE %[1]s.removals ADD COLUMN IF NOT EXISTS acquired_on date NOT NULL DEFAULT '-infinity';
-- Corrections (更正, 红字冲销): the asset row holds the values after the latest correction and
-- the date of that correction; each correction keeps the values that stood until its date
-- (before) and those entered from it (to_…), so an as-of query before a correction date sees
-- the ledger as it stood. Tables made before corrections read as never corrected.
ALTER TABLE %[1]s.assets ADD COLUMN IF NOT EXISTS corrected_on date NOT NULL DEFAULT '-infinity';
CREATE TABLE IF NOT EXISTS %[1]s.corrections (
    asset_id            uuid NOT NULL,
    version             bigint NOT NULL,
    school_id           text NOT NULL,
    corrected_on        date NOT NULL,
    category            text NOT NULL,
    quantity            bigint NOT NULL,
    value_fen           bigint NOT NULL,
    acquired_on         date NOT NULL,
    depreciation_months integer NOT NULL,
    depreciation_start  text NOT NULL,
    to_category         text NOT NULL,
    to_quantity         bigint NOT NULL,
    to_value_fen        bigint NOT NULL,
    to_acquired_on      date NOT NULL,
    event_id            uuid NOT NULL,
    PRIMARY KEY (asset_id, version)
);
CREATE INDEX IF NOT EXISTS corrections_by_date ON %[1]s.corrections (corrected_on);
CREATE INDEX IF NOT EXISTS corrections_by_asset ON %[1]s.corrections (asset_id, corrected_on, version);
-- The custodian's staff number (保管人工号) where the events carry it (registrations and
-- transfers once the school has a staff directory; '' before): the breakdown by custodian
-- groups by it, so two 张伟 are two rows. Rows made before read as recorded by name only.
ALTER TABLE %[1]s.assets ADD COLUMN IF NOT EXISTS custodian_staff_no text NOT NULL DEFAULT '';
ALTER TABLE %[1]s.asset_history ADD COLUMN IF NOT EXISTS custodian_staff_no text NOT NULL DEFAULT '';`, s))
	if err != nil {
		return err
	}
	return setupTotals(ctx, tx, schema)
}

type assetRows struct {
	ids, events                                    [][16]byte
	schools, tags, names, cats, locs, depts, custs []string
	custNos                                        []string
	prices, qtys, values, versions                 []int64
	acquired                                       []time.Time
	fixed                                          []bool
	registered, occurred                           []time.Time
	depMonths                                      []int32
	depStarts                                      []string
}

func (r *assetRows) add(e event.Event, m *eventsv1.AssetRegistered) error {
	id, err := uuid.Parse(m.AssetId)
	if err != nil {
		return fmt.Errorf("ledger: event %s: asset id: %w", e.ID, err)
	}
	d, err := time.Parse(domain.DateLayout, m.AcquiredOn)
	if err != nil {
		return fmt.Errorf("ledger: event %s: acquired_on: %w", e.ID, err)
	}
	r.ids = append(r.ids, [16]byte(id))
	r.events = append(r.events, [16]byte(e.ID))
	r.schools = append(r.schools, e.SchoolID)
	r.tags = append(r.tags, m.Tag)
	r.names = append(r.names, m.Name)
	r.cats = append(r.cats, m.Category)
	r.locs = append(r.locs, m.Location)
	r.depts = append(r.depts, m.Department)
	r.custs = append(r.custs, m.Custodian)
	r.custNos = append(r.custNos, m.CustodianStaffNo)
	r.prices = append(r.prices, m.UnitPriceFen)
	r.qtys = append(r.qtys, m.Quantity)
	r.values = append(r.values, m.UnitPriceFen*m.Quantity)
	r.versions = append(r.versions, e.Version)
	r.acquired = append(r.acquired, d)
	r.fixed = append(r.fixed, m.FixedAsset)
	r.registered = append(r.registered, e.RecordedAt)
	r.occurred = append(r.occurred, e.OccurredAt)
	r.depMonths = append(r.depMonths, depreciationMonths(m))
	r.depStarts = append(r.depStarts, depreciationStart(m))
	return nil
}

// Apply applies a batch: runs of registrations go in as one bulk insert; other events in
// order. Inserts skip rows already there and updates skip older versions, so even a replay
// without the checkpoint would not double anything.
func (Projection) Apply(ctx context.Context, tx pgx.Tx, schema string, events []event.Event) error {
	s := pgx.Identifier{schema}.Sanitize()
	var rows assetRows
	b := &pgx.Batch{}
	flush := func() {
		if len(rows.ids) == 0 {
			return
		}
		b.Queue(fmt.Sprintf(`INSERT INTO %s.assets (asset_id, event_id, school_id, tag, name, category, location,
			department, custodian, unit_price_fen, quantity, value_fen, version, acquired_on, fixed_asset, registered_at,
			depreciation_months, depreciation_start, custodian_staff_no)
			SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
			$8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::date[],
			$15::boolean[], $16::timestamptz[], $17::integer[], $18::text[], $19::text[])
			ON CONFLICT (asset_id) DO NOTHING`, s),
			rows.ids, rows.events, rows.schools, rows.tags, rows.names, rows.cats, rows.locs, rows.depts, rows.custs,
			rows.prices, rows.qtys, rows.values, rows.versions, rows.acquired, rows.fixed, rows.registered,
			rows.depMonths, rows.depStarts, rows.custNos)
		b.Queue(fmt.Sprintf(`INSERT INTO %s.asset_history (asset_id, version, school_id, effective_at, location, department,
			custodian, custodian_staff_no, status)
			SELECT id, v, sc, at, l, d, c, n, 'in_use' FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::timestamptz[],
			$5::text[], $6::text[], $7::text[], $8::text[]) AS u(id, v, sc, at, l, d, c, n)
			ON CONFLICT DO NOTHING`, s),
			rows.ids, rows.versions, rows.schools, rows.occurred, rows.locs, rows.depts, rows.custs, rows.custNos)
		rows = assetRows{}
	}
	for _, e := range events {
		m, err := e.Decode()
		if err != nil {
			return err
		}
		switch p := m.(type) {
		case *eventsv1.AssetRegistered:
			if err := rows.add(e, p); err != nil {
				return err
			}
		case *eventsv1.AssetTransferred:
			flush()
			change(b, s, e, p.AssetId, "location=$4, department=$5, custodian=$6, custodian_staff_no=$7", p.ToLocation,
				p.ToDepartment, p.ToCustodian, p.ToCustodianStaffNo)
		case *eventsv1.AssetLent:
			flush()
			change(b, s, e, p.AssetId, "status=$4", StatusLent)
		case *eventsv1.AssetReturned:
			flush()
			change(b, s, e, p.AssetId, "status=$4", StatusInUse)
		case *eventsv1.AssetWrittenOff:
			flush()
			if err := remove(b, s, e, p.AssetId, p.WrittenOffOn); err != nil {
				return err
			}
		case *eventsv1.AssetRemovedByStocktake:
			flush()
			// The event carries no date: the day it was recorded, in the district's time zone.
			if err := remove(b, s, e, p.AssetId, e.OccurredAt.In(districtZone).Format(domain.DateLayout)); err != nil {
				return err
			}
		case *eventsv1.AssetTransferredOut:
			flush()
			if err := remove(b, s, e, p.AssetId, p.TransferredOn); err != nil {
				return err
			}
		case *eventsv1.AssetRegistrationReversed:
			flush()
			if err := remove(b, s, e, p.AssetId, p.ReversedOn); err != nil {
				return err
			}
		case *eventsv1.AssetRegistrationCorrected:
			flush()
			if err := correct(b, s, e, p); err != nil {
				return err
			}
		case *eventsv1.SchoolRegistered:
			flush()
			b.Queue(fmt.Sprintf(`INSERT INTO %s.schools (school_id, name, kind, boarding, event_id, registered_at)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (school_id) DO NOTHING`, s),
				p.SchoolId, p.Name, p.Kind, p.Boarding, e.ID, e.RecordedAt)
		}
	}
	flush()
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// Statuses of a ledger entry (状态).
const (
	StatusInUse = "in_use" // 在用
	StatusLent  = "lent"   // 借出
)

// StatusNames are the statuses in Chinese.
var StatusNames = map[string]string{StatusInUse: "在用", StatusLent: "借出"}

// change applies an event that changes an asset's location, department, custodian or status:
// set (assignments from $4 on) updates the row if the event is newer, and the state after it
// goes into asset_history from the event's business time. Both are guarded by the version,
// so a replay changes nothing.
func change(b *pgx.Batch, s string, e event.Event, assetID, set string, args ...any) {
	b.Queue(fmt.Sprintf(`UPDATE %s.assets SET `+set+`, version=$2, changed_at=greatest(changed_at, $3)
		WHERE asset_id=$1 AND version < $2`, s), append([]any{assetID, e.Version, e.OccurredAt}, args...)...)
	b.Queue(fmt.Sprintf(`INSERT INTO %[1]s.asset_history (asset_id, version, school_id, effective_at, location, department,
			custodian, custodian_staff_no, status)
		SELECT asset_id, $2, school_id, $3, location, department, custodian, custodian_staff_no, status FROM %[1]s.assets
		WHERE asset_id=$1 AND version = $2
		ON CONFLICT DO NOTHING`, s), assetID, e.Version, e.OccurredAt)
}

// districtZone is the zone of business dates the events do not carry (the projector's default
// time zone).
var districtZone = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()

// remove records that an asset left the ledger on the business date on (YYYY-MM-DD): as-of
// queries from that date on no longer count it. Once per asset, so a replay changes nothing.
func remove(b *pgx.Batch, s string, e event.Event, assetID, on string) error {
	d, err := time.Parse(domain.DateLayout, on)
	if err != nil {
		return fmt.Errorf("ledger: event %s: removal date: %w", e.ID, err)
	}
	b.Queue(fmt.Sprintf(`INSERT INTO %[1]s.removals (asset_id, school_id, removed_on, quantity, value_fen, event_id, acquired_on)
		SELECT asset_id, school_id, $2, quantity, value_fen, $3, acquired_on FROM %[1]s.assets WHERE asset_id = $1
		ON CONFLICT (asset_id) DO NOTHING`, s), assetID, d, e.ID)
	return nil
}

// correct applies a correction (更正) dated p.CorrectedOn: the values before and after go into
// corrections, and the asset row takes the values after. Both are guarded by the version (the
// row is updated only by a newer event, the correction row is inserted once), so a replay
// changes nothing; the school-year totals follow the row through their triggers.
func correct(b *pgx.Batch, s string, e event.Event, p *eventsv1.AssetRegistrationCorrected) error {
	on, err := time.Parse(domain.DateLayout, p.CorrectedOn)
	if err != nil {
		return fmt.Errorf("ledger: event %s: corrected_on: %w", e.ID, err)
	}
	was, is := p.GetBefore(), p.GetAfter()
	wasOn, err := time.Parse(domain.DateLayout, was.GetAcquiredOn())
	if err != nil {
		return fmt.Errorf("ledger: event %s: before.acquired_on: %w", e.ID, err)
	}
	isOn, err := time.Parse(domain.DateLayout, is.GetAcquiredOn())
	if err != nil {
		return fmt.Errorf("ledger: event %s: after.acquired_on: %w", e.ID, err)
	}
	b.Queue(fmt.Sprintf(`INSERT INTO %s.corrections (asset_id, version, school_id, corrected_on, category, quantity,
			value_fen, acquired_on, depreciation_months, depreciation_start, to_category, to_quantity, to_value_fen,
			to_acquired_on, event_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT DO NOTHING`, s),
		p.AssetId, e.Version, e.SchoolID, on, was.GetCategory(), was.GetQuantity(), was.GetUnitPriceFen()*was.GetQuantity(),
		wasOn, was.GetDepreciationMonths(), was.GetDepreciationStart(), is.GetCategory(), is.GetQuantity(),
		is.GetUnitPriceFen()*is.GetQuantity(), isOn, e.ID)
	b.Queue(fmt.Sprintf(`UPDATE %s.assets SET name=$3, category=$4, unit_price_fen=$5, quantity=$6, value_fen=$5::bigint*$6::bigint,
			acquired_on=$7, fixed_asset=$8, depreciation_months=$9, depreciation_start=$10,
			corrected_on=greatest(corrected_on, $11), version=$2
		WHERE asset_id=$1 AND version < $2`, s),
		p.AssetId, e.Version, is.GetName(), is.GetCategory(), is.GetUnitPriceFen(), is.GetQuantity(), isOn,
		is.GetFixedAsset(), is.GetDepreciationMonths(), is.GetDepreciationStart(), on)
	return nil
}

// CategoryTotal is one category of a school's ledger.
type CategoryTotal struct {
	Category string
	Name     string
	Entries  int64
	Quantity int64
	ValueFen int64
}

// School is a school with its ledger totals.
type School struct {
	ID       string
	Name     string
	Kind     string
	Boarding bool
	Entries  int64
	Quantity int64
	ValueFen int64
}

// Reader answers ledger queries from the live tables.
type Reader struct{ Pool *pgxpool.Pool }

// SchoolLedger returns school's totals by category as of the end of asOf, and whether the
// school is known.
func (r Reader) SchoolLedger(ctx context.Context, school string, asOf time.Time) (School, []CategoryTotal, bool, error) {
	var sc School
	err := r.Pool.QueryRow(ctx, `SELECT school_id, name, kind, boarding FROM ledger.schools WHERE school_id=$1`, school).
		Scan(&sc.ID, &sc.Name, &sc.Kind, &sc.Boarding)
	if errors.Is(err, pgx.ErrNoRows) {
		return School{}, nil, false, nil
	}
	if err != nil {
		return School{}, nil, false, err
	}
	rows, err := r.Pool.Query(ctx, `SELECT category, sum(n)::bigint, sum(quantity)::bigint, sum(value_fen)::bigint FROM (
			SELECT category, 1 n, quantity, value_fen FROM ledger.assets a WHERE school_id=$1 AND acquired_on <= $2
				AND NOT EXISTS (SELECT 1 FROM ledger.removals r WHERE r.asset_id = a.asset_id AND r.removed_on <= $2)
			UNION ALL
			SELECT category, n, quantity, value_fen FROM (`+correctionsSQL("$2")+`) c WHERE school_id=$1
		) t GROUP BY category HAVING sum(n) <> 0 ORDER BY category`, school, asOf)
	if err != nil {
		return School{}, nil, false, err
	}
	cats, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CategoryTotal, error) {
		var c CategoryTotal
		err := row.Scan(&c.Category, &c.Entries, &c.Quantity, &c.ValueFen)
		c.Name = domain.CategoryName(c.Category)
		return c, err
	})
	for _, c := range cats {
		sc.Entries += c.Entries
		sc.Quantity += c.Quantity
		sc.ValueFen += c.ValueFen
	}
	return sc, cats, true, err
}

// District returns every school with its totals as of the end of asOf.
func (r Reader) District(ctx context.Context, asOf time.Time) ([]School, error) {
	rows, err := r.Pool.Query(ctx, districtSQL, districtArgs(asOf)...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (School, error) {
		var s School
		err := row.Scan(&s.ID, &s.Name, &s.Kind, &s.Boarding, &s.Entries, &s.Quantity, &s.ValueFen)
		return s, err
	})
}

// Schools returns the district's schools, by id.
func (r Reader) Schools(ctx context.Context) ([]School, error) {
	rows, err := r.Pool.Query(ctx, `SELECT school_id, name, kind, boarding FROM ledger.schools ORDER BY school_id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (School, error) {
		var s School
		err := row.Scan(&s.ID, &s.Name, &s.Kind, &s.Boarding)
		return s, err
	})
}
