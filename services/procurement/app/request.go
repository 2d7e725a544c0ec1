package app

import (
	"context"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/district"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	"houqin.dev/procurement/domain"
)

// SubmitPurchaseRequest submits a request of the meta's school; its approval chain is fixed
// by the policy in force today. It returns the request's id, its chain and version.
func (a *App) SubmitPurchaseRequest(ctx context.Context, meta es.Meta, actor domain.Actor, c domain.SubmitPurchaseRequest) (string, []domain.Step, int64, error) {
	c.PurchaseRequestID, c.SchoolID, c.RequestedBy = newID(), meta.SchoolID, actor.Subject
	p := a.policies.At(a.Today())
	var cats []string
	for _, l := range c.Lines {
		cats = append(cats, l.Category)
	}
	cat, err := a.catalogueFor(ctx, cats...)
	if err != nil {
		return "", nil, 0, err
	}
	decide := func(r domain.PurchaseRequest) ([]proto.Message, error) {
		return domain.DecideSubmitPurchaseRequest(r, c, cat, p, a.today())
	}
	var idErr error
	if c.BudgetLineID != "" {
		idErr = checkID("budget_line_id", c.BudgetLineID)
	}
	if err := errs.Join(meta.Validate(), idErr); err != nil {
		_, derr := decide(domain.PurchaseRequest{})
		return "", nil, 0, errs.Join(err, derr)
	}
	if c.BudgetLineID != "" {
		if _, _, err := a.budgets.Load(ctx, meta.SchoolID, c.BudgetLineID); err != nil {
			if _, missing := errs.As[*errs.NotFoundError](err); missing {
				return "", nil, 0, errs.Rule(domain.ReasonBudgetLineUnknown, "本校没有该预算科目 / the school has no such budget line",
					"budget_line_id", c.BudgetLineID)
			}
			return "", nil, 0, err
		}
	}
	var chain []domain.Step
	res, err := a.requests.Execute(ctx, meta, es.Command[domain.PurchaseRequest]{ID: c.PurchaseRequestID, New: true,
		Decide: func(r domain.PurchaseRequest) (es.Decision, error) {
			ev, err := decide(r)
			if err == nil {
				chain = domain.EvolvePurchaseRequest(r, ev[0]).Chain
			}
			return es.Decision{Events: ev, PolicyVersion: p.Version}, err
		}})
	if err != nil {
		return "", nil, 0, err
	}
	id := strings.TrimPrefix(res.StreamID, RequestAggregate.Type+":")
	if res.Repeated {
		r, _, err := a.requests.Load(ctx, meta.SchoolID, id)
		if err != nil {
			return "", nil, 0, err
		}
		chain = r.Chain
	}
	return id, chain, res.Version, nil
}

// ApprovePurchaseRequest approves the request's next step as actor; it returns the request's
// status afterwards.
func (a *App) ApprovePurchaseRequest(ctx context.Context, meta es.Meta, actor domain.Actor, requestID, comment string) (string, int64, error) {
	var status string
	v, err := a.requestCommand(ctx, meta, requestID, func(r domain.PurchaseRequest) ([]proto.Message, error) {
		ev, err := domain.DecideApprovePurchaseRequest(r, actor, comment, a.today())
		if err == nil {
			status = domain.EvolvePurchaseRequest(r, ev[0]).Status
		}
		return ev, err
	})
	if err == nil && status == "" {
		// A repeat: the request's status now.
		r, _, lerr := a.requests.Load(ctx, meta.SchoolID, requestID)
		status, err = r.Status, lerr
	}
	return status, v, err
}

// RejectPurchaseRequest refuses the request at its next step.
func (a *App) RejectPurchaseRequest(ctx context.Context, meta es.Meta, actor domain.Actor, requestID, reason string) (int64, error) {
	return a.requestCommand(ctx, meta, requestID, func(r domain.PurchaseRequest) ([]proto.Message, error) {
		return domain.DecideRejectPurchaseRequest(r, actor, reason, a.today())
	})
}

// AddQuote records a supplier's quote; it returns the quote's id and total.
func (a *App) AddQuote(ctx context.Context, meta es.Meta, requestID, supplierID string, prices []int64, note string) (string, int64, int64, error) {
	if err := errs.Join(checkID("purchase_request_id", requestID), checkID("supplier_id", supplierID)); err != nil {
		return "", 0, 0, err
	}
	sup, _, err := a.suppliers.Load(ctx, district.SchoolID, supplierID)
	if err != nil {
		return "", 0, 0, err
	}
	c := domain.AddQuote{QuoteID: derivedID(meta), Supplier: sup, UnitPricesFen: prices, Note: note}
	var total int64
	v, err := a.requestCommand(ctx, meta, requestID, func(r domain.PurchaseRequest) ([]proto.Message, error) {
		ev, err := domain.DecideAddQuote(r, c, a.today())
		if err == nil {
			q, _ := domain.EvolvePurchaseRequest(r, ev[0]).Quote(c.QuoteID)
			total = q.TotalFen
		}
		return ev, err
	})
	if err == nil && total == 0 {
		r, _, lerr := a.requests.Load(ctx, meta.SchoolID, requestID)
		q, _ := r.Quote(c.QuoteID)
		total, err = q.TotalFen, lerr
	}
	return c.QuoteID, total, v, err
}

// ChooseQuote chooses the quote to order from.
func (a *App) ChooseQuote(ctx context.Context, meta es.Meta, actor domain.Actor, requestID, quoteID, reason string) (int64, error) {
	if err := checkID("quote_id", quoteID); err != nil {
		return 0, err
	}
	return a.requestCommand(ctx, meta, requestID, func(r domain.PurchaseRequest) ([]proto.Message, error) {
		return domain.DecideChooseQuote(r, quoteID, reason, actor, a.policyOf(r))
	})
}

// requestCommand runs a command on an existing request; decisions are recorded with the
// policy version the request was judged against at submission.
func (a *App) requestCommand(ctx context.Context, meta es.Meta, requestID string, decide func(domain.PurchaseRequest) ([]proto.Message, error)) (int64, error) {
	if err := checkID("purchase_request_id", requestID); err != nil {
		return 0, err
	}
	res, err := a.requests.Execute(ctx, meta, es.Command[domain.PurchaseRequest]{ID: requestID,
		Decide: func(r domain.PurchaseRequest) (es.Decision, error) {
			if !r.Submitted {
				return es.Decision{}, errs.NotFound("purchase_request", requestID)
			}
			ev, err := decide(r)
			return es.Decision{Events: ev, PolicyVersion: r.PolicyVersion}, err
		}})
	return res.Version, err
}

// GetPurchaseRequest returns a request of school.
func (a *App) GetPurchaseRequest(ctx context.Context, school, requestID string) (domain.PurchaseRequest, int64, error) {
	if err := checkID("purchase_request_id", requestID); err != nil {
		return domain.PurchaseRequest{}, 0, err
	}
	return a.requests.Load(ctx, school, requestID)
}

// policyOf is the policy a request was judged against at submission.
func (a *App) policyOf(r domain.PurchaseRequest) domain.Policy {
	submitted, err := time.Parse(domain.DateLayout, r.SubmittedOn)
	if err != nil {
		submitted = a.Today()
	}
	return a.policies.Version(r.PolicyVersion, submitted)
}
