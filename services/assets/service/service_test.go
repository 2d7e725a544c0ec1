package service_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"houqin.dev/assets/service"
	"houqin.dev/platform/auth"
	"houqin.dev/platform/logging"
	"houqin.dev/platform/runtime"
	"houqin.dev/platform/testkit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

func TestMain(m *testing.M) { testkit.Main(m) }

type env struct {
	cfg    service.Config
	svc    *service.Service
	conn   *grpc.ClientConn
	client assetsv1.AssetsServiceClient
	auth   testkit.Auth
	// stopRun stops the service (once).
	stopRun func()
}

func start(t *testing.T) *env { return startWith(t, nil) }

// startWith starts the service with edit applied to its configuration (a clock, say).
func startWith(t *testing.T, edit func(*service.Config)) *env {
	t.Helper()
	ns := testkit.NATS(t)
	a := testkit.NewAuth(t)
	cfg := service.Config{
		GRPCAddr: "127.0.0.1:0", DatabaseURL: testkit.DatabaseURL(t), DBMaxConns: 16, NatsURL: ns.ClientURL(),
		StreamReplicas: 1, DuplicateWindow: time.Minute, Timezone: "Asia/Shanghai", Retries: 3, RelayBatch: 500,
	}
	if edit != nil {
		edit(&cfg)
	}
	return launch(t, cfg, a)
}

// launch runs the service with cfg until the test ends (or stop).
func launch(t *testing.T, cfg service.Config, a testkit.Auth) *env {
	t.Helper()
	svc, err := service.New(context.Background(), cfg, runtime.Deps{Log: logging.Discard(), Verifier: a.Verifier})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	conn, err := grpc.NewClient(svc.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &env{cfg: cfg, svc: svc, conn: conn, client: assetsv1.NewAssetsServiceClient(conn), auth: a, stopRun: stop}
}

// stop stops the service (its database and NATS stay).
func (e *env) stop(t *testing.T) { t.Helper(); e.stopRun() }

// restart starts the service again on the same database and NATS, with edit applied to its
// configuration.
func (e *env) restart(t *testing.T, edit func(*service.Config)) *env {
	t.Helper()
	e.stop(t)
	cfg := e.cfg
	if edit != nil {
		edit(&cfg)
	}
	return launch(t, cfg, e.auth)
}

func (e *env) as(t *testing.T, role auth.Role, school string) context.Context {
	return testkit.Ctx(e.auth.Token(t, role, school))
}

func (e *env) school(t *testing.T, id string) {
	t.Helper()
	_, err := e.client.RegisterSchool(e.as(t, auth.RoleBureauAdmin, ""), &assetsv1.RegisterSchoolRequest{
		RequestId: "school-" + id, SchoolId: id, Name: "测试学校" + id, Kind: assetsv1.SchoolKind_SCHOOL_KIND_PRIMARY})
	if err != nil {
		t.Fatal(err)
	}
}

func registerReq(school, req, tag string) *assetsv1.RegisterAssetRequest {
	return &assetsv1.RegisterAssetRequest{RequestId: req, SchoolId: school, Tag: tag, Name: "多媒体一体机",
		Category: "2", Model: "希沃 F86EA", UnitPriceFen: 1280000, Quantity: 1, AcquiredOn: "2024-08-20",
		Source: assetsv1.AcquisitionSource_ACQUISITION_SOURCE_PURCHASE, FundingSource: "财政拨款",
		Location: "教学楼201", Department: "教务处", Custodian: "李老师"}
}

func reason(err error) string {
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			return ei.Reason
		}
	}
	return ""
}

