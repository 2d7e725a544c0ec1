package ledger

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// School-year totals (分校分年度汇总) keep the district as-of query cheap at district scale. A
// district ledger as of a date sums every asset of every school acquired by then: at 100
// schools × 3,000 assets, 300,000 rows per query and a p95 of about 300 ms on the 2-core dev
// VM. With totals per school and year of acquisition, the query sums the years before the
// as-of year from the totals (schools × years rows) and only the as-of year's own rows from
// the assets, through an index on the acquisition date (`make bench`, phase ledger).
//
// Statement triggers keep the totals equal to the assets table whatever statement changes it:
// they see only the rows a statement really inserted, updated (in the columns that count) or
// deleted — an insert skipped ON CONFLICT is not counted — so the projection stays
// idempotent and Apply needs no second bookkeeping. The trigger function resolves the table
// through TG_TABLE_SCHEMA, so a rebuild's renamed schema keeps working.
const totalsSQL = `
CREATE TABLE IF NOT EXISTS %[1]s.school_year_totals (
    school_id text   NOT NULL,
    year      int    NOT NULL,
    entries   bigint NOT NULL,
    quantity  bigint NOT NULL,
    value_fen bigint NOT NULL,
    PRIMARY KEY (school_id, year)
);
CREATE INDEX IF NOT EXISTS assets_by_date ON %[1]s.assets (acquired_on) INCLUDE (school_id, quantity, value_fen);
-- Tables made before the totals: count what they hold, once (empty totals, rows in assets).
INSERT INTO %[1]s.school_year_totals (school_id, year, entries, quantity, value_fen)
SELECT school_id, extract(year FROM acquired_on)::int, count(*), sum(quantity), sum(value_fen) FROM %[1]s.assets
WHERE NOT EXISTS (SELECT 1 FROM %[1]s.school_year_totals) GROUP BY 1, 2;
CREATE OR REPLACE FUNCTION %[1]s.school_year_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    upsert constant text := 'INSERT INTO %%I.school_year_totals AS t (school_id, year, entries, quantity, value_fen)
        SELECT school_id, extract(year FROM acquired_on)::int, %%s count(*), %%s sum(quantity), %%s sum(value_fen)
        FROM %%s GROUP BY 1, 2
        ON CONFLICT (school_id, year) DO UPDATE SET entries = t.entries + excluded.entries,
            quantity = t.quantity + excluded.quantity, value_fen = t.value_fen + excluded.value_fen';
BEGIN
    IF TG_OP = 'UPDATE' THEN -- (nested: one expression would plan old_rows for an insert too)
        IF NOT EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n USING (asset_id)
                WHERE (o.school_id, o.acquired_on, o.quantity, o.value_fen) IS DISTINCT FROM
                    (n.school_id, n.acquired_on, n.quantity, n.value_fen)) THEN
            RETURN NULL; -- a transfer or a status change: nothing that counts moved
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        EXECUTE format(upsert, TG_TABLE_SCHEMA, '-', '-', '-', 'old_rows');
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        EXECUTE format(upsert, TG_TABLE_SCHEMA, '', '', '', 'new_rows');
    END IF;
    RETURN NULL;
END $fn$;
CREATE OR REPLACE TRIGGER school_year_totals_insert AFTER INSERT ON %[1]s.assets
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION %[1]s.school_year_totals_apply();
CREATE OR REPLACE TRIGGER school_year_totals_update AFTER UPDATE ON %[1]s.assets
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION %[1]s.school_year_totals_apply();
CREATE OR REPLACE TRIGGER school_year_totals_delete AFTER DELETE ON %[1]s.assets
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION %[1]s.school_year_totals_apply();`

func setupTotals(ctx context.Context, tx pgx.Tx, schema string) error {
	_, err := tx.Exec(ctx, fmt.Sprintf(totalsSQL, pgx.Identifier{schema}.Sanitize()))
	return err
}

// districtSQL sums each school's years before the as-of year from the totals and the as-of
// year up to the as-of date from the assets ($1 year, $2 its first day, $3 the as-of date).
var districtSQL = `SELECT s.school_id, s.name, s.kind, s.boarding,
		coalesce(a.entries, 0), coalesce(a.quantity, 0), coalesce(a.value_fen, 0)
	FROM ledger.schools s LEFT JOIN (
		SELECT school_id, sum(entries)::bigint entries, sum(quantity)::bigint quantity, sum(value_fen)::bigint value_fen
		FROM (
			SELECT school_id, entries, quantity, value_fen FROM ledger.school_year_totals WHERE year < $1
			UNION ALL
			SELECT school_id, 1, quantity, value_fen FROM ledger.assets WHERE acquired_on >= $2 AND acquired_on <= $3
			UNION ALL
			SELECT school_id, -1, -quantity, -value_fen FROM ledger.removals WHERE removed_on <= $3 AND acquired_on <= $3
			UNION ALL
			SELECT school_id, n, quantity, value_fen FROM (` + correctionsSQL("$3") + `) c
		) t GROUP BY school_id) a USING (school_id)
	ORDER BY s.school_id`

// correctionsSQL turns sums over the asset rows, which hold the values after each asset's
// latest correction, into the ledger as it stood at the end of the as-of date (the query
// parameter asOf, e.g. "$3"): every correction dated after it takes its values after back out
// and puts its values before back in, each set counted only if acquired by then. An asset
// corrected several times after the date telescopes to the values before the first of those
// corrections. Assets removed by the date are out of the ledger altogether. Corrections after
// a date are few, found by date.
func correctionsSQL(asOf string) string {
	return strings.ReplaceAll(`
		SELECT school_id, category, 1 n, quantity, value_fen FROM ledger.corrections c
		WHERE corrected_on > $D AND acquired_on <= $D
			AND NOT EXISTS (SELECT 1 FROM ledger.removals r WHERE r.asset_id = c.asset_id AND r.removed_on <= $D)
		UNION ALL
		SELECT school_id, to_category, -1, -to_quantity, -to_value_fen FROM ledger.corrections c
		WHERE corrected_on > $D AND to_acquired_on <= $D
			AND NOT EXISTS (SELECT 1 FROM ledger.removals r WHERE r.asset_id = c.asset_id AND r.removed_on <= $D)`, "$D", asOf)
}

func districtArgs(asOf time.Time) []any {
	return []any{asOf.Year(), time.Date(asOf.Year(), 1, 1, 0, 0, 0, 0, time.UTC), asOf}
}
