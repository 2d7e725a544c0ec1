package app

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"time"

	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	"houqin.dev/procurement/domain"
	"houqin.dev/procurement/readmodel"
)

// SweeperActor is the actor recorded on the sweeper's events.
const SweeperActor = "service:procurement-commitment-sweeper"

// RunCommitmentSweeper is the commitment sweeper (预算占用超时释放), a clock like the assets
// service's repair clock: every interval it reads the open commitments without a placed order
// from the service's own read model and sweeps each (SweepCommitment). It runs in every
// instance; request ids derived from the order keep every step single.
func (a *App) RunCommitmentSweeper(ctx context.Context, q readmodel.CommitmentQueries, every time.Duration, log *slog.Logger) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := a.SweepCommitments(ctx, q); err != nil && ctx.Err() == nil {
			log.Error("commitment sweeper", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// SweepCommitments sweeps once the orphaned commitments older than the grace period of the
// policy in force now, and returns how many it released.
func (a *App) SweepCommitments(ctx context.Context, q readmodel.CommitmentQueries) (int, error) {
	now := a.now()
	p := a.policies.At(a.Today())
	orphans, err := q.Orphans(ctx, now.Add(-p.CommitmentGrace), 200)
	if err != nil {
		return 0, err
	}
	n := 0
	var all error
	for _, o := range orphans {
		released, err := a.SweepCommitment(ctx, o)
		if released {
			n++
		}
		all = errors.Join(all, err)
	}
	return n, all
}

// SweepCommitment abandons the order id of a commitment whose order was never appended and
// then releases the commitment. The abandonment is appended to the order's own stream as its
// first event: if the client's retry appends the order at the same moment, the stream's
// optimistic lock lets only one of them in — either the order exists and keeps its commitment
// (the decider records nothing), or the id is abandoned and a later retry is refused
// (PURCHASE_ORDER_ABANDONED). The decider checks the order's events and the grace period
// itself, so a lagging read model can delay a release but never cause a wrong one. The
// release runs under "release-<order id>", like any other release of the order: two sweepers,
// a restart or a repeat release once.
func (a *App) SweepCommitment(ctx context.Context, c readmodel.Orphan) (bool, error) {
	meta := es.Meta{SchoolID: c.SchoolID, Actor: SweeperActor, CorrelationID: "sweep-" + c.OrderID}
	fp := sha256.Sum256([]byte("abandon/" + c.OrderID))
	now := a.now()
	p := a.policies.At(a.Today())
	abandon := a.derived(meta, "abandon-"+c.OrderID, fp[:])
	abandon.CausationID = ""
	if _, err := a.orders.Execute(ctx, abandon, es.Command[domain.PurchaseOrder]{ID: c.OrderID,
		Decide: func(o domain.PurchaseOrder) (es.Decision, error) {
			ev, err := domain.DecideAbandonOrder(o, domain.AbandonOrder{OrderID: c.OrderID, SchoolID: c.SchoolID,
				PurchaseRequestID: c.PurchaseRequestID, BudgetLineID: c.BudgetLineID, CommittedAt: c.CommittedAt, Now: now}, p)
			return es.Decision{Events: ev, PolicyVersion: p.Version}, err
		}}); err != nil {
		return false, err
	}
	o, _, err := a.orders.Load(ctx, c.SchoolID, c.OrderID)
	if _, none := errs.As[*errs.NotFoundError](err); err != nil && !none {
		return false, err
	}
	if o.Status != domain.OrderAbandoned {
		return false, nil // placed after all, or not yet past the grace period
	}
	meta.RequestID = "abandon-" + c.OrderID
	if err := a.ReleaseBudgetCommitment(ctx, meta, c.BudgetLineID, c.OrderID, o.CancelReason); err != nil {
		return false, err
	}
	return true, nil
}
