package ports

import (
	"context"

	"houqin.dev/platform/errs"
	"houqin.dev/platform/event"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// GetCustodyCoverage implements reportsv1.ReportsServiceServer.
func (s *Server) GetCustodyCoverage(ctx context.Context, r *reportsv1.GetCustodyCoverageRequest) (*reportsv1.GetCustodyCoverageResponse, error) {
	var v errs.Violations
	if !event.ValidToken(r.SchoolId) {
		v.Add("school_id", "学校编号有误 / invalid school_id")
	}
	if r.Term == "" || len(r.Term) > 32 {
		v.Add("term", "须填学年学期，如 2025-2026-1 / term is required, e.g. 2025-2026-1")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	rooms, err := s.Custody.Rooms(ctx, r.SchoolId, r.Term)
	if err != nil {
		return nil, err
	}
	out := &reportsv1.GetCustodyCoverageResponse{SchoolId: r.SchoolId, Term: r.Term, AllRooms: int64(len(rooms))}
	for _, x := range rooms {
		rc := &reportsv1.RoomCustody{Room: x.Code, Name: x.Name, Building: x.Building, Head: x.Head, SignedOn: x.SignedOn,
			Signed: x.SignedOn != ""}
		if x.StreamID != "" {
			rc.Drill = &reportsv1.Drill{Report: ReportStream, Key: x.StreamID}
		}
		if rc.Signed {
			out.SignedRooms++
		}
		out.Rooms = append(out.Rooms, rc)
	}
	if out.AllRooms > 0 {
		out.Coverage = float64(out.SignedRooms) / float64(out.AllRooms)
	}
	return out, nil
}
