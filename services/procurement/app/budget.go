package app

import (
	"context"
	"strings"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	"houqin.dev/platform/eventstore"
	"houqin.dev/procurement/domain"
)

// OpenBudgetLine opens a budget line of the meta's school and returns its id and version.
func (a *App) OpenBudgetLine(ctx context.Context, meta es.Meta, c domain.OpenBudgetLine) (string, int64, error) {
	c.BudgetLineID, c.SchoolID = newID(), meta.SchoolID
	if err := meta.Validate(); err != nil {
		_, derr := domain.DecideOpenBudgetLine(domain.Budget{}, c)
		return "", 0, errs.Join(err, derr)
	}
	res, err := a.budgets.Execute(ctx, meta, es.Command[domain.Budget]{ID: c.BudgetLineID, New: true,
		Decide: func(b domain.Budget) (es.Decision, error) {
			ev, err := domain.DecideOpenBudgetLine(b, c)
			return es.Decision{Events: ev, UniqueKeys: []eventstore.UniqueKey{{Scope: "budget_line",
				Key: domain.BudgetLineKey(c.SchoolID, c.FiscalYear, c.Code), Reason: domain.ReasonBudgetLineExists,
				Message: "该校本年度已有此预算科目 / the school already has this budget line in the year"}}}, err
		}})
	if err != nil {
		return "", 0, err
	}
	return strings.TrimPrefix(res.StreamID, BudgetAggregate.Type+":"), res.Version, nil
}

// RequestBudgetAdjustment asks to change a line; it returns the adjustment's id and the role
// the policy in force today wants as approver.
func (a *App) RequestBudgetAdjustment(ctx context.Context, meta es.Meta, actor domain.Actor, lineID string, amount int64, reason string) (string, string, int64, error) {
	if err := checkID("budget_line_id", lineID); err != nil {
		return "", "", 0, err
	}
	id := derivedID(meta)
	p := a.policies.At(a.Today())
	c := domain.RequestBudgetAdjustment{AdjustmentID: id, AmountFen: amount, Reason: reason, RequestedBy: actor.Subject}
	res, err := a.budgets.Execute(ctx, meta, es.Command[domain.Budget]{ID: lineID,
		Decide: func(b domain.Budget) (es.Decision, error) {
			ev, err := domain.DecideRequestBudgetAdjustment(b, c, p)
			return es.Decision{Events: ev, PolicyVersion: p.Version}, err
		}})
	if err != nil {
		return "", "", 0, err
	}
	return id, domain.AdjustmentApproverRole(amount, p), res.Version, nil
}

// ApproveBudgetAdjustment applies a requested adjustment.
func (a *App) ApproveBudgetAdjustment(ctx context.Context, meta es.Meta, actor domain.Actor, lineID, adjustmentID string) (int64, error) {
	return a.budgetCommand(ctx, meta, lineID, adjustmentID, func(b domain.Budget) ([]proto.Message, error) {
		return domain.DecideApproveBudgetAdjustment(b, adjustmentID, actor)
	})
}

// RejectBudgetAdjustment refuses a requested adjustment.
func (a *App) RejectBudgetAdjustment(ctx context.Context, meta es.Meta, actor domain.Actor, lineID, adjustmentID, reason string) (int64, error) {
	return a.budgetCommand(ctx, meta, lineID, adjustmentID, func(b domain.Budget) ([]proto.Message, error) {
		return domain.DecideRejectBudgetAdjustment(b, adjustmentID, reason, actor)
	})
}

func (a *App) budgetCommand(ctx context.Context, meta es.Meta, lineID, adjustmentID string, decide func(domain.Budget) ([]proto.Message, error)) (int64, error) {
	if err := errs.Join(checkID("budget_line_id", lineID), checkID("adjustment_id", adjustmentID)); err != nil {
		return 0, err
	}
	res, err := a.budgets.Execute(ctx, meta, es.Command[domain.Budget]{ID: lineID,
		Decide: func(b domain.Budget) (es.Decision, error) {
			ev, err := decide(b)
			return es.Decision{Events: ev}, err
		}})
	return res.Version, err
}

// RecordBudgetSpend records a reimbursed invoice against a budget line (报账支出): the order's
// open commitment is drawn down first; any excess must fit into what the line has available,
// else BUDGET_EXCEEDED. An invoice is recorded once (a repeat records nothing). For the
// reimbursement flow: call it when a reimbursement is approved, with a request id derived from
// the invoice id, and the business date of the reimbursement as SpentOn (reports sum spend by
// its month).
func (a *App) RecordBudgetSpend(ctx context.Context, meta es.Meta, lineID string, c domain.RecordSpend) (int64, error) {
	if err := checkID("budget_line_id", lineID); err != nil {
		return 0, err
	}
	res, err := a.budgets.Execute(ctx, meta, es.Command[domain.Budget]{ID: lineID,
		Decide: func(b domain.Budget) (es.Decision, error) {
			ev, err := domain.DecideRecordSpend(b, c)
			return es.Decision{Events: ev, OccurredAt: a.BusinessTime(c.SpentOn)}, err
		}})
	return res.Version, err
}

// GetBudgetLine returns a budget line of school.
func (a *App) GetBudgetLine(ctx context.Context, school, lineID string) (domain.Budget, int64, error) {
	if err := checkID("budget_line_id", lineID); err != nil {
		return domain.Budget{}, 0, err
	}
	return a.budgets.Load(ctx, school, lineID)
}
