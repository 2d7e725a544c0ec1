package domain

import (
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Reasons of transfers between schools (校际调拨).
const (
	// A transfer of the asset to another school is waiting for the bureau.
	ReasonSchoolTransferPending errs.Reason = "SCHOOL_TRANSFER_PENDING"
	// No pending transfer with this id.
	ReasonSchoolTransferNotPending errs.Reason = "SCHOOL_TRANSFER_NOT_PENDING"
)

// SchoolTransfer is a pending transfer of an asset to another school.
type SchoolTransfer struct {
	ID, ToSchool, ToLocation, ToDepartment, ToCustodian, Reason string
	// Set once approved: the asset's id at the receiving school and the date it left.
	ToAssetID, TransferredOn string
}

// RequestSchoolTransfer 校际调拨申请.
type RequestSchoolTransfer struct {
	TransferID, ToSchool, Reason, ToLocation, ToDepartment, ToCustodian string
}

// DecideRequestSchoolTransfer decides a request; toSchool is the receiving school (its campus
// judges the location).
func DecideRequestSchoolTransfer(a Asset, c RequestSchoolTransfer, toSchool School, today time.Time) ([]proto.Message, error) {
	var v errs.Violations
	if c.ToSchool == "" || c.ToSchool == a.SchoolID {
		v.Add("to_school_id", "须为本区另一所学校 / must be another school of the district")
	}
	if err := checkReason(c.Reason); err != nil {
		v.Add("reason", "原因须为2–200个字 / reason must be 2–200 characters")
	}
	if n := utf8.RuneCountInString(c.ToLocation); n < 1 || n > 100 {
		v.Add("to_location", "必填，不超过100个字 / required, at most 100 characters")
	}
	if n := utf8.RuneCountInString(c.ToCustodian); n < 1 || n > 60 {
		v.Add("to_custodian", "必填，不超过60个字 / required, at most 60 characters")
	}
	if utf8.RuneCountInString(c.ToDepartment) > 60 {
		v.Add("to_department", "不超过60个字 / at most 60 characters")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := inLedgerOrRefuse(a); err != nil {
		return nil, err
	}
	if !toSchool.Registered {
		return nil, errs.Rule(ReasonSchoolUnknown, "接收学校未在本区登记 / the receiving school is not registered", "to_school_id", c.ToSchool)
	}
	if _, _, ok := toSchool.Campus.Place(c.ToLocation); !ok {
		return nil, unknownLocation(c.ToLocation)
	}
	if err := checkDepartment(toSchool.Campus, "to_department", c.ToDepartment); err != nil {
		return nil, err
	}
	if a.SchoolTransfer != nil {
		return nil, errs.Rule(ReasonSchoolTransferPending, "该资产已有待审批的校际调拨 / a transfer to another school is pending",
			"transfer_id", a.SchoolTransfer.ID)
	}
	if a.WriteOff != nil && !a.WriteOff.Done {
		return nil, errs.Rule(ReasonWriteOffPending, "该资产已有待审批的报废申请 / a write-off of the asset is pending", "write_off_id", a.WriteOff.ID)
	}
	return []proto.Message{&eventsv1.SchoolTransferRequested{TransferId: c.TransferID, AssetId: a.ID, FromSchoolId: a.SchoolID,
		ToSchoolId: c.ToSchool, Reason: c.Reason, ToLocation: c.ToLocation, ToDepartment: c.ToDepartment,
		ToCustodian: c.ToCustodian, RequestedOn: today.Format(DateLayout)}}, nil
}

func pendingTransfer(a Asset, id string) (*SchoolTransfer, error) {
	if err := inLedgerOrRefuse(a); err != nil {
		return nil, err
	}
	if t := a.SchoolTransfer; t == nil || t.ID != id {
		return nil, errs.Rule(ReasonSchoolTransferNotPending, "没有待审批的该校际调拨 / no such pending transfer", "transfer_id", id)
	}
	return a.SchoolTransfer, nil
}

// DecideApproveSchoolTransfer approves: the asset leaves this school as toAssetID, which the
// receiving school then registers (DecideTransferIn).
func DecideApproveSchoolTransfer(a Asset, id, approver, toAssetID string, today time.Time) ([]proto.Message, error) {
	t, err := pendingTransfer(a, id)
	if err != nil {
		return nil, err
	}
	return []proto.Message{&eventsv1.AssetTransferredOut{TransferId: id, AssetId: a.ID, ToSchoolId: t.ToSchool,
		ToAssetId: toAssetID, Approver: approver, TransferredOn: today.Format(DateLayout), ValueFen: a.CostFen()}}, nil
}

// DecideRejectSchoolTransfer refuses a pending transfer.
func DecideRejectSchoolTransfer(a Asset, id, approver, reason string) ([]proto.Message, error) {
	if err := checkReason(reason); err != nil {
		return nil, err
	}
	if _, err := pendingTransfer(a, id); err != nil {
		return nil, err
	}
	return []proto.Message{&eventsv1.SchoolTransferRejected{TransferId: id, Approver: approver, Reason: reason}}, nil
}

// TransferInTag is the receiving school's tag of a transferred asset: deterministic from the
// transfer.
func TransferInTag(transferID string) string { return "DR-" + PurchaseTag(transferID)[3:] }

// DecideTransferIn registers at the receiving school (campus) the asset origin left for it;
// nothing when it is registered already. The origin's judged values carry over.
func DecideTransferIn(existing Asset, origin Asset, campus Campus) ([]proto.Message, error) {
	if existing.Registered {
		return nil, nil
	}
	t := origin.SchoolTransfer
	if !origin.TransferredOut || t == nil {
		return nil, errs.Rule(ReasonSchoolTransferNotPending, "资产尚未获准调出 / the asset has not been approved to leave", "asset_id", origin.ID)
	}
	kind, building, ok := campus.Place(t.ToLocation)
	if !ok {
		return nil, unknownLocation(t.ToLocation)
	}
	if err := checkDepartment(campus, "to_department", t.ToDepartment); err != nil {
		return nil, err
	}
	return []proto.Message{&eventsv1.AssetRegistered{AssetId: t.ToAssetID, SchoolId: t.ToSchool,
		Tag: TransferInTag(t.ID), Name: origin.Name, Category: origin.Category, Model: origin.Model,
		UnitPriceFen: origin.UnitPriceFen, Quantity: origin.Quantity, AcquiredOn: origin.AcquiredOn, Source: "transfer_in",
		FundingSource: origin.FundingSource, Location: t.ToLocation, Department: t.ToDepartment, Custodian: t.ToCustodian,
		FixedAsset: origin.FixedAsset, ExpectedUseMonths: int32(origin.ExpectedUseMonths),
		DepreciationMonths: int32(origin.DepreciationMonths), DepreciationStart: origin.DepreciationStart,
		LifeVersion: origin.LifeVersion, LocationKind: kind, Building: building,
		OriginSchoolId: origin.SchoolID, OriginAssetId: origin.ID, HeldFrom: t.TransferredOn}}, nil
}

// evolveSchoolTransfer folds transfers between schools into an asset.
func evolveSchoolTransfer(a Asset, m proto.Message) (Asset, bool) {
	switch e := m.(type) {
	case *eventsv1.SchoolTransferRequested:
		a.SchoolTransfer = &SchoolTransfer{ID: e.TransferId, ToSchool: e.ToSchoolId, ToLocation: e.ToLocation,
			ToDepartment: e.ToDepartment, ToCustodian: e.ToCustodian, Reason: e.Reason}
	case *eventsv1.SchoolTransferRejected:
		a.SchoolTransfer = nil
	case *eventsv1.AssetTransferredOut:
		if t := a.SchoolTransfer; t != nil {
			c := *t
			c.ToAssetID, c.TransferredOn = e.ToAssetId, e.TransferredOn
			a.SchoolTransfer = &c
		}
		a.TransferredOut = true
		a.Lending.OffLedger = true // out of this school's ledger
	default:
		return a, false
	}
	return a, true
}
