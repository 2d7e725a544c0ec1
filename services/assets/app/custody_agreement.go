package app

import (
	"context"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	"houqin.dev/platform/eventstore"
)

// loadAssets returns the listed assets of school as the ledger has them now.
func (a *App) loadAssets(ctx context.Context, school, field string, ids []string) (map[string]domain.Asset, error) {
	var v errs.Violations
	for _, id := range ids {
		if parseID(field, id) != nil {
			v.Addf(field, "资产ID格式有误 / %s must be UUIDs: %q", field, id)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	out := make(map[string]domain.Asset, len(ids))
	for _, id := range ids {
		if _, ok := out[id]; ok {
			continue
		}
		s, _, err := a.assets.Load(ctx, school, id)
		if err != nil {
			return nil, err
		}
		s.ID = id
		out[id] = s
	}
	return out, nil
}

// DrawUpCustodyAgreement 保管责任书; returns the agreement id, its item count and version.
func (a *App) DrawUpCustodyAgreement(ctx context.Context, meta es.Meta, assetIDs []string, c domain.DrawUpCustodyAgreement) (string, int64, int64, error) {
	if err := meta.Validate(); err != nil {
		return "", 0, 0, err
	}
	c.AgreementID = derivedID(meta)
	if len(assetIDs) == 0 && c.Unit != "" && a.holdings != nil {
		ids, err := a.holdings.AssetsAt(ctx, meta.SchoolID, c.Unit)
		if err != nil {
			return "", 0, 0, err
		}
		assetIDs = ids
	}
	ledger, err := a.loadAssets(ctx, meta.SchoolID, "asset_ids", assetIDs)
	if _, bad := errs.As[*errs.InvalidError](err); bad {
		// Every invalid field in one answer: the command's own ones too.
		_, derr := domain.DecideDrawUpCustodyAgreement(domain.CustodyAgreement{}, c)
		if _, also := errs.As[*errs.InvalidError](derr); also {
			err = errs.Join(err, derr)
		}
	}
	if err != nil {
		return "", 0, 0, err
	}
	for _, id := range assetIDs {
		c.Items = append(c.Items, ledger[id])
	}
	res, err := a.agreements.Execute(ctx, meta, es.Command[domain.CustodyAgreement]{ID: c.AgreementID,
		Decide: func(s domain.CustodyAgreement) (es.Decision, error) {
			s.ID = c.AgreementID
			ev, err := domain.DecideDrawUpCustodyAgreement(s, c)
			return es.Decision{Events: ev, UniqueKeys: []eventstore.UniqueKey{{Scope: "custody_agreement",
				Key: domain.AgreementKey(meta.SchoolID, c.Term, c.Unit), Reason: domain.ReasonAgreementExists,
				Message: "该处本学期已有保管责任书 / the unit has an agreement for the term already"}}}, err
		}})
	if err != nil {
		return "", 0, 0, err
	}
	s, err := stateAt(ctx, a.store, CustodyAggregate, c.AgreementID, res.Version)
	return c.AgreementID, int64(len(s.AssetIDs)), res.Version, err
}

func (a *App) agreementCommand(ctx context.Context, meta es.Meta, id string, expected int64,
	decide func(domain.CustodyAgreement) (es.Decision, error)) (domain.CustodyAgreement, int64, error) {
	if err := errs.Join(parseID("agreement_id", id), checkExpected(expected)); err != nil {
		return domain.CustodyAgreement{}, 0, err
	}
	res, err := a.agreements.Execute(ctx, meta, es.Command[domain.CustodyAgreement]{ID: id, Expected: expected,
		Decide: func(s domain.CustodyAgreement) (es.Decision, error) {
			s.ID = id
			return decide(s)
		}})
	if err != nil {
		return domain.CustodyAgreement{}, 0, err
	}
	s, err := stateAt(ctx, a.store, CustodyAggregate, id, res.Version)
	return s, res.Version, err
}

// SignCustodyAgreement records the head's signature.
func (a *App) SignCustodyAgreement(ctx context.Context, meta es.Meta, id string, expected int64, c domain.SignCustodyAgreement) (int64, error) {
	_, v, err := a.agreementCommand(ctx, meta, id, expected, func(s domain.CustodyAgreement) (es.Decision, error) {
		ev, err := domain.DecideSignCustodyAgreement(s, c, a.today())
		return es.Decision{Events: ev}, err
	})
	return v, err
}

// RecheckCustodyAgreement 期末清点: compares what was found with the list and the ledger now.
func (a *App) RecheckCustodyAgreement(ctx context.Context, meta es.Meta, id string, expected int64, c domain.RecheckCustodyAgreement) (domain.CustodyAgreement, int64, error) {
	if err := parseID("agreement_id", id); err != nil {
		return domain.CustodyAgreement{}, 0, err
	}
	if err := meta.Validate(); err != nil {
		return domain.CustodyAgreement{}, 0, err
	}
	current, _, err := a.agreements.Load(ctx, meta.SchoolID, id)
	if err != nil {
		return domain.CustodyAgreement{}, 0, err
	}
	// Listed and found assets as the ledger has them now: where they are, whether on loan.
	if c.Ledger, err = a.loadAssets(ctx, meta.SchoolID, "found_asset_ids", append(append([]string(nil), current.AssetIDs...), c.FoundAssetIDs...)); err != nil {
		return domain.CustodyAgreement{}, 0, err
	}
	return a.agreementCommand(ctx, meta, id, expected, func(s domain.CustodyAgreement) (es.Decision, error) {
		ev, err := domain.DecideRecheckCustodyAgreement(s, c, a.today())
		return es.Decision{Events: ev}, err
	})
}

// GetCustodyAgreement returns an agreement of school.
func (a *App) GetCustodyAgreement(ctx context.Context, school, id string) (domain.CustodyAgreement, int64, error) {
	if err := parseID("agreement_id", id); err != nil {
		return domain.CustodyAgreement{}, 0, err
	}
	return a.agreements.Load(ctx, school, id)
}
