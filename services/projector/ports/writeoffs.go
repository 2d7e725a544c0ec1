package ports

import (
	"context"
	"time"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/projector/writeoffs"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// Drill reports of the write-offs report (key: the tier; empty: every tier). writeoffs_tier
// is every request of the window, the others those in that state at the end of it.
const (
	ReportWriteOffsTier       = "writeoffs_tier"
	ReportWriteOffsWrittenOff = "writeoffs_written_off"
	ReportWriteOffsRejected   = "writeoffs_rejected"
	ReportWriteOffsPending    = "writeoffs_pending"
)

// writeOffStates are the states of the write-off drills.
var writeOffStates = map[string]string{ReportWriteOffsTier: writeoffs.StateAny, ReportWriteOffsWrittenOff: writeoffs.StateWrittenOff,
	ReportWriteOffsRejected: writeoffs.StateRejected, ReportWriteOffsPending: writeoffs.StatePending}

// GetWriteOffsReport implements reportsv1.ReportsServiceServer.
func (s *Server) GetWriteOffsReport(ctx context.Context, r *reportsv1.GetWriteOffsReportRequest) (*reportsv1.GetWriteOffsReportResponse, error) {
	var v errs.Violations
	schoolID(&v, r.SchoolId)
	from, to := s.window(&v, r.From, r.To)
	if err := v.Err(); err != nil {
		return nil, err
	}
	tiers, err := s.WriteOffs.ByTier(ctx, r.SchoolId, from, to, s.endOf(to))
	if err != nil {
		return nil, err
	}
	f, t := from.Format(domain.DateLayout), to.Format(domain.DateLayout)
	window := func(report, tier string) *reportsv1.Drill {
		return &reportsv1.Drill{Report: report, Key: tier, From: f, To: t}
	}
	out := &reportsv1.GetWriteOffsReportResponse{SchoolId: r.SchoolId, From: f, To: t, Drill: window(ReportWriteOffsTier, ""),
		WrittenOffDrill: window(ReportWriteOffsWrittenOff, ""), RejectedDrill: window(ReportWriteOffsRejected, ""),
		PendingDrill: window(ReportWriteOffsPending, "")}
	for _, x := range tiers {
		out.Tiers = append(out.Tiers, &reportsv1.WriteOffTier{Tier: x.Tier, Requests: x.Requests, WrittenOff: x.WrittenOff,
			Rejected: x.Rejected, Pending: x.Pending, ValueFen: x.ValueFen, ResidualValueFen: x.ResidualValueFen,
			Drill: window(ReportWriteOffsTier, x.Tier), WrittenOffDrill: window(ReportWriteOffsWrittenOff, x.Tier),
			RejectedDrill: window(ReportWriteOffsRejected, x.Tier), PendingDrill: window(ReportWriteOffsPending, x.Tier)})
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
	state, ok := writeOffStates[d.Report]
	if !ok {
		return nil, false, nil
	}
	if to.IsZero() {
		to = s.today()
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -30)
	}
	st, err := s.WriteOffs.Streams(ctx, school, d.Key, state, from, to, s.endOf(to))
	return st, true, err
}
