package ports

import (
	"context"
	"time"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/event"
	"houqin.dev/projector/eventlog"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// Drill reports of the repairs report (key: the class for repairs_class).
const (
	ReportRepairsOpened       = "repairs_opened"
	ReportRepairsClosed       = "repairs_closed"
	ReportRepairsWithClock    = "repairs_with_clock"
	ReportRepairsWithinTarget = "repairs_within_target"
	ReportRepairsOpenAtEnd    = "repairs_open_at_end"
	// ReportRepairsBreaches lists the breach events themselves: one per breach counted.
	ReportRepairsBreaches = "repairs_breaches"
	ReportRepairsClass    = "repairs_class"
)

// repairRows are the repairs.Reader.Streams row kinds of the repairs drills.
var repairRows = map[string]string{ReportRepairsOpened: "opened", ReportRepairsClosed: "closed",
	ReportRepairsWithClock: "with_clock", ReportRepairsWithinTarget: "within_target", ReportRepairsOpenAtEnd: "open_at_end",
	ReportRepairsBreaches: "breached", ReportRepairsClass: "class"}

// window parses an inclusive date window; to defaults to today and from to 30 days before.
func (s *Server) window(v *errs.Violations, from, to string) (time.Time, time.Time) {
	t := s.today()
	if to != "" {
		t = date(v, "to", to)
	}
	f := t.AddDate(0, 0, -30)
	if from != "" {
		f = date(v, "from", from)
	}
	if t.Before(f) {
		v.Add("to", "截止日期早于开始日期 / to is before from")
	}
	return f, t
}

// GetRepairsReport implements reportsv1.ReportsServiceServer.
func (s *Server) GetRepairsReport(ctx context.Context, r *reportsv1.GetRepairsReportRequest) (*reportsv1.GetRepairsReportResponse, error) {
	var v errs.Violations
	schoolID(&v, r.SchoolId)
	from, to := s.window(&v, r.From, r.To)
	if err := v.Err(); err != nil {
		return nil, err
	}
	start, end := s.startOf(from), s.endOf(to)
	sum, err := s.Repairs.Summary(ctx, r.SchoolId, start, end)
	if err != nil {
		return nil, err
	}
	classes, err := s.Repairs.ByClass(ctx, r.SchoolId, start, end, from, to.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	f, t := from.Format(domain.DateLayout), to.Format(domain.DateLayout)
	window := func(report, key string) *reportsv1.Drill {
		return &reportsv1.Drill{Report: report, Key: key, From: f, To: t}
	}
	out := &reportsv1.GetRepairsReportResponse{SchoolId: r.SchoolId, From: f, To: t, Opened: sum.Opened, Closed: sum.Closed,
		ClosedWithClock: sum.ClosedWithClock, WithinTarget: sum.WithinTarget, OpenAtEnd: sum.OpenAtEnd, Breaches: sum.Breaches,
		OpenedDrill: window(ReportRepairsOpened, ""), ClosedDrill: window(ReportRepairsClosed, ""),
		ClosedWithClockDrill: window(ReportRepairsWithClock, ""), WithinTargetDrill: window(ReportRepairsWithinTarget, ""),
		OpenAtEndDrill: window(ReportRepairsOpenAtEnd, ""), BreachesDrill: window(ReportRepairsBreaches, "")}
	if sum.ClosedWithClock > 0 {
		out.ShareWithinTarget = float64(sum.WithinTarget) / float64(sum.ClosedWithClock)
	}
	for _, c := range classes {
		out.Classes = append(out.Classes, &reportsv1.ClassDamage{ClassName: c.ClassName, Repairs: c.Repairs,
			DamageCharges: c.Charges, DamageFen: c.DamageFen, Drill: window(ReportRepairsClass, c.ClassName)})
	}
	return out, nil
}

// repairSelection resolves a repairs drill; the window is the drill's, 30 days up to today by
// default. The breaches drill keeps only the breach events.
func (s *Server) repairSelection(ctx context.Context, school string, d *reportsv1.Drill, from, to time.Time) (eventlog.Query, bool, error) {
	which := repairRows[d.Report]
	if which == "" {
		return eventlog.Query{}, false, nil
	}
	if to.IsZero() {
		to = s.today()
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -30)
	}
	st, err := s.Repairs.Streams(ctx, school, which, d.Key, s.startOf(from), s.endOf(to), from, to.AddDate(0, 0, 1))
	q := eventlog.Query{Streams: st}
	if d.Report == ReportRepairsBreaches {
		q.Types = []string{event.TypeOf(&eventsv1.RepairDeadlineBreached{})}
	}
	return q, true, err
}
