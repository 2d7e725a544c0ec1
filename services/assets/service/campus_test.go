package service_test

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/auth"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

func TestCampusStructureAndLocations(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	ledger := assetsv1.NewLedgerServiceClient(e.conn)
	dir := e.as(t, auth.RoleLogisticsDirector, "s1")

	// Before the school has rooms or classes, locations are free text (as registerReq's).
	free, err := e.client.RegisterAsset(dir, registerReq("s1", "free-0000001", "ZC-1"))
	if err != nil {
		t.Fatal(err)
	}

	steps := []func() error{
		func() error {
			_, err := ledger.AddBuilding(dir, &assetsv1.AddBuildingRequest{RequestId: "bld-0000001", SchoolId: "s1", Code: "A", Name: "教学楼", Floors: 5})
			return err
		},
		func() error {
			_, err := ledger.AddRoom(dir, &assetsv1.AddRoomRequest{RequestId: "room-0000001", SchoolId: "s1", Code: "A301", Building: "A",
				Name: "301教室", Kind: assetsv1.RoomKind_ROOM_KIND_CLASSROOM, Floor: 3})
			return err
		},
		func() error {
			_, err := ledger.AddClass(e.as(t, auth.RoleBureauAdmin, ""), &assetsv1.AddClassRequest{RequestId: "class-0000001", SchoolId: "s1",
				Code: "2023-02", Name: "初二(2)班", Grade: "初二", HeadTeacher: "王老师", Room: "A301"})
			return err
		},
		func() error {
			_, err := ledger.AddDepartment(dir, &assetsv1.AddDepartmentRequest{RequestId: "dept-0000001", SchoolId: "s1", Code: "JWC", Name: "教务处", Head: "李主任"})
			return err
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	campus, err := ledger.GetCampus(e.as(t, auth.RoleTeacher, "s1"), &assetsv1.GetCampusRequest{SchoolId: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(campus.Buildings) != 1 || len(campus.Rooms) != 1 || campus.Rooms[0].Kind != assetsv1.RoomKind_ROOM_KIND_CLASSROOM ||
		len(campus.Classes) != 1 || campus.Classes[0].HeadTeacher != "王老师" || campus.Classes[0].Room != "A301" ||
		len(campus.Departments) != 1 || campus.Version != 5 {
		t.Fatalf("campus %v", campus)
	}

	// From now on a location is a room or class of the school.
	req := registerReq("s1", "room-asset-01", "ZC-2")
	req.Location = "A301"
	res, err := e.client.RegisterAsset(dir, req)
	if err != nil {
		t.Fatal(err)
	}
	req = registerReq("s1", "free-0000002", "ZC-3")
	if _, err := e.client.RegisterAsset(dir, req); reason(err) != "LOCATION_UNKNOWN" {
		t.Fatalf("free text after the campus is set up: %v", err)
	}
	move := func(id, asset, to string) error {
		_, err := e.client.TransferAsset(dir, &assetsv1.TransferAssetRequest{RequestId: id, SchoolId: "s1", AssetId: asset, ToLocation: to, Reason: "调整"})
		return err
	}
	if err := move("move-0000001", res.AssetId, "2023-02"); err != nil {
		t.Fatal(err)
	}
	if err := move("move-0000002", res.AssetId, "图书馆"); reason(err) != "LOCATION_UNKNOWN" {
		t.Fatalf("transfer to free text: %v", err)
	}
	// An asset registered with free text before moves into the structure.
	if err := move("move-0000003", free.AssetId, "A301"); err != nil {
		t.Fatal(err)
	}
	got, _ := e.client.GetAsset(dir, &assetsv1.GetAssetRequest{SchoolId: "s1", AssetId: free.AssetId})
	if got.GetAsset().GetLocation() != "A301" {
		t.Fatalf("moved asset %v", got.GetAsset())
	}

	// Refusals.
	_, err = ledger.AddRoom(dir, &assetsv1.AddRoomRequest{RequestId: "room-0000002", SchoolId: "s1", Code: "B101", Building: "B",
		Name: "实验室", Kind: assetsv1.RoomKind_ROOM_KIND_LAB})
	if reason(err) != "BUILDING_UNKNOWN" {
		t.Fatalf("room in an unknown building: %v", err)
	}
	_, err = ledger.AddClass(dir, &assetsv1.AddClassRequest{RequestId: "class-0000002", SchoolId: "s1", Code: "A301",
		Name: "初一(1)班", Grade: "初一", HeadTeacher: "赵老师"})
	if reason(err) != "CAMPUS_CODE_TAKEN" {
		t.Fatalf("class with a room's code: %v", err)
	}
	_, err = ledger.AddRoom(dir, &assetsv1.AddRoomRequest{RequestId: "x", SchoolId: "s1", Code: "B 1"})
	if status.Code(err) != codes.InvalidArgument || fmt.Sprint(fields(err)) != "[building code kind name request_id]" {
		t.Fatalf("invalid room: %v %v", err, fields(err))
	}
	_, err = ledger.AddBuilding(e.as(t, auth.RoleLogisticsDirector, "s9"), &assetsv1.AddBuildingRequest{RequestId: "bld-0000009",
		SchoolId: "s9", Code: "A", Name: "教学楼"})
	if reason(err) != "SCHOOL_NOT_REGISTERED" {
		t.Fatalf("unregistered school: %v", err)
	}
	_, err = ledger.AddBuilding(e.as(t, auth.RoleTeacher, "s1"), &assetsv1.AddBuildingRequest{RequestId: "bld-0000002",
		SchoolId: "s1", Code: "C", Name: "实验楼"})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("teacher adding a building: %v", err)
	}
}

// Once a school has departments, a department named anywhere must be one of them (code or
// name); a class's head teacher changes from a date.
func TestDepartmentsAndHeadTeacher(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	ledger := assetsv1.NewLedgerServiceClient(e.conn)
	dir := e.as(t, auth.RoleLogisticsDirector, "s1")
	req := registerReq("s1", "dept-asset-01", "ZC-1")
	req.Department = "总务处"
	if _, err := e.client.RegisterAsset(dir, req); err != nil {
		t.Fatalf("free-text department before any is declared: %v", err)
	}
	// Registering right after declaring a department finds it (the cached school is looked up
	// afresh when it lacks the department).
	if _, err := ledger.AddDepartment(dir, &assetsv1.AddDepartmentRequest{RequestId: "dept-0000001", SchoolId: "s1", Code: "JWC", Name: "教务处"}); err != nil {
		t.Fatal(err)
	}
	req = registerReq("s1", "dept-asset-02", "ZC-2")
	req.Department = "JWC"
	res, err := e.client.RegisterAsset(dir, req)
	if err != nil {
		t.Fatal(err)
	}
	req = registerReq("s1", "dept-asset-03", "ZC-3")
	req.Department = "总务处"
	if _, err := e.client.RegisterAsset(dir, req); reason(err) != "DEPARTMENT_UNKNOWN" || status.Code(err) != codes.FailedPrecondition {
		t.Fatalf("undeclared department: %v", err)
	}
	_, err = e.client.TransferAsset(dir, &assetsv1.TransferAssetRequest{RequestId: "dept-move-01", SchoolId: "s1", AssetId: res.AssetId, ToDepartment: "体育组"})
	if reason(err) != "DEPARTMENT_UNKNOWN" {
		t.Fatalf("transfer to an undeclared department: %v", err)
	}
	_, err = assetsv1.NewRequisitionServiceClient(e.conn).SubmitRequisition(e.as(t, auth.RoleTeacher, "s1"), &assetsv1.SubmitRequisitionRequest{
		RequestId: "dept-requisition", SchoolId: "s1", Requester: "张老师", Department: "语文组", Items: []*assetsv1.RequestedItem{{Item: "粉笔", Quantity: 1}}})
	if reason(err) != "DEPARTMENT_UNKNOWN" {
		t.Fatalf("requisition of an undeclared department: %v", err)
	}
	_, err = assetsv1.NewClearanceServiceClient(e.conn).StartClearance(dir, &assetsv1.StartClearanceRequest{RequestId: "dept-clearance",
		SchoolId: "s1", Person: "李老师", Department: "数学组", LeavingOn: "2030-07-01"})
	if reason(err) != "DEPARTMENT_UNKNOWN" {
		t.Fatalf("clearance of an undeclared department: %v", err)
	}

	// Head teacher.
	if _, err := ledger.AddClass(dir, &assetsv1.AddClassRequest{RequestId: "class-0000001", SchoolId: "s1", Code: "2023-02",
		Name: "初二(2)班", Grade: "初二", HeadTeacher: "王老师"}); err != nil {
		t.Fatal(err)
	}
	change := func(ctx context.Context, rid, head, on string, expected int64) (*assetsv1.ChangeHeadTeacherResponse, error) {
		return ledger.ChangeHeadTeacher(ctx, &assetsv1.ChangeHeadTeacherRequest{RequestId: rid, SchoolId: "s1", ClassCode: "2023-02",
			HeadTeacher: head, EffectiveOn: on, Reason: "王老师休产假", ExpectedVersion: expected})
	}
	if _, err := change(e.as(t, auth.RoleTeacher, "s1"), "head-0000001", "赵老师", "2025-02-17", 0); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("teacher changing the head teacher: %v", err)
	}
	campus, err := ledger.GetCampus(dir, &assetsv1.GetCampusRequest{SchoolId: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := change(dir, "head-0000002", "赵老师", "2025-02-17", campus.Version-1); status.Code(err) != codes.Aborted {
		t.Fatalf("stale expected version: %v", err)
	}
	ok, err := change(dir, "head-0000003", "赵老师", "2025-02-17", campus.Version)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := change(dir, "head-0000003", "赵老师", "2025-02-17", campus.Version); err != nil || again.Version != ok.Version {
		t.Fatalf("repeat: %v %v", again, err)
	}
	if _, err := change(dir, "head-0000004", "钱老师", "2025-01-01", 0); reason(err) != "HEAD_TEACHER_CHANGE_BEFORE_LAST" {
		t.Fatalf("change dated before the last: %v", err)
	}
	if _, err := change(dir, "head-0000005", "", "2025/02/17", 0); status.Code(err) != codes.InvalidArgument ||
		fmt.Sprint(fields(err)) != "[effective_on head_teacher]" {
		t.Fatalf("invalid change: %v %v", err, fields(err))
	}
	campus, _ = ledger.GetCampus(e.as(t, auth.RoleTeacher, "s1"), &assetsv1.GetCampusRequest{SchoolId: "s1"})
	if k := campus.GetClasses(); len(k) != 1 || k[0].HeadTeacher != "赵老师" || k[0].HeadTeacherSince != "2025-02-17" || campus.Version != ok.Version {
		t.Fatalf("campus %v", campus)
	}
}