func fields(err error) []string {
	var out []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.FieldViolations {
				out = append(out, v.Field)
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestRegisterAndGetAsset(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	ctx := e.as(t, auth.RoleLogisticsDirector, "s1")
	res, err := e.client.RegisterAsset(ctx, registerReq("s1", "req-00000001", "ZC-0001"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.client.GetAsset(e.as(t, auth.RoleTeacher, "s1"), &assetsv1.GetAssetRequest{SchoolId: "s1", AssetId: res.AssetId})
	if err != nil {
		t.Fatal(err)
	}
	if got.Asset.Tag != "ZC-0001" || got.Asset.UnitPriceFen != 1280000 || got.Asset.Version != 1 ||
		got.Asset.Source != assetsv1.AcquisitionSource_ACQUISITION_SOURCE_PURCHASE {
		t.Fatalf("asset %v", got.Asset)
	}

	// The same request again: the first answer, nothing new stored.
	again, err := e.client.RegisterAsset(ctx, registerReq("s1", "req-00000001", "ZC-0001"))
	if err != nil || again.AssetId != res.AssetId {
		t.Fatalf("repeat: %v %v, want %s", again, err, res.AssetId)
	}
	// The same request id with another command is refused.
	_, err = e.client.RegisterAsset(ctx, registerReq("s1", "req-00000001", "ZC-0002"))
	if status.Code(err) != codes.FailedPrecondition || reason(err) != "REQUEST_ID_REUSED" {
		t.Fatalf("reused request id: %v", err)
	}
	// A duplicate tag in the same school is refused; in another school it is fine.
	_, err = e.client.RegisterAsset(ctx, registerReq("s1", "req-00000002", "ZC-0001"))
	if status.Code(err) != codes.FailedPrecondition || reason(err) != "ASSET_TAG_TAKEN" {
		t.Fatalf("duplicate tag: %v", err)
	}
	e.school(t, "s2")
	if _, err := e.client.RegisterAsset(e.as(t, auth.RoleStorekeeper, "s2"), registerReq("s2", "req-00000003", "ZC-0001")); err != nil {
		t.Fatalf("same tag in another school: %v", err)
	}
	// Another school's asset does not exist for s2, even when s2 names it.
	_, err = e.client.GetAsset(e.as(t, auth.RoleLogisticsDirector, "s2"), &assetsv1.GetAssetRequest{SchoolId: "s2", AssetId: res.AssetId})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("cross-school read by id: %v", err)
	}
	// An unknown school.
	_, err = e.client.RegisterAsset(e.as(t, auth.RoleLogisticsDirector, "nowhere"), registerReq("nowhere", "req-00000004", "ZC-9"))
	if reason(err) != "SCHOOL_NOT_REGISTERED" {
		t.Fatalf("unknown school: %v", err)
	}

	n, broken, err := e.svc.Store().VerifyAll(context.Background())
	if err != nil || len(broken) != 0 || n != 4 {
		t.Fatalf("verify: %d streams, %v, %v", n, broken, err)
	}
}

func TestBadInputGetsFieldViolations(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	req := registerReq("s1", "short", "")
	req.UnitPriceFen = -1
	req.Source = assetsv1.AcquisitionSource_ACQUISITION_SOURCE_UNSPECIFIED
	_, err := e.client.RegisterAsset(e.as(t, auth.RoleLogisticsDirector, "s1"), req)
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("want InvalidArgument, got %v", err)
	}
	// Every invalid field in one answer, the request id's included.
	if got := fmt.Sprint(fields(err)); got != "[request_id source tag unit_price_fen]" {
		t.Fatalf("violations %s", got)
	}
	req.RequestId = "req-00000009"
	_, err = e.client.RegisterAsset(e.as(t, auth.RoleLogisticsDirector, "s1"), req)
	if got := fmt.Sprint(fields(err)); got != "[source tag unit_price_fen]" {
		t.Fatalf("violations %s (%v)", got, err)
	}
	var n int
	_ = e.svc.Store().Pool().QueryRow(context.Background(), `SELECT count(*) FROM events WHERE stream_type='asset'`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d asset events written by refused commands", n)
	}
}

// validate_only answers what the command would get and writes nothing: the import checks a
// whole file this way before it registers anything.
func TestValidateOnlyWritesNothing(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	ctx := e.as(t, auth.RoleLogisticsDirector, "s1")
	taken, err := e.client.RegisterAsset(ctx, registerReq("s1", "req-00000001", "ZC-0001"))
	if err != nil {
		t.Fatal(err)
	}
	check := func(tag string, mutate func(*assetsv1.RegisterAssetRequest)) (*assetsv1.RegisterAssetResponse, error) {
		req := registerReq("s1", "check-"+tag, tag)
		req.ValidateOnly = true
		if mutate != nil {
			mutate(req)
		}
		return e.client.RegisterAsset(ctx, req)
	}
	if res, err := check("ZC-0002", nil); err != nil || res.AssetId != "" {
		t.Fatalf("valid request: %v %v", res, err)
	}
	_, err = check("ZC-0001", nil)
	if reason(err) != "ASSET_TAG_TAKEN" {
		t.Fatalf("taken tag: %v", err)
	}
	// The refusal names the holder, so an importer can compare it with its row.
	for _, d := range status.Convert(err).Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok && ei.Metadata["stream_id"] != "asset:"+taken.AssetId {
			t.Fatalf("holder %q, want asset:%s", ei.Metadata["stream_id"], taken.AssetId)
		}
	}
	_, err = check("ZC-0003", func(r *assetsv1.RegisterAssetRequest) { r.Quantity = 0; r.AcquiredOn = "2019/9/1" })
	if got := fmt.Sprint(fields(err)); got != "[acquired_on quantity]" {
		t.Fatalf("violations %s (%v)", got, err)
	}
	_, err = check("ZC-0004", func(r *assetsv1.RegisterAssetRequest) { r.SchoolId = "s2" })
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("other school: %v", err)
	}
	var n int
	if err := e.svc.Store().Pool().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM events WHERE stream_type='asset')
		+ (SELECT count(*) FROM requests WHERE request_id LIKE 'check-%') + (SELECT count(*) FROM unique_keys)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 { // the one registration's event and tag key
		t.Fatalf("validate-only requests wrote: %d rows", n)
	}
	// The checked tag is still free.
	if _, err := e.client.RegisterAsset(ctx, registerReq("s1", "req-00000002", "ZC-0002")); err != nil {
		t.Fatal(err)
	}
}

