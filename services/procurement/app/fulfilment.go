package app

import (
	"context"
	"crypto/sha256"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	"houqin.dev/procurement/domain"
)

// FulfilmentAggregate is what happens to an order after it is placed: one stream per order
// (fulfilment:<purchase order id>) with its receipts, registrations and invoices, so "never
// more than ordered" and "invoice matches the accepted goods" are judged on one stream.
var FulfilmentAggregate = es.Aggregate[domain.Fulfilment]{Type: "fulfilment",
	Initial: func() domain.Fulfilment { return domain.Fulfilment{} }, Evolve: domain.EvolveFulfilment}

// fulfilmentSpace is the UUIDv5 name space of receipt, acceptance line and invoice ids.
var fulfilmentSpace = uuid.MustParse("9d3c8f0e-5b1a-5e2d-9c4b-7a6f5e4d3c2b")

// fulfilmentID names what a request creates within an order, so a retry names the same thing.
func fulfilmentID(parts ...string) string {
	b := []byte{}
	for _, p := range parts {
		b = append(append(b, p...), 0)
	}
	return uuid.NewSHA1(fulfilmentSpace, b).String()
}

func (a *App) fulfilments() *es.Handler[domain.Fulfilment] {
	return es.NewHandler(a.store, FulfilmentAggregate, a.retries, a.now)
}

// fulfilmentCommand runs decide on an order's fulfilment, with the order as it stands.
func (a *App) fulfilmentCommand(ctx context.Context, meta es.Meta, orderID string, policyVersion func(domain.Fulfilment) string,
	decide func(domain.Fulfilment, domain.PurchaseOrder) ([]proto.Message, error)) (es.Result[domain.Fulfilment], error) {
	if err := checkID("purchase_order_id", orderID); err != nil {
		return es.Result[domain.Fulfilment]{}, err
	}
	if err := meta.Validate(); err != nil {
		return es.Result[domain.Fulfilment]{}, err
	}
	o, _, err := a.orders.Load(ctx, meta.SchoolID, orderID)
	if err != nil {
		return es.Result[domain.Fulfilment]{}, err
	}
	return a.fulfilments().Execute(ctx, meta, es.Command[domain.Fulfilment]{ID: orderID,
		Decide: func(f domain.Fulfilment) (es.Decision, error) {
			ev, err := decide(f, o)
			return es.Decision{Events: ev, PolicyVersion: policyVersion(f)}, err
		}})
}

// version is a decision's policy version known before the state is loaded.
func version(v string) func(domain.Fulfilment) string {
	return func(domain.Fulfilment) string { return v }
}

// policyOf is the policy version of the receipt or invoice a decision is about.
func policyOf(id string) func(domain.Fulfilment) string {
	return func(f domain.Fulfilment) string { return f.PolicyVersion(id) }
}

// RecordDelivery records a delivery and its goods receipt; it returns the receipt id and the
// acceptance line ids (in line order), both derived from the request.
func (a *App) RecordDelivery(ctx context.Context, meta es.Meta, actor domain.Actor, orderID string, c domain.RecordDelivery) (string, []string, int64, error) {
	c.ReceiptID = fulfilmentID("receipt", orderID, meta.RequestID)
	c.Actor, c.Today = actor, a.today()
	ids := make([]string, len(c.Lines))
	for i := range c.Lines {
		c.Lines[i].AcceptanceLineID = fulfilmentID("acceptance-line", c.ReceiptID, c.Lines[i].OrderLineID)
		ids[i] = c.Lines[i].AcceptanceLineID
	}
	p := a.policies.At(a.Today())
	if err := errs.Join(checkID("purchase_order_id", orderID), meta.Validate()); err != nil {
		_, derr := domain.DecideRecordDelivery(domain.Fulfilment{}, domain.PurchaseOrder{}, c, p)
		if _, invalid := errs.As[*errs.InvalidError](derr); invalid {
			err = errs.Join(err, derr)
		}
		return "", nil, 0, err
	}
	res, err := a.fulfilmentCommand(ctx, meta, orderID, version(p.Version), func(f domain.Fulfilment, o domain.PurchaseOrder) ([]proto.Message, error) {
		return domain.DecideRecordDelivery(f, o, c, p)
	})
	if err != nil {
		return "", nil, 0, err
	}
	return c.ReceiptID, ids, res.Version, nil
}

