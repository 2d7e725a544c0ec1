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
	// CustodianStaffNo is the custodian's 工号 where the events carry it ("": by name only).
	CustodianStaffNo   string
	Status             string
	Quantity, ValueFen int64
	AcquiredOn         time.Time
	DepreciationMonths int
	DepreciationStart  string
}

// Position is the entry's depreciation at the end of asOf.
func (e Entry) Position(asOf time.Time) depreciation.Position {
	return depreciation.Asset{CostFen: e.ValueFen, LifeMonths: e.DepreciationMonths,
		Start: depreciation.Start(e.DepreciationStart), AcquiredOn: e.AcquiredOn}.AsOf(asOf)
}

// Key is the entry's value of a dimension (a custodian's: CustodianKey).
func (e Entry) Key(dim string) string {
	switch dim {
	case "category":
		return e.Category
	case "location":
		return e.Location
	case "department":
		return e.Department
	case "custodian":
		return e.CustodianKey()
	case "status":
		return e.Status
	}
	return ""
}

// StaffKeyPrefix starts the key of a custodian known by staff number (staff:T0123); a
// custodian recorded by name only is keyed by the name.
const StaffKeyPrefix = "staff:"

// CustodianKey is the entry's key in the breakdown by custodian: the staff number where the
// events carry it — two 张伟 are two people — and the name otherwise.
func (e Entry) CustodianKey() string {
	if e.CustodianStaffNo != "" {
		return StaffKeyPrefix + e.CustodianStaffNo
	}
	return e.Custodian
}

// custodianLabels names the custodians known by staff number: "张伟（T0123）". Should the
// entries of one number carry different names, the least name in byte order is used, so
// the label does not depend on the order of the rows.
func custodianLabels(entries []Entry) map[string]string {
	names := map[string]string{}
	for _, e := range entries {
		if e.CustodianStaffNo == "" {
			continue
		}
		k := e.CustodianKey()
		if n, ok := names[k]; !ok || (e.Custodian != "" && (n == "" || e.Custodian < n)) {
			names[k] = e.Custodian
		}
	}
	out := make(map[string]string, len(names))
	for k, n := range names {
		no := strings.TrimPrefix(k, StaffKeyPrefix)
		if n == "" {
			out[k] = no
		} else {
			out[k] = n + "（" + no + "）"
		}
	}
	return out
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
		err := row.Scan(&e.AssetID, &e.SchoolID, &e.Category, &e.Location, &e.Department, &e.Custodian,
			&e.CustodianStaffNo, &e.Status,
			&e.Quantity, &e.ValueFen, &e.AcquiredOn, &months, &e.DepreciationStart)
		e.DepreciationMonths = int(months)
		return e, err
	})
}

// entriesSQL: $1 the as-of date, $2 the first instant after it, $S the school condition.
const entriesSQL = `
		SELECT asset_id::text, school_id, category, location, department, custodian, custodian_staff_no, status,
			quantity, value_fen,
			acquired_on, depreciation_months, depreciation_start
		FROM ledger.assets a WHERE $S a.acquired_on <= $1 AND a.changed_at < $2 AND a.corrected_on <= $1
			AND NOT EXISTS (SELECT 1 FROM ledger.removals r WHERE r.asset_id = a.asset_id AND r.removed_on <= $1)
		UNION ALL
		SELECT a.asset_id::text, a.school_id, a.category, h.location, h.department, h.custodian, h.custodian_staff_no,
			h.status, a.quantity, a.value_fen, a.acquired_on, a.depreciation_months, a.depreciation_start
		FROM ledger.assets a CROSS JOIN LATERAL (
			SELECT location, department, custodian, custodian_staff_no, status FROM ledger.asset_history h
			WHERE h.asset_id = a.asset_id AND h.effective_at < $2
			ORDER BY h.effective_at DESC, h.version DESC LIMIT 1) h
		WHERE $S a.acquired_on <= $1 AND a.changed_at >= $2 AND a.corrected_on <= $1
			AND NOT EXISTS (SELECT 1 FROM ledger.removals r WHERE r.asset_id = a.asset_id AND r.removed_on <= $1)
		UNION ALL
		SELECT a.asset_id::text, a.school_id, c.category, coalesce(h.location, a.location),
			coalesce(h.department, a.department), coalesce(h.custodian, a.custodian),
			coalesce(h.custodian_staff_no, a.custodian_staff_no), coalesce(h.status, a.status),
			c.quantity, c.value_fen, c.acquired_on, c.depreciation_months, c.depreciation_start
		FROM ledger.assets a CROSS JOIN LATERAL (
			SELECT category, quantity, value_fen, acquired_on, depreciation_months, depreciation_start
			FROM ledger.corrections c WHERE c.asset_id = a.asset_id AND c.corrected_on > $1
			ORDER BY c.corrected_on, c.version LIMIT 1) c
		LEFT JOIN LATERAL (
			SELECT true found, location, department, custodian, custodian_staff_no, status FROM ledger.asset_history h
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
	labelOf := func(k string) string { return label(dim, k) }
	if dim == "custodian" {
		staff := custodianLabels(entries)
		labelOf = func(k string) string {
			if l, ok := staff[k]; ok {
				return l
			}
			return label(dim, k)
		}
	}
	return groupBy(entries, func(e Entry) string { return e.Key(dim) }, labelOf, asOf)
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
