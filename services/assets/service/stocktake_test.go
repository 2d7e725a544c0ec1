package service_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"houqin.dev/assets/service"
	"houqin.dev/platform/auth"
	"houqin.dev/platform/testkit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

// ledger registers n assets per room, tags R<room>-<i>, and returns their ids by tag.
func (e *env) ledger(t *testing.T, school string, rooms []string, n int) map[string]string {
	t.Helper()
	ids := map[string]string{}
	ctx := e.as(t, auth.RoleLogisticsDirector, school)
	for _, room := range rooms {
		for i := range n {
			tag := fmt.Sprintf("R%s-%d", room, i)
			req := registerReq(school, "reg-"+school+"-"+tag, tag)
			req.Location = room
			res, err := e.client.RegisterAsset(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			ids[tag] = res.AssetId
		}
	}
	return ids
}

func TestStocktakeSession(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	e.school(t, "s2")
	ids := e.ledger(t, "s1", []string{"101", "102"}, 3)
	e.ledger(t, "s2", []string{"101"}, 2)
	sc := assetsv1.NewStocktakeServiceClient(e.conn)
	keeper, teacher := e.as(t, auth.RoleStorekeeper, "s1"), e.as(t, auth.RoleTeacher, "s1")

	st, err := sc.StartStocktake(keeper, &assetsv1.StartStocktakeRequest{RequestId: "stk-00000001", SchoolId: "s1", Note: "期末清查"})
	if err != nil {
		t.Fatal(err)
	}
	if st.ExpectedItems != 6 || st.Rooms != 2 || st.Version != 3 {
		t.Fatalf("started %v", st)
	}
	scan := func(req, room, code string) *assetsv1.ScanStocktakeItemResponse {
		t.Helper()
		r, err := sc.ScanStocktakeItem(teacher, &assetsv1.ScanStocktakeItemRequest{RequestId: req, SchoolId: "s1",
			StocktakeId: st.StocktakeId, Room: room, Code: code})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	want := func(r *assetsv1.ScanStocktakeItemResponse, o assetsv1.ScanOutcome) {
		t.Helper()
		if r.Outcome != o {
			t.Fatalf("scan %v, want %v", r, o)
		}
	}
	want(scan("scan-0000001", "101", "R101-0"), assetsv1.ScanOutcome_SCAN_OUTCOME_COUNTED)
	want(scan("scan-0000002", "101", "houqin:asset:R101-1"), assetsv1.ScanOutcome_SCAN_OUTCOME_COUNTED)
	r := scan("scan-0000003", "101", ids["R102-0"])
	want(r, assetsv1.ScanOutcome_SCAN_OUTCOME_WRONG_ROOM)
	if r.ExpectedRoom != "102" || r.Tag != "R102-0" {
		t.Fatalf("wrong room %v", r)
	}
	want(scan("scan-0000004", "102", "R102-0"), assetsv1.ScanOutcome_SCAN_OUTCOME_DUPLICATE)
	want(scan("scan-0000005", "102", "NEW-1"), assetsv1.ScanOutcome_SCAN_OUTCOME_UNKNOWN)
	// Another school's tag is unknown here.
	want(scan("scan-0000006", "102", "R101-0x"), assetsv1.ScanOutcome_SCAN_OUTCOME_UNKNOWN)
	// The same request again: the first answer, nothing stored.
	again := scan("scan-0000001", "101", "R101-0")
	if again.Outcome != assetsv1.ScanOutcome_SCAN_OUTCOME_COUNTED || again.Version != 4 {
		t.Fatalf("repeat %v", again)
	}
	// Scanners in both rooms at once: every scan stored once, in order.
	var wg sync.WaitGroup
	errsSeen := make(chan error, 3)
	for i, code := range []string{"R101-2", "R102-1", "R101-2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			room := code[1:4]
			_, err := sc.ScanStocktakeItem(teacher, &assetsv1.ScanStocktakeItemRequest{RequestId: fmt.Sprintf("par-%08d", i),
				SchoolId: "s1", StocktakeId: st.StocktakeId, Room: room, Code: code})
			errsSeen <- err
		}()
	}
	wg.Wait()
	close(errsSeen)
	for err := range errsSeen {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Bad input and rules.
	_, err = sc.ScanStocktakeItem(teacher, &assetsv1.ScanStocktakeItemRequest{RequestId: "scan-0000009", SchoolId: "s1",
		StocktakeId: st.StocktakeId})
	if status.Code(err) != codes.InvalidArgument || fmt.Sprint(fields(err)) != "[code room]" {
		t.Fatalf("empty scan: %v", err)
	}
	_, err = sc.ScanStocktakeItem(e.as(t, auth.RoleTeacher, "s2"), &assetsv1.ScanStocktakeItemRequest{RequestId: "scan-0000010",
		SchoolId: "s2", StocktakeId: st.StocktakeId, Room: "101", Code: "R101-0"})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("other school's session: %v", err)
	}

	closed, err := sc.CloseStocktake(keeper, &assetsv1.CloseStocktakeRequest{RequestId: "close-000001", SchoolId: "s1", StocktakeId: st.StocktakeId})
	if err != nil {
		t.Fatal(err)
	}
	sum := closed.Summary
	if !sum.Closed || sum.Counted != 4 || sum.WrongRoom != 1 || sum.Duplicates != 2 || sum.Unknown != 2 || len(sum.Missing) != 1 ||
		sum.Missing[0].Tag != "R102-2" || sum.Version != 14 {
		t.Fatalf("summary %v", sum)
	}
	if len(sum.Misplaced) != 1 || sum.Misplaced[0].Tag != "R102-0" || sum.Misplaced[0].ScannedRoom != "101" || len(sum.UnknownCodes) != 2 {
		t.Fatalf("differences %v", sum)
	}
	_, err = sc.ScanStocktakeItem(teacher, &assetsv1.ScanStocktakeItemRequest{RequestId: "scan-0000011", SchoolId: "s1",
		StocktakeId: st.StocktakeId, Room: "101", Code: "R101-0"})
	if reason(err) != "STOCKTAKE_CLOSED" {
		t.Fatalf("scan after close: %v", err)
	}
	// A scan's request repeated after the close still gets its first answer, not a refusal.
	if again := scan("scan-0000002", "101", "houqin:asset:R101-1"); again.Outcome != assetsv1.ScanOutcome_SCAN_OUTCOME_COUNTED || again.Version != 5 {
		t.Fatalf("repeat after close %v", again)
	}
	got, err := sc.GetStocktake(e.as(t, auth.RolePrincipal, "s1"), &assetsv1.GetStocktakeRequest{SchoolId: "s1", StocktakeId: st.StocktakeId})
	if err != nil || got.Summary.Version != closed.Version || len(got.Summary.Missing) != 1 {
		t.Fatalf("get %v %v", got, err)
	}
}

func TestStocktakeScopeAndTwoInstances(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	e.ledger(t, "s1", []string{"101", "102"}, 2)
	// A second instance on the same store: each keeps its own cache of the session and must
	// read what the other appended.
	second := startWith(t, func(cfg *service.Config) { cfg.DatabaseURL, cfg.NatsURL = e.cfg.DatabaseURL, e.cfg.NatsURL })
	conn, err := grpc.NewClient(second.svc.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	a, b := assetsv1.NewStocktakeServiceClient(e.conn), assetsv1.NewStocktakeServiceClient(conn)
	ctxA, ctxB := e.as(t, auth.RoleStorekeeper, "s1"), second.as(t, auth.RoleStorekeeper, "s1")

	st, err := a.StartStocktake(ctxA, &assetsv1.StartStocktakeRequest{RequestId: "stk-00000001", SchoolId: "s1", Rooms: []string{"101"}})
	if err != nil || st.ExpectedItems != 2 || st.Rooms != 1 {
		t.Fatalf("start %v %v", st, err)
	}
	scan := func(c assetsv1.StocktakeServiceClient, ctx context.Context, req, room, code string) (*assetsv1.ScanStocktakeItemResponse, error) {
		return c.ScanStocktakeItem(ctx, &assetsv1.ScanStocktakeItemRequest{RequestId: req, SchoolId: "s1", StocktakeId: st.StocktakeId, Room: room, Code: code})
	}
	if _, err := scan(a, ctxA, "scan-0000001", "102", "R102-0"); reason(err) != "STOCKTAKE_ROOM_NOT_IN_SCOPE" {
		t.Fatalf("room out of scope: %v", err)
	}
	steps := []struct {
		c    assetsv1.StocktakeServiceClient
		ctx  context.Context
		code string
		want assetsv1.ScanOutcome
	}{
		{b, ctxB, "R101-0", assetsv1.ScanOutcome_SCAN_OUTCOME_COUNTED},
		{a, ctxA, "R101-1", assetsv1.ScanOutcome_SCAN_OUTCOME_COUNTED},
		{b, ctxB, "R101-1", assetsv1.ScanOutcome_SCAN_OUTCOME_DUPLICATE},
		{a, ctxA, "R101-0", assetsv1.ScanOutcome_SCAN_OUTCOME_DUPLICATE},
		{b, ctxB, "R102-0", assetsv1.ScanOutcome_SCAN_OUTCOME_WRONG_ROOM},
	}
	for i, s := range steps {
		r, err := scan(s.c, s.ctx, fmt.Sprintf("scan-%07d", 10+i), "101", s.code)
		if err != nil || r.Outcome != s.want || r.Version != int64(4+i) {
			t.Fatalf("step %d: %v %v, want %v at version %d", i, r, err, s.want, 4+i)
		}
	}
	closed, err := a.CloseStocktake(ctxA, &assetsv1.CloseStocktakeRequest{RequestId: "close-000001", SchoolId: "s1",
		StocktakeId: st.StocktakeId, ExpectedVersion: 8})
	if err != nil || closed.Summary.Counted != 2 || len(closed.Summary.Missing) != 0 || closed.Summary.WrongRoom != 1 {
		t.Fatalf("close %v %v", closed, err)
	}
	n, broken, err := e.svc.Store().VerifyAll(context.Background())
	if err != nil || len(broken) != 0 || n == 0 {
		t.Fatalf("verify %d %v %v", n, broken, err)
	}
}

func TestStocktakeAuthorizationMatrix(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	e.school(t, "s2")
	testkit.AuthorizationMatrix(t, e.conn, "houqin.assets.v1.StocktakeService", e.auth, auth.Table, "s1", "s2")
}

// 盘盈/盘亏: differences are resolved only by approved adjustments, and the ledger follows.
func TestStocktakeAdjustmentsReachTheLedger(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	ids := e.ledger(t, "s1", []string{"101"}, 2) // 12,800 yuan each
	sc := assetsv1.NewStocktakeServiceClient(e.conn)
	keeper, director, principal := e.as(t, auth.RoleStorekeeper, "s1"), e.as(t, auth.RoleLogisticsDirector, "s1"), e.as(t, auth.RolePrincipal, "s1")
	st, err := sc.StartStocktake(keeper, &assetsv1.StartStocktakeRequest{RequestId: "stk-00000001", SchoolId: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	for i, code := range []string{"R101-0", "ZC-FOUND-1"} {
		if _, err := sc.ScanStocktakeItem(keeper, &assetsv1.ScanStocktakeItemRequest{RequestId: fmt.Sprintf("scan-%07d", i), SchoolId: "s1",
			StocktakeId: st.StocktakeId, Room: "101", Code: code}); err != nil {
			t.Fatal(err)
		}
	}
	shortage := &assetsv1.ProposeStocktakeAdjustmentRequest{RequestId: "adj-00000001", SchoolId: "s1", StocktakeId: st.StocktakeId,
		Kind: assetsv1.AdjustmentKind_ADJUSTMENT_KIND_SHORTAGE, AssetId: ids["R101-1"], Reason: "多次查找未果，确认遗失"}
	if _, err := sc.ProposeStocktakeAdjustment(keeper, shortage); reason(err) != "STOCKTAKE_NOT_CLOSED" {
		t.Fatalf("adjust an open session: %v", err)
	}
	if _, err := sc.CloseStocktake(keeper, &assetsv1.CloseStocktakeRequest{RequestId: "close-000001", SchoolId: "s1", StocktakeId: st.StocktakeId}); err != nil {
		t.Fatal(err)
	}
	short, err := sc.ProposeStocktakeAdjustment(keeper, shortage)
	if err != nil {
		t.Fatal(err)
	}
	surplus, err := sc.ProposeStocktakeAdjustment(keeper, &assetsv1.ProposeStocktakeAdjustmentRequest{RequestId: "adj-00000002", SchoolId: "s1",
		StocktakeId: st.StocktakeId, Kind: assetsv1.AdjustmentKind_ADJUSTMENT_KIND_SURPLUS, Code: "ZC-FOUND-1", Name: "折叠椅",
		Category: "6", UnitPriceFen: 8000, Custodian: "王老师", Reason: "家长捐赠未入账"})
	if err != nil {
		t.Fatal(err)
	}
	// 12,800 yuan is beyond the logistics director: the principal approves.
	approve := func(ctx context.Context, req, adj string) (*assetsv1.ApproveStocktakeAdjustmentResponse, error) {
		return sc.ApproveStocktakeAdjustment(ctx, &assetsv1.ApproveStocktakeAdjustmentRequest{RequestId: req, SchoolId: "s1",
			StocktakeId: st.StocktakeId, AdjustmentId: adj})
	}
	if _, err := approve(director, "app-00000001", short.AdjustmentId); reason(err) != "STOCKTAKE_ADJUSTMENT_NEEDS_PRINCIPAL" {
		t.Fatalf("director approves 12,800 yuan: %v", err)
	}
	removed, err := approve(principal, "app-00000002", short.AdjustmentId)
	if err != nil || removed.AssetId != ids["R101-1"] {
		t.Fatalf("approve shortage: %v %v", removed, err)
	}
	found, err := approve(director, "app-00000003", surplus.AdjustmentId)
	if err != nil {
		t.Fatal(err)
	}
	again, err := approve(director, "app-00000003", surplus.AdjustmentId)
	if err != nil || again.AssetId != found.AssetId {
		t.Fatalf("repeated approval: %v %v, want %s", again, err, found.AssetId)
	}
	if _, err := approve(principal, "app-00000004", surplus.AdjustmentId); reason(err) != "STOCKTAKE_ADJUSTMENT_ALREADY_APPROVED" {
		t.Fatalf("approve twice: %v", err)
	}
	got, err := e.client.GetAsset(director, &assetsv1.GetAssetRequest{SchoolId: "s1", AssetId: found.AssetId})
	if err != nil || got.Asset.Tag != "ZC-FOUND-1" || got.Asset.Location != "101" ||
		got.Asset.Source != assetsv1.AcquisitionSource_ACQUISITION_SOURCE_STOCKTAKE_SURPLUS {
		t.Fatalf("surplus asset %v %v", got, err)
	}
	// The next stocktake expects the found item and not the lost one.
	next, err := sc.StartStocktake(keeper, &assetsv1.StartStocktakeRequest{RequestId: "stk-00000002", SchoolId: "s1"})
	if err != nil || next.ExpectedItems != 2 {
		t.Fatalf("next stocktake %v %v", next, err)
	}
	r, err := sc.ScanStocktakeItem(keeper, &assetsv1.ScanStocktakeItemRequest{RequestId: "scan-0000099", SchoolId: "s1",
		StocktakeId: next.StocktakeId, Room: "101", Code: "R101-1"})
	if err != nil || r.Outcome != assetsv1.ScanOutcome_SCAN_OUTCOME_UNKNOWN {
		t.Fatalf("removed asset scanned: %v %v", r, err)
	}
	// Nobody registers a surplus by hand.
	req := registerReq("s1", "req-0000surp", "ZC-X")
	req.Source = assetsv1.AcquisitionSource_ACQUISITION_SOURCE_STOCKTAKE_SURPLUS
	if _, err := e.client.RegisterAsset(director, req); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("surplus by RegisterAsset: %v", err)
	}
	sum, err := sc.GetStocktake(director, &assetsv1.GetStocktakeRequest{SchoolId: "s1", StocktakeId: st.StocktakeId})
	if err != nil || len(sum.Summary.Adjustments) != 2 || !sum.Summary.Adjustments[0].Approved || !sum.Summary.Adjustments[1].Approved {
		t.Fatalf("summary %v %v", sum, err)
	}
}
