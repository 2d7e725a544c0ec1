// Package app runs the procurement service's use cases: it loads aggregates, calls the pure
// deciders with the policy in force and the district's date, and appends their events. One
// file per area (supplier.go, budget.go, request.go, order.go, …).
package app

import (
	"time"

	"github.com/google/uuid"

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
	retries   int
	policies  domain.Policies
	loc       *time.Location
	now       func() time.Time
}

// Aggregates of the service.
var (
	SupplierAggregate = es.Aggregate[domain.Supplier]{Type: "supplier", Initial: func() domain.Supplier { return domain.Supplier{} },
		Evolve: domain.EvolveSupplier}
)

// Options configure the app.
type Options struct {
	// Retries of a command that lost a concurrency race (default 3).
	Retries int
	// Location is the district's time zone, for business dates (default Asia/Shanghai).
	Location *time.Location
	Policies domain.Policies
	// StockPolicies are the stores rules (default domain.DefaultStockPolicies).
	StockPolicies domain.StockPolicies
	Now           func() time.Time
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
		store:     store,
		suppliers: es.NewHandler(store, SupplierAggregate, o.Retries, o.Now),
		stock:     newStockHandlers(store, o),
		retries:   o.Retries, policies: o.Policies, loc: o.Location, now: o.Now,
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

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func checkID(field, id string) error {
	if _, err := uuid.Parse(id); err != nil {
		return errs.Invalid(field, "ID格式有误 / "+field+" must be a UUID")
	}
	return nil
}