// SignGoodsReceipt signs a receipt as the actor; it returns how many people have signed and
// whether the goods are accepted.
func (a *App) SignGoodsReceipt(ctx context.Context, meta es.Meta, actor domain.Actor, orderID, receiptID string) (int, bool, int64, error) {
	if err := checkID("receipt_id", receiptID); err != nil {
		return 0, false, 0, err
	}
	today := a.today()
	res, err := a.fulfilmentCommand(ctx, meta, orderID, policyOf(receiptID), func(f domain.Fulfilment, o domain.PurchaseOrder) ([]proto.Message, error) {
		return domain.DecideSignGoodsReceipt(f, o, receiptID, actor, today)
	})
	if err != nil {
		return 0, false, 0, err
	}
	f, _, err := a.GetFulfilment(ctx, meta.SchoolID, orderID)
	if err != nil {
		return 0, false, 0, err
	}
	r, _ := f.Receipt(receiptID)
	return len(r.Signers), r.Accepted, res.Version, nil
}

// RecordLineRegistered records that the assets service registered the asset of an accepted
// line (the assets → procurement process manager). Idempotent on the line.
func (a *App) RecordLineRegistered(ctx context.Context, meta es.Meta, orderID, lineID string, reg domain.Registration) (int64, error) {
	if err := checkID("purchase_order_id", orderID); err != nil {
		return 0, err
	}
	res, err := a.fulfilments().Execute(ctx, meta, es.Command[domain.Fulfilment]{ID: orderID,
		Decide: func(f domain.Fulfilment) (es.Decision, error) {
			ev, err := domain.DecideRecordLineRegistered(f, lineID, reg)
			return es.Decision{Events: ev}, err
		}})
	return res.Version, err
}

// RecordInvoice records a supplier's invoice after the three-way match; its id derives from
// the request.
func (a *App) RecordInvoice(ctx context.Context, meta es.Meta, actor domain.Actor, orderID string, c domain.RecordInvoice) (string, int64, error) {
	c.InvoiceID = fulfilmentID("invoice", orderID, meta.RequestID)
	c.Actor, c.Today = actor, a.today()
	p := a.policies.At(a.Today())
	res, err := a.fulfilmentCommand(ctx, meta, orderID, version(p.Version), func(f domain.Fulfilment, o domain.PurchaseOrder) ([]proto.Message, error) {
		return domain.DecideRecordInvoice(f, o, c, p)
	})
	if err != nil {
		return "", 0, err
	}
	return c.InvoiceID, res.Version, nil
}

// SignInvoice signs an invoice in role as the actor and returns the roles signed so far.
func (a *App) SignInvoice(ctx context.Context, meta es.Meta, actor domain.Actor, orderID, invoiceID, role string) ([]string, int64, error) {
	if err := checkID("invoice_id", invoiceID); err != nil {
		return nil, 0, err
	}
	today := a.today()
	res, err := a.fulfilmentCommand(ctx, meta, orderID, policyOf(invoiceID), func(f domain.Fulfilment, _ domain.PurchaseOrder) ([]proto.Message, error) {
		return domain.DecideSignInvoice(f, invoiceID, role, actor, today)
	})
	if err != nil {
		return nil, 0, err
	}
	f, _, err := a.GetFulfilment(ctx, meta.SchoolID, orderID)
	if err != nil {
		return nil, 0, err
	}
	inv, _ := f.Invoice(invoiceID)
	var roles []string
	for _, r := range inv.RequiredRoles {
		if _, ok := inv.Signers[r]; ok {
			roles = append(roles, r)
		}
	}
	return roles, res.Version, nil
}

