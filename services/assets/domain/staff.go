package domain

import (
	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Staff is a person of a school's staff directory (教职工名册), known by staff number (工号):
// names are for people to read, and two 张伟 in one school are two people.
type Staff struct {
	No, Name, Department string
	// LeftOn is the YYYY-MM-DD from which the person is no longer staff ("" while current).
	LeftOn string
}

// Reasons of staff refusals.
const (
	// 人员须为本校在职教职工（学校建立教职工名册之后）.
	ReasonStaffUnknown errs.Reason = "STAFF_UNKNOWN"
	// 同名教职工不止一人，须填工号.
	ReasonStaffAmbiguous errs.Reason = "STAFF_AMBIGUOUS"
	// 工号已被本校使用.
	ReasonStaffNoTaken errs.Reason = "STAFF_NO_TAKEN"
	// 该教职工已登记离校.
	ReasonStaffAlreadyLeft errs.Reason = "STAFF_ALREADY_LEFT"
)

// HasStaff reports whether the school keeps a staff directory: from then on, the people
// custody, lending and clearance name must be its staff.
func (c Campus) HasStaff() bool { return len(c.Staff) > 0 }

// current reports whether st is staff on day (YYYY-MM-DD; "" any day, left or not).
func (st Staff) current(day string) bool { return day == "" || st.LeftOn == "" || day < st.LeftOn }

// Person resolves a person a command names — name (kept for display) and, optionally, staff
// number — against the staff directory on day ("" also accepts people who have left). A school
// without a directory keeps the name as written (staff number ""); with one, the person must
// be a member: by number (whose name must be the one written), or by a name only one current
// member has. nameField and noField are the request's field names.
func (c Campus) Person(nameField, noField, name, no, day string) (Staff, error) {
	if !c.HasStaff() {
		if no != "" {
			return Staff{}, errs.Rule(ReasonStaffUnknown, "本校尚无教职工名册，不能填工号 / the school keeps no staff directory yet",
				noField, no)
		}
		return Staff{Name: name}, nil
	}
	if no != "" {
		st, ok := c.Staff[no]
		if !ok || !st.current(day) {
			return Staff{}, errs.Rule(ReasonStaffUnknown, "工号不是本校在职教职工 / the staff number is not one of the school's current staff",
				noField, no)
		}
		if name != "" && name != st.Name {
			return Staff{}, errs.Rule(ReasonStaffUnknown, "姓名与工号不符 / the name is not the name of that staff number",
				nameField, name, "staff_name", st.Name)
		}
		return st, nil
	}
	var found []Staff
	for _, st := range c.Staff {
		if st.Name == name && st.current(day) {
			found = append(found, st)
		}
	}
	switch len(found) {
	case 0:
		return Staff{}, errs.Rule(ReasonStaffUnknown, "不是本校在职教职工 / not one of the school's current staff", nameField, name)
	case 1:
		return found[0], nil
	}
	return Staff{}, errs.Rule(ReasonStaffAmbiguous, "本校同名教职工不止一人，请填工号 / more than one of the school's staff has this name: give the staff number",
		nameField, name)
}

// AddStaff 新增教职工.
type AddStaff struct {
	No, Name, Department string
}

// DecideAddStaff decides AddStaff: a new staff number of a registered school; the department,
// if any, must be one the school declared.
func DecideAddStaff(s School, c AddStaff) ([]proto.Message, error) {
	var k checker
	k.code("staff_no", c.No)
	k.text("name", c.Name, 1, 60)
	k.text("department", c.Department, 0, 60)
	if err := k.v.Err(); err != nil {
		return nil, err
	}
	if !s.Registered {
		return nil, errs.Rule(ReasonSchoolUnknown, "学校未在本区登记 / the school is not registered in the district", "school_id", s.ID)
	}
	if _, taken := s.Campus.Staff[c.No]; taken {
		return nil, errs.Rule(ReasonStaffNoTaken, "该工号已被本校使用 / the school already uses this staff number", "staff_no", c.No)
	}
	if err := checkDepartment(s.Campus, "department", c.Department); err != nil {
		return nil, err
	}
	return []proto.Message{&eventsv1.StaffAdded{StaffNo: c.No, Name: c.Name, Department: c.Department}}, nil
}

// RecordStaffLeft 教职工离校.
type RecordStaffLeft struct {
	No, LeftOn string
}

// DecideRecordStaffLeft decides RecordStaffLeft: a current member leaves from LeftOn (a past
// or a coming date: a transfer is often known ahead).
func DecideRecordStaffLeft(s School, c RecordStaffLeft) ([]proto.Message, error) {
	var k checker
	k.code("staff_no", c.No)
	if _, ok := ParseDay(c.LeftOn); !ok {
		k.v.Add("left_on", "日期格式须为YYYY-MM-DD / date must be YYYY-MM-DD")
	}
	if err := k.v.Err(); err != nil {
		return nil, err
	}
	st, ok := s.Campus.Staff[c.No]
	if !ok {
		return nil, errs.Rule(ReasonStaffUnknown, "工号不是本校教职工 / the staff number is not one of the school's staff", "staff_no", c.No)
	}
	if st.LeftOn != "" {
		return nil, errs.Rule(ReasonStaffAlreadyLeft, "该教职工已登记离校 / the person's leaving is recorded already", "left_on", st.LeftOn)
	}
	return []proto.Message{&eventsv1.StaffLeft{StaffNo: c.No, Name: st.Name, LeftOn: c.LeftOn}}, nil
}

// SortedStaff lists the staff directory by staff number.
func (c Campus) SortedStaff() []Staff {
	return sorted(c.Staff, func(s Staff) string { return s.No })
}
