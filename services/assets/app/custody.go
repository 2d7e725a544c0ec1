package app

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	"houqin.dev/platform/event"
	"houqin.dev/platform/eventstore"
)

// custodyApp runs lending, damage charges, custody agreements, requisitions and clearances.
type custodyApp struct {
	store           *eventstore.Store
	damages         *es.Handler[domain.DamageCharge]
	agreements      *es.Handler[domain.CustodyAgreement]
	requisitions    *es.Handler[domain.Requisition]
	clearances      *es.Handler[domain.Clearance]
	holdings        Holdings
	custodyPolicies domain.CustodyPolicies
	// retries of a command that lost a race on a person's holder version.
	retries int
}

// DamageAggregate is a damage charge (赔偿单).
var DamageAggregate = es.Aggregate[domain.DamageCharge]{Type: "damage",
	Initial: func() domain.DamageCharge { return domain.DamageCharge{} }, Evolve: domain.EvolveDamage}

func newCustodyApp(store *eventstore.Store, o Options) custodyApp {
	if o.CustodyPolicies == nil {
		o.CustodyPolicies = domain.DefaultCustodyPolicies
	}
	return custodyApp{store: store, custodyPolicies: o.CustodyPolicies, retries: o.Retries,
		damages:      es.NewHandler(store, DamageAggregate, o.Retries, o.Now),
		agreements:   es.NewHandler(store, CustodyAggregate, o.Retries, o.Now),
		requisitions: es.NewHandler(store, RequisitionAggregate, o.Retries, o.Now),
		clearances:   es.NewHandler(store, ClearanceAggregate, o.Retries, o.Now)}
}

// CustodyAggregate is a custody agreement (保管责任书).
var CustodyAggregate = es.Aggregate[domain.CustodyAgreement]{Type: "custody",
	Initial: func() domain.CustodyAgreement { return domain.CustodyAgreement{} }, Evolve: domain.EvolveCustody}

// Holdings answers the questions that span aggregates, from the service's holdings read model.
type Holdings interface {
	// AssetsAt lists the ids of the school's assets the ledger puts at location.
	AssetsAt(ctx context.Context, school, location string) ([]string, error)
	// PersonHeld is what person holds in school: with staffNo, what was recorded with that
	// 工号 and what was recorded by the name alone (before the school's directory).
	PersonHeld(ctx context.Context, school, person, staffNo string) (domain.Held, error)
	// Current waits until the model holds every event committed before the call.
	Current(ctx context.Context) error
}

// UseHoldings sets the read model the app asks questions across aggregates.
func (a *App) UseHoldings(h Holdings) { a.holdings = h }

// idNamespace derives ids from request ids, so a repeated request names the same loan,
// permit or charge as the first.
var idNamespace = uuid.MustParse("6f1c1d2e-8a43-4f4e-9c55-3b0b7c1e5a10")

func derivedID(meta es.Meta) string {
	return uuid.NewSHA1(idNamespace, []byte(meta.SchoolID+"/"+meta.RequestID)).String()
}

func parseID(field, id string) error {
	if _, err := uuid.Parse(id); err != nil {
		return errs.Invalid(field, "ID格式有误 / "+field+" must be a UUID")
	}
	return nil
}

func checkExpected(expected int64) error {
	if expected < 0 {
		return errs.Invalid("expected_version", "不能为负数 / must not be negative")
	}
	return nil
}

// appended returns the events a command stored: the ones just decided, or, for a repeated
// request, the ones the first call stored (responses are built from them either way).
func (a *App) appended(ctx context.Context, out eventstore.Outcome, repeated bool, decided []proto.Message) ([]proto.Message, error) {
	if !repeated {
		return decided, nil
	}
	st, err := a.store.Load(ctx, out.StreamID)
	if err != nil {
		return nil, err
	}
	var evs []proto.Message
	for _, e := range st.Events {
		if slices.Contains(out.EventIDs, e.ID.String()) {
			m, err := e.Decode()
			if err != nil {
				return nil, err
			}
			evs = append(evs, m)
		}
	}
	return evs, nil
}

// stateAt folds an aggregate's stream up to version.
func stateAt[S any](ctx context.Context, store *eventstore.Store, agg es.Aggregate[S], id string, version int64) (S, error) {
	s := agg.Initial()
	st, err := store.Load(ctx, event.StreamID(agg.Type, id))
	if err != nil {
		return s, err
	}
	for _, e := range st.Events {
		if e.Version > version {
			break
		}
		m, err := e.Decode()
		if err != nil {
			return s, err
		}
		s = agg.Evolve(s, m)
	}
	return s, nil
}

// first returns the first event of type T in evs.
func first[T proto.Message](evs []proto.Message) (T, bool) {
	for _, e := range evs {
		if t, ok := e.(T); ok {
			return t, true
		}
	}
	var zero T
	return zero, false
}

func (a *App) custodyPolicy(t time.Time) domain.CustodyPolicy { return a.custodyPolicies.At(t) }

// Today is the district's current date (queries default to it).
func (a *App) Today() domain.Day { return a.today() }

// AsOf parses a query's as_of date; empty means today.
func (a *App) AsOf(s string) (domain.Day, error) {
	if s == "" {
		return a.today(), nil
	}
	d, ok := domain.ParseDay(s)
	if !ok {
		return d, errs.Invalid("as_of", "日期格式须为YYYY-MM-DD / date must be YYYY-MM-DD")
	}
	return d, nil
}
