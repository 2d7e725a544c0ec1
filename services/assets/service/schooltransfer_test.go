package service_test

import (
	"context"
	"testing"

	"houqin.dev/platform/auth"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

func TestTransferBetweenSchools(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	e.school(t, "s2")
	ledger := assetsv1.NewLedgerServiceClient(e.conn)
	dir := e.as(t, auth.RoleLogisticsDirector, "s1")
	bureau := e.as(t, auth.RoleBureauAdmin, "")
	res, err := e.client.RegisterAsset(dir, registerReq("s1", "st-reg-00001", "ZC-1"))
	if err != nil {
		t.Fatal(err)
	}
	request := func(rid, to, loc string) (*assetsv1.RequestSchoolTransferResponse, error) {
		return ledger.RequestSchoolTransfer(dir, &assetsv1.RequestSchoolTransferRequest{RequestId: rid, SchoolId: "s1",
			AssetId: res.AssetId, ToSchoolId: to, Reason: "学校合并，财产搬迁", ToLocation: loc, ToCustodian: "刘老师"})
	}
	if _, err := request("st-req-00001", "s9", "仓库"); reason(err) != "SCHOOL_NOT_REGISTERED" {
		t.Fatalf("to an unknown school: %v", err)
	}
	first, err := request("st-req-00002", "s2", "仓库")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := request("st-req-00003", "s2", "仓库"); reason(err) != "SCHOOL_TRANSFER_PENDING" {
		t.Fatalf("second request: %v", err)
	}
	if _, err := ledger.RejectSchoolTransfer(bureau, &assetsv1.RejectSchoolTransferRequest{RequestId: "st-rej-00001", SchoolId: "s1",
		AssetId: res.AssetId, TransferId: first.TransferId, Reason: "接收学校无存放条件"}); err != nil {
		t.Fatal(err)
	}
	second, err := request("st-req-00004", "s2", "仓库")
	if err != nil {
		t.Fatal(err)
	}
	// Only the bureau approves.
	approve := func(ctx context.Context, rid string) (*assetsv1.ApproveSchoolTransferResponse, error) {
		return ledger.ApproveSchoolTransfer(ctx, &assetsv1.ApproveSchoolTransferRequest{RequestId: rid, SchoolId: "s1",
			AssetId: res.AssetId, TransferId: second.TransferId})
	}
	ok, err := approve(bureau, "st-app-00001")
	if err != nil {
		t.Fatal(err)
	}
	// Approving again (another request id) completes nothing new and answers the same asset.
	again, err := approve(bureau, "st-app-00002")
	if err != nil || again.ToAssetId != ok.ToAssetId {
		t.Fatalf("approval again: %v %v", again, err)
	}
	// Source: out of the ledger, refuses transfers and write-offs.
	_, err = e.client.TransferAsset(dir, &assetsv1.TransferAssetRequest{RequestId: "st-move-0001", SchoolId: "s1", AssetId: res.AssetId, ToLocation: "图书馆"})
	if reason(err) != "ASSET_TRANSFERRED_OUT" {
		t.Fatalf("transfer after leaving: %v", err)
	}
	_, err = ledger.RequestWriteOff(dir, &assetsv1.RequestWriteOffRequest{RequestId: "st-wo-00001", SchoolId: "s1", AssetId: res.AssetId,
		Kind: assetsv1.WriteOffKind_WRITE_OFF_KIND_SCRAP, Reason: "报废"})
	if reason(err) != "ASSET_TRANSFERRED_OUT" {
		t.Fatalf("write-off after leaving: %v", err)
	}
	// Receiving school: a transfer-in registration referring to the origin.
	got, err := e.client.GetAsset(e.as(t, auth.RoleTeacher, "s2"), &assetsv1.GetAssetRequest{SchoolId: "s2", AssetId: ok.ToAssetId})
	if err != nil {
		t.Fatal(err)
	}
	if got.Asset.Source != assetsv1.AcquisitionSource_ACQUISITION_SOURCE_TRANSFER_IN || got.Asset.Tag != ok.ToTag ||
		got.Asset.Location != "仓库" || got.Asset.Custodian != "刘老师" || got.Asset.AcquiredOn != "2024-08-20" ||
		got.Asset.UnitPriceFen != 1280000 || got.Asset.DepreciationMonths != 72 {
		t.Fatalf("received asset %v", got.Asset)
	}
	st, _ := e.svc.Store().Load(context.Background(), "asset:"+ok.ToAssetId)
	if len(st.Events) != 1 {
		t.Fatalf("%d events at the receiving school", len(st.Events))
	}
	m, _ := st.Events[0].Decode()
	if r := m.(*eventsv1.AssetRegistered); r.OriginSchoolId != "s1" || r.OriginAssetId != res.AssetId || r.HeldFrom == "" || st.Events[0].SchoolID != "s2" {
		t.Fatalf("transfer-in registration %v", r)
	}
	// The receiving school's token sees it; the source school's does not.
	if _, err := e.client.GetAsset(dir, &assetsv1.GetAssetRequest{SchoolId: "s1", AssetId: ok.ToAssetId}); err == nil {
		t.Fatal("s1 reads s2's asset")
	}
}
