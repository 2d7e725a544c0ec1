// Package app runs the assets service's use cases: it loads aggregates, calls the pure
// deciders with the policy in force and the district's date, and appends their events.
package app

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	"houqin.dev/platform/eventstore"
)

// App is the assets service's application layer.
type App struct {
	schools  *es.Handler[domain.School]
	assets   *es.Handler[domain.Asset]
	policies domain.Policies
	loc      *time.Location
	now      func() time.Time
	// Recently loaded schools (campus structure) and the category tree.
	schoolCache cache[domain.School]
	custodyApp

	categories *es.Handler[domain.CategoryTree]
	cats       cache[domain.CategoryTree]
}

// Aggregates of the service.
var (
	SchoolAggregate = es.Aggregate[domain.School]{Type: "school", Initial: func() domain.School { return domain.School{} },
		Evolve: domain.EvolveSchool}
	AssetAggregate = es.Aggregate[domain.Asset]{Type: "asset", Initial: func() domain.Asset { return domain.Asset{} },
		Evolve: domain.EvolveAsset}
)

// Options configure the app.
type Options struct {
	// Retries of a command that lost a concurrency race (default 3).
	Retries int
	// Location is the district's time zone, for business dates (default Asia/Shanghai).
	Location *time.Location
	Policies domain.Policies
	Now      func() time.Time
	// CustodyPolicies: loans, permits, damage (default domain.DefaultCustodyPolicies).
	CustodyPolicies domain.CustodyPolicies
}

