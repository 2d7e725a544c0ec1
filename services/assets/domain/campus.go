package domain

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Campus is a school's structure (校舍与班级): buildings, rooms, classes and departments.
type Campus struct {
	Buildings   map[string]Building
	Rooms       map[string]Room
	Classes     map[string]Class
	Departments map[string]Department
	// Staff is the staff directory (教职工名册) by staff number.
	Staff map[string]Staff
}

// Building is a building of the school (楼栋).
type Building struct {
	Code, Name string
	Floors     int
}

// Room is a room (房间) of a building.
type Room struct {
	Code, Building, Name, Kind string
	Floor                      int
}

// Class is a class (班级) with its head teacher (班主任).
type Class struct {
	Code, Name, Grade, HeadTeacher, Room string
	// HeadTeacherSince is the date from which HeadTeacher heads the class ("" since the class
	// was added).
	HeadTeacherSince string
}

// Department is a department of the school (部门).
type Department struct {
	Code, Name, Head string
}

// RoomKinds are the kinds of rooms.
var RoomKinds = map[string]string{
	"classroom": "教室", "lab": "实验室", "office": "办公室", "dorm": "宿舍", "library": "图书室",
	"canteen": "食堂", "storage": "仓库", "sports": "体育场馆", "other": "其他",
}

// Location kinds: what an asset's location names.
const (
	LocationRoom  = "room"
	LocationClass = "class"
)

// Reasons of campus refusals.
const (
	// 楼栋、房间、班级或部门的编号已被使用.
	ReasonCampusCodeTaken errs.Reason = "CAMPUS_CODE_TAKEN"
	// 楼栋不存在.
	ReasonBuildingUnknown errs.Reason = "BUILDING_UNKNOWN"
	// 房间不存在.
	ReasonRoomUnknown errs.Reason = "ROOM_UNKNOWN"
	// 存放地点须为本校的房间或班级.
	ReasonLocationUnknown errs.Reason = "LOCATION_UNKNOWN"
	// 部门须为本校已登记的部门（学校登记了部门之后）.
	ReasonDepartmentUnknown errs.Reason = "DEPARTMENT_UNKNOWN"
	// 班级不存在.
	ReasonClassUnknown errs.Reason = "CLASS_UNKNOWN"
	// 新班主任与现任相同.
	ReasonHeadTeacherUnchanged errs.Reason = "HEAD_TEACHER_UNCHANGED"
	// 班主任变更的生效日期早于上一次变更.
	ReasonHeadTeacherChangeOutOfOrder errs.Reason = "HEAD_TEACHER_CHANGE_BEFORE_LAST"
)

// HasPlaces reports whether the school has rooms or classes: from then on, an asset's location
// must be one of them.
func (c Campus) HasPlaces() bool { return len(c.Rooms)+len(c.Classes) > 0 }

// Place resolves a location code: a room (with its building) or a class. ok is false when the
// school has rooms or classes and code is none of them; a school without any takes free text.
func (c Campus) Place(code string) (kind, building string, ok bool) {
	if r, found := c.Rooms[code]; found {
		return LocationRoom, r.Building, true
	}
	if _, found := c.Classes[code]; found {
		return LocationClass, "", true
	}
	return "", "", !c.HasPlaces()
}

// KnowsDepartment reports whether name may be written as a department of the school: none
// named (""), a school that has declared no departments (free text, as before), or one of its
// departments by code or by exact name (procurement's requests and older tools write names).
func (c Campus) KnowsDepartment(name string) bool {
	if name == "" || len(c.Departments) == 0 {
		return true
	}
	if _, ok := c.Departments[name]; ok {
		return true
	}
	for _, d := range c.Departments {
		if d.Name == name {
			return true
		}
	}
	return false
}

// checkDepartment refuses a department the school has not declared (field: the request's
// name for it).
func checkDepartment(c Campus, field, name string) error {
	if c.KnowsDepartment(name) {
		return nil
	}
	return errs.Rule(ReasonDepartmentUnknown, "部门须为本校已登记的部门（编号或名称）/ the department must be one of the school's departments (code or name)",
		field, name)
}

// codeTaken reports whether code names anything of the campus already: rooms and classes are
// both locations, so all codes share one name space.
func (c Campus) codeTaken(code string) bool {
	_, b := c.Buildings[code]
	_, r := c.Rooms[code]
	_, k := c.Classes[code]
	_, d := c.Departments[code]
	return b || r || k || d
}

// SortedRooms, SortedClasses… list the campus by code.
func (c Campus) SortedBuildings() []Building {
	return sorted(c.Buildings, func(b Building) string { return b.Code })
}

// SortedRooms lists the rooms by code.
func (c Campus) SortedRooms() []Room { return sorted(c.Rooms, func(r Room) string { return r.Code }) }

