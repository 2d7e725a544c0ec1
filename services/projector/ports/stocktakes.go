package ports

import (
	"context"
	"time"

	"houqin.dev/platform/errs"
	"houqin.dev/projector/stocktakes"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// GetStocktakeVariance implements reportsv1.ReportsServiceServer.
func (s *Server) GetStocktakeVariance(ctx context.Context, r *reportsv1.GetStocktakeVarianceRequest) (*reportsv1.GetStocktakeVarianceResponse, error) {
	var v errs.Violations
	schoolID(&v, r.SchoolId)
	if len(r.SessionId) > 100 {
		v.Add("session_id", "清查编号有误 / invalid session_id")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	sessions, rooms, err := s.Stocktakes.Variance(ctx, r.SchoolId, r.SessionId)
	if err != nil {
		return nil, err
	}
	if r.SessionId != "" && len(sessions) == 0 {
		return nil, errs.NotFound("stocktake", r.SessionId)
	}
	today := s.today()
	out := &reportsv1.GetStocktakeVarianceResponse{SchoolId: r.SchoolId}
	for i, sv := range sessions {
		out.Sessions = append(out.Sessions, s.variance(sv, today))
		for _, rv := range rooms[i] {
			out.Rooms = append(out.Rooms, s.variance(rv, today))
		}
	}
	return out, nil
}

// variance is a row of the report; its drill is the session's events up to today.
func (s *Server) variance(v stocktakes.Variance, today time.Time) *reportsv1.StocktakeVariance {
	row := &reportsv1.StocktakeVariance{SessionId: v.SessionID, Room: v.Room,
		StartedAt: v.StartedAt.In(s.Loc).Format(time.RFC3339), Expected: v.Expected, Counted: v.Counted, Missing: v.Missing,
		WrongRoom: v.WrongRoom, Duplicates: v.Duplicates, Unknown: v.Unknown,
		SurplusAdjusted: v.SurplusAdjusted, SurplusAdjustedFen: v.SurplusAdjustedFen,
		ShortageAdjusted: v.ShortageAdjusted, ShortageAdjustedFen: v.ShortageAdjustedFen,
		Drill: drill(ReportStream, v.StreamID, today)}
	if !v.ClosedAt.IsZero() {
		row.ClosedAt = v.ClosedAt.In(s.Loc).Format(time.RFC3339)
	}
	return row
}
