package ledger

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"houqin.dev/assets/depreciation"
	"houqin.dev/assets/domain"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// depreciationMonths is the life recorded on a registration (0: not depreciated).
func depreciationMonths(m *eventsv1.AssetRegistered) int32 { return m.DepreciationMonths }

// depreciationStart is the start rule recorded on a registration.
func depreciationStart(m *eventsv1.AssetRegistered) string { return m.DepreciationStart }

// Entry is one ledger entry as it stood at the end of a date.
type Entry struct {
	AssetID, SchoolID                         string
	Category, Location, Department, Custodian string
	Status                                    string
	Quantity, ValueFen                        int64
	AcquiredOn                                time.Time
	DepreciationMonths                        int
	DepreciationStart                         string
}

// Position is the entry's depreciation at the end of asOf.
func (e Entry) Position(asOf time.Time) depreciation.Position {
	return depreciation.Asset{CostFen: e.ValueFen, LifeMonths: e.DepreciationMonths,
		Start: depreciation.Start(e.DepreciationStart), AcquiredOn: e.AcquiredOn}.AsOf(asOf)
}

// Key is the entry's value of a dimension.
func (e Entry) Key(dim string) string {
	switch dim {
	case "category":
		return e.Category
	case "location":
		return e.Location
	case "department":
		return e.Department
	case "custodian":
		return e.Custodian
	case "status":
		return e.Status
	}
	return ""
}

// Dimensions a ledger groups by (分组).
var Dimensions = []string{"category", "location", "department", "custodian", "status"}

// ValidDimension reports whether dim is one of Dimensions.
func ValidDimension(dim string) bool {
	for _, d := range Dimensions {
		if d == dim {
			return true
		}
	}
	return false
}

// Entries returns school's ledger entries held at the end of asOf (acquired and not removed
// by then), each with its location, department, custodian and status as they stood then, and
// its registration values as they stood then (before any correction dated after asOf). An
// entry unchanged and uncorrected since before the end of asOf is read from its row; only the
// others look up their history and corrections. school "" means every school of the district.
func (r Reader) Entries(ctx context.Context, school string, asOf, end time.Time) ([]Entry, error) {
	q, args := entriesSQL, []any{asOf, end}
	if school != "" {
		q, args = strings.ReplaceAll(q, "$S", "a.school_id = $3 AND"), append(args, school)
	} else {
		q = strings.ReplaceAll(q, "$S", "")
	}
	rows, err := r.Pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Entry, error) {
		var e Entry
		var months int32
		err := row.Scan(&e.AssetID, &e.SchoolID, &e.Category, &e.Location, &e.Department, &e.Custodian, &e.Status,
			&e.Quantity, &e.ValueFen, &e.AcquiredOn, &months, &e.DepreciationStart)
		e.DepreciationMonths = int(months)
		return e, err
	})
}

// entriesSQL: $1 the as-of date, $2 the first instant after it, $S the school condition.
const entriesSQL = `
		SELECT asset_id::text, school_id, category, location, department, custodian, status, quantity, value_fen,
			acquired_on, depreciation_months, depreciation_start
		FROM ledger.assets a WHERE $S a.acquired_on <= $1 AND a.changed_at < $2 AND a.corrected_on <= $1
			AND NOT EXISTS (SELECT 1 FROM ledger.removals r WHERE r.asset_id = a.asset_id AND r.removed_on <= $1)
		UNION ALL
		SELECT a.asset_id::text, a.school_id, a.category, h.location, h.department, h.custodian, h.status, a.quantity,
			a.value_fen, a.acquired_on, a.depreciation_months, a.depreciation_start
		FROM ledger.assets a CROSS JOIN LATERAL (
			SELECT location, department, custodian, status FROM ledger.asset_history h
			WHERE h.asset_id = a.asset_id AND h.effective_at < $2
			ORDER BY h.effective_at DESC, h.version DESC LIMIT 1) h
		WHERE $S a.acquired_on <= $1 AND a.changed_at >= $2 AND a.corrected_on <= $1
			AND NOT EXISTS (SELECT 1 FROM ledger.removals r WHERE r.asset_id = a.asset_id AND r.removed_on <= $1)
		UNION ALL
		SELECT a.asset_id::text, a.school_id, c.category, coalesce(h.location, a.location),
			coalesce(h.department, a.department), coalesce(h.custodian, a.custodian), coalesce(h.status, a.status),
			c.quantity, c.value_fen, c.acquired_on, c.depreciation_months, c.depreciation_start
		FROM ledger.assets a CROSS JOIN LATERAL (
			SELECT category, quantity, value_fen, acquired_on, depreciation_months, depreciation_start
			FROM ledger.corrections c WHERE c.asset_id = a.asset_id AND c.corrected_on > $1
			ORDER BY c.corrected_on, c.version LIMIT 1) c
		LEFT JOIN LATERAL (
			SELECT true found, location, department, custodian, status FROM ledger.asset_history h
			WHERE h.asset_id = a.asset_id AND h.effective_at < $2
			ORDER BY h.effective_at DESC, h.version DESC LIMIT 1) h ON a.changed_at >= $2
		WHERE $S a.corrected_on > $1 AND c.acquired_on <= $1 AND (a.changed_at < $2 OR h.found)
			AND NOT EXISTS (SELECT 1 FROM ledger.removals r WHERE r.asset_id = a.asset_id AND r.removed_on <= $1)`