// SortedClasses lists the classes by code.
func (c Campus) SortedClasses() []Class {
	return sorted(c.Classes, func(k Class) string { return k.Code })
}

// SortedDepartments lists the departments by code.
func (c Campus) SortedDepartments() []Department {
	return sorted(c.Departments, func(d Department) string { return d.Code })
}

func sorted[T any](m map[string]T, key func(T) string) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}

// evolveCampus folds a campus event into the school. Maps are copied on change, so a school
// handed out (cached) never changes under its holder.
func evolveCampus(s School, m proto.Message) School {
	c := s.Campus
	switch e := m.(type) {
	case *eventsv1.BuildingAdded:
		c.Buildings = with(c.Buildings, e.Code, Building{Code: e.Code, Name: e.Name, Floors: int(e.Floors)})
	case *eventsv1.RoomAdded:
		c.Rooms = with(c.Rooms, e.Code, Room{Code: e.Code, Building: e.Building, Name: e.Name, Kind: e.Kind, Floor: int(e.Floor)})
	case *eventsv1.ClassAdded:
		c.Classes = with(c.Classes, e.Code, Class{Code: e.Code, Name: e.Name, Grade: e.Grade, HeadTeacher: e.HeadTeacher, Room: e.Room})
	case *eventsv1.HeadTeacherChanged:
		k := c.Classes[e.ClassCode]
		k.HeadTeacher, k.HeadTeacherSince = e.ToHeadTeacher, e.EffectiveOn
		c.Classes = with(c.Classes, e.ClassCode, k)
	case *eventsv1.DepartmentAdded:
		c.Departments = with(c.Departments, e.Code, Department{Code: e.Code, Name: e.Name, Head: e.Head})
	case *eventsv1.StaffAdded:
		c.Staff = with(c.Staff, e.StaffNo, Staff{No: e.StaffNo, Name: e.Name, Department: e.Department})
	case *eventsv1.StaffLeft:
		st := c.Staff[e.StaffNo]
		st.LeftOn = e.LeftOn
		c.Staff = with(c.Staff, e.StaffNo, st)
	default:
		return s
	}
	s.Campus = c
	return s
}

func with[T any](m map[string]T, k string, v T) map[string]T {
	n := make(map[string]T, len(m)+1)
	for k, v := range m {
		n[k] = v
	}
	n[k] = v
	return n
}

// AddBuilding 新增楼栋.
type AddBuilding struct {
	Code, Name string
	Floors     int
}

// AddRoom 新增房间.
type AddRoom struct {
	Code, Building, Name, Kind string
	Floor                      int
}

// AddClass 新增班级.
type AddClass struct {
	Code, Name, Grade, HeadTeacher, Room string
}

// AddDepartment 新增部门.
type AddDepartment struct {
	Code, Name, Head string
}

type checker struct{ v errs.Violations }

func (k *checker) code(field, s string) {
	if n := utf8.RuneCountInString(s); n < 1 || n > 20 || strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		k.v.Add(field, "编号须为1–20个字符且不含空格 / code must be 1–20 characters without spaces")
	}
}

func (k *checker) text(field, s string, min, max int) {
	if n := utf8.RuneCountInString(s); n < min || n > max {
		k.v.Addf(field, "长度须为%d–%d个字 / must be %d–%d characters", min, max, min, max)
	}
}

func campusReady(s School, code string) error {
	if !s.Registered {
		return errs.Rule(ReasonSchoolUnknown, "学校未在本区登记 / the school is not registered in the district", "school_id", s.ID)
	}
	if s.Campus.codeTaken(code) {
		return errs.Rule(ReasonCampusCodeTaken, "该编号已被本校使用 / the school already uses this code", "code", code)
	}
	return nil
}

// DecideAddBuilding decides AddBuilding.
func DecideAddBuilding(s School, c AddBuilding) ([]proto.Message, error) {
	var k checker
	k.code("code", c.Code)
	k.text("name", c.Name, 1, 60)
	if c.Floors < 0 || c.Floors > 100 {
		k.v.Add("floors", "层数须为0–100 / floors must be 0–100")
	}
	if err := k.v.Err(); err != nil {
		return nil, err
	}
	if err := campusReady(s, c.Code); err != nil {
		return nil, err
	}
	return []proto.Message{&eventsv1.BuildingAdded{Code: c.Code, Name: c.Name, Floors: int32(c.Floors)}}, nil
}

