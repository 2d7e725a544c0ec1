package ports

import (
	"context"
	"time"

	"houqin.dev/platform/errs"
	"houqin.dev/platform/event"
	"houqin.dev/projector/eventlog"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// Drill reports of custody coverage (key: the term for custody_signed).
const (
	// ReportCustodySigned: the events of the agreements behind the signed rooms.
	ReportCustodySigned = "custody_signed"
	// ReportCustodyRooms: the school's RoomAdded events, one per room.
	ReportCustodyRooms = "custody_rooms"
)

// GetCustodyCoverage implements reportsv1.ReportsServiceServer.
func (s *Server) GetCustodyCoverage(ctx context.Context, r *reportsv1.GetCustodyCoverageRequest) (*reportsv1.GetCustodyCoverageResponse, error) {
	var v errs.Violations
	schoolID(&v, r.SchoolId)
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
	out := &reportsv1.GetCustodyCoverageResponse{SchoolId: r.SchoolId, Term: r.Term, AllRooms: int64(len(rooms)),
		SignedDrill: &reportsv1.Drill{Report: ReportCustodySigned, Key: r.Term}, AllRoomsDrill: &reportsv1.Drill{Report: ReportCustodyRooms}}
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

// custodySelection resolves a custody coverage drill.
func (s *Server) custodySelection(ctx context.Context, school string, d *reportsv1.Drill, _, _ time.Time) (eventlog.Query, bool, error) {
	switch d.Report {
	case ReportCustodySigned:
		st, err := s.Custody.SignedStreams(ctx, school, d.Key)
		return eventlog.Query{Streams: st}, true, err
	case ReportCustodyRooms:
		return eventlog.Query{AnyStream: true, Types: []string{event.TypeOf(&eventsv1.RoomAdded{})}}, true, nil
	}
	return eventlog.Query{}, false, nil
}
