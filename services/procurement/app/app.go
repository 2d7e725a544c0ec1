// Package app runs the procurement service's use cases: it loads aggregates, calls the pure
// deciders with the policy in force and the district's date, and appends their events. One
// file per area (supplier.go, budget.go, request.go, order.go, …).
package app

import (
	"time"

	"github.com/google/uuid"

	assetsdomain "houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	"houqin.dev/platform/eventstore"
	"houqin.dev/procurement/domain"
)

// App is the procurement service's application layer.
type App struct {
	store     *eventstore.Store
	suppliers *es.Handler[domain.Supplier]
	stock     stockHandlers
	budgets   *es.Handler[domain.Budget]
	requests  *es.Handler[domain.PurchaseRequest]
	orders    *es.Handler[domain.PurchaseOrder]
	fees      *es.Handler[domain.Fee]
	retries   int
	policies  domain.Policies
	catalogue domain.Catalogue
	capAt     func(time.Time) domain.Capitalisation
	loc       *time.Location
	now       func() time.Time
	hooks     Hooks
}

// Aggregates of the service.
var (
	SupplierAggregate = es.Aggregate[domain.Supplier]{Type: "supplier", Initial: func() domain.Supplier { return domain.Supplier{} },
		Evolve: domain.EvolveSupplier}
	BudgetAggregate = es.Aggregate[domain.Budget]{Type: "budget", Initial: func() domain.Budget { return domain.Budget{} },
		Evolve: domain.EvolveBudget}
	RequestAggregate = es.Aggregate[domain.PurchaseRequest]{Type: "purchase_request",
		Initial: func() domain.PurchaseRequest { return domain.PurchaseRequest{} }, Evolve: domain.EvolvePurchaseRequest}
	OrderAggregate = es.Aggregate[domain.PurchaseOrder]{Type: "purchase_order",
		Initial: func() domain.PurchaseOrder { return domain.PurchaseOrder{} }, Evolve: domain.EvolvePurchaseOrder}
)

// DefaultCatalogue is the assets service's fixed-asset classification (GB/T 14885) and the
// material categories of procurement.
func DefaultCatalogue() domain.Catalogue {
	c := domain.Catalogue{Categories: map[string]string{}, FixedAssetCategories: map[string]bool{}}
	for _, x := range assetsdomain.DefaultCategories {
		c.Categories[x.Code], c.FixedAssetCategories[x.Code] = x.Name, true
	}
	for code, name := range domain.MaterialCategories {
		c.Categories[code] = name
	}
	return c
}

// DefaultCapitalisation is the assets service's capitalisation rule in force on a date: a
// purchase line and the asset registered from it are judged alike.
func DefaultCapitalisation(t time.Time) domain.Capitalisation {
	p := assetsdomain.DefaultPolicies.At(t)
	return domain.Capitalisation{PolicyVersion: p.Version,
		FixedAsset: func(category string, price int64) bool { return p.FixedAsset(category, price, 0) }}
}

// Options configure the app.
type Options struct {
	// Retries of a command that lost a concurrency race (default 3).
	Retries int
	// Location is the district's time zone, for business dates (default Asia/Shanghai).
	Location *time.Location
	Policies domain.Policies
	// StockPolicies are the stores rules (default domain.DefaultStockPolicies).
	StockPolicies domain.StockPolicies
	// CachedStockItems is how many stock items' folded states are kept between commands
	// (0: DefaultCachedStockItems; negative: none, every command reads the item's whole stream).
	CachedStockItems int
	// Catalogue of purchase categories (default DefaultCatalogue).
	Catalogue *domain.Catalogue
	// Capitalisation rule by date (default DefaultCapitalisation).
	Capitalisation func(time.Time) domain.Capitalisation
	Now            func() time.Time
	// Hooks for crash tests.
	Hooks Hooks
}

// Hooks let tests fail a command between its steps, as a crash or a lost connection would.
type Hooks struct {
	// AfterCommit runs in PlacePurchaseOrder after the budget is committed and before the
	// order is appended; an error ends the call there.
	AfterCommit func(orderID string) error
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
	if o.Catalogue == nil {
		c := DefaultCatalogue()
		o.Catalogue = &c
	}
	if o.Capitalisation == nil {
		o.Capitalisation = DefaultCapitalisation
	}
	return &App{
		store:     store,
		suppliers: es.NewHandler(store, SupplierAggregate, o.Retries, o.Now),
		stock:     newStockHandlers(store, o),
		budgets:   es.NewHandler(store, BudgetAggregate, o.Retries, o.Now),
		requests:  es.NewHandler(store, RequestAggregate, o.Retries, o.Now),
		orders:    es.NewHandler(store, OrderAggregate, o.Retries, o.Now),
		fees:      es.NewHandler(store, FeeAggregate, o.Retries, o.Now),
		retries:   o.Retries, policies: o.Policies, catalogue: *o.Catalogue, capAt: o.Capitalisation, loc: o.Location, now: o.Now,
		hooks: o.Hooks,
	}
}

// Store is the event store the app appends to.
func (a *App) Store() *eventstore.Store { return a.store }

// Today is the current date in the district's time zone, as a UTC midnight.
func (a *App) Today() time.Time {
	n := a.now().In(a.loc)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

// BusinessTime is the start of day (YYYY-MM-DD) in the district's time zone: the business
// time of events that happened on that day.
func (a *App) BusinessTime(day string) time.Time {
	t, err := time.ParseInLocation(domain.DateLayout, day, a.loc)
	if err != nil {
		return time.Time{}
	}
	return t
}

// today is the current date in the district as YYYY-MM-DD.
func (a *App) today() string { return domain.Day(a.Today()) }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// idSpace is the namespace of ids derived from request ids.
var idSpace = uuid.MustParse("6f1c2a9e-3b57-4d0e-9a43-5e8b7c1d2f60")

// derivedID is the id of what a command adds inside an aggregate (an adjustment, a quote) or
// beside it (an order): derived from the school and the request id, so a retry names the same
// thing and is answered as a repeat.
func derivedID(meta es.Meta) string {
	return uuid.NewSHA1(idSpace, []byte(meta.SchoolID+"/"+meta.RequestID)).String()
}

func checkID(field, id string) error {
	if _, err := uuid.Parse(id); err != nil {
		return errs.Invalid(field, "ID格式有误 / "+field+" must be a UUID")
	}
	return nil
}
