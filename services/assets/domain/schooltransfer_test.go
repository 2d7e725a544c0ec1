package domain

import (
	"testing"

	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

func TestSchoolTransfer(t *testing.T) {
	a := given(registered())
	to := EvolveSchool(School{}, &eventsv1.SchoolRegistered{SchoolId: "s2", Name: "新校区", Kind: "middle"})
	req := RequestSchoolTransfer{TransferID: "t1", ToSchool: "s2", Reason: "学校合并", ToLocation: "仓库", ToCustodian: "刘老师"}

	_, err := DecideRequestSchoolTransfer(a, RequestSchoolTransfer{ToSchool: a.SchoolID, Reason: "x"}, to, today)
	wantViolations(t, err, "to_school_id", "reason", "to_location", "to_custodian")
	_, err = DecideRequestSchoolTransfer(a, req, School{}, today)
	wantReason(t, err, ReasonSchoolUnknown)
	withRooms := school(campusEvent(DecideAddBuilding(school(), AddBuilding{Code: "A", Name: "教学楼"})))
	withRooms = EvolveSchool(withRooms, campusEvent(DecideAddRoom(withRooms, AddRoom{Code: "A1", Building: "A", Name: "仓库", Kind: "storage"})))
	_, err = DecideRequestSchoolTransfer(a, req, withRooms, today)
	wantReason(t, err, ReasonLocationUnknown)

	pendingWO := EvolveAsset(a, requestWriteOff(t, a))
	_, err = DecideRequestSchoolTransfer(pendingWO, req, to, today)
	wantReason(t, err, ReasonWriteOffPending)

	ev, err := DecideRequestSchoolTransfer(a, req, to, today)
	if err != nil {
		t.Fatal(err)
	}
	a = EvolveAsset(a, ev[0])
	_, err = DecideRequestSchoolTransfer(a, req, to, today)
	wantReason(t, err, ReasonSchoolTransferPending)
	_, err = DecideRequestWriteOff(a, RequestWriteOff{Kind: "scrap", Reason: "老旧"}, today, DefaultPolicies.At(today))
	wantReason(t, err, ReasonSchoolTransferPending)
	_, err = DecideApproveSchoolTransfer(a, "t2", "bureau", "a2", today)
	wantReason(t, err, ReasonSchoolTransferNotPending)
	_, err = DecideTransferIn(Asset{}, a, to.Campus)
	wantReason(t, err, ReasonSchoolTransferNotPending) // not approved yet

	ev, err = DecideApproveSchoolTransfer(a, "t1", "bureau", "a2", today)
	if err != nil {
		t.Fatal(err)
	}
	out := ev[0].(*eventsv1.AssetTransferredOut)
	if out.ToSchoolId != "s2" || out.ToAssetId != "a2" || out.ValueFen != 459900 || out.TransferredOn != "2025-03-10" {
		t.Fatalf("out %v", out)
	}
	a = EvolveAsset(a, out)
	in, err := DecideTransferIn(Asset{}, a, to.Campus)
	if err != nil {
		t.Fatal(err)
	}
	r := in[0].(*eventsv1.AssetRegistered)
	if r.AssetId != "a2" || r.SchoolId != "s2" || r.Source != "transfer_in" || r.OriginAssetId != "a1" || r.OriginSchoolId != "shipai-zx" ||
		r.AcquiredOn != "2024-09-01" || r.HeldFrom != "2025-03-10" || r.DepreciationMonths != 72 || r.Tag != "DR-" || r.Custodian != "刘老师" {
		t.Fatalf("transfer in %v", r)
	}
	if again, err := DecideTransferIn(EvolveAsset(Asset{}, r), a, to.Campus); err != nil || len(again) != 0 {
		t.Fatalf("second transfer in: %v %v", again, err)
	}
	_, err = DecideTransferAsset(a, TransferAsset{ToLocation: "图书馆"}, Campus{}, today)
	wantReason(t, err, ReasonAssetTransferredOut)
	_, err = DecideRejectSchoolTransfer(a, "t1", "bureau", "不同意")
	wantReason(t, err, ReasonAssetTransferredOut)
}
