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
	"google.golang.org/protobuf/proto"

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

// brute is the district ledger straight from its definition, the answer the totals must give:
// every asset not removed by the date, with the values that stood then (those before the first
// correction dated after it, else the row's), counted if acquired by then by those values.
func brute(t *testing.T, pool *pgxpool.Pool, asOf time.Time) string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT s.school_id, count(v.asset_id), coalesce(sum(v.quantity), 0), coalesce(sum(v.value_fen), 0)
		FROM ledger.schools s LEFT JOIN (
			SELECT a.asset_id, a.school_id, coalesce(c.quantity, a.quantity) quantity, coalesce(c.value_fen, a.value_fen) value_fen,
				coalesce(c.acquired_on, a.acquired_on) acquired_on
			FROM ledger.assets a LEFT JOIN LATERAL (SELECT quantity, value_fen, acquired_on FROM ledger.corrections c
				WHERE c.asset_id = a.asset_id AND c.corrected_on > $1 ORDER BY corrected_on, version LIMIT 1) c ON true
			WHERE NOT EXISTS (SELECT 1 FROM ledger.removals r WHERE r.asset_id = a.asset_id AND r.removed_on <= $1)
		) v ON v.school_id = s.school_id AND v.acquired_on <= $1
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

	// Corrections (更正) of quantity, price, acquisition date and category, one to three per
	// asset on later dates, and removals after some of them (one written off with a disposal
	// date before its last correction): the ledger as of every date around them is the model's,
	// a replay of all of them changes nothing.
	model := newModel(evs)
	var later []event.Event
	for i, e := range evs[3:] {
		if i%7 != 0 {
			continue
		}
		m, _ := e.Decode()
		reg := m.(*eventsv1.AssetRegistered)
		acquired, _ := time.Parse("2006-01-02", reg.AcquiredOn)
		on, v := acquired, reg
		for k := range 1 + i%3 {
			on = on.AddDate(0, 1+rng.IntN(30), rng.IntN(28))
			next := &eventsv1.AssetRegistered{Category: []string{"6", "2", "7"}[(i+k)%3], UnitPriceFen: max(1, v.UnitPriceFen+int64(rng.IntN(5000))-2500),
				Quantity: 1 + int64(rng.IntN(40)), AcquiredOn: acquired.AddDate(0, 0, rng.IntN(400)-200).Format("2006-01-02")}
			if next.AcquiredOn > on.Format("2006-01-02") {
				next.AcquiredOn = on.Format("2006-01-02")
			}
			later = append(later, corrected(t, e, int64(2+k), on, v, next))
			model.correct(reg.AssetId, on, next)
			dates = append(dates, on, on.AddDate(0, 0, -1))
			v = next
		}
		if i%3 == 0 {
			gone := on.AddDate(0, 0, 10)
			if i%9 == 0 {
				gone = on.AddDate(0, 0, -5) // disposed of before the last correction's date
			}
			m := proto.Message(&eventsv1.AssetRegistrationReversed{AssetId: reg.AssetId, Reason: "重复登记", ReversedOn: gone.Format("2006-01-02")})
			if i%2 == 0 {
				m = &eventsv1.AssetWrittenOff{AssetId: reg.AssetId, WrittenOffOn: gone.Format("2006-01-02")}
			}
			later = append(later, follow(t, e, int64(2+i%3), gone, m))
			model.remove(reg.AssetId, gone)
			dates = append(dates, gone, gone.AddDate(0, 0, -1))
		}
	}
	apply(t, pool, later[:len(later)/2])
	apply(t, pool, later) // the first half again: counted once
	check("after corrections and removals")
	for _, d := range dates {
		if got, want := district(t, pool, d), model.district(d); got != want {
			t.Fatalf("as of %s: got %s\nwant %s (the model)", d.Format("2006-01-02"), got, want)
		}
		for _, s := range []string{"s1", "s2"} {
			if got, want := schoolCategories(t, pool, s, d), model.categories(s, d); got != want {
				t.Fatalf("%s as of %s by category: got %s\nwant %s", s, d.Format("2006-01-02"), got, want)
			}
			if got, want := entryCategories(t, pool, s, d), model.categories(s, d); got != want {
				t.Fatalf("%s entries as of %s: got %s\nwant %s", s, d.Format("2006-01-02"), got, want)
			}
		}
	}

	ctx := context.Background()
	// Whatever changes the rows — a correction of date or quantity, a transfer, a removal —
	// the totals follow.
	for _, stmt := range []string{
		`UPDATE ledger.assets SET acquired_on = acquired_on - 400, quantity = quantity + 1, value_fen = unit_price_fen * (quantity + 1)
			WHERE asset_id IN (SELECT asset_id FROM ledger.assets WHERE corrected_on = '-infinity' ORDER BY asset_id LIMIT 40)`,
		`UPDATE ledger.assets SET location = '新址' WHERE school_id = 's1'`,
		`DELETE FROM ledger.assets a WHERE asset_id IN (SELECT asset_id FROM ledger.assets a WHERE corrected_on = '-infinity'
			AND NOT EXISTS (SELECT 1 FROM ledger.removals r WHERE r.asset_id = a.asset_id) ORDER BY asset_id DESC LIMIT 25)`,
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

// corrected is the correction of reg's asset from values was to is on the date on.
func corrected(t *testing.T, reg event.Event, version int64, on time.Time, was, is *eventsv1.AssetRegistered) event.Event {
	t.Helper()
	values := func(m *eventsv1.AssetRegistered) *eventsv1.RegistrationValues {
		return &eventsv1.RegistrationValues{Name: "课桌椅", Category: m.Category, UnitPriceFen: m.UnitPriceFen, Quantity: m.Quantity,
			AcquiredOn: m.AcquiredOn, DepreciationMonths: 120, DepreciationStart: "same_month"}
	}
	return follow(t, reg, version, on, &eventsv1.AssetRegistrationCorrected{AssetId: reg.StreamID[len("asset:"):], Reason: "录错",
		CorrectedOn: on.Format("2006-01-02"), Before: values(was), After: values(is)})
}

// follow is m on reg's stream at version, on the date on.
func follow(t *testing.T, reg event.Event, version int64, on time.Time, m proto.Message) event.Event {
	t.Helper()
	payload, err := event.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return event.Event{ID: uuid.New(), StreamID: reg.StreamID, StreamType: "asset", Version: version, SchoolID: reg.SchoolID,
		Type: event.TypeOf(m), Payload: payload, OccurredAt: on, RecordedAt: time.Now()}
}

// model is the ledger kept in Go from the events: each asset's values from each date on, and
// the date it left.
type model struct {
	schools []string
	assets  map[string]*modelAsset
	order   []string
}

type modelAsset struct {
	school  string
	from    []time.Time // from[0] is zero: the registration
	values  []*eventsv1.AssetRegistered
	removed time.Time
}

func newModel(evs []event.Event) *model {
	md := &model{assets: map[string]*modelAsset{}}
	for _, e := range evs {
		m, _ := e.Decode()
		switch p := m.(type) {
		case *eventsv1.SchoolRegistered:
			md.schools = append(md.schools, p.SchoolId)
		case *eventsv1.AssetRegistered:
			md.assets[p.AssetId] = &modelAsset{school: e.SchoolID, from: []time.Time{{}}, values: []*eventsv1.AssetRegistered{p}}
			md.order = append(md.order, p.AssetId)
		}
	}
	return md
}

func (md *model) correct(id string, on time.Time, v *eventsv1.AssetRegistered) {
	a := md.assets[id]
	a.from, a.values = append(a.from, on), append(a.values, v)
}

func (md *model) remove(id string, on time.Time) { md.assets[id].removed = on }

// held returns the values of the asset held at the end of d, or nil.
func (a *modelAsset) held(d time.Time) *eventsv1.AssetRegistered {
	if !a.removed.IsZero() && !a.removed.After(d) {
		return nil
	}
	var v *eventsv1.AssetRegistered
	for i, from := range a.from {
		if !from.After(d) {
			v = a.values[i]
		}
	}
	if v.AcquiredOn > d.Format("2006-01-02") {
		return nil
	}
	return v
}

func (md *model) district(d time.Time) string {
	var out string
	for _, s := range md.schools {
		var n, q, v int64
		for _, id := range md.order {
			if a := md.assets[id]; a.school == s {
				if h := a.held(d); h != nil {
					n, q, v = n+1, q+h.Quantity, v+h.UnitPriceFen*h.Quantity
				}
			}
		}
		out += fmt.Sprintf("%s:%d/%d/%d ", s, n, q, v)
	}
	return out
}

func (md *model) categories(school string, d time.Time) string {
	by := map[string][3]int64{}
	for _, id := range md.order {
		if a := md.assets[id]; a.school == school {
			if h := a.held(d); h != nil {
				c := by[h.Category]
				by[h.Category] = [3]int64{c[0] + 1, c[1] + h.Quantity, c[2] + h.UnitPriceFen*h.Quantity}
			}
		}
	}
	var out string
	for _, c := range []string{"2", "6", "7"} {
		if v, ok := by[c]; ok {
			out += fmt.Sprintf("%s:%d/%d/%d ", c, v[0], v[1], v[2])
		}
	}
	return out
}

func schoolCategories(t *testing.T, pool *pgxpool.Pool, school string, d time.Time) string {
	t.Helper()
	_, cats, _, err := Reader{Pool: pool}.SchoolLedger(context.Background(), school, d)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	for _, c := range cats {
		out += fmt.Sprintf("%s:%d/%d/%d ", c.Category, c.Entries, c.Quantity, c.ValueFen)
	}
	return out
}

// entryCategories sums the as-of entries (what breakdowns and net book value use) by category.
func entryCategories(t *testing.T, pool *pgxpool.Pool, school string, d time.Time) string {
	t.Helper()
	entries, err := Reader{Pool: pool}.Entries(context.Background(), school, d, d.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]Group{}
	for _, g := range Breakdown(entries, "category", d) {
		by[g.Key] = g
	}
	var out string
	for _, c := range []string{"2", "6", "7"} {
		if g, ok := by[c]; ok {
			out += fmt.Sprintf("%s:%d/%d/%d ", c, g.Entries, g.Quantity, g.ValueFen)
		}
	}
	return out
}
