package service_test

import (
	"context"
	"testing"
	"time"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/testkit"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

func (e *env) person(t *testing.T, subject string, role auth.Role, school string) context.Context {
	t.Helper()
	id := auth.Identity{Subject: subject, Name: "测试", Roles: []auth.Role{role}, District: testkit.District}
	if !role.DistrictWide() {
		id.SchoolID = school
	}
	tok, err := e.auth.Signer.Sign(id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return testkit.Ctx(tok)
}

func TestWriteOff(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	ledger := assetsv1.NewLedgerServiceClient(e.conn)
	dir := e.as(t, auth.RoleLogisticsDirector, "s1")

	// 12,800 yuan: the vice-principal's tier.
	small, err := e.client.RegisterAsset(dir, registerReq("s1", "wo-reg-00001", "ZC-1"))
	if err != nil {
		t.Fatal(err)
	}
	req, err := ledger.RequestWriteOff(dir, &assetsv1.RequestWriteOffRequest{RequestId: "wo-req-00001", SchoolId: "s1",
		AssetId: small.AssetId, Kind: assetsv1.WriteOffKind_WRITE_OFF_KIND_SCRAP, Reason: "屏幕损坏，维修费用高于残值", ResidualValueFen: 20000})
	if err != nil {
		t.Fatal(err)
	}
	if req.Tier != "vice_principal" || len(req.Steps) != 1 || req.PolicyVersion == "" {
		t.Fatalf("request %v", req)
	}
	approve := func(ctx context.Context, rid, asset, wo string) (*assetsv1.ApproveWriteOffResponse, error) {
		return ledger.ApproveWriteOff(ctx, &assetsv1.ApproveWriteOffRequest{RequestId: rid, SchoolId: "s1", AssetId: asset, WriteOffId: wo, Comment: "同意"})
	}
	if _, err := approve(e.as(t, auth.RolePrincipal, "s1"), "wo-app-00001", small.AssetId, req.WriteOffId); reason(err) != "APPROVER_ROLE_REQUIRED" {
		t.Fatalf("principal on the vice-principal's step: %v", err)
	}
	ok, err := approve(e.as(t, auth.RoleVicePrincipal, "s1"), "wo-app-00002", small.AssetId, req.WriteOffId)
	if err != nil || !ok.WrittenOff || ok.Step != "vice_principal" {
		t.Fatalf("approval %v %v", ok, err)
	}
	_, err = e.client.TransferAsset(dir, &assetsv1.TransferAssetRequest{RequestId: "wo-move-0001", SchoolId: "s1", AssetId: small.AssetId, ToLocation: "仓库"})
	if reason(err) != "ASSET_WRITTEN_OFF" {
		t.Fatalf("transfer of a written-off asset: %v", err)
	}
	_, err = ledger.RequestWriteOff(dir, &assetsv1.RequestWriteOffRequest{RequestId: "wo-req-00002", SchoolId: "s1",
		AssetId: small.AssetId, Kind: assetsv1.WriteOffKind_WRITE_OFF_KIND_LOSS, Reason: "再次报废"})
	if reason(err) != "ASSET_WRITTEN_OFF" {
		t.Fatalf("second write-off: %v", err)
	}
	if _, err := ledger.RecordWriteOffDisposal(dir, &assetsv1.RecordWriteOffDisposalRequest{RequestId: "wo-disp-0001", SchoolId: "s1",
		AssetId: small.AssetId, WriteOffId: req.WriteOffId, Method: assetsv1.DisposalMethod_DISPOSAL_METHOD_RECYCLE,
		ProceedsFen: 15000, DisposedOn: "2025-01-10"}); err != nil {
		t.Fatal(err)
	}
	st, err := e.svc.Store().Load(context.Background(), "asset:"+small.AssetId)
	if err != nil {
		t.Fatal(err)
	}
	var written *eventsv1.AssetWrittenOff
	for _, ev := range st.Events {
		if m, _ := ev.Decode(); m != nil {
			if w, ok := m.(*eventsv1.AssetWrittenOff); ok {
				written = w
				if ev.PolicyVersion != req.PolicyVersion {
					t.Errorf("written-off event judged by %q, want %q", ev.PolicyVersion, req.PolicyVersion)
				}
			}
		}
	}
	if written == nil || written.ValueFen != 1280000 || written.ResidualValueFen != 20000 || written.Tier != "vice_principal" {
		t.Fatalf("written off %v", written)
	}

	// 300,000 yuan: the bureau, then the finance bureau, by two different people.
	big := registerReq("s1", "wo-reg-00002", "ZC-2")
	big.UnitPriceFen = 30_000_000
	bigRes, err := e.client.RegisterAsset(dir, big)
	if err != nil {
		t.Fatal(err)
	}
	req2, err := ledger.RequestWriteOff(dir, &assetsv1.RequestWriteOffRequest{RequestId: "wo-req-00003", SchoolId: "s1",
		AssetId: bigRes.AssetId, Kind: assetsv1.WriteOffKind_WRITE_OFF_KIND_LOSS, Reason: "火灾损毁"})
	if err != nil || req2.Tier != "bureau" || len(req2.Steps) != 2 {
		t.Fatalf("request %v %v", req2, err)
	}
	bureauA := e.person(t, "bureau-equipment-1", auth.RoleBureauAdmin, "")
	if r, err := approve(bureauA, "wo-app-00003", bigRes.AssetId, req2.WriteOffId); err != nil || r.WrittenOff || r.Step != "bureau" {
		t.Fatalf("bureau step %v %v", r, err)
	}
	if _, err := approve(bureauA, "wo-app-00004", bigRes.AssetId, req2.WriteOffId); reason(err) != "APPROVER_NOT_INDEPENDENT" {
		t.Fatalf("one person approving both steps: %v", err)
	}
	r, err := approve(e.person(t, "finance-bureau-1", auth.RoleBureauAdmin, ""), "wo-app-00005", bigRes.AssetId, req2.WriteOffId)
	if err != nil || !r.WrittenOff || r.Step != "finance_bureau" {
		t.Fatalf("finance bureau step %v %v", r, err)
	}

	// Rejection keeps the asset in the ledger.
	third, _ := e.client.RegisterAsset(dir, registerReq("s1", "wo-reg-00003", "ZC-3"))
	req3, err := ledger.RequestWriteOff(dir, &assetsv1.RequestWriteOffRequest{RequestId: "wo-req-00004", SchoolId: "s1",
		AssetId: third.AssetId, Kind: assetsv1.WriteOffKind_WRITE_OFF_KIND_SCRAP, Reason: "老旧"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.RejectWriteOff(e.as(t, auth.RoleVicePrincipal, "s1"), &assetsv1.RejectWriteOffRequest{RequestId: "wo-rej-00001",
		SchoolId: "s1", AssetId: third.AssetId, WriteOffId: req3.WriteOffId, Reason: "尚可使用"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.TransferAsset(dir, &assetsv1.TransferAssetRequest{RequestId: "wo-move-0002", SchoolId: "s1",
		AssetId: third.AssetId, ToLocation: "教学楼305"}); err != nil {
		t.Fatalf("transfer after a rejected write-off: %v", err)
	}
}
