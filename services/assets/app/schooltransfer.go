package app

import (
	"context"
	"crypto/sha256"

	"github.com/google/uuid"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	"houqin.dev/platform/eventstore"
)

// transferInSpace is the UUIDv5 name space of the receiving school's asset of a transfer.
var transferInSpace = uuid.MustParse("0b7e3f52-9a61-5d2c-b4e8-6a1f0c9d2e73")

// TransferInAssetID is the receiving school's asset id of a transfer: deterministic, so the
// registration at the receiving school happens once however often the approval is retried.
func TransferInAssetID(transferID string) string {
	return uuid.NewSHA1(transferInSpace, []byte(transferID)).String()
}

// RequestSchoolTransfer asks the bureau to move an asset to another school.
func (a *App) RequestSchoolTransfer(ctx context.Context, meta es.Meta, assetID string, expected int64, c domain.RequestSchoolTransfer) (string, int64, error) {
	if err := errs.Join(meta.Validate(), checkIDs(assetID, expected, nil)); err != nil {
		return "", 0, err
	}
	var to domain.School
	if c.ToSchool != "" && c.ToSchool != meta.SchoolID {
		s, err := a.school(ctx, c.ToSchool, c.ToLocation)
		if _, unknown := errs.As[*errs.RuleError](err); err != nil && !unknown {
			return "", 0, err
		}
		to = s
	}
	c.TransferID = uuid.Must(uuid.NewV7()).String()
	res, err := a.assets.Execute(ctx, meta, es.Command[domain.Asset]{ID: assetID, Expected: expected,
		Decide: func(s domain.Asset) (es.Decision, error) {
			s.ID = assetID
			ev, err := domain.DecideRequestSchoolTransfer(s, c, to, a.today())
			return es.Decision{Events: ev}, err
		}})
	if err != nil {
		return "", 0, err
	}
	if res.Repeated {
		s, _, err := a.assets.Load(ctx, meta.SchoolID, assetID)
		if err == nil && s.SchoolTransfer != nil {
			return s.SchoolTransfer.ID, res.Version, nil
		}
	}
	return c.TransferID, res.Version, nil
}

// ApproveSchoolTransfer lets the asset leave the source school and registers it at the
// receiving school. A retry (same request id, or a new one after a crash between the two
// writes) completes the registration.
func (a *App) ApproveSchoolTransfer(ctx context.Context, meta es.Meta, assetID, transferID string) (string, string, int64, error) {
	if err := errs.Join(meta.Validate(), checkIDs(assetID, 0, map[string]string{"transfer_id": transferID})); err != nil {
		return "", "", 0, err
	}
	toID := TransferInAssetID(transferID)
	origin, _, err := a.assets.Load(ctx, meta.SchoolID, assetID)
	if err != nil {
		return "", "", 0, err
	}
	// The receiving school must still take the location before the asset leaves.
	if t := origin.SchoolTransfer; t != nil && t.ID == transferID && !origin.TransferredOut {
		to, err := a.school(ctx, t.ToSchool, t.ToLocation)
		if err != nil {
			return "", "", 0, err
		}
		if _, _, ok := to.Campus.Place(t.ToLocation); !ok {
			return "", "", 0, errs.Rule(domain.ReasonLocationUnknown, "接收学校没有该存放地点 / the receiving school has no such location", "to_location", t.ToLocation)
		}
	}
	res, err := a.assets.Execute(ctx, meta, es.Command[domain.Asset]{ID: assetID,
		Decide: func(s domain.Asset) (es.Decision, error) {
			s.ID = assetID
			if s.TransferredOut && s.SchoolTransfer != nil && s.SchoolTransfer.ID == transferID {
				return es.Decision{}, nil // approved before: complete the registration below
			}
			ev, err := domain.DecideApproveSchoolTransfer(s, transferID, meta.Actor, toID, a.today())
			return es.Decision{Events: ev}, err
		}})
	if err != nil {
		return "", "", 0, err
	}
	origin, _, err = a.assets.Load(ctx, meta.SchoolID, assetID)
	if err != nil {
		return "", "", 0, err
	}
	t := origin.SchoolTransfer
	to, err := a.school(ctx, t.ToSchool, t.ToLocation)
	if err != nil {
		return "", "", 0, err
	}
	sum := sha256.Sum256([]byte("transfer-in/" + transferID))
	in := es.Meta{RequestID: "transfer-in-" + transferID, SchoolID: t.ToSchool, Actor: meta.Actor,
		CorrelationID: meta.CorrelationID, CausationID: meta.RequestID, TraceParent: meta.TraceParent, Fingerprint: sum[:]}
	occurred, _ := a.businessDate(t.TransferredOn)
	tag := domain.TransferInTag(transferID)
	_, err = a.assets.Execute(ctx, in, es.Command[domain.Asset]{ID: toID,
		Decide: func(s domain.Asset) (es.Decision, error) {
			ev, err := domain.DecideTransferIn(s, origin, to.Campus)
			return es.Decision{Events: ev, OccurredAt: occurred,
				UniqueKeys: []eventstore.UniqueKey{{Scope: "asset_tag", Key: domain.TagKey(t.ToSchool, tag),
					Reason: domain.ReasonTagTaken, Message: "该校已有相同资产编号 / the school already has an asset with this tag"}}}, err
		}})
	if err != nil {
		return "", "", 0, err
	}
	return toID, tag, res.Version, nil
}

// RejectSchoolTransfer refuses a pending transfer between schools.
func (a *App) RejectSchoolTransfer(ctx context.Context, meta es.Meta, assetID, transferID, reason string) (int64, error) {
	if err := errs.Join(meta.Validate(), checkIDs(assetID, 0, map[string]string{"transfer_id": transferID})); err != nil {
		return 0, err
	}
	res, err := a.assets.Execute(ctx, meta, es.Command[domain.Asset]{ID: assetID,
		Decide: func(s domain.Asset) (es.Decision, error) {
			s.ID = assetID
			ev, err := domain.DecideRejectSchoolTransfer(s, transferID, meta.Actor, reason)
			return es.Decision{Events: ev}, err
		}})
	return res.Version, err
}
