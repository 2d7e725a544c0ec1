package ports

import (
	"context"
	"strings"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/grpckit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

var roomKinds = map[assetsv1.RoomKind]string{
	assetsv1.RoomKind_ROOM_KIND_CLASSROOM: "classroom", assetsv1.RoomKind_ROOM_KIND_LAB: "lab",
	assetsv1.RoomKind_ROOM_KIND_OFFICE: "office", assetsv1.RoomKind_ROOM_KIND_DORM: "dorm",
	assetsv1.RoomKind_ROOM_KIND_LIBRARY: "library", assetsv1.RoomKind_ROOM_KIND_CANTEEN: "canteen",
	assetsv1.RoomKind_ROOM_KIND_STORAGE: "storage", assetsv1.RoomKind_ROOM_KIND_SPORTS: "sports",
	assetsv1.RoomKind_ROOM_KIND_OTHER: "other",
}

func roomKindEnum(s string) assetsv1.RoomKind {
	for k, v := range roomKinds {
		if v == s {
			return k
		}
	}
	return assetsv1.RoomKind_ROOM_KIND_UNSPECIFIED
}

// AddBuilding implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) AddBuilding(ctx context.Context, r *assetsv1.AddBuildingRequest) (*assetsv1.AddBuildingResponse, error) {
	v, err := s.app.AddBuilding(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), domain.AddBuilding{
		Code: strings.TrimSpace(r.Code), Name: strings.TrimSpace(r.Name), Floors: int(r.Floors)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.AddBuildingResponse{Version: v}, nil
}

// AddRoom implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) AddRoom(ctx context.Context, r *assetsv1.AddRoomRequest) (*assetsv1.AddRoomResponse, error) {
	v, err := s.app.AddRoom(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), domain.AddRoom{
		Code: strings.TrimSpace(r.Code), Building: strings.TrimSpace(r.Building), Name: strings.TrimSpace(r.Name),
		Kind: roomKinds[r.Kind], Floor: int(r.Floor)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.AddRoomResponse{Version: v}, nil
}

// AddClass implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) AddClass(ctx context.Context, r *assetsv1.AddClassRequest) (*assetsv1.AddClassResponse, error) {
	v, err := s.app.AddClass(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), domain.AddClass{
		Code: strings.TrimSpace(r.Code), Name: strings.TrimSpace(r.Name), Grade: strings.TrimSpace(r.Grade),
		HeadTeacher: strings.TrimSpace(r.HeadTeacher), Room: strings.TrimSpace(r.Room)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.AddClassResponse{Version: v}, nil
}

// ChangeHeadTeacher implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) ChangeHeadTeacher(ctx context.Context, r *assetsv1.ChangeHeadTeacherRequest) (*assetsv1.ChangeHeadTeacherResponse, error) {
	v, err := s.app.ChangeHeadTeacher(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), r.ExpectedVersion, domain.ChangeHeadTeacher{
		Class: strings.TrimSpace(r.ClassCode), HeadTeacher: strings.TrimSpace(r.HeadTeacher),
		EffectiveOn: strings.TrimSpace(r.EffectiveOn), Reason: strings.TrimSpace(r.Reason)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.ChangeHeadTeacherResponse{Version: v}, nil
}

// AddDepartment implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) AddDepartment(ctx context.Context, r *assetsv1.AddDepartmentRequest) (*assetsv1.AddDepartmentResponse, error) {
	v, err := s.app.AddDepartment(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), domain.AddDepartment{
		Code: strings.TrimSpace(r.Code), Name: strings.TrimSpace(r.Name), Head: strings.TrimSpace(r.Head)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.AddDepartmentResponse{Version: v}, nil
}

// GetCampus implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) GetCampus(ctx context.Context, r *assetsv1.GetCampusRequest) (*assetsv1.GetCampusResponse, error) {
	c, v, err := s.app.Campus(ctx, r.SchoolId)
	if err != nil {
		return nil, err
	}
	out := &assetsv1.GetCampusResponse{Version: v}
	for _, b := range c.SortedBuildings() {
		out.Buildings = append(out.Buildings, &assetsv1.Building{Code: b.Code, Name: b.Name, Floors: int32(b.Floors)})
	}
	for _, x := range c.SortedRooms() {
		out.Rooms = append(out.Rooms, &assetsv1.Room{Code: x.Code, Building: x.Building, Name: x.Name,
			Kind: roomKindEnum(x.Kind), Floor: int32(x.Floor)})
	}
	for _, k := range c.SortedClasses() {
		out.Classes = append(out.Classes, &assetsv1.SchoolClass{Code: k.Code, Name: k.Name, Grade: k.Grade,
			HeadTeacher: k.HeadTeacher, Room: k.Room, HeadTeacherSince: k.HeadTeacherSince})
	}
	for _, d := range c.SortedDepartments() {
		out.Departments = append(out.Departments, &assetsv1.Department{Code: d.Code, Name: d.Name, Head: d.Head})
	}
	return out, nil
}

// AddStaff implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) AddStaff(ctx context.Context, r *assetsv1.AddStaffRequest) (*assetsv1.AddStaffResponse, error) {
	v, err := s.app.AddStaff(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), domain.AddStaff{
		No: strings.TrimSpace(r.StaffNo), Name: strings.TrimSpace(r.Name), Department: strings.TrimSpace(r.Department)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.AddStaffResponse{Version: v}, nil
}

// RecordStaffLeft implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) RecordStaffLeft(ctx context.Context, r *assetsv1.RecordStaffLeftRequest) (*assetsv1.RecordStaffLeftResponse, error) {
	v, err := s.app.RecordStaffLeft(ctx, grpckit.Meta(ctx, r.RequestId, r.SchoolId, r), domain.RecordStaffLeft{
		No: strings.TrimSpace(r.StaffNo), LeftOn: strings.TrimSpace(r.LeftOn)})
	if err != nil {
		return nil, err
	}
	return &assetsv1.RecordStaffLeftResponse{Version: v}, nil
}

// ListStaff implements assetsv1.LedgerServiceServer.
func (s *LedgerServer) ListStaff(ctx context.Context, r *assetsv1.ListStaffRequest) (*assetsv1.ListStaffResponse, error) {
	c, _, err := s.app.Campus(ctx, r.SchoolId)
	if err != nil {
		return nil, err
	}
	out := &assetsv1.ListStaffResponse{}
	for _, st := range c.SortedStaff() {
		out.Staff = append(out.Staff, &assetsv1.StaffMember{StaffNo: st.No, Name: st.Name, Department: st.Department, LeftOn: st.LeftOn})
	}
	return out, nil
}
