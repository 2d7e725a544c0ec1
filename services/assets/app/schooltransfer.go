package app

import (
	"context"
	"crypto/sha256"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	"houqin.dev/platform/event"
	"houqin.dev/platform/eventstore"
	"houqin.dev/platform/reactor"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
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
		s, err := a.school(ctx, c.ToSchool, c.ToLocation, c.ToDepartment)
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

// SchoolTransferApproval is the outcome of ApproveSchoolTransfer.
type SchoolTransferApproval struct {
	// ToAssetID and ToTag name the asset at the receiving school (derived from the transfer).
	ToAssetID, ToTag string
	// Version of the source asset's stream after the approval.
	Version int64
	// Pending: the receiving school has not registered the asset yet (the transfer-in process
	// manager does it after the approval).
	Pending bool
}

// ApproveSchoolTransfer lets the asset leave the source school: one append
// (AssetTransferredOut) on the source asset. The receiving school's registration follows from
// that event (OnAssetTransferredOut, the assets-transfer-in process manager), so it happens
// even if this process stops right after the approval. Approving an approved transfer again
// changes nothing and answers the same ids.
func (a *App) ApproveSchoolTransfer(ctx context.Context, meta es.Meta, assetID, transferID string) (SchoolTransferApproval, error) {
	if err := errs.Join(meta.Validate(), checkIDs(assetID, 0, map[string]string{"transfer_id": transferID})); err != nil {
		return SchoolTransferApproval{}, err
	}
	toID := TransferInAssetID(transferID)
	origin, _, err := a.assets.Load(ctx, meta.SchoolID, assetID)
	if err != nil {
		return SchoolTransferApproval{}, err
	}
	// The receiving school must still take the location before the asset leaves.
	if t := origin.SchoolTransfer; t != nil && t.ID == transferID && !origin.TransferredOut {
		to, err := a.school(ctx, t.ToSchool, t.ToLocation, t.ToDepartment)
		if err != nil {
			return SchoolTransferApproval{}, err
		}
		if _, _, ok := to.Campus.Place(t.ToLocation); !ok {
			return SchoolTransferApproval{}, errs.Rule(domain.ReasonLocationUnknown, "接收学校没有该存放地点 / the receiving school has no such location", "to_location", t.ToLocation)
		}
		if !to.Campus.KnowsDepartment(t.ToDepartment) {
			return SchoolTransferApproval{}, errs.Rule(domain.ReasonDepartmentUnknown, "接收学校没有该部门 / the receiving school has no such department", "to_department", t.ToDepartment)
		}
	}
	var toSchool string
	res, err := a.assets.Execute(ctx, meta, es.Command[domain.Asset]{ID: assetID,
		Decide: func(s domain.Asset) (es.Decision, error) {
			s.ID = assetID
			if s.TransferredOut && s.SchoolTransfer != nil && s.SchoolTransfer.ID == transferID {
				toSchool = s.SchoolTransfer.ToSchool
				return es.Decision{}, nil // approved before
			}
			ev, err := domain.DecideApproveSchoolTransfer(s, transferID, meta.Actor, toID, a.today())
			if err == nil {
				toSchool = s.SchoolTransfer.ToSchool
			}
			return es.Decision{Events: ev}, err
		}})
	if err != nil {
		return SchoolTransferApproval{}, err
	}
	if toSchool == "" { // a repeated request: the transfer is on the source asset
		if s, _, err := a.assets.Load(ctx, meta.SchoolID, assetID); err == nil && s.SchoolTransfer != nil {
			toSchool = s.SchoolTransfer.ToSchool
		}
	}
	_, _, err = a.assets.Load(ctx, toSchool, toID)
	_, pending := errs.As[*errs.NotFoundError](err)
	if err != nil && !pending {
		return SchoolTransferApproval{}, err
	}
	return SchoolTransferApproval{ToAssetID: toID, ToTag: domain.TransferInTag(transferID), Version: res.Version, Pending: pending}, nil
}

// ReactorTransferIn is the process manager that registers a transferred asset at the
// receiving school (its durable consumer is react-assets-transfer-in).
const ReactorTransferIn = "assets-transfer-in"

// OnAssetTransferredOut is the transfer-in process manager (on the assets service's own
// stream): an approved transfer (AssetTransferredOut at the source school) registers the asset
// at the receiving school — id and tag derived from the transfer, request id
// transfer-in-<transfer id>, so a redelivery, a restart or a second instance registers it
// once. A refusal no retry can cure (the receiving school has since declared rooms and the
// location is not one of them: LOCATION_UNKNOWN) is permanent: the reactor parks it, and
// after the cause is fixed `houqin parked retry` runs it again.
func (a *App) OnAssetTransferredOut(ctx context.Context, e event.Event, m proto.Message) error {
	out := m.(*eventsv1.AssetTransferredOut)
	origin, _, err := a.assets.Load(ctx, e.SchoolID, out.AssetId)
	if err == nil && (origin.SchoolTransfer == nil || origin.SchoolTransfer.ID != out.TransferId) {
		err = errs.Rule(domain.ReasonSchoolTransferNotPending, "资产上没有该校际调拨 / the asset has no such transfer", "transfer_id", out.TransferId)
	}
	if err == nil {
		err = a.transferIn(ctx, e, origin)
	}
	return permanentIfRefused(err)
}

// transferIn registers at the receiving school the asset origin left for it.
func (a *App) transferIn(ctx context.Context, cause event.Event, origin domain.Asset) error {
	t := origin.SchoolTransfer
	to, err := a.school(ctx, t.ToSchool, t.ToLocation, t.ToDepartment)
	if err != nil {
		return err
	}
	// The request id and fingerprint are those the approval used when it registered the
	// asset itself, so events approved before the process manager existed are repeats.
	sum := sha256.Sum256([]byte("transfer-in/" + t.ID))
	in := es.Meta{RequestID: "transfer-in-" + t.ID, SchoolID: t.ToSchool, Actor: "service:assets",
		CorrelationID: cause.CorrelationID, CausationID: cause.ID.String(), TraceParent: cause.TraceParent, Fingerprint: sum[:]}
	occurred, _ := a.businessDate(t.TransferredOn)
	tag := domain.TransferInTag(t.ID)
	_, err = a.assets.Execute(ctx, in, es.Command[domain.Asset]{ID: t.ToAssetID,
		Decide: func(s domain.Asset) (es.Decision, error) {
			ev, err := domain.DecideTransferIn(s, origin, to.Campus)
			return es.Decision{Events: ev, OccurredAt: occurred,
				UniqueKeys: []eventstore.UniqueKey{{Scope: "asset_tag", Key: domain.TagKey(t.ToSchool, tag),
					Reason: domain.ReasonTagTaken, Message: "该校已有相同资产编号 / the school already has an asset with this tag"}}}, err
		}})
	return err
}

// permanentIfRefused marks as permanent (parked by the reactor) the errors a retry cannot
// cure: a broken rule, invalid input, a missing aggregate. Anything else (the database is
// away, a lost race) is retried.
func permanentIfRefused(err error) error {
	_, rule := errs.As[*errs.RuleError](err)
	_, invalid := errs.As[*errs.InvalidError](err)
	_, missing := errs.As[*errs.NotFoundError](err)
	if rule || invalid || missing {
		return reactor.Permanent(err)
	}
	return err
}

// Reactions are the assets service's process managers, by name: handlers by event type.
func (a *App) Reactions() map[string]map[string]reactor.Handler {
	return map[string]map[string]reactor.Handler{
		ReactorTransferIn: {event.TypeOf(&eventsv1.AssetTransferredOut{}): a.OnAssetTransferredOut},
	}
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