// 50 concurrent commands on one asset.
func TestConcurrentCommandsOnOneAsset(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	ctx := e.as(t, auth.RoleLogisticsDirector, "s1")
	res, err := e.client.RegisterAsset(ctx, registerReq("s1", "req-00000001", "ZC-0001"))
	if err != nil {
		t.Fatal(err)
	}
	transfer := func(i int, expected int64) (*assetsv1.TransferAssetResponse, error) {
		return e.client.TransferAsset(ctx, &assetsv1.TransferAssetRequest{RequestId: fmt.Sprintf("move-%d-%08d", expected, i),
			SchoolId: "s1", AssetId: res.AssetId, ExpectedVersion: expected, ToLocation: fmt.Sprintf("教室%d", i), Reason: "调整"})
	}
	// All 50 saw version 1: one wins, 49 are Aborted.
	var wg sync.WaitGroup
	codesSeen := make([]codes.Code, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := transfer(i, 1)
			codesSeen[i] = status.Code(err)
		}()
	}
	wg.Wait()
	wins, aborted := 0, 0
	for _, c := range codesSeen {
		switch c {
		case codes.OK:
			wins++
		case codes.Aborted:
			aborted++
		default:
			t.Errorf("unexpected %v", c)
		}
	}
	if wins != 1 || aborted != 49 {
		t.Fatalf("%d won, %d aborted; want 1 and 49", wins, aborted)
	}

	// 50 more without an expected version: the server retries lost races; whatever still
	// loses is Aborted, and the versions stay gap-free.
	okCount := 0
	var mu sync.Mutex
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := transfer(100+i, 0)
			mu.Lock()
			defer mu.Unlock()
			switch status.Code(err) {
			case codes.OK:
				okCount++
			case codes.Aborted:
			default:
				t.Errorf("unexpected %v", err)
			}
		}()
	}
	wg.Wait()
	st, err := e.svc.Store().Load(context.Background(), "asset:"+res.AssetId)
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != int64(2+okCount) {
		t.Fatalf("version %d after %d successful transfers", st.Version, 1+okCount)
	}
	for i, ev := range st.Events {
		if ev.Version != int64(i+1) {
			t.Fatalf("gap or duplicate at %d: version %d", i, ev.Version)
		}
	}
	// A repeated request id returns the first result and appends nothing.
	first, err := transfer(7, 0)
	if err != nil {
		t.Fatal(err)
	}
	again, err := transfer(7, 0)
	if err != nil || again.Version != first.Version {
		t.Fatalf("repeat returned %v %v, want version %d", again, err, first.Version)
	}
	st2, _ := e.svc.Store().Load(context.Background(), "asset:"+res.AssetId)
	if st2.Version != first.Version {
		t.Fatalf("repeat appended: version %d", st2.Version)
	}
}

func TestAuthorization(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	e.school(t, "s2")
	testkit.AuthorizationMatrix(t, e.conn, "houqin.assets.v1.AssetsService", e.auth, auth.Table, "s1", "s2")
	testkit.AuthorizationMatrix(t, e.conn, "houqin.assets.v1.LedgerService", e.auth, auth.Table, "s1", "s2")

	// Spelled out: a school's token cannot write or read another school; a bureau viewer reads
	// every school and writes none.
	res, err := e.client.RegisterAsset(e.as(t, auth.RoleLogisticsDirector, "s1"), registerReq("s1", "req-00000001", "ZC-1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.RegisterAsset(e.as(t, auth.RoleLogisticsDirector, "s2"), registerReq("s1", "req-00000002", "ZC-2")); status.Code(err) != codes.PermissionDenied {
		t.Errorf("s2 writing s1: %v", err)
	}
	if _, err := e.client.GetAsset(e.as(t, auth.RolePrincipal, "s2"), &assetsv1.GetAssetRequest{SchoolId: "s1", AssetId: res.AssetId}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("s2 reading s1: %v", err)
	}
	viewer := e.as(t, auth.RoleBureauViewer, "")
	if _, err := e.client.GetAsset(viewer, &assetsv1.GetAssetRequest{SchoolId: "s1", AssetId: res.AssetId}); err != nil {
		t.Errorf("viewer reading s1: %v", err)
	}
	if _, err := e.client.RegisterAsset(viewer, registerReq("s1", "req-00000003", "ZC-3")); status.Code(err) != codes.PermissionDenied {
		t.Errorf("viewer writing s1: %v", err)
	}
	if _, err := e.client.RegisterSchool(viewer, &assetsv1.RegisterSchoolRequest{RequestId: "req-00000004", SchoolId: "s3", Name: "新学校", Kind: assetsv1.SchoolKind_SCHOOL_KIND_HIGH}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("viewer registering a school: %v", err)
	}
}

func TestHealthAndReflection(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	res, err := healthpb.NewHealthClient(e.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "houqin.assets.v1.AssetsService"})
	if err != nil || res.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", res, err)
	}
	stream, err := reflectionpb.NewServerReflectionClient(e.conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range resp.GetListServicesResponse().GetService() {
		found = found || s.Name == "houqin.assets.v1.AssetsService"
	}
	if !found {
		t.Fatalf("reflection does not list the service: %v", resp)
	}
}
