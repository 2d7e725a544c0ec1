package domain

import (
	"testing"

	"google.golang.org/protobuf/proto"

	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

func school(events ...proto.Message) School {
	s := EvolveSchool(School{}, &eventsv1.SchoolRegistered{SchoolId: "s1", Name: "石牌中学", Kind: "middle"})
	for _, e := range events {
		s = EvolveSchool(s, e)
	}
	return s
}

func campusEvent(ev []proto.Message, err error) proto.Message {
	if err != nil || len(ev) != 1 {
		panic(err)
	}
	return ev[0]
}

func campus(t *testing.T) School {
	t.Helper()
	b := campusEvent(DecideAddBuilding(school(), AddBuilding{Code: "A", Name: "教学楼", Floors: 5}))
	r := campusEvent(DecideAddRoom(school(b), AddRoom{Code: "A301", Building: "A", Name: "三(2)班教室", Kind: "classroom", Floor: 3}))
	k := campusEvent(DecideAddClass(school(b, r), AddClass{Code: "2023-02", Name: "初二(2)班", Grade: "初二", HeadTeacher: "王老师", Room: "A301"}))
	d := campusEvent(DecideAddDepartment(school(b, r, k), AddDepartment{Code: "JWC", Name: "教务处", Head: "李主任"}))
	return school(b, r, k, d)
}

func TestCampus(t *testing.T) {
	s := campus(t)
	if s.Campus.Rooms["A301"].Building != "A" || s.Campus.Classes["2023-02"].HeadTeacher != "王老师" ||
		s.Campus.Departments["JWC"].Name != "教务处" || s.Campus.Buildings["A"].Floors != 5 {
		t.Fatalf("campus %+v", s.Campus)
	}
	for code, want := range map[string][3]string{"A301": {"room", "A", "ok"}, "2023-02": {"class", "", "ok"}, "操场": {"", "", ""}, "A": {"", "", ""}} {
		kind, building, ok := s.Campus.Place(code)
		got := [3]string{kind, building, ""}
		if ok {
			got[2] = "ok"
		}
		if got != want {
			t.Errorf("place %s: %v, want %v", code, got, want)
		}
	}
	if _, _, ok := school().Campus.Place("操场东侧"); !ok {
		t.Error("a school without rooms or classes takes free text")
	}

	// Refusals.
	_, err := DecideAddRoom(s, AddRoom{Code: "A301", Building: "A", Name: "重复", Kind: "lab"})
	wantReason(t, err, ReasonCampusCodeTaken)
	_, err = DecideAddClass(s, AddClass{Code: "A", Name: "初一(1)班", Grade: "初一", HeadTeacher: "赵老师"})
	wantReason(t, err, ReasonCampusCodeTaken) // one name space for all codes
	_, err = DecideAddRoom(s, AddRoom{Code: "B101", Building: "B", Name: "实验室", Kind: "lab"})
	wantReason(t, err, ReasonBuildingUnknown)
	_, err = DecideAddClass(s, AddClass{Code: "2023-03", Name: "初二(3)班", Grade: "初二", HeadTeacher: "赵老师", Room: "A999"})
	wantReason(t, err, ReasonRoomUnknown)
	_, err = DecideAddBuilding(School{ID: "s9"}, AddBuilding{Code: "A", Name: "教学楼"})
	wantReason(t, err, ReasonSchoolUnknown)
	_, err = DecideAddBuilding(s, AddBuilding{Code: "A B", Name: "", Floors: 101})
	wantViolations(t, err, "code", "name", "floors")
	_, err = DecideAddRoom(s, AddRoom{Code: "", Building: "", Name: "", Kind: "garage", Floor: -6})
	wantViolations(t, err, "code", "building", "name", "kind", "floor")
	_, err = DecideAddClass(s, AddClass{Code: "2023-09", Name: "班", Grade: "", HeadTeacher: "", Room: "A 1"})
	wantViolations(t, err, "name", "grade", "head_teacher", "room")
	_, err = DecideAddDepartment(s, AddDepartment{Code: "", Name: "处"})
	wantViolations(t, err, "code", "name")
}

// Once a school has rooms or classes, an asset's location is one of them, and the event says
// which kind and building; a free-text location is refused.
func TestRegistrationAndTransferLocation(t *testing.T) {
	s := campus(t)
	r := rulesAt(today)
	r.Campus = s.Campus
	c := validRegister()
	c.Location = "A301"
	ev, err := DecideRegisterAsset(given(), c, r)
	if err != nil {
		t.Fatal(err)
	}
	e := ev[0].(*eventsv1.AssetRegistered)
	if e.LocationKind != "room" || e.Building != "A" || e.Location != "A301" {
		t.Fatalf("event %v", e)
	}
	c.Location = "2023-02"
	ev, _ = DecideRegisterAsset(given(), c, r)
	if e := ev[0].(*eventsv1.AssetRegistered); e.LocationKind != "class" || e.Building != "" {
		t.Fatalf("event %v", e)
	}
	c.Location = "教学楼301"
	_, err = DecideRegisterAsset(given(), c, r)
	wantReason(t, err, ReasonLocationUnknown)

	a := given(ev[0]) // in class 2023-02
	tr, err := DecideTransferAsset(a, TransferAsset{ToLocation: "A301"}, s.Campus, today)
	if err != nil {
		t.Fatal(err)
	}
	if x := tr[0].(*eventsv1.AssetTransferred); x.ToLocationKind != "room" || x.ToBuilding != "A" || x.FromLocation != "2023-02" {
		t.Fatalf("transfer %v", x)
	}
	if moved := EvolveAsset(a, tr[0]); moved.LocationKind != "room" || moved.Building != "A" {
		t.Fatalf("evolved %+v", moved)
	}
	_, err = DecideTransferAsset(a, TransferAsset{ToLocation: "图书馆"}, s.Campus, today)
	wantReason(t, err, ReasonLocationUnknown)
	// A custodian change keeps the location and what it names.
	tr, err = DecideTransferAsset(a, TransferAsset{ToCustodian: "周老师"}, s.Campus, today)
	if x := tr[0].(*eventsv1.AssetTransferred); err != nil || x.ToLocationKind != "class" || x.ToLocation != "2023-02" {
		t.Fatalf("custodian change %v %v", x, err)
	}
}

// Once a school has departments, what assets, transfers, requisitions and clearances name as
// a department is one of them, by code or by name; before that, free text is kept.
func TestDepartmentsOnceDeclared(t *testing.T) {
	s := campus(t) // department JWC 教务处
	r := rulesAt(today)
	r.Campus = s.Campus
	c := validRegister()
	c.Location = "A301"
	for _, dept := range []string{"JWC", "教务处", ""} {
		c.Department = dept
		if _, err := DecideRegisterAsset(given(), c, r); err != nil {
			t.Fatalf("department %q: %v", dept, err)
		}
	}
	c.Department = "总务处"
	_, err := DecideRegisterAsset(given(), c, r)
	wantReason(t, err, ReasonDepartmentUnknown)
	free := rulesAt(today) // a school without departments
	if _, err := DecideRegisterAsset(given(), validRegister(), free); err != nil {
		t.Fatalf("free text without departments: %v", err)
	}

	c.Department = "JWC"
	ev, _ := DecideRegisterAsset(given(), c, r)
	a := given(ev[0])
	_, err = DecideTransferAsset(a, TransferAsset{ToDepartment: "体育组"}, s.Campus, today)
	wantReason(t, err, ReasonDepartmentUnknown)
	if _, err := DecideTransferAsset(a, TransferAsset{ToDepartment: "教务处"}, s.Campus, today); err != nil {
		t.Fatalf("to a department by name: %v", err)
	}
	// A department declared later does not stop other changes of an asset that names none.
	old := given(ev[0])
	old.Department = "旧部门"
	if _, err := DecideTransferAsset(old, TransferAsset{ToCustodian: "周老师"}, s.Campus, today); err != nil {
		t.Fatalf("custodian change keeping an old department: %v", err)
	}

	_, err = DecideSubmitRequisition(Requisition{}, SubmitRequisition{RequisitionID: "r1", Requester: "张老师", Department: "语文组",
		Lines: []RequisitionLine{{Item: "粉笔", Requested: 1}}}, s.Campus, today)
	wantReason(t, err, ReasonDepartmentUnknown)
	if _, err := DecideSubmitRequisition(Requisition{}, SubmitRequisition{RequisitionID: "r1", Requester: "张老师", Department: "JWC",
		Lines: []RequisitionLine{{Item: "粉笔", Requested: 1}}}, s.Campus, today); err != nil {
		t.Fatal(err)
	}
	_, err = DecideStartClearance(Clearance{}, StartClearance{ClearanceID: "c1", Person: "李老师", Department: "数学组", LeavingOn: "2025-03-31"}, s.Campus)
	wantReason(t, err, ReasonDepartmentUnknown)
	if _, err := DecideStartClearance(Clearance{}, StartClearance{ClearanceID: "c1", Person: "李老师", Department: "教务处", LeavingOn: "2025-03-31"}, s.Campus); err != nil {
		t.Fatal(err)
	}

	// Transfers between schools: the receiving school's departments judge to_department, at
	// the request and again when the receiving school registers the asset.
	to := s
	to.ID = "s2"
	req := RequestSchoolTransfer{TransferID: "t1", ToSchool: "s2", Reason: "学校合并", ToLocation: "A301", ToCustodian: "刘老师", ToDepartment: "总务处"}
	_, err = DecideRequestSchoolTransfer(given(ev[0]), req, to, today)
	wantReason(t, err, ReasonDepartmentUnknown)
	req.ToDepartment = ""
	tr, err := DecideRequestSchoolTransfer(given(ev[0]), req, to, today)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecideApproveSchoolTransfer(given(ev[0], tr[0]), "t1", "局长", "to-1", today)
	if err != nil {
		t.Fatal(err)
	}
	origin := given(ev[0], tr[0], out[0])
	origin.SchoolTransfer.ToDepartment = "总务处" // as if requested before s2 declared departments
	_, err = DecideTransferIn(Asset{}, origin, to.Campus)
	wantReason(t, err, ReasonDepartmentUnknown)
}

// A class's head teacher changes from a date; the changes follow one another in date order.
func TestChangeHeadTeacher(t *testing.T) {
	s := campus(t) // class 2023-02, 王老师
	ev, err := DecideChangeHeadTeacher(s, ChangeHeadTeacher{Class: "2023-02", HeadTeacher: "赵老师", EffectiveOn: "2025-02-17", Reason: "王老师休产假"}, today)
	if err != nil {
		t.Fatal(err)
	}
	e := ev[0].(*eventsv1.HeadTeacherChanged)
	if e.ClassCode != "2023-02" || e.FromHeadTeacher != "王老师" || e.ToHeadTeacher != "赵老师" || e.EffectiveOn != "2025-02-17" {
		t.Fatalf("event %v", e)
	}
	s2 := EvolveSchool(s, e)
	if k := s2.Campus.Classes["2023-02"]; k.HeadTeacher != "赵老师" || k.HeadTeacherSince != "2025-02-17" || k.Room != "A301" || k.Name != "初二(2)班" {
		t.Fatalf("class %+v", k)
	}
	if s.Campus.Classes["2023-02"].HeadTeacher != "王老师" {
		t.Fatal("evolve changed the earlier state's map")
	}

	_, err = DecideChangeHeadTeacher(s2, ChangeHeadTeacher{Class: "2023-02", HeadTeacher: "赵老师", EffectiveOn: "2025-03-01"}, today)
	wantReason(t, err, ReasonHeadTeacherUnchanged)
	_, err = DecideChangeHeadTeacher(s2, ChangeHeadTeacher{Class: "2023-02", HeadTeacher: "王老师", EffectiveOn: "2025-02-16"}, today)
	wantReason(t, err, ReasonHeadTeacherChangeOutOfOrder)
	if _, err := DecideChangeHeadTeacher(s2, ChangeHeadTeacher{Class: "2023-02", HeadTeacher: "王老师", EffectiveOn: "2025-02-17"}, today); err != nil {
		t.Fatalf("a second change the same day: %v", err)
	}
	_, err = DecideChangeHeadTeacher(s2, ChangeHeadTeacher{Class: "2023-09", HeadTeacher: "王老师", EffectiveOn: "2025-02-17"}, today)
	wantReason(t, err, ReasonClassUnknown)
	_, err = DecideChangeHeadTeacher(School{ID: "s9"}, ChangeHeadTeacher{Class: "2023-02", HeadTeacher: "王老师", EffectiveOn: "2025-02-17"}, today)
	wantReason(t, err, ReasonSchoolUnknown)
	_, err = DecideChangeHeadTeacher(s2, ChangeHeadTeacher{Class: "", HeadTeacher: "", EffectiveOn: "17/02/2025"}, today)
	wantViolations(t, err, "class_code", "head_teacher", "effective_on")
	_, err = DecideChangeHeadTeacher(s2, ChangeHeadTeacher{Class: "2023-02", HeadTeacher: "钱老师", EffectiveOn: FormatDay(today.AddDate(0, 0, 1))}, today)
	wantViolations(t, err, "effective_on")
}
