package app

import (
	"context"
	"crypto/sha256"
	"strconv"

	"houqin.dev/platform/district"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	"houqin.dev/platform/eventstore"
	"houqin.dev/procurement/domain"
)

// PlacePurchaseOrder orders an approved request from its chosen quote and commits the amount
// on the request's budget line. It returns the order's id, total and version.
//
// Two aggregates, no distributed transaction; the order of the steps keeps them consistent:
//
//  1. The order's id is derived from the school and the client's request id, so a retry of
//     the same call names the same order.
//  2. The order is decided first on the loaded request and supplier, and the request checked
//     for an order (nothing written): a refusal commits nothing.
//  3. The budget line is committed for the order, under the request id "commit-<order id>-<amount>":
//     a retry is answered as a repeat and commits nothing again (the budget decider also
//     ignores a second commitment of the same order and amount). If the request's chosen
//     quote changed between a failed attempt and the retry, the retry's amount differs: the
//     budget decider releases the old commitment and commits the new amount in one append.
//     A retry of an order already placed skips this step.
//  4. The order is appended under the client's request id, claiming the unique key "one order
//     per purchase request". If it is refused now (another call ordered the request in the
//     meantime), the commitment is released under "release-<order id>"; a transient failure
//     leaves the commitment for the client's retry, which completes the order.
//
// So a placed order always has its commitment at its total, and a commitment without an order
// exists only between steps 3 and 4 or when a client gives up after a transient failure; the
// commitment sweeper (SweepCommitments) abandons such an order id after the policy's grace
// period and releases its commitment.
func (a *App) PlacePurchaseOrder(ctx context.Context, meta es.Meta, requestID string) (string, int64, int64, error) {
	if err := errs.Join(meta.Validate(), checkID("purchase_request_id", requestID)); err != nil {
		return "", 0, 0, err
	}
	orderID := derivedID(meta)
	today := a.Today()
	day := domain.Day(today)
	r, _, err := a.requests.Load(ctx, meta.SchoolID, requestID)
	if err != nil {
		return "", 0, 0, err
	}
	var sup domain.Supplier
	if q, ok := r.Quote(r.ChosenQuoteID); ok {
		if sup, _, err = a.suppliers.Load(ctx, district.SchoolID, q.SupplierID); err != nil {
			return "", 0, 0, err
		}
	}
	c := domain.PlacePurchaseOrder{OrderID: orderID, Request: r, Supplier: sup, Today: day}
	rule := a.capAt(today)
	p := a.policies.At(today)
	var cats []string
	for _, l := range r.Lines {
		cats = append(cats, l.Category)
	}
	cat, err := a.catalogueFor(ctx, cats...)
	if err != nil {
		return "", 0, 0, err
	}
	ev, err := domain.DecidePlacePurchaseOrder(domain.PurchaseOrder{}, c, cat, rule)
	if err != nil {
		return "", 0, 0, err
	}
	placed := domain.EvolvePurchaseOrder(domain.PurchaseOrder{}, ev[0])
	oneOrder := []eventstore.UniqueKey{{Scope: "purchase_order_of_request", Key: r.ID, Reason: domain.ReasonOrderExists,
		Message: "该申请已下单 / the request has been ordered already"}}
	if err := a.store.CheckUniqueKeys(ctx, OrderAggregate.Type+":"+orderID, oneOrder); err != nil {
		return "", 0, 0, err
	}

	// A retry of an order placed before commits nothing; one of an order id the sweeper
	// abandoned is refused.
	prev, _, err := a.orders.Load(ctx, meta.SchoolID, orderID)
	if _, none := errs.As[*errs.NotFoundError](err); err != nil && !none {
		return "", 0, 0, err
	}
	if prev.Status == domain.OrderAbandoned {
		_, err := domain.DecidePlacePurchaseOrder(prev, c, cat, rule)
		return "", 0, 0, err
	}
	if !prev.Placed {
		// The commitment's request id names the amount: a retry after the chosen quote changed
		// is a new step that commits the order again at the new amount (the budget decider
		// releases the old one in the same append), not a repeat of the old amount.
		amount := strconv.FormatInt(placed.TotalFen, 10)
		fp := sha256.Sum256(append(append([]byte(nil), meta.Fingerprint...), amount...))
		commit := a.derived(meta, "commit-"+orderID+"-"+amount, fp[:])
		if _, err := a.budgets.Execute(ctx, commit, es.Command[domain.Budget]{ID: r.BudgetLineID,
			Decide: func(b domain.Budget) (es.Decision, error) {
				ev, err := domain.DecideCommitBudget(b, domain.CommitBudget{OrderID: orderID, PurchaseRequestID: r.ID,
					AmountFen: placed.TotalFen, On: day})
				return es.Decision{Events: ev, PolicyVersion: p.Version}, err
			}}); err != nil {
			return "", 0, 0, err
		}
		if a.hooks.AfterCommit != nil {
			if err := a.hooks.AfterCommit(orderID); err != nil {
				return "", 0, 0, err
			}
		}
	}

	res, err := a.orders.Execute(ctx, meta, es.Command[domain.PurchaseOrder]{ID: orderID, New: true,
		Decide: func(o domain.PurchaseOrder) (es.Decision, error) {
			ev, err := domain.DecidePlacePurchaseOrder(o, c, cat, rule)
			return es.Decision{Events: ev, PolicyVersion: p.Version, UniqueKeys: oneOrder}, err
		}})
	if err != nil {
		if refused(err) {
			if rerr := a.ReleaseBudgetCommitment(ctx, meta, r.BudgetLineID, orderID, "订单未能下达 / the order was not placed"); rerr != nil {
				return "", 0, 0, errs.Join(err, rerr)
			}
		}
		return "", 0, 0, err
	}
	if res.Repeated {
		o, _, err := a.orders.Load(ctx, meta.SchoolID, orderID)
		return orderID, o.TotalFen, res.Version, err
	}
	return orderID, placed.TotalFen, res.Version, nil
}

