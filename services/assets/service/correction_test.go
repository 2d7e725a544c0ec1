package service_test

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/auth"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

func TestCorrectionsByCompensatingEvents(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	ledger := assetsv1.NewLedgerServiceClient(e.conn)
	dir := e.as(t, auth.RoleLogisticsDirector, "s1")
	res, err := e.client.RegisterAsset(dir, registerReq("s1", "cor-reg-0001", "ZC-1"))
	if err != nil {
		t.Fatal(err)
	}
	// An edit form's version guards the correction.
	_, err = ledger.CorrectRegistration(dir, &assetsv1.CorrectRegistrationRequest{RequestId: "cor-0000001", SchoolId: "s1",
		AssetId: res.AssetId, ExpectedVersion: 7, Reason: "单价录错", UnitPriceFen: 1180000})
	if status.Code(err) != codes.Aborted {
		t.Fatalf("stale version: %v", err)
	}
	cor, err := ledger.CorrectRegistration(dir, &assetsv1.CorrectRegistrationRequest{RequestId: "cor-0000002", SchoolId: "s1",
		AssetId: res.AssetId, ExpectedVersion: 1, Reason: "单价录错", UnitPriceFen: 1180000, Quantity: 2})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := e.client.GetAsset(dir, &assetsv1.GetAssetRequest{SchoolId: "s1", AssetId: res.AssetId})
	if got.GetAsset().GetUnitPriceFen() != 1180000 || got.GetAsset().GetQuantity() != 2 || got.GetAsset().GetVersion() != cor.Version {
		t.Fatalf("corrected asset %v", got.GetAsset())
	}
	// History is never lost: the registration is still there, the correction carries both
	// sets of values, and the correction's business time is its own date.
	st, err := e.svc.Store().Load(context.Background(), "asset:"+res.AssetId)
	if err != nil || len(st.Events) != 2 {
		t.Fatalf("stream %v %v", st, err)
	}
	m0, _ := st.Events[0].Decode()
	m1, _ := st.Events[1].Decode()
	reg, c := m0.(*eventsv1.AssetRegistered), m1.(*eventsv1.AssetRegistrationCorrected)
	if reg.UnitPriceFen != 1280000 || c.Before.UnitPriceFen != 1280000 || c.After.UnitPriceFen != 1180000 || c.After.Quantity != 2 ||
		st.Events[1].OccurredAt.In(shanghai).Format("2006-01-02") != c.CorrectedOn || st.Events[1].PolicyVersion == "" {
		t.Fatalf("registration %v, correction %v at %v", reg, c, st.Events[1].OccurredAt)
	}

	// A wrong registration is reversed; the asset refuses everything after.
	if _, err := ledger.ReverseRegistration(dir, &assetsv1.ReverseRegistrationRequest{RequestId: "rev-0000001", SchoolId: "s1",
		AssetId: res.AssetId, Reason: "重复登记"}); err != nil {
		t.Fatal(err)
	}
	_, err = ledger.CorrectRegistration(dir, &assetsv1.CorrectRegistrationRequest{RequestId: "cor-0000003", SchoolId: "s1",
		AssetId: res.AssetId, Reason: "再更正", Quantity: 3})
	if reason(err) != "REGISTRATION_REVERSED" {
		t.Fatalf("correction after reversal: %v", err)
	}
	_, err = ledger.RequestWriteOff(dir, &assetsv1.RequestWriteOffRequest{RequestId: "cor-wo-00001", SchoolId: "s1",
		AssetId: res.AssetId, Kind: assetsv1.WriteOffKind_WRITE_OFF_KIND_SCRAP, Reason: "报废"})
	if reason(err) != "REGISTRATION_REVERSED" {
		t.Fatalf("write-off after reversal: %v", err)
	}
}
