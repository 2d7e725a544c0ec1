package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"houqin.dev/assets/app"
	"houqin.dev/assets/service"
	"houqin.dev/platform/auth"
	"houqin.dev/platform/event"
	"houqin.dev/platform/reactor"
	"houqin.dev/platform/testkit"
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
	// The receiving school's registration follows the approval (the transfer-in process
	// manager); approving again (another request id) writes nothing and answers the same
	// asset, no longer pending once it is registered.
	s2 := e.as(t, auth.RoleTeacher, "s2")
	received := func() (bool, string) {
		_, err := e.client.GetAsset(s2, &assetsv1.GetAssetRequest{SchoolId: "s2", AssetId: ok.ToAssetId})
		return err == nil, fmt.Sprint("not registered at s2: ", err)
	}
	testkit.Eventually(t, 20*time.Second, 20*time.Millisecond, received)
	again, err := approve(bureau, "st-app-00002")
	if err != nil || again.ToAssetId != ok.ToAssetId || again.ToTag != ok.ToTag || again.RegistrationPending {
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
	got, err := e.client.GetAsset(s2, &assetsv1.GetAssetRequest{SchoolId: "s2", AssetId: ok.ToAssetId})
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

// requestTransfer registers an asset at s1 and asks to move it to s2's location loc; it
// returns the asset and the transfer.
func requestTransfer(t *testing.T, e *env, loc string) (asset, transfer string) {
	t.Helper()
	dir := e.as(t, auth.RoleLogisticsDirector, "s1")
	res, err := e.client.RegisterAsset(dir, registerReq("s1", "st-reg-00001", "ZC-1"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := assetsv1.NewLedgerServiceClient(e.conn).RequestSchoolTransfer(dir, &assetsv1.RequestSchoolTransferRequest{
		RequestId: "st-req-00001", SchoolId: "s1", AssetId: res.AssetId, ToSchoolId: "s2", Reason: "学校合并，财产搬迁",
		ToLocation: loc, ToCustodian: "刘老师"})
	if err != nil {
		t.Fatal(err)
	}
	return res.AssetId, tr.TransferId
}

func (e *env) approveTransfer(t *testing.T, rid, asset, transfer string) *assetsv1.ApproveSchoolTransferResponse {
	t.Helper()
	ok, err := assetsv1.NewLedgerServiceClient(e.conn).ApproveSchoolTransfer(e.as(t, auth.RoleBureauAdmin, ""),
		&assetsv1.ApproveSchoolTransferRequest{RequestId: rid, SchoolId: "s1", AssetId: asset, TransferId: transfer})
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// registrations counts the receiving school's AssetRegistered events of an asset.
func registrations(t *testing.T, e *env, school, asset string) int {
	t.Helper()
	var n int
	if err := e.svc.Store().Pool().QueryRow(context.Background(), `SELECT count(*) FROM events
		WHERE stream_id = $1 AND school_id = $2 AND event_type = $3`, "asset:"+asset, school,
		event.TypeOf(&eventsv1.AssetRegistered{})).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The approval lands, the service stops before its transfer-in reaction has run; after the
// restart the asset is registered at the receiving school exactly once, and a redelivery of
// the approval (the reactor's consumer reset) registers nothing more.
func TestTransferInSurvivesStopBeforeReaction(t *testing.T) {
	reached := make(chan struct{}, 1)
	e := startWith(t, func(c *service.Config) {
		c.WrapReaction = func(reactor.Handler) reactor.Handler {
			return func(ctx context.Context, _ event.Event, _ proto.Message) error {
				select { // the event is here: stop the service before it is handled
				case reached <- struct{}{}:
				default:
				}
				<-ctx.Done()
				return ctx.Err()
			}
		}
	})
	e.school(t, "s1")
	e.school(t, "s2")
	asset, transfer := requestTransfer(t, e, "仓库")
	ok := e.approveTransfer(t, "st-app-00001", asset, transfer)
	if !ok.RegistrationPending || ok.ToAssetId != app.TransferInAssetID(transfer) {
		t.Fatalf("approval %v", ok)
	}
	select {
	case <-reached:
	case <-time.After(20 * time.Second):
		t.Fatal("the approval did not reach the transfer-in reactor")
	}
	if n := registrations(t, e, "s2", ok.ToAssetId); n != 0 {
		t.Fatalf("%d registrations before the reaction ran", n)
	}
	e.stop(t)

	e = e.restart(t, func(c *service.Config) { c.WrapReaction = nil })
	teacher := e.as(t, auth.RoleTeacher, "s2")
	testkit.Eventually(t, 20*time.Second, 20*time.Millisecond, func() (bool, string) {
		_, err := e.client.GetAsset(teacher, &assetsv1.GetAssetRequest{SchoolId: "s2", AssetId: ok.ToAssetId})
		return err == nil, fmt.Sprint("not registered at s2 after the restart: ", err)
	})
	rc := e.svc.Reactors()[0]
	handled := rc.Stats().Handled
	// Redelivery: a reset consumer starts again at the beginning of the stream.
	if err := e.svc.JS.DeleteConsumer(context.Background(), "HOUQIN_ASSETS", rc.ConsumerName()); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 20*time.Second, 20*time.Millisecond, func() (bool, string) {
		return rc.Stats().Handled > handled, fmt.Sprintf("not redelivered: %+v", rc.Stats())
	})
	if n := registrations(t, e, "s2", ok.ToAssetId); n != 1 {
		t.Fatalf("%d registrations at s2, want 1", n)
	}
	var total int
	_ = e.svc.Store().Pool().QueryRow(context.Background(), `SELECT count(*) FROM events WHERE school_id = 's2' AND stream_type = 'asset'`).Scan(&total)
	if total != 1 {
		t.Fatalf("%d asset events at s2, want 1", total)
	}
	if again := e.approveTransfer(t, "st-app-00002", asset, transfer); again.RegistrationPending || again.ToTag != ok.ToTag {
		t.Fatalf("approval after the registration %v", again)
	}
}

// The receiving school declares its rooms between the approval and the reaction: the
// requested free-text location is no longer a place there, the registration is refused for
// good and parked (not dropped). Once the school has a room of that code, an operator's retry
// registers the asset.
func TestTransferInRefusedIsParkedAndRetried(t *testing.T) {
	release := make(chan struct{})
	e := startWith(t, func(c *service.Config) {
		c.Reactor.RetryEvery = 100 * time.Millisecond
		c.WrapReaction = func(h reactor.Handler) reactor.Handler {
			return func(ctx context.Context, ev event.Event, m proto.Message) error {
				select {
				case <-release:
				case <-ctx.Done():
					return ctx.Err()
				}
				return h(ctx, ev, m)
			}
		}
	})
	e.school(t, "s1")
	e.school(t, "s2")
	asset, transfer := requestTransfer(t, e, "仓库")
	ok := e.approveTransfer(t, "st-app-00001", asset, transfer)
	ledger := assetsv1.NewLedgerServiceClient(e.conn)
	s2 := e.as(t, auth.RoleLogisticsDirector, "s2")
	if _, err := ledger.AddBuilding(s2, &assetsv1.AddBuildingRequest{RequestId: "st-bld-00001", SchoolId: "s2", Code: "A", Name: "教学楼", Floors: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.AddRoom(s2, &assetsv1.AddRoomRequest{RequestId: "st-room-0001", SchoolId: "s2", Code: "A101", Name: "一年级一班教室", Building: "A", Kind: assetsv1.RoomKind_ROOM_KIND_CLASSROOM, Floor: 1}); err != nil {
		t.Fatal(err)
	}
	close(release)
	parking := reactor.NewParking(e.svc.Pool)
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		ps, err := parking.List(context.Background(), reactor.Filter{})
		return err == nil && len(ps) == 1 && ps[0].Reactor == app.ReactorTransferIn && ps[0].Code == "FailedPrecondition" &&
			ps[0].Reason == "LOCATION_UNKNOWN" && ps[0].SchoolID == "s1", fmt.Sprintf("%+v %v", ps, err)
	})
	if n := registrations(t, e, "s2", ok.ToAssetId); n != 0 {
		t.Fatalf("%d registrations of a refused transfer-in", n)
	}
	// The approval keeps answering "pending" while the registration is parked.
	if again := e.approveTransfer(t, "st-app-00002", asset, transfer); !again.RegistrationPending {
		t.Fatalf("approval while parked %v", again)
	}
	// The cause fixed (the room the transfer names), an operator asks for a retry.
	if _, err := ledger.AddRoom(s2, &assetsv1.AddRoomRequest{RequestId: "st-room-0002", SchoolId: "s2", Code: "仓库", Name: "仓库", Building: "A", Kind: assetsv1.RoomKind_ROOM_KIND_STORAGE, Floor: 1}); err != nil {
		t.Fatal(err)
	}
	if n, err := parking.RequestRetry(context.Background(), reactor.Filter{Reactor: app.ReactorTransferIn}); err != nil || n != 1 {
		t.Fatalf("retry: %d %v", n, err)
	}
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		open, err := parking.Open(context.Background())
		return err == nil && open[app.ReactorTransferIn] == 0 && registrations(t, e, "s2", ok.ToAssetId) == 1, fmt.Sprint("still parked: ", open, err)
	})
}