// CancelPurchaseOrder cancels an order, then releases its commitment. The release runs on a
// repeat, and on a refused cancel of an order cancelled before, too (under its own derived
// request id, and releasing only what is still open), so any retry after a failure in
// between completes it.
func (a *App) CancelPurchaseOrder(ctx context.Context, meta es.Meta, actor domain.Actor, orderID, reason string) (int64, error) {
	if err := checkID("purchase_order_id", orderID); err != nil {
		return 0, err
	}
	// The cancellation is first recorded on the order's fulfilment stream, decided on its
	// deliveries and invoices: a delivery racing this cancel appends to the same stream, so
	// the optimistic lock makes one of them decide after the other and be refused.
	o, _, err := a.orders.Load(ctx, meta.SchoolID, orderID)
	if err != nil {
		if _, derr := domain.DecideCancelPurchaseOrder(domain.PurchaseOrder{}, domain.Fulfilment{}, reason, actor, a.today()); derr != nil {
			if _, invalid := errs.As[*errs.InvalidError](derr); invalid {
				return 0, derr
			}
		}
		return 0, err
	}
	if o.Status != domain.OrderCancelled {
		fp := sha256.Sum256([]byte("cancel/" + orderID))
		today := a.today()
		if _, err := a.fulfilments().Execute(ctx, a.derived(meta, "cancel-"+orderID, fp[:]), es.Command[domain.Fulfilment]{ID: orderID,
			Decide: func(f domain.Fulfilment) (es.Decision, error) {
				ev, err := domain.DecideRecordCancellation(f, o, reason, actor, today)
				return es.Decision{Events: ev}, err
			}}); err != nil {
			return 0, err
		}
	}
	f, _, err := a.fulfilments().Load(ctx, meta.SchoolID, orderID)
	if _, none := errs.As[*errs.NotFoundError](err); err != nil && !none {
		return 0, err
	}
	var line string
	cancelledBefore := false
	res, err := a.orders.Execute(ctx, meta, es.Command[domain.PurchaseOrder]{ID: orderID,
		Decide: func(o domain.PurchaseOrder) (es.Decision, error) {
			line, cancelledBefore = o.BudgetLineID, o.Status == domain.OrderCancelled
			ev, err := domain.DecideCancelPurchaseOrder(o, f, reason, actor, a.today())
			return es.Decision{Events: ev}, err
		}})
	if err != nil {
		if cancelledBefore {
			return 0, errs.Join(err, a.ReleaseBudgetCommitment(ctx, meta, line, orderID, reason))
		}
		return 0, err
	}
	if line == "" {
		o, _, err := a.orders.Load(ctx, meta.SchoolID, orderID)
		if err != nil {
			return 0, err
		}
		line = o.BudgetLineID
	}
	return res.Version, a.ReleaseBudgetCommitment(ctx, meta, line, orderID, reason)
}

// GetPurchaseOrder returns an order of school.
func (a *App) GetPurchaseOrder(ctx context.Context, school, orderID string) (domain.PurchaseOrder, int64, error) {
	if err := checkID("purchase_order_id", orderID); err != nil {
		return domain.PurchaseOrder{}, 0, err
	}
	return a.orders.Load(ctx, school, orderID)
}

// ReleaseBudgetCommitment frees what remains of an order's commitment on its budget line
// (cancelled, not placed after all, or — for the delivery flow — closed below its amount
// once every invoice is recorded). It runs under the request id "release-<order id>" in the
// caller's school, so calling it again records nothing.
func (a *App) ReleaseBudgetCommitment(ctx context.Context, meta es.Meta, lineID, orderID, reason string) error {
	fp := sha256.Sum256([]byte("release/" + orderID))
	_, err := a.budgets.Execute(ctx, a.derived(meta, "release-"+orderID, fp[:]), es.Command[domain.Budget]{ID: lineID,
		Decide: func(b domain.Budget) (es.Decision, error) {
			ev, err := domain.DecideReleaseCommitment(b, orderID, reason)
			return es.Decision{Events: ev}, err
		}})
	return err
}

// derived is the meta of a step a command takes on another aggregate: same caller and
// trace, caused by the client's request, under its own request id.
func (a *App) derived(meta es.Meta, requestID string, fingerprint []byte) es.Meta {
	m := meta
	m.RequestID, m.Fingerprint, m.CausationID = requestID, fingerprint, meta.RequestID
	return m
}

// refused reports whether err is a decision (a rule or a missing aggregate), not a failure
// that a retry might get past.
func refused(err error) bool {
	if _, ok := errs.As[*errs.RuleError](err); ok {
		return true
	}
	_, ok := errs.As[*errs.NotFoundError](err)
	return ok
}
