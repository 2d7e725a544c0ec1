package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/bus"
	"houqin.dev/platform/event"
	"houqin.dev/platform/logging"
	"houqin.dev/platform/runtime"
	"houqin.dev/platform/testkit"
	"houqin.dev/projector/service"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

func TestMain(m *testing.M) { testkit.Main(m) }

type env struct {
	svc     *service.Service
	conn    *grpc.ClientConn
	reports reportsv1.ReportsServiceClient
	auth    testkit.Auth
	publish func(school string, version int64, m proto.Message, id uuid.UUID)
	// publishAt publishes with a business time.
	publishAt func(school string, version int64, m proto.Message, id uuid.UUID, occurred time.Time)
	js        jetstream.JetStream
}

func start(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	ns := testkit.NATS(t)
	_, js := testkit.JetStream(t, ns)
	for _, svc := range []string{"assets", "procurement"} {
		if _, err := bus.EnsureStream(ctx, js, svc, bus.StreamConfig{}); err != nil {
			t.Fatal(err)
		}
	}
	a := testkit.NewAuth(t)
	svc, err := service.New(ctx, service.Config{GRPCAddr: "127.0.0.1:0", DatabaseURL: testkit.DatabaseURL(t), DBMaxConns: 8,
		NatsURL: ns.ClientURL(), Timezone: "Asia/Shanghai", Batch: 100, AckWait: 5 * time.Second},
		runtime.Deps{Log: logging.Discard(), Verifier: a.Verifier})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done })
	conn, err := grpc.NewClient(svc.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	e := &env{svc: svc, conn: conn, reports: reportsv1.NewReportsServiceClient(conn), auth: a, js: js}
	e.publish = func(school string, version int64, m proto.Message, id uuid.UUID) {
		e.publishAt(school, version, m, id, time.Now())
	}
	e.publishAt = func(school string, version int64, m proto.Message, id uuid.UUID, occurred time.Time) {
		payload, _ := event.Marshal(m)
		typ := event.TypeOf(m)
		// Events of an asset name it in asset_id.
		agg, stream := "asset", ""
		if f := m.ProtoReflect().Descriptor().Fields().ByName("asset_id"); f != nil {
			stream = m.ProtoReflect().Get(f).String()
		}
		// Repairs and damage charges are their own aggregates.
		for _, k := range []struct{ field, agg string }{{"repair_id", "repair"}, {"charge_id", "damage"}, {"agreement_id", "custody"}, {"stocktake_id", "stocktake"}} {
			if _, ok := m.(*eventsv1.AssetRemovedByStocktake); ok && k.agg == "stocktake" {
				continue // an asset's event
			}
			if f := m.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(k.field)); f != nil {
				agg, stream = k.agg, m.ProtoReflect().Get(f).String()
			}
		}
		if _, ok := m.(*eventsv1.SchoolRegistered); ok {
			agg, stream = "school", school
		}
		ev := event.Event{ID: id, StreamID: agg + ":" + stream, StreamType: agg, Version: version, SchoolID: school,
			Type: typ, Payload: payload, OccurredAt: occurred, RecordedAt: time.Now(), Actor: "test", PolicyVersion: "cap-2022"}
		subj, _ := event.Subject("assets", school, agg, typ)
		if _, err := js.PublishMsg(ctx, bus.ToMsg(subj, ev)); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// lives of the test categories in months: 通用设备 6 years, 家具 15; others not depreciated.
var lives = map[string]int32{"2": 72, "6": 180}

func asset(id, school, cat string, price, qty int64, on string) *eventsv1.AssetRegistered {
	return &eventsv1.AssetRegistered{DepreciationMonths: lives[cat], DepreciationStart: "same_month", AssetId: id, SchoolId: school, Tag: "T-" + id[:8], Name: "资产", Category: cat,
		UnitPriceFen: price, Quantity: qty, AcquiredOn: on, Source: "purchase", Location: "仓库", Custodian: "张老师"}
}

func TestLedgerAsOfBusinessDate(t *testing.T) {
	e := start(t)
	viewer := testkit.Ctx(e.auth.Token(t, auth.RoleBureauViewer, ""))
	e.publish("s1", 1, &eventsv1.SchoolRegistered{SchoolId: "s1", Name: "石牌中心小学", Kind: "primary"}, uuid.New())
	e.publish("s2", 1, &eventsv1.SchoolRegistered{SchoolId: "s2", Name: "城关幼儿园", Kind: "kindergarten", Boarding: false}, uuid.New())
	a, b, c, d := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	e.publish("s1", 1, asset(a, "s1", "2", 459900, 10, "2023-09-01"), uuid.New())
	e.publish("s1", 1, asset(b, "s1", "6", 38000, 45, "2024-02-20"), uuid.New())
	e.publish("s1", 1, asset(c, "s1", "2", 1280000, 2, "2024-08-20"), uuid.New())
	e.publish("s2", 1, asset(d, "s2", "5", 2500, 1000, "2022-05-01"), uuid.New())
	// The same registration published again under another message id (past the
	// de-duplication window): the read model must not count it twice.
	e.publish("s1", 1, asset(c, "s1", "2", 1280000, 2, "2024-08-20"), uuid.New())
	e.publish("s1", 2, &eventsv1.AssetTransferred{AssetId: a, FromLocation: "仓库", ToLocation: "计算机教室"}, uuid.New())

	var district *reportsv1.GetDistrictLedgerResponse
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		var err error
		district, err = e.reports.GetDistrictLedger(viewer, &reportsv1.GetDistrictLedgerRequest{AsOf: "2024-08-20"})
		return err == nil && district.Entries == 4, "ledger not caught up"
	})
	if district.ValueFen != 4599000+1710000+2560000+2500000 || len(district.Schools) != 2 {
		t.Fatalf("district %v", district)
	}
	s1 := district.Schools[0]
	if s1.SchoolId != "s1" || s1.Name != "石牌中心小学" || s1.ValueFen != 8869000 || s1.Quantity != 57 || s1.Entries != 3 {
		t.Fatalf("s1 %v", s1)
	}

	dir := testkit.Ctx(e.auth.Token(t, auth.RoleLogisticsDirector, "s1"))
	early, err := e.reports.GetAssetLedger(dir, &reportsv1.GetAssetLedgerRequest{SchoolId: "s1", AsOf: "2024-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	if len(early.Categories) != 1 || early.Categories[0].Category != "2" || early.Categories[0].Quantity != 10 ||
		early.ValueFen != 4599000 || early.Categories[0].CategoryName != "通用设备" {
		t.Fatalf("as of 2024-01-01: %v", early)
	}
	// The day an asset was acquired, it is in the ledger.
	day, _ := e.reports.GetAssetLedger(dir, &reportsv1.GetAssetLedgerRequest{SchoolId: "s1", AsOf: "2024-08-19"})
	if day.ValueFen != 4599000+1710000 {
		t.Fatalf("as of 2024-08-19: %v", day)
	}
	// The transfer comes after the registrations the wait above counted.
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		var loc string
		_ = e.svc.Pool.QueryRow(context.Background(), `SELECT location FROM ledger.assets WHERE asset_id=$1`, a).Scan(&loc)
		return loc == "计算机教室", "transfer not applied: " + loc
	})

	if _, err := e.reports.GetAssetLedger(dir, &reportsv1.GetAssetLedgerRequest{SchoolId: "s1", AsOf: "20240101"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("bad as_of: %v", err)
	}
	if _, err := e.reports.GetAssetLedger(dir, &reportsv1.GetAssetLedgerRequest{SchoolId: "s2"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("other school's ledger: %v", err)
	}

	// A rebuild from the log gives the same numbers.
	if _, err := e.svc.Rebuild(context.Background(), "ledger"); err != nil {
		t.Fatal(err)
	}
	again, err := e.reports.GetDistrictLedger(viewer, &reportsv1.GetDistrictLedgerRequest{AsOf: "2024-08-20"})
	if err != nil || again.ValueFen != district.ValueFen || again.Entries != 4 {
		t.Fatalf("after rebuild: %v %v", again, err)
	}
}

func TestReportsAuthorization(t *testing.T) {
	e := start(t)
	e.publish("s1", 1, &eventsv1.SchoolRegistered{SchoolId: "s1", Name: "一小", Kind: "primary"}, uuid.New())
	e.publish("s2", 1, &eventsv1.SchoolRegistered{SchoolId: "s2", Name: "二小", Kind: "primary"}, uuid.New())
	testkit.AuthorizationMatrix(t, e.conn, "houqin.reports.v1.ReportsService", e.auth, auth.Table, "s1", "s2")
}

func TestLagIsMeasured(t *testing.T) {
	e := start(t)
	e.publish("s1", 1, &eventsv1.SchoolRegistered{SchoolId: "s1", Name: "一小", Kind: "primary"}, uuid.New())
	r := e.svc.Runners()[0]
	testkit.Eventually(t, 10*time.Second, 20*time.Millisecond, func() (bool, string) {
		n, err := r.Lag(context.Background())
		return err == nil && n == 0 && r.Stats().Applied == 1, fmt.Sprintf("lag %d, %v", n, err)
	})
}