// New returns the app over store.
func New(store *eventstore.Store, o Options) *App {
	if o.Retries == 0 {
		o.Retries = 3
	}
	if o.Location == nil {
		o.Location, _ = time.LoadLocation("Asia/Shanghai")
	}
	if o.Policies == nil {
		o.Policies = domain.DefaultPolicies
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &App{
		schools:  es.NewHandler(store, SchoolAggregate, o.Retries, o.Now),
		assets:   es.NewHandler(store, AssetAggregate, o.Retries, o.Now),
		policies: o.Policies, loc: o.Location, now: o.Now,
		custodyApp: newCustodyApp(store, o),
		categories: es.NewHandler(store, CategoryTreeAggregate, o.Retries, o.Now),
	}
}

func (a *App) today() time.Time {
	n := a.now().In(a.loc)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

// RegisterSchool adds a school. The school's stream is its own id, and its events belong to it.
func (a *App) RegisterSchool(ctx context.Context, meta es.Meta, c domain.RegisterSchool) (es.Result[domain.School], error) {
	return a.schools.Execute(ctx, meta, es.Command[domain.School]{ID: c.SchoolID,
		Decide: func(s domain.School) (es.Decision, error) {
			ev, err := domain.DecideRegisterSchool(s, c)
			return es.Decision{Events: ev}, err
		}})
}

// RegisterAsset registers a new asset and returns its id and version.
func (a *App) RegisterAsset(ctx context.Context, meta es.Meta, c domain.RegisterAsset) (string, int64, error) {
	c.AssetID = uuid.Must(uuid.NewV7()).String()
	c.SchoolID = meta.SchoolID
	// Business time: the ledger holds the asset from its acquisition date.
	occurred, rules, err := a.registerRules(ctx, c)
	if err != nil {
		return "", 0, err
	}
	if err := meta.Validate(); err != nil {
		// Report the command's own invalid fields in the same answer.
		_, derr := domain.DecideRegisterAsset(domain.Asset{}, c, rules)
		return "", 0, errs.Join(err, derr)
	}
	school, err := a.schoolWith(ctx, meta.SchoolID, c.Location, []string{c.Department},
		person{c.Custodian, c.CustodianStaffNo, domain.FormatDay(a.today())})
	if err != nil {
		return "", 0, err
	}
	rules.Campus = school.Campus
	policy := rules.Policy
	res, err := a.assets.Execute(ctx, meta, es.Command[domain.Asset]{ID: c.AssetID, New: true,
		Decide: func(s domain.Asset) (es.Decision, error) {
			ev, err := domain.DecideRegisterAsset(s, c, rules)
			return es.Decision{Events: ev, OccurredAt: occurred, PolicyVersion: policy.Version,
				UniqueKeys: []eventstore.UniqueKey{{Scope: "asset_tag", Key: domain.TagKey(c.SchoolID, c.Tag),
					Reason: domain.ReasonTagTaken, Message: "该校已有相同资产编号 / the school already has an asset with this tag"}}}, err
		}})
	if err != nil {
		return "", 0, err
	}
	return strings.TrimPrefix(res.StreamID, AssetAggregate.Type+":"), res.Version, nil
}

// purchaseLineSpace is the UUIDv5 name space of the assets of purchase lines.
var purchaseLineSpace = uuid.MustParse("6f1c2a9e-3d4b-5c6d-8e7f-0a1b2c3d4e5f")

// PurchaseLineAssetID is the id of the asset of a purchase line: deterministic, so the line's
// stream is the idempotency key whatever the request id.
func PurchaseLineAssetID(lineID string) string {
	return uuid.NewSHA1(purchaseLineSpace, []byte(strings.ToLower(lineID))).String()
}

// Registration is the outcome of RegisterFromPurchaseLine.
type Registration struct {
	AssetID string
	Tag     string
	Version int64
	// Already: the line was registered before; nothing new was written.
	Already bool
}

// RegisterFromPurchaseLine registers the asset of an accepted purchase line (验收入账), once
// per line: a later call for the same line, whatever its request id, answers the first asset.
func (a *App) RegisterFromPurchaseLine(ctx context.Context, meta es.Meta, c domain.RegisterAsset) (Registration, error) {
	c.SourceLineID, c.OrderID = strings.ToLower(c.SourceLineID), strings.ToLower(c.OrderID)
	c.SchoolID = meta.SchoolID
	c.AssetID = PurchaseLineAssetID(c.SourceLineID)
	c.Tag = domain.PurchaseTag(c.SourceLineID)
	occurred, rules, err := a.registerRules(ctx, c)
	if err != nil {
		return Registration{}, err
	}
	policy := rules.Policy
	if err := meta.Validate(); err != nil {
		_, derr := domain.DecideRegisterFromPurchaseLine(domain.Asset{}, c, rules)
		return Registration{}, errs.Join(err, derr)
	}
	if _, err := domain.DecideRegisterFromPurchaseLine(domain.Asset{}, c, rules); err != nil {
		return Registration{}, err // invalid input is answered before any read
	}
	school, err := a.schoolWith(ctx, meta.SchoolID, c.Location, []string{c.Department},
		person{c.Custodian, c.CustodianStaffNo, domain.FormatDay(a.today())})
	if err != nil {
		return Registration{}, err
	}
	rules.Campus = school.Campus
	res, err := a.assets.Execute(ctx, meta, es.Command[domain.Asset]{ID: c.AssetID,
		Decide: func(s domain.Asset) (es.Decision, error) {
			ev, err := domain.DecideRegisterFromPurchaseLine(s, c, rules)
			return es.Decision{Events: ev, OccurredAt: occurred, PolicyVersion: policy.Version,
				UniqueKeys: []eventstore.UniqueKey{{Scope: "asset_tag", Key: domain.TagKey(c.SchoolID, c.Tag),
					Reason: domain.ReasonTagTaken, Message: "该校已有相同资产编号 / the school already has an asset with this tag"}}}, err
		}})
	if err != nil {
		return Registration{}, err
	}
	return Registration{AssetID: c.AssetID, Tag: c.Tag, Version: res.Version,
		Already: res.Repeated || len(res.EventIDs) == 0}, nil
}

// registerRules returns the business time of a registration and what it is judged against.
func (a *App) registerRules(ctx context.Context, c domain.RegisterAsset) (time.Time, domain.RegisterRules, error) {
	occurred, policy := a.businessDate(c.AcquiredOn)
	tree, err := a.categoryTree(ctx, c.Category)
	return occurred, domain.RegisterRules{Today: a.today(), Policy: policy, Categories: tree}, err
}

// businessDate returns the business time of an acquisition date (YYYY-MM-DD in the district's
// zone) and the policy in force on it; for an unreadable date, zero time and today's policy.
// Policies take effect on calendar dates, so they are looked up by the date itself.
func (a *App) businessDate(day string) (time.Time, domain.Policy) {
	if d, err := time.ParseInLocation(domain.DateLayout, day, a.loc); err == nil {
		cal, _ := time.Parse(domain.DateLayout, day)
		return d, a.policies.At(cal)
	}
	return time.Time{}, a.policies.At(a.today())
}

// TransferAsset moves an asset within its school.
func (a *App) TransferAsset(ctx context.Context, meta es.Meta, assetID string, expected int64, c domain.TransferAsset) (int64, error) {
	if _, err := uuid.Parse(assetID); err != nil {
		return 0, errs.Invalid("asset_id", "资产ID格式有误 / asset_id must be a UUID")
	}
	if expected < 0 {
		return 0, errs.Invalid("expected_version", "不能为负数 / must not be negative")
	}
	// A new custodian's holdings change: the transfer claims their holder version like a loan
	// (see asHolder), so it and the completion of their clearance cannot cross. In a school
	// with a staff directory the holder is their staff number, as for loans and clearances.
	var campus domain.Campus
	who := c.ToCustodian
	newCustodian := c.ToCustodian != "" || c.ToCustodianStaffNo != ""
	if (c.ToLocation != "" || c.ToDepartment != "" || newCustodian) && meta.Validate() == nil {
		day := domain.FormatDay(a.today())
		var people []person
		if newCustodian {
			people = []person{{c.ToCustodian, c.ToCustodianStaffNo, day}}
		}
		school, err := a.schoolWith(ctx, meta.SchoolID, c.ToLocation, []string{c.ToDepartment}, people...)
		if err != nil {
			return 0, err
		}
		campus = school.Campus
		if st, err := campus.Person("", "", c.ToCustodian, c.ToCustodianStaffNo, day); newCustodian && err == nil && st.No != "" {
			who = st.No
		}
	}
	var res es.Result[domain.Asset]
	err := a.asHolder(ctx, meta.SchoolID, who, func(h holder) error {
		c.ToCustodianCleared = h.cleared
		var keys []eventstore.UniqueKey
		if h.next.Scope != "" {
			keys = []eventstore.UniqueKey{h.next}
		}
		var err error
		res, err = a.assets.Execute(ctx, meta, es.Command[domain.Asset]{ID: assetID, Expected: expected,
			Decide: func(s domain.Asset) (es.Decision, error) {
				if !s.Registered {
					return es.Decision{}, errs.NotFound("asset", assetID)
				}
				ev, err := domain.DecideTransferAsset(s, c, campus, a.today())
				return es.Decision{Events: ev, UniqueKeys: keys}, err
			}})
		return err
	})
	return res.Version, err
}

// GetAsset returns an asset of school.
func (a *App) GetAsset(ctx context.Context, school, assetID string) (domain.Asset, int64, error) {
	if _, err := uuid.Parse(assetID); err != nil {
		return domain.Asset{}, 0, errs.Invalid("asset_id", "资产ID格式有误 / asset_id must be a UUID")
	}
	return a.assets.Load(ctx, school, assetID)
}

// alsoInvalid adds the command's own invalid fields (from a trial decision) to the invalid
// request metadata, so a client learns every invalid field at once.
func alsoInvalid(metaErr, decideErr error) error {
	if _, ok := errs.As[*errs.InvalidError](decideErr); ok {
		return errs.Join(metaErr, decideErr)
	}
	return metaErr
}

func (a *App) requireSchool(ctx context.Context, school string) error {
	_, err := a.school(ctx, school, "")
	return err
}

// school returns a registered school, from the cache when it is fresh and knows location (a
// room or class code; "" for none) and departments.
func (a *App) school(ctx context.Context, id, location string, departments ...string) (domain.School, error) {
	return a.schoolWith(ctx, id, location, departments)
}

// person is someone a command names, to be found in the school's staff directory (see
// domain.Campus.Person; day "" for staff who may have left).
type person struct{ name, staffNo, day string }

// schoolWith is school that also knows people: a cached school that does not (a member added
// since) is loaded afresh.
func (a *App) schoolWith(ctx context.Context, id, location string, departments []string, people ...person) (domain.School, error) {
	if s, ok := a.schoolCache.get(id); ok {
		_, _, known := s.Campus.Place(location)
		known = known || location == ""
		for _, d := range departments {
			known = known && s.Campus.KnowsDepartment(d)
		}
		for _, p := range people {
			_, err := s.Campus.Person("", "", p.name, p.staffNo, p.day)
			known = known && err == nil
		}
		if known {
			return s, nil
		}
	}
	s, _, err := a.schools.Load(ctx, id, id)
	if _, missing := errs.As[*errs.NotFoundError](err); missing || (err == nil && !s.Registered) {
		return s, errs.Rule(domain.ReasonSchoolUnknown, "学校未在本区登记 / the school is not registered in the district", "school_id", id)
	}
	if err != nil {
		return s, err
	}
	a.schoolCache.put(id, s)
	return s, nil
}