// DecideAddRoom decides AddRoom.
func DecideAddRoom(s School, c AddRoom) ([]proto.Message, error) {
	var k checker
	k.code("code", c.Code)
	k.code("building", c.Building)
	k.text("name", c.Name, 1, 60)
	if _, ok := RoomKinds[c.Kind]; !ok {
		k.v.Add("kind", "请选择房间类型 / kind is required (classroom, lab, office, dorm, library, canteen, storage, sports, other)")
	}
	if c.Floor < -5 || c.Floor > 100 {
		k.v.Add("floor", "楼层须为-5–100 / floor must be -5–100")
	}
	if err := k.v.Err(); err != nil {
		return nil, err
	}
	if err := campusReady(s, c.Code); err != nil {
		return nil, err
	}
	if _, ok := s.Campus.Buildings[c.Building]; !ok {
		return nil, errs.Rule(ReasonBuildingUnknown, "楼栋不存在 / the building does not exist", "building", c.Building)
	}
	return []proto.Message{&eventsv1.RoomAdded{Code: c.Code, Building: c.Building, Name: c.Name, Kind: c.Kind, Floor: int32(c.Floor)}}, nil
}

// DecideAddClass decides AddClass.
func DecideAddClass(s School, c AddClass) ([]proto.Message, error) {
	var k checker
	k.code("code", c.Code)
	k.text("name", c.Name, 2, 60)
	k.text("grade", c.Grade, 1, 20)
	k.text("head_teacher", c.HeadTeacher, 1, 60)
	if c.Room != "" {
		k.code("room", c.Room)
	}
	if err := k.v.Err(); err != nil {
		return nil, err
	}
	if err := campusReady(s, c.Code); err != nil {
		return nil, err
	}
	if _, ok := s.Campus.Rooms[c.Room]; c.Room != "" && !ok {
		return nil, errs.Rule(ReasonRoomUnknown, "房间不存在 / the room does not exist", "room", c.Room)
	}
	return []proto.Message{&eventsv1.ClassAdded{Code: c.Code, Name: c.Name, Grade: c.Grade, HeadTeacher: c.HeadTeacher, Room: c.Room}}, nil
}

// ChangeHeadTeacher 更换班主任.
type ChangeHeadTeacher struct {
	Class, HeadTeacher, EffectiveOn, Reason string
}

// DecideChangeHeadTeacher decides a change of a class's head teacher recorded today: from
// EffectiveOn, today or earlier (a change is recorded once it happened) and not before the
// class's previous change, so the head teachers' terms follow one another.
func DecideChangeHeadTeacher(s School, c ChangeHeadTeacher, today Day) ([]proto.Message, error) {
	var k checker
	k.code("class_code", c.Class)
	k.text("head_teacher", c.HeadTeacher, 1, 60)
	k.text("reason", c.Reason, 0, 200)
	if d, ok := ParseDay(c.EffectiveOn); !ok {
		k.v.Add("effective_on", "日期格式须为YYYY-MM-DD / date must be YYYY-MM-DD")
	} else if d.After(today) {
		k.v.Add("effective_on", "不能晚于今天 / must not be after today")
	}
	if err := k.v.Err(); err != nil {
		return nil, err
	}
	if !s.Registered {
		return nil, errs.Rule(ReasonSchoolUnknown, "学校未在本区登记 / the school is not registered in the district", "school_id", s.ID)
	}
	class, ok := s.Campus.Classes[c.Class]
	if !ok {
		return nil, errs.Rule(ReasonClassUnknown, "班级不存在 / the class does not exist", "class_code", c.Class)
	}
	if class.HeadTeacher == c.HeadTeacher {
		return nil, errs.Rule(ReasonHeadTeacherUnchanged, "该教师已是本班班主任 / the teacher already heads the class", "head_teacher", c.HeadTeacher)
	}
	if c.EffectiveOn < class.HeadTeacherSince { // YYYY-MM-DD compares as dates
		return nil, errs.Rule(ReasonHeadTeacherChangeOutOfOrder, "生效日期早于上一次更换班主任 / the date is before the class's previous change",
			"head_teacher_since", class.HeadTeacherSince)
	}
	return []proto.Message{&eventsv1.HeadTeacherChanged{ClassCode: c.Class, FromHeadTeacher: class.HeadTeacher,
		ToHeadTeacher: c.HeadTeacher, EffectiveOn: c.EffectiveOn, Reason: c.Reason}}, nil
}

// DecideAddDepartment decides AddDepartment.
func DecideAddDepartment(s School, c AddDepartment) ([]proto.Message, error) {
	var k checker
	k.code("code", c.Code)
	k.text("name", c.Name, 2, 60)
	k.text("head", c.Head, 0, 60)
	if err := k.v.Err(); err != nil {
		return nil, err
	}
	if err := campusReady(s, c.Code); err != nil {
		return nil, err
	}
	return []proto.Message{&eventsv1.DepartmentAdded{Code: c.Code, Name: c.Name, Head: c.Head}}, nil
}
