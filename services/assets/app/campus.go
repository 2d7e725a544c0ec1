package app

import (
	"context"

	"google.golang.org/protobuf/proto"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
)

// campusCommand runs one campus command on the school's stream.
func (a *App) campusCommand(ctx context.Context, meta es.Meta, decide func(domain.School) ([]proto.Message, error)) (int64, error) {
	return a.campusCommandAt(ctx, meta, 0, decide)
}

// campusCommandAt runs one campus command on the school's stream at the version the client
// saw (0: any).
func (a *App) campusCommandAt(ctx context.Context, meta es.Meta, expected int64, decide func(domain.School) ([]proto.Message, error)) (int64, error) {
	if err := errs.Join(meta.Validate(), checkExpected(expected)); err != nil {
		_, derr := decide(domain.School{Registered: true})
		return 0, alsoInvalid(err, derr)
	}
	res, err := a.schools.Execute(ctx, meta, es.Command[domain.School]{ID: meta.SchoolID, Expected: expected,
		Decide: func(s domain.School) (es.Decision, error) {
			s.ID = meta.SchoolID
			ev, err := decide(s)
			return es.Decision{Events: ev}, err
		}})
	a.schoolCache.forget(meta.SchoolID)
	return res.Version, err
}

// AddBuilding adds a building to the school.
func (a *App) AddBuilding(ctx context.Context, meta es.Meta, c domain.AddBuilding) (int64, error) {
	return a.campusCommand(ctx, meta, func(s domain.School) ([]proto.Message, error) { return domain.DecideAddBuilding(s, c) })
}

// AddRoom adds a room to a building of the school.
func (a *App) AddRoom(ctx context.Context, meta es.Meta, c domain.AddRoom) (int64, error) {
	return a.campusCommand(ctx, meta, func(s domain.School) ([]proto.Message, error) { return domain.DecideAddRoom(s, c) })
}

// AddClass adds a class to the school.
func (a *App) AddClass(ctx context.Context, meta es.Meta, c domain.AddClass) (int64, error) {
	return a.campusCommand(ctx, meta, func(s domain.School) ([]proto.Message, error) { return domain.DecideAddClass(s, c) })
}

// ChangeHeadTeacher changes a class's head teacher from a date.
func (a *App) ChangeHeadTeacher(ctx context.Context, meta es.Meta, expected int64, c domain.ChangeHeadTeacher) (int64, error) {
	return a.campusCommandAt(ctx, meta, expected, func(s domain.School) ([]proto.Message, error) {
		return domain.DecideChangeHeadTeacher(s, c, a.today())
	})
}

// AddDepartment adds a department to the school.
func (a *App) AddDepartment(ctx context.Context, meta es.Meta, c domain.AddDepartment) (int64, error) {
	return a.campusCommand(ctx, meta, func(s domain.School) ([]proto.Message, error) { return domain.DecideAddDepartment(s, c) })
}

// AddStaff adds a person to the school's staff directory.
func (a *App) AddStaff(ctx context.Context, meta es.Meta, c domain.AddStaff) (int64, error) {
	return a.campusCommand(ctx, meta, func(s domain.School) ([]proto.Message, error) { return domain.DecideAddStaff(s, c) })
}

// RecordStaffLeft records that a member of the staff leaves the school.
func (a *App) RecordStaffLeft(ctx context.Context, meta es.Meta, c domain.RecordStaffLeft) (int64, error) {
	return a.campusCommand(ctx, meta, func(s domain.School) ([]proto.Message, error) { return domain.DecideRecordStaffLeft(s, c) })
}

// Campus returns the school's campus structure and the school stream's version.
func (a *App) Campus(ctx context.Context, school string) (domain.Campus, int64, error) {
	s, v, err := a.schools.Load(ctx, school, school)
	return s.Campus, v, err
}
