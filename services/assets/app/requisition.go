package app

import (
	"context"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
)

// RequisitionAggregate is a requisition (申领单).
var RequisitionAggregate = es.Aggregate[domain.Requisition]{Type: "requisition",
	Initial: func() domain.Requisition { return domain.Requisition{} }, Evolve: domain.EvolveRequisition}

// SubmitRequisition 申领; returns the requisition id.
func (a *App) SubmitRequisition(ctx context.Context, meta es.Meta, c domain.SubmitRequisition) (string, int64, error) {
	c.RequisitionID = derivedID(meta)
	if err := meta.Validate(); err != nil {
		_, derr := domain.DecideSubmitRequisition(domain.Requisition{}, c, domain.Campus{}, a.today())
		return "", 0, errs.Join(err, derr)
	}
	school, err := a.schoolWith(ctx, meta.SchoolID, "", []string{c.Department},
		person{c.Requester, c.RequesterStaffNo, domain.FormatDay(a.today())})
	if err != nil {
		return "", 0, err
	}
	res, err := a.requisitions.Execute(ctx, meta, es.Command[domain.Requisition]{ID: c.RequisitionID,
		Decide: func(s domain.Requisition) (es.Decision, error) {
			s.ID = c.RequisitionID
			ev, err := domain.DecideSubmitRequisition(s, c, school.Campus, a.today())
			return es.Decision{Events: ev}, err
		}})
	return c.RequisitionID, res.Version, err
}

// ApproveRequisition approves a requisition (the logistics director).
func (a *App) ApproveRequisition(ctx context.Context, meta es.Meta, id string, expected int64, c domain.ApproveRequisition) (int64, error) {
	c.ApprovedBy = meta.Actor
	return a.onRequisition(ctx, meta, id, expected, func(r domain.Requisition) (es.Decision, error) {
		ev, err := domain.DecideApproveRequisition(r, c, a.today())
		return es.Decision{Events: ev}, err
	})
}

// RejectRequisition refuses a requisition.
func (a *App) RejectRequisition(ctx context.Context, meta es.Meta, id string, expected int64, c domain.RejectRequisition) (int64, error) {
	c.RejectedBy = meta.Actor
	return a.onRequisition(ctx, meta, id, expected, func(r domain.Requisition) (es.Decision, error) {
		ev, err := domain.DecideRejectRequisition(r, c, a.today())
		return es.Decision{Events: ev}, err
	})
}

// IssueRequisition 领用.
func (a *App) IssueRequisition(ctx context.Context, meta es.Meta, id string, expected int64, c domain.IssueRequisition) (int64, error) {
	return a.onRequisition(ctx, meta, id, expected, func(r domain.Requisition) (es.Decision, error) {
		ev, err := domain.DecideIssueRequisition(r, c, a.today())
		return es.Decision{Events: ev}, err
	})
}

// ReturnIssuedItems takes returnable items back.
func (a *App) ReturnIssuedItems(ctx context.Context, meta es.Meta, id string, expected int64, c domain.ReturnIssuedItems) (int64, error) {
	return a.onRequisition(ctx, meta, id, expected, func(r domain.Requisition) (es.Decision, error) {
		ev, err := domain.DecideReturnIssuedItems(r, c, a.today())
		return es.Decision{Events: ev}, err
	})
}

func (a *App) onRequisition(ctx context.Context, meta es.Meta, id string, expected int64,
	decide func(domain.Requisition) (es.Decision, error)) (int64, error) {
	if err := errs.Join(parseID("requisition_id", id), checkExpected(expected)); err != nil {
		return 0, err
	}
	res, err := a.requisitions.Execute(ctx, meta, es.Command[domain.Requisition]{ID: id, Expected: expected,
		Decide: func(s domain.Requisition) (es.Decision, error) {
			s.ID = id
			return decide(s)
		}})
	return res.Version, err
}

// GetRequisition returns a requisition of school.
func (a *App) GetRequisition(ctx context.Context, school, id string) (domain.Requisition, int64, error) {
	if err := parseID("requisition_id", id); err != nil {
		return domain.Requisition{}, 0, err
	}
	return a.requisitions.Load(ctx, school, id)
}
