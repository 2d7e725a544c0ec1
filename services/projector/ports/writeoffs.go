package ports

import (
	"context"
	"time"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/event"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// ReportWriteOffsTier is the drill of a write-offs row (key: the tier).
const ReportWriteOffsTier = "writeoffs_tier"

// GetWriteOffsReport implements reportsv1.ReportsServiceServer.
func (s *Server) GetWriteOffsReport(ctx context.Context, r *reportsv1.GetWriteOffsReportRequest) (*reportsv1.GetWriteOffsReportResponse, error) {
	var v errs.Violations
	if !event.ValidToken(r.SchoolId) {
		v.Add("school_id", "学校编号有误 / invalid school_id")
	}
	from, to := s.window(&v, r.From, r.To)
	if err := v.Err(); err != nil {
		return nil, err
	}
	tiers, err := s.WriteOffs.ByTier(ctx, r.SchoolId, from, to, s.endOf(to))
	if err != nil {
		return nil, err
	}
	f, t := from.Format(domain.DateLayout), to.Format(domain.DateLayout)
	out := &reportsv1.GetWriteOffsReportResponse{SchoolId: r.SchoolId, From: f, To: t}
	for _, x := range tiers {
		out.Tiers = append(out.Tiers, &reportsv1.WriteOffTier{Tier: x.Tier, Requests: x.Requests, WrittenOff: x.WrittenOff,
			Rejected: x.Rejected, Pending: x.Pending, ValueFen: x.ValueFen, ResidualValueFen: x.ResidualValueFen,
			Drill: &reportsv1.Drill{Report: ReportWriteOffsTier, Key: x.Tier, From: f, To: t}})
		out.Requests += x.Requests
		out.WrittenOff += x.WrittenOff
		out.Rejected += x.Rejected
		out.Pending += x.Pending
		out.ValueFen += x.ValueFen
		out.ResidualValueFen += x.ResidualValueFen
	}
	return out, nil
}

// writeOffStreams resolves a write-offs drill; the window is the drill's, 30 days up to today by default.
func (s *Server) writeOffStreams(ctx context.Context, school string, d *reportsv1.Drill, from, to time.Time) ([]string, bool, error) {
	if d.Report != ReportWriteOffsTier {
		return nil, false, nil
	}
	if to.IsZero() {
		to = s.today()
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -30)
	}
	st, err := s.WriteOffs.Streams(ctx, school, d.Key, from, to)
	return st, true, err
}