// Group is one group of a ledger breakdown.
type Group struct {
	Key, Label                                  string
	Entries, Quantity, ValueFen                 int64
	AccumulatedDepreciationFen, NetBookValueFen int64
}

// Breakdown groups entries by dim with their value and net book value at the end of asOf,
// the largest value first (then by key).
func Breakdown(entries []Entry, dim string, asOf time.Time) []Group {
	return groupBy(entries, func(e Entry) string { return e.Key(dim) }, func(k string) string { return label(dim, k) }, asOf)
}

// DistrictDimensions are what the district's ledger groups by (全区分组).
var DistrictDimensions = []string{"school", "category", "status", "school_kind"}

// ValidDistrictDimension reports whether dim is one of DistrictDimensions.
func ValidDistrictDimension(dim string) bool { return slices.Contains(DistrictDimensions, dim) }

// DistrictBreakdown groups the district's entries by dim like Breakdown (a school's key is its
// id, a school kind's its kind, from schools); given a group's key, it groups that group's
// entries by school instead.
func DistrictBreakdown(entries []Entry, schools []School, dim, key string, asOf time.Time) []Group {
	by := make(map[string]School, len(schools))
	for _, s := range schools {
		by[s.ID] = s
	}
	keyOf := func(e Entry) string {
		switch dim {
		case "school":
			return e.SchoolID
		case "school_kind":
			return by[e.SchoolID].Kind
		}
		return e.Key(dim)
	}
	labelOf := func(k string) string { return DistrictLabel(schools, dim, k) }
	if key == "" {
		return groupBy(entries, keyOf, labelOf, asOf)
	}
	var in []Entry
	for _, e := range entries {
		if keyOf(e) == key {
			in = append(in, e)
		}
	}
	return groupBy(in, func(e Entry) string { return e.SchoolID }, func(k string) string { return by[k].Name }, asOf)
}

// DistrictLabel names a district group: a school's name, a school kind or a dimension's label.
func DistrictLabel(schools []School, dim, key string) string {
	switch dim {
	case "school":
		for _, s := range schools {
			if s.ID == key {
				return s.Name
			}
		}
		return key
	case "school_kind":
		if n, ok := domain.SchoolKinds[key]; ok {
			return n
		}
		return key
	}
	return label(dim, key)
}

// groupBy sums entries by keyOf with their value and net book value at the end of asOf, the
// largest value first (then by key).
func groupBy(entries []Entry, keyOf func(Entry) string, labelOf func(string) string, asOf time.Time) []Group {
	by := map[string]*Group{}
	var out []*Group
	for _, e := range entries {
		k := keyOf(e)
		g := by[k]
		if g == nil {
			g = &Group{Key: k, Label: labelOf(k)}
			by[k] = g
			out = append(out, g)
		}
		p := e.Position(asOf)
		g.Entries++
		g.Quantity += e.Quantity
		g.ValueFen += e.ValueFen
		g.AccumulatedDepreciationFen += p.AccumulatedFen
		g.NetBookValueFen += p.NetBookValueFen
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ValueFen != out[j].ValueFen {
			return out[i].ValueFen > out[j].ValueFen
		}
		return out[i].Key < out[j].Key
	})
	res := make([]Group, len(out))
	for i, g := range out {
		res[i] = *g
	}
	return res
}

func label(dim, key string) string {
	switch dim {
	case "category":
		return domain.CategoryName(key)
	case "status":
		if n, ok := StatusNames[key]; ok {
			return n
		}
	}
	if key == "" {
		return "（未填）"
	}
	return key
}

// StreamsOf returns the streams of the entries whose dimension dim is key (dim empty: all).
func StreamsOf(entries []Entry, dim, key string) []string {
	var out []string
	for _, e := range entries {
		if dim == "" || e.Key(dim) == key {
			out = append(out, "asset:"+e.AssetID)
		}
	}
	return out
}
