package domain

import (
	"testing"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// staffed is the campus with a staff directory: two 张伟 (T001 in 教务处, T002), 王老师 (T003),
// and 李老师 (T004) who left on 2025-03-01.
func staffed(t *testing.T) School {
	t.Helper()
	s := campus(t)
	for _, c := range []AddStaff{{No: "T001", Name: "张伟", Department: "JWC"}, {No: "T002", Name: "张伟"},
		{No: "T003", Name: "王老师"}, {No: "T004", Name: "李老师", Department: "教务处"}} {
		ev, err := DecideAddStaff(s, c)
		if err != nil {
			t.Fatalf("add %v: %v", c, err)
		}
		s = EvolveSchool(s, ev[0])
	}
	ev, err := DecideRecordStaffLeft(s, RecordStaffLeft{No: "T004", LeftOn: "2025-03-01"})
	if err != nil {
		t.Fatal(err)
	}
	if e := ev[0].(*eventsv1.StaffLeft); e.Name != "李老师" || e.LeftOn != "2025-03-01" {
		t.Fatalf("left: %v", e)
	}
	return EvolveSchool(s, ev[0])
}

func TestStaffDirectory(t *testing.T) {
	s := staffed(t)
	// Bad input, every field at once.
	_, err := DecideAddStaff(s, AddStaff{No: "T 1", Name: "", Department: string(make([]rune, 61))})
	if iv, ok := errs.As[*errs.InvalidError](err); !ok || len(iv.Violations) != 3 {
		t.Fatalf("bad input: %v", err)
	}
	_, err = DecideAddStaff(s, AddStaff{No: "T001", Name: "张伟"})
	wantReason(t, err, ReasonStaffNoTaken)
	_, err = DecideAddStaff(s, AddStaff{No: "T009", Name: "赵老师", Department: "体育组"})
	wantReason(t, err, ReasonDepartmentUnknown)
	_, err = DecideAddStaff(School{ID: "s9"}, AddStaff{No: "T001", Name: "张伟"})
	wantReason(t, err, ReasonSchoolUnknown)
	_, err = DecideRecordStaffLeft(s, RecordStaffLeft{No: "T004", LeftOn: "2025-03-05"})
	wantReason(t, err, ReasonStaffAlreadyLeft)
	_, err = DecideRecordStaffLeft(s, RecordStaffLeft{No: "T404", LeftOn: "2025-03-05"})
	wantReason(t, err, ReasonStaffUnknown)
	_, err = DecideRecordStaffLeft(s, RecordStaffLeft{No: "T003", LeftOn: "3/5/2025"})
	if _, ok := errs.As[*errs.InvalidError](err); !ok {
		t.Fatalf("bad date: %v", err)
	}
}

// Once a school has a staff directory, the people that custody, lending and clearance name
// are its staff, by number or by a name only one current member has.
func TestPeopleAreStaffOnceTheSchoolHasADirectory(t *testing.T) {
	s := staffed(t)
	c := s.Campus
	for _, x := range []struct {
		name, no, day string
		want          string
		reason        errs.Reason
	}{
		{"张伟", "T002", "2025-03-10", "T002", ""},
		{"", "T001", "2025-03-10", "T001", ""}, // the number alone
		{"王老师", "", "2025-03-10", "T003", ""},  // one 王老师: found by name
		{"张伟", "", "2025-03-10", "", ReasonStaffAmbiguous},
		{"王老师", "T001", "2025-03-10", "", ReasonStaffUnknown}, // name and number disagree
		{"陈老师", "", "2025-03-10", "", ReasonStaffUnknown},
		{"李老师", "", "2025-03-10", "", ReasonStaffUnknown}, // left on 03-01
		{"李老师", "T004", "2025-02-28", "T004", ""},         // the day before
		{"李老师", "", "", "T004", ""},                       // any day: a clearance
		{"王老师", "T404", "2025-03-10", "", ReasonStaffUnknown},
	} {
		st, err := c.Person("person", "staff_no", x.name, x.no, x.day)
		if x.reason != "" {
			wantReason(t, err, x.reason)
			continue
		}
		if err != nil || st.No != x.want {
			t.Errorf("%s %s on %s: %v %v, want %s", x.name, x.no, x.day, st, err, x.want)
		}
	}
	// Without a directory names are kept, and a number is refused.
	if st, err := (Campus{}).Person("person", "staff_no", "张伟", "", "2025-03-10"); err != nil || st.No != "" || st.Name != "张伟" {
		t.Fatalf("no directory: %v %v", st, err)
	}
	_, err := (Campus{}).Person("person", "staff_no", "张伟", "T001", "2025-03-10")
	wantReason(t, err, ReasonStaffUnknown)

	// Registration: the custodian's number is on the event.
	r := rulesAt(today)
	r.Campus = c
	reg := validRegister()
	reg.Location, reg.Department, reg.Custodian, reg.CustodianStaffNo = "A301", "JWC", "张伟", "T001"
	ev, err := DecideRegisterAsset(given(), reg, r)
	if err != nil || ev[0].(*eventsv1.AssetRegistered).CustodianStaffNo != "T001" {
		t.Fatalf("register: %v %v", ev, err)
	}
	reg.CustodianStaffNo = ""
	_, err = DecideRegisterAsset(given(), reg, r)
	wantReason(t, err, ReasonStaffAmbiguous)

	// Transfer: the new custodian, by number; the other 张伟 is a change of custodian though
	// the name stays.
	held := given(ev[0])
	tr, err := DecideTransferAsset(held, TransferAsset{ToCustodian: "张伟", ToCustodianStaffNo: "T002"}, c, today)
	if err != nil {
		t.Fatal(err)
	}
	if e := tr[0].(*eventsv1.AssetTransferred); e.FromCustodianStaffNo != "T001" || e.ToCustodianStaffNo != "T002" ||
		given(ev[0], e).CustodianStaffNo != "T002" {
		t.Fatalf("transfer %v", e)
	}
	_, err = DecideTransferAsset(held, TransferAsset{ToCustodian: "张伟"}, c, today)
	wantReason(t, err, ReasonStaffAmbiguous)
	_, err = DecideTransferAsset(held, TransferAsset{ToCustodian: "陈老师"}, c, today)
	wantReason(t, err, ReasonStaffUnknown)
	tr, err = DecideTransferAsset(held, TransferAsset{ToCustodianStaffNo: "T003"}, c, today) // the number alone
	if err != nil || tr[0].(*eventsv1.AssetTransferred).ToCustodian != "王老师" {
		t.Fatalf("transfer by number: %v %v", tr, err)
	}

	// Requisition: the requester, and the issue to them.
	sub := SubmitRequisition{RequisitionID: "r1", Requester: "张伟", RequesterStaffNo: "T002", Lines: []RequisitionLine{{Item: "卷尺", Requested: 1, Returnable: true}}}
	rq, err := DecideSubmitRequisition(Requisition{}, sub, c, today)
	if err != nil || rq[0].(*eventsv1.RequisitionSubmitted).RequesterStaffNo != "T002" {
		t.Fatalf("requisition: %v %v", rq, err)
	}
	if got := EvolveRequisition(Requisition{}, rq[0]); got.RequesterStaffNo != "T002" {
		t.Fatalf("requisition state %v", got)
	}
	sub.RequesterStaffNo = ""
	_, err = DecideSubmitRequisition(Requisition{}, sub, c, today)
	wantReason(t, err, ReasonStaffAmbiguous)

	// Lending: the borrower.
	a := given(registered())
	lend := LendAsset{LoanID: "l1", Borrower: "张伟", BorrowerStaffNo: "T002", DueOn: "2025-03-20"}
	ev, err = DecideLendAsset(a, lend, c, today, custodyPolicy)
	if err != nil || ev[0].(*eventsv1.AssetLent).BorrowerStaffNo != "T002" {
		t.Fatalf("lend: %v %v", ev, err)
	}
	lend.Borrower, lend.BorrowerStaffNo = "李老师", ""
	_, err = DecideLendAsset(a, lend, c, today, custodyPolicy)
	wantReason(t, err, ReasonStaffUnknown)

	// Clearance: by number, a person who has left too; the number is on the event and the state.
	cl := StartClearance{ClearanceID: "c1", Person: "李老师", LeavingOn: "2025-03-01"}
	ev, err = DecideStartClearance(Clearance{}, cl, c)
	if err != nil || ev[0].(*eventsv1.ClearanceStarted).StaffNo != "T004" {
		t.Fatalf("clearance: %v %v", ev, err)
	}
	if got := EvolveClearance(Clearance{}, ev[0]); got.StaffNo != "T004" {
		t.Fatalf("clearance state %v", got)
	}
	_, err = DecideStartClearance(Clearance{}, StartClearance{ClearanceID: "c2", Person: "张伟", LeavingOn: "2025-03-31"}, c)
	wantReason(t, err, ReasonStaffAmbiguous)
}
