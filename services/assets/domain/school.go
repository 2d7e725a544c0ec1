package domain

import (
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/district"
	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// School kinds (学段).
var SchoolKinds = map[string]string{
	"kindergarten": "幼儿园",
	"primary":      "小学",
	"middle":       "初中",
	"high":         "高中",
	"nine_year":    "九年一贯制",
}

// School is a school of the district.
type School struct {
	ID         string
	Name       string
	Kind       string
	Boarding   bool
	Registered bool
	// Campus is the school's buildings, rooms, classes and departments (campus.go).
	Campus Campus
}

// EvolveSchool folds one event into a school.
func EvolveSchool(s School, m proto.Message) School {
	if e, ok := m.(*eventsv1.SchoolRegistered); ok {
		return School{ID: e.SchoolId, Name: e.Name, Kind: e.Kind, Boarding: e.Boarding, Registered: true}
	}
	return evolveCampus(s, m)
}

// RegisterSchool adds a school to the district.
type RegisterSchool struct {
	SchoolID string
	Name     string
	Kind     string
	Boarding bool
}

// Reasons of school refusals.
const ReasonSchoolExists errs.Reason = "SCHOOL_ALREADY_REGISTERED"

// DecideRegisterSchool decides RegisterSchool.
func DecideRegisterSchool(s School, c RegisterSchool) ([]proto.Message, error) {
	var v errs.Violations
	if c.SchoolID == district.SchoolID {
		v.Add("school_id", "该编号保留给全区数据 / this id is reserved for district-wide data")
	}
	if n := utf8.RuneCountInString(c.Name); n < 2 || n > 60 {
		v.Add("name", "校名须为2–60个字 / name must be 2–60 characters")
	}
	if _, ok := SchoolKinds[c.Kind]; !ok {
		v.Add("kind", "请选择学段 / kind is required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if s.Registered {
		return nil, errs.Rule(ReasonSchoolExists, "该学校已登记 / the school is already registered", "school_id", c.SchoolID)
	}
	return []proto.Message{&eventsv1.SchoolRegistered{SchoolId: c.SchoolID, Name: c.Name, Kind: c.Kind, Boarding: c.Boarding}}, nil
}
