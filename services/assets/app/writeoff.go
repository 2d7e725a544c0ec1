package app

import (
	"context"

	"github.com/google/uuid"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// checkIDs checks the ids of a command on an existing asset.
func checkIDs(assetID string, expected int64, ids map[string]string) error {
	var v errs.Violations
	if !domain.IsUUID(assetID) {
		v.Add("asset_id", "资产ID格式有误 / asset_id must be a UUID")
	}
	for field, id := range ids {
		if !domain.IsUUID(id) {
			v.Add(field, "须为UUID / must be a UUID")
		}
	}
	if expected < 0 {
		v.Add("expected_version", "不能为负数 / must not be negative")
	}
	return v.Err()
}

// RequestWriteOff files a write-off of an asset; the tier is judged by today's policy.
func (a *App) RequestWriteOff(ctx context.Context, meta es.Meta, assetID string, expected int64, c domain.RequestWriteOff) (*eventsv1.WriteOffRequested, int64, error) {
	if err := errs.Join(meta.Validate(), checkIDs(assetID, expected, nil)); err != nil {
		_, derr := domain.DecideRequestWriteOff(domain.Asset{}, c, a.today(), a.policies.At(a.today()))
		return nil, 0, alsoInvalid(err, derr)
	}
	c.WriteOffID, c.Requester = uuid.Must(uuid.NewV7()).String(), meta.Actor
	var req *eventsv1.WriteOffRequested
	res, err := a.assets.Execute(ctx, meta, es.Command[domain.Asset]{ID: assetID, Expected: expected,
		Decide: func(s domain.Asset) (es.Decision, error) {
			s.ID = assetID
			p := a.policies.At(a.today())
			ev, err := domain.DecideRequestWriteOff(s, c, a.today(), p)
			if err == nil {
				req = ev[0].(*eventsv1.WriteOffRequested)
			}
			return es.Decision{Events: ev, PolicyVersion: p.Version}, err
		}})
	if err != nil {
		return nil, 0, err
	}
	if req == nil { // a repeated request: its first answer is in the stream
		s, _, err := a.assets.Load(ctx, meta.SchoolID, assetID)
		if err != nil {
			return nil, 0, err
		}
		if w := s.WriteOff; w != nil {
			req = &eventsv1.WriteOffRequested{WriteOffId: w.ID, Tier: w.Tier, Steps: w.Steps, PolicyVersion: w.PolicyVersion}
		}
	}
	return req, res.Version, nil
}

// ApproveWriteOff approves the pending write-off's current step as who.
func (a *App) ApproveWriteOff(ctx context.Context, meta es.Meta, assetID, writeOffID string, who domain.Approver, comment string) (step string, done bool, version int64, err error) {
	if err := errs.Join(meta.Validate(), checkIDs(assetID, 0, map[string]string{"write_off_id": writeOffID})); err != nil {
		return "", false, 0, err
	}
	var policy string
	res, err := a.assets.Execute(ctx, meta, es.Command[domain.Asset]{ID: assetID,
		Decide: func(s domain.Asset) (es.Decision, error) {
			s.ID = assetID
			ev, err := domain.DecideApproveWriteOff(s, writeOffID, who, comment, a.today())
			if err == nil {
				e := ev[0].(*eventsv1.WriteOffStepApproved)
				step, done, policy = e.Step, len(ev) > 1, e.PolicyVersion
			}
			return es.Decision{Events: ev, PolicyVersion: policy}, err
		}})
	return step, done, res.Version, err
}

// RejectWriteOff refuses the pending write-off at its current step.
func (a *App) RejectWriteOff(ctx context.Context, meta es.Meta, assetID, writeOffID string, who domain.Approver, reason string) (int64, error) {
	if err := errs.Join(meta.Validate(), checkIDs(assetID, 0, map[string]string{"write_off_id": writeOffID})); err != nil {
		return 0, err
	}
	res, err := a.assets.Execute(ctx, meta, es.Command[domain.Asset]{ID: assetID,
		Decide: func(s domain.Asset) (es.Decision, error) {
			s.ID = assetID
			ev, err := domain.DecideRejectWriteOff(s, writeOffID, who, reason)
			return es.Decision{Events: ev}, err
		}})
	return res.Version, err
}

// RecordWriteOffDisposal records what became of a written-off asset.
func (a *App) RecordWriteOffDisposal(ctx context.Context, meta es.Meta, assetID string, c domain.RecordDisposal) (int64, error) {
	if err := errs.Join(meta.Validate(), checkIDs(assetID, 0, map[string]string{"write_off_id": c.WriteOffID})); err != nil {
		_, derr := domain.DecideRecordDisposal(domain.Asset{}, c, a.today())
		return 0, alsoInvalid(err, derr)
	}
	occurred, _ := a.businessDate(c.DisposedOn)
	res, err := a.assets.Execute(ctx, meta, es.Command[domain.Asset]{ID: assetID,
		Decide: func(s domain.Asset) (es.Decision, error) {
			s.ID = assetID
			ev, err := domain.DecideRecordDisposal(s, c, a.today())
			return es.Decision{Events: ev, OccurredAt: occurred}, err
		}})
	return res.Version, err
}
