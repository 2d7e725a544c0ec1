package app

import (
	"context"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
)

// CorrectRegistration corrects a registration's values by a compensating event (红字冲销),
// judged by the policy and category lives in force on the corrected acquisition date.
func (a *App) CorrectRegistration(ctx context.Context, meta es.Meta, assetID string, expected int64, c domain.CorrectRegistration) (int64, error) {
	if err := errs.Join(meta.Validate(), checkIDs(assetID, expected, nil)); err != nil {
		return 0, err
	}
	res, err := a.assets.Execute(ctx, meta, es.Command[domain.Asset]{ID: assetID, Expected: expected,
		Decide: func(s domain.Asset) (es.Decision, error) {
			s.ID = assetID
			_, rules, err := a.registerRules(ctx, domain.RegisterAsset{AcquiredOn: or(c.AcquiredOn, s.AcquiredOn), Category: or(c.Category, s.Category)})
			if err != nil {
				return es.Decision{}, err
			}
			ev, err := domain.DecideCorrectRegistration(s, c, rules)
			return es.Decision{Events: ev, PolicyVersion: rules.Policy.Version}, err
		}})
	return res.Version, err
}

// ReverseRegistration cancels a wrong registration; the asset leaves the ledger.
func (a *App) ReverseRegistration(ctx context.Context, meta es.Meta, assetID string, expected int64, reason string) (int64, error) {
	if err := errs.Join(meta.Validate(), checkIDs(assetID, expected, nil)); err != nil {
		return 0, err
	}
	res, err := a.assets.Execute(ctx, meta, es.Command[domain.Asset]{ID: assetID, Expected: expected,
		Decide: func(s domain.Asset) (es.Decision, error) {
			s.ID = assetID
			ev, err := domain.DecideReverseRegistration(s, reason, a.today())
			return es.Decision{Events: ev}, err
		}})
	return res.Version, err
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
