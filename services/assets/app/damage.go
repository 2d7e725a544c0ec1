package app

import (
	"context"
	"time"

	"google.golang.org/protobuf/proto"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
)

// ChargeDamage 损坏赔偿: charges damage of an asset; returns the charge as the command left it.
func (a *App) ChargeDamage(ctx context.Context, meta es.Meta, assetID string, c domain.ChargeDamage) (domain.DamageCharge, int64, error) {
	if err := errs.Join(meta.Validate(), parseID("asset_id", assetID)); err != nil {
		return domain.DamageCharge{}, 0, err
	}
	asset, _, err := a.assets.Load(ctx, meta.SchoolID, assetID)
	if err != nil {
		return domain.DamageCharge{}, 0, err
	}
	c.ChargeID = derivedID(meta)
	today := a.today()
	p := a.custodyPolicy(today)
	occurred := today
	if d, ok := domain.ParseDay(c.DamagedOn); ok {
		occurred = d
	}
	res, err := a.damages.Execute(ctx, meta, es.Command[domain.DamageCharge]{ID: c.ChargeID,
		Decide: func(s domain.DamageCharge) (es.Decision, error) {
			s.ID = c.ChargeID
			ev, err := domain.DecideChargeDamage(s, asset, c, today, p)
			// Business time: the day of the damage, for "as of" reports.
			return es.Decision{Events: ev, PolicyVersion: p.Version, OccurredAt: a.businessTime(occurred)}, err
		}})
	if err != nil {
		return domain.DamageCharge{}, 0, err
	}
	return a.damageAt(ctx, c.ChargeID, res.Version)
}

// RecordDamagePayment records a payment against a charge.
func (a *App) RecordDamagePayment(ctx context.Context, meta es.Meta, chargeID string, expected int64, c domain.RecordDamagePayment) (domain.DamageCharge, int64, error) {
	return a.damageCommand(ctx, meta, chargeID, expected, func(s domain.DamageCharge) ([]proto.Message, error) {
		return domain.DecideRecordDamagePayment(s, c, a.today())
	})
}

// WaiveDamage 减免 waives what is outstanding.
func (a *App) WaiveDamage(ctx context.Context, meta es.Meta, chargeID string, expected int64, c domain.WaiveDamage) (domain.DamageCharge, int64, error) {
	c.WaivedBy = meta.Actor
	return a.damageCommand(ctx, meta, chargeID, expected, func(s domain.DamageCharge) ([]proto.Message, error) {
		return domain.DecideWaiveDamage(s, c, a.today())
	})
}

// GetDamageCharge returns a charge of school.
func (a *App) GetDamageCharge(ctx context.Context, school, chargeID string) (domain.DamageCharge, int64, error) {
	if err := parseID("charge_id", chargeID); err != nil {
		return domain.DamageCharge{}, 0, err
	}
	return a.damages.Load(ctx, school, chargeID)
}

func (a *App) damageCommand(ctx context.Context, meta es.Meta, chargeID string, expected int64,
	decide func(domain.DamageCharge) ([]proto.Message, error)) (domain.DamageCharge, int64, error) {
	if err := errs.Join(parseID("charge_id", chargeID), checkExpected(expected)); err != nil {
		return domain.DamageCharge{}, 0, err
	}
	res, err := a.damages.Execute(ctx, meta, es.Command[domain.DamageCharge]{ID: chargeID, Expected: expected,
		Decide: func(s domain.DamageCharge) (es.Decision, error) {
			s.ID = chargeID
			ev, err := decide(s)
			return es.Decision{Events: ev}, err
		}})
	if err != nil {
		return domain.DamageCharge{}, 0, err
	}
	return a.damageAt(ctx, chargeID, res.Version)
}

// damageAt is a charge as it stood at version: a repeated request answers with the state its
// first call left, not a later one.
func (a *App) damageAt(ctx context.Context, chargeID string, version int64) (domain.DamageCharge, int64, error) {
	d, err := stateAt(ctx, a.store, DamageAggregate, chargeID, version)
	return d, version, err
}

// businessTime is the start of a business date in the district's time zone.
func (a *App) businessTime(d domain.Day) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, a.loc)
}
