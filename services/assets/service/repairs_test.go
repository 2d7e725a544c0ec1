package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"houqin.dev/assets/app"
	"houqin.dev/assets/service"
	"houqin.dev/platform/auth"
	"houqin.dev/platform/testkit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

func (e *env) repairs() assetsv1.RepairsServiceClient {
	return assetsv1.NewRepairsServiceClient(e.conn)
}

func (e *env) breaches(t *testing.T) map[string]int {
	t.Helper()
	rows, err := e.svc.Store().Pool().Query(context.Background(), `SELECT stream_id, actor FROM events
		WHERE event_type='houqin.assets.events.v1.RepairDeadlineBreached'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id, actor string
		if err := rows.Scan(&id, &actor); err != nil {
			t.Fatal(err)
		}
		if actor != app.ClockActor {
			t.Errorf("breach recorded by %q", actor)
		}
		out[id]++
	}
	return out
}

func TestRepairLifecycle(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	e.school(t, "s2")
	asset, err := e.client.RegisterAsset(e.as(t, auth.RoleLogisticsDirector, "s1"), registerReq("s1", "req-00000001", "ZC-0001"))
	if err != nil {
		t.Fatal(err)
	}
	rc := e.repairs()
	teacher, director, keeper := e.as(t, auth.RoleTeacher, "s1"), e.as(t, auth.RoleLogisticsDirector, "s1"), e.as(t, auth.RoleStorekeeper, "s1")

	rep, err := rc.ReportRepair(teacher, &assetsv1.ReportRepairRequest{RequestId: "rep-00000001", SchoolId: "s1",
		AssetId: asset.AssetId, ClassName: "三年级2班", Description: "一体机黑屏，无法开机",
		Severity: assetsv1.RepairSeverity_REPAIR_SEVERITY_MAJOR})
	if err != nil {
		t.Fatal(err)
	}
	got, err := rc.GetRepair(teacher, &assetsv1.GetRepairRequest{SchoolId: "s1", RepairId: rep.RepairId})
	if err != nil {
		t.Fatal(err)
	}
	r := got.Repair
	if r.Location != "教学楼201" || r.AssetTag != "ZC-0001" || r.Status != assetsv1.RepairStatus_REPAIR_STATUS_REPORTED ||
		r.FixDueAt.AsTime().Sub(r.ReportedAt.AsTime()) != 24*time.Hour || r.OnSiteDueAt != nil {
		t.Fatalf("reported %v", r)
	}

	// Only the logistics director dispatches; work cannot start before.
	dispatch := &assetsv1.DispatchRepairRequest{RequestId: "dis-00000001", SchoolId: "s1", RepairId: rep.RepairId,
		AssigneeKind: assetsv1.RepairAssigneeKind_REPAIR_ASSIGNEE_KIND_SCHOOL_WORKER, Assignee: "张师傅"}
	if _, err := rc.DispatchRepair(teacher, dispatch); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("teacher dispatch: %v", err)
	}
	_, err = rc.StartRepair(keeper, &assetsv1.StartRepairRequest{RequestId: "sta-00000001", SchoolId: "s1", RepairId: rep.RepairId})
	if status.Code(err) != codes.FailedPrecondition || reason(err) != "REPAIR_NOT_DISPATCHED" {
		t.Fatalf("start before dispatch: %v", err)
	}
	if _, err := rc.DispatchRepair(director, dispatch); err != nil {
		t.Fatal(err)
	}
	if _, err := rc.StartRepair(keeper, &assetsv1.StartRepairRequest{RequestId: "sta-00000002", SchoolId: "s1", RepairId: rep.RepairId}); err != nil {
		t.Fatal(err)
	}
	done, err := rc.CompleteRepair(keeper, &assetsv1.CompleteRepairRequest{RequestId: "com-00000001", SchoolId: "s1",
		RepairId: rep.RepairId, WorkDone: "更换电源板", CostFen: 32000})
	if err != nil || !done.FixedWithinTarget || done.Version != 4 {
		t.Fatalf("complete: %v %v", done, err)
	}
	_, err = rc.CompleteRepair(keeper, &assetsv1.CompleteRepairRequest{RequestId: "com-00000002", SchoolId: "s1",
		RepairId: rep.RepairId, WorkDone: "再修一次", CostFen: 0})
	if reason(err) != "REPAIR_ALREADY_COMPLETED" {
		t.Fatalf("complete twice: %v", err)
	}
	// A stale expected version is Aborted.
	_, err = rc.RecordRepairDelayReason(director, &assetsv1.RecordRepairDelayReasonRequest{RequestId: "del-00000001", SchoolId: "s1",
		RepairId: rep.RepairId, ExpectedVersion: 2, Reason: assetsv1.RepairDelayReason_REPAIR_DELAY_REASON_WAITING_FOR_PARTS})
	if status.Code(err) != codes.Aborted {
		t.Fatalf("stale version: %v", err)
	}

	// Bad input: every field at once, nothing written.
	_, err = rc.ReportRepair(teacher, &assetsv1.ReportRepairRequest{RequestId: "x", SchoolId: "s1", AssetId: "nope"})
	if status.Code(err) != codes.InvalidArgument || fmt.Sprint(fields(err)) != "[asset_id description request_id severity]" {
		t.Fatalf("bad report: %v %v", fields(err), err)
	}
	// Another school's asset is not in this school's ledger; another school's repair does not exist.
	other, err := e.client.RegisterAsset(e.as(t, auth.RoleLogisticsDirector, "s2"), registerReq("s2", "req-00000002", "ZC-0001"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = rc.ReportRepair(teacher, &assetsv1.ReportRepairRequest{RequestId: "rep-00000002", SchoolId: "s1",
		AssetId: other.AssetId, Description: "坏了", Severity: assetsv1.RepairSeverity_REPAIR_SEVERITY_MINOR})
	if reason(err) != "REPAIR_ASSET_NOT_IN_LEDGER" {
		t.Fatalf("other school's asset: %v", err)
	}
	_, err = rc.GetRepair(e.as(t, auth.RoleTeacher, "s2"), &assetsv1.GetRepairRequest{SchoolId: "s2", RepairId: rep.RepairId})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("other school's repair: %v", err)
	}

	// History per asset and per class (read model).
	if _, err := rc.ReportRepair(teacher, &assetsv1.ReportRepairRequest{RequestId: "rep-00000003", SchoolId: "s1",
		Location: "三年级2班教室", ClassName: "三年级2班", Description: "门锁损坏", Severity: assetsv1.RepairSeverity_REPAIR_SEVERITY_MINOR}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, 20*time.Millisecond, func() (bool, string) {
		byClass, err := rc.ListRepairs(teacher, &assetsv1.ListRepairsRequest{SchoolId: "s1", ClassName: "三年级2班"})
		if err != nil {
			return false, err.Error()
		}
		byAsset, err := rc.ListRepairs(teacher, &assetsv1.ListRepairsRequest{SchoolId: "s1", AssetId: asset.AssetId})
		if err != nil {
			return false, err.Error()
		}
		if len(byClass.Repairs) != 2 || len(byAsset.Repairs) != 1 {
			return false, fmt.Sprintf("by class %d, by asset %d", len(byClass.Repairs), len(byAsset.Repairs))
		}
		a := byAsset.Repairs[0]
		return a.Status == assetsv1.RepairStatus_REPAIR_STATUS_COMPLETED && a.CostFen == 32000 && a.Assignee == "张师傅" && a.Version == 4,
			fmt.Sprint(a)
	})
	if l, err := rc.ListRepairs(teacher, &assetsv1.ListRepairsRequest{SchoolId: "s1", Limit: 501}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("limit: %v %v", l, err)
	}
}

// The repair clock records a breach by itself, once, even with two service instances.
func TestRepairClockRecordsBreachOnce(t *testing.T) {
	c := testkit.NewClock(time.Now())
	withClock := func(cfg *service.Config) { cfg.Now, cfg.RepairClock = c.Now, 20*time.Millisecond }
	e := startWith(t, withClock)
	e.school(t, "s1")
	rc := e.repairs()
	teacher, director := e.as(t, auth.RoleTeacher, "s1"), e.as(t, auth.RoleLogisticsDirector, "s1")
	report := func(req string, sev assetsv1.RepairSeverity) string {
		t.Helper()
		r, err := rc.ReportRepair(teacher, &assetsv1.ReportRepairRequest{RequestId: req, SchoolId: "s1", Location: "食堂",
			ClassName: "食堂", Description: "水管漏水", Severity: sev})
		if err != nil {
			t.Fatal(err)
		}
		return r.RepairId
	}
	late := report("rep-00000001", assetsv1.RepairSeverity_REPAIR_SEVERITY_MAJOR)
	excused := report("rep-00000002", assetsv1.RepairSeverity_REPAIR_SEVERITY_MAJOR)
	minor := report("rep-00000003", assetsv1.RepairSeverity_REPAIR_SEVERITY_MINOR)
	emergency := report("rep-00000004", assetsv1.RepairSeverity_REPAIR_SEVERITY_EMERGENCY)
	// A reason recorded before the deadline excuses it.
	c.Advance(20 * time.Hour)
	if _, err := rc.RecordRepairDelayReason(director, &assetsv1.RecordRepairDelayReasonRequest{RequestId: "del-00000001",
		SchoolId: "s1", RepairId: excused, Reason: assetsv1.RepairDelayReason_REPAIR_DELAY_REASON_OUTSIDE_VENDOR, Note: "需厂家上门"}); err != nil {
		t.Fatal(err)
	}
	// A second instance on the same database and bus runs its own clock.
	second := startWith(t, func(cfg *service.Config) {
		withClock(cfg)
		cfg.DatabaseURL, cfg.NatsURL = e.cfg.DatabaseURL, e.cfg.NatsURL
	})
	// The emergency's on-site clock (30 min) has run out, not yet the 24 h ones.
	testkit.Eventually(t, 10*time.Second, 20*time.Millisecond, func() (bool, string) {
		b := e.breaches(t)
		return len(b) == 1 && b["repair:"+emergency] == 1, fmt.Sprint(b)
	})
	c.Advance(5 * time.Hour)
	testkit.Eventually(t, 10*time.Second, 20*time.Millisecond, func() (bool, string) {
		b := e.breaches(t)
		return b["repair:"+late] == 1 && b["repair:"+emergency] == 2, fmt.Sprint(b)
	})
	// Let both clocks look a few more times: nothing is recorded twice, the excused and the
	// minor repair never.
	for range 5 {
		if _, err := second.svc.Repairs().Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		if ok, err := e.svc.Repairs().RecordBreach(context.Background(), "s1", late, "fix"); ok || err != nil {
			t.Fatalf("breach recorded again: %v %v", ok, err)
		}
	}
	time.Sleep(100 * time.Millisecond) // several clock periods of both instances
	b := e.breaches(t)
	if len(b) != 2 || b["repair:"+late] != 1 || b["repair:"+emergency] != 2 || b["repair:"+excused] != 0 || b["repair:"+minor] != 0 {
		t.Fatalf("breaches %v", b)
	}
	got, err := rc.GetRepair(teacher, &assetsv1.GetRepairRequest{SchoolId: "s1", RepairId: emergency})
	if err != nil || fmt.Sprint(got.Repair.Breached) != "[on_site fix]" {
		t.Fatalf("emergency %v %v", got, err)
	}
}

func TestRepairsAuthorizationMatrix(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	e.school(t, "s2")
	testkit.AuthorizationMatrix(t, e.conn, "houqin.assets.v1.RepairsService", e.auth, auth.Table, "s1", "s2")
}
