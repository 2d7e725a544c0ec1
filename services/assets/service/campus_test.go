package service_test

import (
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
