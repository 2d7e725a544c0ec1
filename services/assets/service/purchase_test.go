package service_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/auth"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

func purchaseLineReq(school, req, line string) *assetsv1.RegisterFromPurchaseLineRequest {
	return &assetsv1.RegisterFromPurchaseLineRequest{RequestId: req, SchoolId: school, SourceLineId: line,
		OrderId: "0190a5a2-7c1e-7b3a-9f00-0000000000ff", SupplierId: "sup-0001", Name: "学生课桌椅",
		Category: "6", Model: "KZY-02", UnitPriceFen: 120000, Quantity: 40, AcceptedOn: "2024-08-28",
		FundingSource: "财政拨款", Location: "教学楼305", Department: "教务处", Custodian: "陈老师"}
}

func TestRegisterFromPurchaseLine(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	const line = "0190a5a2-7c1e-7b3a-9f00-1234567890ab"
	svc := e.as(t, auth.RoleService, "")
	first, err := e.client.RegisterFromPurchaseLine(svc, purchaseLineReq("s1", "pm-0000000001", line))
	if err != nil {
		t.Fatal(err)
	}
	if first.AlreadyRegistered || first.Version != 1 || first.Tag != "CG-0190A5A27C1E7B3A9F001234567890AB" {
		t.Fatalf("first registration %v", first)
	}
	got, err := e.client.GetAsset(e.as(t, auth.RoleTeacher, "s1"), &assetsv1.GetAssetRequest{SchoolId: "s1", AssetId: first.AssetId})
	if err != nil {
		t.Fatal(err)
	}
	if got.Asset.Tag != first.Tag || got.Asset.Quantity != 40 || got.Asset.AcquiredOn != "2024-08-28" ||
		got.Asset.Source != assetsv1.AcquisitionSource_ACQUISITION_SOURCE_PURCHASE {
		t.Fatalf("asset %v", got.Asset)
	}

	// Another request id (a storekeeper by hand, or a redelivered event): the first asset,
	// nothing written.
	second, err := e.client.RegisterFromPurchaseLine(e.as(t, auth.RoleStorekeeper, "s1"), purchaseLineReq("s1", "by-hand-00001", line))
	if err != nil {
		t.Fatal(err)
	}
	if !second.AlreadyRegistered || second.AssetId != first.AssetId || second.Tag != first.Tag || second.Version != 1 {
		t.Fatalf("second call %v, want %v already registered", second, first)
	}
	// Racing calls with fresh request ids for a new line: one registration.
	const line2 = "0190a5a2-7c1e-7b3a-9f00-1234567890ac"
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh, ids := 0, map[string]bool{}
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.client.RegisterFromPurchaseLine(svc, purchaseLineReq("s1", fmt.Sprintf("race-%08d", i), line2))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("racing call: %v", err)
				return
			}
			ids[r.AssetId] = true
			if !r.AlreadyRegistered {
				fresh++
			}
		}()
	}
	wg.Wait()
	if fresh != 1 || len(ids) != 1 {
		t.Fatalf("%d fresh registrations, %d asset ids; want 1 and 1", fresh, len(ids))
	}

	st, err := e.svc.Store().Load(context.Background(), "asset:"+first.AssetId)
	if err != nil || len(st.Events) != 1 {
		t.Fatalf("stream: %v %v", st, err)
	}
	m, err := st.Events[0].Decode()
	if err != nil {
		t.Fatal(err)
	}
	reg := m.(*eventsv1.AssetRegistered)
	if reg.SourceLineId != line || reg.OrderId != "0190a5a2-7c1e-7b3a-9f00-0000000000ff" || reg.SupplierId != "sup-0001" ||
		reg.Source != "purchase" || !reg.FixedAsset || st.Events[0].PolicyVersion != "cap-2022" {
		t.Fatalf("event %v (policy %s)", reg, st.Events[0].PolicyVersion)
	}
	if d := st.Events[0].OccurredAt.In(shanghai).Format("2006-01-02"); d != "2024-08-28" {
		t.Fatalf("business time %s", d)
	}
	var n int
	_ = e.svc.Store().Pool().QueryRow(context.Background(), `SELECT count(*) FROM events WHERE stream_type='asset'`).Scan(&n)
	if n != 2 {
		t.Fatalf("%d asset events for two lines", n)
	}
}

func TestRegisterFromPurchaseLineRefusals(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	ctx := e.as(t, auth.RoleService, "")
	req := purchaseLineReq("s1", "short", "not-a-uuid")
	req.AcceptedOn = "2099-01-01"
	req.Quantity = 0
	_, err := e.client.RegisterFromPurchaseLine(ctx, req)
	if status.Code(err) != codes.InvalidArgument || fmt.Sprint(fields(err)) != "[accepted_on quantity request_id source_line_id]" {
		t.Fatalf("invalid request: %v %v", err, fields(err))
	}
	// Unknown school.
	_, err = e.client.RegisterFromPurchaseLine(ctx, purchaseLineReq("s9", "pm-0000000002", "0190a5a2-7c1e-7b3a-9f00-1234567890ab"))
	if reason(err) != "SCHOOL_NOT_REGISTERED" {
		t.Fatalf("unknown school: %v", err)
	}
	// A line registered at s1 is not visible to another school.
	e.school(t, "s2")
	if _, err := e.client.RegisterFromPurchaseLine(ctx, purchaseLineReq("s1", "pm-0000000003", "0190a5a2-7c1e-7b3a-9f00-1234567890ab")); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.RegisterFromPurchaseLine(ctx, purchaseLineReq("s2", "pm-0000000004", "0190a5a2-7c1e-7b3a-9f00-1234567890ab"))
	if status.Code(err) != codes.NotFound {
		t.Fatalf("s2 naming s1's line: %v", err)
	}
	var n int
	_ = e.svc.Store().Pool().QueryRow(context.Background(), `SELECT count(*) FROM events WHERE stream_type='asset'`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d asset events, want 1", n)
	}
}