// ReimburseInvoice 报账: once the invoice may be reimbursed, the spend is recorded on the
// order's budget line (drawing down its commitment; what exceeds the commitment must fit into
// what the line has available, else BUDGET_EXCEEDED — no spend beyond a line without an
// approved adjustment — and nothing is written), then the invoice is marked reimbursed, then
// — for the order's last invoice — what remains of the commitment is released. A red-letter
// invoice (红字发票) instead reverses its original's spend (under "unspend-<original id>") and
// closes nothing. Each step is idempotent (request ids derived from the invoice and
// order), so a retry after a failure in between completes the rest.
func (a *App) ReimburseInvoice(ctx context.Context, meta es.Meta, actor domain.Actor, orderID, invoiceID string, closeOrder bool) (int64, int64, error) {
	if err := errs.Join(checkID("purchase_order_id", orderID), checkID("invoice_id", invoiceID), meta.Validate()); err != nil {
		return 0, 0, err
	}
	o, _, err := a.orders.Load(ctx, meta.SchoolID, orderID)
	if err != nil {
		return 0, 0, err
	}
	f, _, err := a.fulfilments().Load(ctx, meta.SchoolID, orderID)
	if err != nil {
		return 0, 0, err
	}
	today := a.today()
	_, re, err := domain.DecideReimburseInvoice(f, o, invoiceID, closeOrder, actor, today)
	if err != nil {
		return 0, 0, err
	}
	if !re.Repeated && re.Reverses != "" {
		// A red-letter invoice: reverse the original's spend instead of spending.
		fp := sha256.Sum256([]byte("unspend/" + re.Reverses))
		if _, err := a.budgets.Execute(ctx, a.derived(meta, "unspend-"+re.Reverses, fp[:]), es.Command[domain.Budget]{ID: o.BudgetLineID,
			Decide: func(b domain.Budget) (es.Decision, error) {
				ev, err := domain.DecideReverseSpend(b, domain.ReverseSpend{OrderID: orderID, InvoiceID: re.Reverses, ReversalInvoiceID: invoiceID,
					AmountFen: re.AmountFen, ReversedOn: today, Categories: re.Categories})
				return es.Decision{Events: ev, OccurredAt: a.BusinessTime(today)}, err
			}}); err != nil {
			return 0, 0, err
		}
	} else if !re.Repeated {
		fp := sha256.Sum256([]byte("spend/" + invoiceID))
		if _, err := a.RecordBudgetSpend(ctx, a.derived(meta, "spend-"+invoiceID, fp[:]), o.BudgetLineID, domain.RecordSpend{
			OrderID: orderID, InvoiceID: invoiceID, AmountFen: re.AmountFen, SpentOn: today, Categories: re.Categories}); err != nil {
			return 0, 0, err
		}
	}
	res, err := a.fulfilments().Execute(ctx, meta, es.Command[domain.Fulfilment]{ID: orderID,
		Decide: func(f domain.Fulfilment) (es.Decision, error) {
			ev, _, err := domain.DecideReimburseInvoice(f, o, invoiceID, closeOrder, actor, today)
			return es.Decision{Events: ev, OccurredAt: a.BusinessTime(today), PolicyVersion: f.PolicyVersion(invoiceID)}, err
		}})
	if err != nil {
		return 0, 0, err
	}
	if closeOrder && re.Reverses == "" {
		if err := a.ReleaseBudgetCommitment(ctx, meta, o.BudgetLineID, orderID, "订单已报账结清 / the order is closed"); err != nil {
			return 0, 0, err
		}
	}
	return re.AmountFen, res.Version, nil
}

// CancelInvoice cancels (作废) an invoice not yet reimbursed, with the reason; the actor is
// recorded. A reimbursed invoice is refused: it is reversed by a red-letter invoice.
func (a *App) CancelInvoice(ctx context.Context, meta es.Meta, actor domain.Actor, orderID, invoiceID, reason string) (int64, error) {
	c := domain.CancelInvoice{InvoiceID: invoiceID, Reason: reason, Actor: actor, Today: a.today()}
	if err := errs.Join(checkID("invoice_id", invoiceID), checkID("purchase_order_id", orderID), meta.Validate()); err != nil {
		_, derr := domain.DecideCancelInvoice(domain.Fulfilment{}, domain.PurchaseOrder{}, c)
		if _, invalid := errs.As[*errs.InvalidError](derr); invalid {
			err = errs.Join(err, derr)
		}
		return 0, err
	}
	res, err := a.fulfilmentCommand(ctx, meta, orderID, policyOf(invoiceID), func(f domain.Fulfilment, o domain.PurchaseOrder) ([]proto.Message, error) {
		return domain.DecideCancelInvoice(f, o, c)
	})
	return res.Version, err
}

// GetFulfilment returns an order's fulfilment (empty when nothing was delivered yet).
func (a *App) GetFulfilment(ctx context.Context, school, orderID string) (domain.Fulfilment, int64, error) {
	if err := checkID("purchase_order_id", orderID); err != nil {
		return domain.Fulfilment{}, 0, err
	}
	if _, _, err := a.orders.Load(ctx, school, orderID); err != nil {
		return domain.Fulfilment{}, 0, err
	}
	f, v, err := a.fulfilments().Load(ctx, school, orderID)
	if _, ok := errs.As[*errs.NotFoundError](err); ok {
		return domain.Fulfilment{OrderID: orderID, SchoolID: school}, 0, nil
	}
	return f, v, err
}
