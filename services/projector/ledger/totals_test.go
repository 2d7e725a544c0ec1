package ledger

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"houqin.dev/platform/event"
	"houqin.dev/platform/testkit"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func setup(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(context.Background(), "CREATE SCHEMA IF NOT EXISTS ledger"); err != nil {
			return err
		}
		return Projection{}.Setup(context.Background(), tx, "ledger")
	}); err != nil {
		t.Fatal(err)
	}
}

func apply(t *testing.T, pool *pgxpool.Pool, evs []event.Event) {
	t.Helper()
	if err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
		return Projection{}.Apply(context.Background(), tx, "ledger", evs)
	}); err != nil {
		t.Fatal(err)
	}
}

func registered(t *testing.T, school, on string, price, qty int64) event.Event {
	t.Helper()
	m := &eventsv1.AssetRegistered{AssetId: uuid.NewString(), SchoolId: school, Tag: uuid.NewString()[:8], Name: "课桌椅",
		Category: "6", UnitPriceFen: price, Quantity: qty, AcquiredOn: on, Source: "purchase", Location: "教室", Custodian: "李老师"}
	payload, err := event.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	occurred, _ := time.Parse("2006-01-02", on)
	return event.Event{ID: uuid.New(), StreamID: "asset:" + m.AssetId, StreamType: "asset", Version: 1, SchoolID: school,
		Type: event.TypeOf(m), Payload: payload, OccurredAt: occurred, RecordedAt: time.Now()}
}

// brute is the district ledger summed straight from the assets, the answer the totals must give.
func brute(t *testing.T, pool *pgxpool.Pool, asOf time.Time) string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT s.school_id, count(a.asset_id), coalesce(sum(a.quantity), 0), coalesce(sum(a.value_fen), 0)
		FROM ledger.schools s LEFT JOIN ledger.assets a ON a.school_id = s.school_id AND a.acquired_on <= $1
		GROUP BY s.school_id ORDER BY s.school_id`, asOf)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	for rows.Next() {
		var id string
		var n, q, v int64
		if err := rows.Scan(&id, &n, &q, &v); err != nil {
			t.Fatal(err)
		}
		out += fmt.Sprintf("%s:%d/%d/%d ", id, n, q, v)
	}
	return out
}

func district(t *testing.T, pool *pgxpool.Pool, asOf time.Time) string {
	t.Helper()
	schools, err := Reader{Pool: pool}.District(context.Background(), asOf)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	for _, s := range schools {
		out += fmt.Sprintf("%s:%d/%d/%d ", s.ID, s.Entries, s.Quantity, s.ValueFen)
	}
	return out
}

// The district as-of query reads the school-year totals: they must give what summing the
// assets gives, at any date, after replays, corrections and removals, and for tables that
// held rows before the totals existed.
func TestDistrictTotalsMatchTheAssets(t *testing.T) {
	pool := testkit.Pool(t)
	setup(t, pool)
	var evs []event.Event
	for _, s := range []string{"s1", "s2", "s3"} {
		m := &eventsv1.SchoolRegistered{SchoolId: s, Name: s, Kind: "primary"}
		payload, _ := event.Marshal(m)
		evs = append(evs, event.Event{ID: uuid.New(), StreamID: "school:" + s, StreamType: "school", Version: 1, SchoolID: s,
			Type: event.TypeOf(m), Payload: payload, RecordedAt: time.Now()})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 600 {
		school := []string{"s1", "s2"}[i%2] // s3 has none
		on := time.Date(2015+rng.IntN(10), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		if i%50 == 0 {
			on = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) // on a year's first day
		}
		if i%50 == 1 {
			on = time.Date(2019, 12, 31, 0, 0, 0, 0, time.UTC)
		}
		evs = append(evs, registered(t, school, on.Format("2006-01-02"), int64(100+rng.IntN(100000)), int64(1+rng.IntN(30))))
	}
	apply(t, pool, evs)
	apply(t, pool, evs[100:300]) // a replay past the checkpoint: counted once
	dates := []time.Time{time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2019, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2022, 7, 15, 0, 0, 0, 0, time.UTC), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	check := func(when string) {
		t.Helper()
		for _, d := range dates {
			if got, want := district(t, pool, d), brute(t, pool, d); got != want {
				t.Fatalf("%s, as of %s:\n got %s\nwant %s", when, d.Format("2006-01-02"), got, want)
			}
		}
	}
	check("after registrations")
	if district(t, pool, dates[4]) == district(t, pool, dates[3]) {
		t.Fatal("the dates do not tell the ledgers apart")
	}

	ctx := context.Background()
	// Whatever changes the rows — a correction of date or quantity, a transfer, a removal —
	// the totals follow.
	for _, stmt := range []string{
		`UPDATE ledger.assets SET acquired_on = acquired_on - 400, quantity = quantity + 1, value_fen = unit_price_fen * (quantity + 1)
			WHERE asset_id IN (SELECT asset_id FROM ledger.assets ORDER BY asset_id LIMIT 40)`,
		`UPDATE ledger.assets SET location = '新址' WHERE school_id = 's1'`,
		`DELETE FROM ledger.assets WHERE asset_id IN (SELECT asset_id FROM ledger.assets ORDER BY asset_id DESC LIMIT 25)`,
	} {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
		check(stmt[:30])
	}

	// A ledger made before the totals: Setup counts what it holds.
	if _, err := pool.Exec(ctx, `DROP TABLE ledger.school_year_totals; DROP FUNCTION ledger.school_year_totals_apply() CASCADE`); err != nil {
		t.Fatal(err)
	}
	setup(t, pool)
	check("after the totals were added to a full ledger")
	setup(t, pool) // and again at the next start: nothing counted twice
	check("after a second setup")
}
