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

// FeeAggregate is a fee standard with its collections and settlement: one stream per school,
// term and item.
var FeeAggregate = es.Aggregate[domain.Fee]{Type: "fee", Initial: func() domain.Fee { return domain.Fee{} }, Evolve: domain.EvolveFee}

// PublishFeeStandard publishes a fee standard (收费公示) today and returns its id and version.
func (a *App) PublishFeeStandard(ctx context.Context, meta es.Meta, c domain.PublishFeeStandard) (string, int64, error) {
	c.FeeID, c.PublishedOn, c.PublishedBy = newID(), domain.Day(a.Today()), meta.Actor
	if err := meta.Validate(); err != nil {
		_, derr := domain.DecidePublishFeeStandard(domain.Fee{}, c)
		return "", 0, errs.Join(err, derr)
	}
	res, err := a.fees.Execute(ctx, meta, es.Command[domain.Fee]{ID: c.FeeID, New: true,
		Decide: func(f domain.Fee) (es.Decision, error) {
			ev, err := domain.DecidePublishFeeStandard(f, c)
			return es.Decision{Events: ev, UniqueKeys: []eventstore.UniqueKey{{Scope: "fee_standard",
				Key: domain.FeeStandardKey(meta.SchoolID, c.Term, c.Item), Reason: domain.ReasonFeeStandardExists,
				Message: "该收费项目本学期已公示 / the item is already published for the term"}}}, err
		}})
	if err != nil {
		return "", 0, err
	}
	return strings.TrimPrefix(res.StreamID, FeeAggregate.Type+":"), res.Version, nil
}

// RecordFeeCollection records what a class paid of a published fee; it returns the version
// and the fee's collected total.
func (a *App) RecordFeeCollection(ctx context.Context, meta es.Meta, feeID string, c domain.RecordFeeCollection) (int64, int64, error) {
	today := domain.Day(a.Today())
	_, derr := domain.DecideRecordFeeCollection(domain.Fee{}, c, today)
	if err := errs.Join(meta.Validate(), checkID("fee_id", feeID), invalidOnly(derr)); err != nil {
		return 0, 0, err
	}
	var total int64
	res, err := a.fees.Execute(ctx, meta, es.Command[domain.Fee]{ID: feeID,
		Decide: func(f domain.Fee) (es.Decision, error) {
			ev, err := domain.DecideRecordFeeCollection(f, c, today)
			total = f.CollectedFen + c.AmountFen
			return es.Decision{Events: ev, OccurredAt: a.BusinessTime(c.CollectedOn)}, err
		}})
	if err != nil {
		return 0, 0, err
	}
	if res.Repeated {
		f, _, err := a.fees.Load(ctx, meta.SchoolID, feeID)
		return res.Version, f.CollectedFen, err
	}
	return res.Version, total, nil
}

// SettleFees settles a fee collected on behalf at term end (代收费结算).
func (a *App) SettleFees(ctx context.Context, meta es.Meta, feeID string, expected int64, c domain.SettleFees) (int64, domain.Fee, error) {
	c.SettledBy = meta.Actor
	today := domain.Day(a.Today())
	_, derr := domain.DecideSettleFees(domain.Fee{}, c, today)
	if err := errs.Join(meta.Validate(), checkID("fee_id", feeID), checkExpected(expected), invalidOnly(derr)); err != nil {
		return 0, domain.Fee{}, err
	}
	res, err := a.fees.Execute(ctx, meta, es.Command[domain.Fee]{ID: feeID, Expected: expected,
		Decide: func(f domain.Fee) (es.Decision, error) {
			ev, err := domain.DecideSettleFees(f, c, today)
			return es.Decision{Events: ev, OccurredAt: a.BusinessTime(c.SettledOn)}, err
		}})
	if err != nil {
		return 0, domain.Fee{}, err
	}
	f, _, err := a.fees.Load(ctx, meta.SchoolID, feeID)
	return res.Version, f, err
}

// ApproveFeeSettlement approves a fee's settlement.
func (a *App) ApproveFeeSettlement(ctx context.Context, meta es.Meta, feeID string) (int64, error) {
	return a.feeCommand(ctx, meta, feeID, domain.DecideApproveFeeSettlement)
}

// PublishFeeSettlement publishes an approved settlement (结算公示).
func (a *App) PublishFeeSettlement(ctx context.Context, meta es.Meta, feeID string) (int64, error) {
	return a.feeCommand(ctx, meta, feeID, domain.DecidePublishFeeSettlement)
}

func (a *App) feeCommand(ctx context.Context, meta es.Meta, feeID string, decide func(domain.Fee, string, string) ([]proto.Message, error)) (int64, error) {
	if err := errs.Join(meta.Validate(), checkID("fee_id", feeID)); err != nil {
		return 0, err
	}
	res, err := a.fees.Execute(ctx, meta, es.Command[domain.Fee]{ID: feeID,
		Decide: func(f domain.Fee) (es.Decision, error) {
			if !f.Published {
				return es.Decision{}, errs.NotFound("fee", feeID)
			}
			ev, err := decide(f, meta.Actor, domain.Day(a.Today()))
			return es.Decision{Events: ev}, err
		}})
	return res.Version, err
}

// GetFee returns a fee of school and its version.
func (a *App) GetFee(ctx context.Context, school, feeID string) (domain.Fee, int64, error) {
	if err := checkID("fee_id", feeID); err != nil {
		return domain.Fee{}, 0, err
	}
	return a.fees.Load(ctx, school, feeID)
}
