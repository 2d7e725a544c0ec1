package ports

import (
	"context"
	"strings"
	"time"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/event"
	"houqin.dev/projector/eventlog"
	"houqin.dev/projector/ledger"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// Reports a drill can name (Drill.report).
const (
	ReportLedger         = "ledger"
	ReportLedgerCategory = "ledger_category" // and ledger_<dimension> for every ledger.Dimensions
	ReportStream         = "stream"
)

// drill is the drill of a row of an as-of report: its events up to the end of asOf.
func drill(report, key string, asOf time.Time) *reportsv1.Drill {
	return &reportsv1.Drill{Report: report, Key: key, To: asOf.Format(domain.DateLayout)}
}

// selectionOf resolves a drill to the events behind the number: the streams (and for some
// numbers the event types) of the query, within school, as of the end of to (zero: today). ok
// is false for a report no drill knows.
func (s *Server) selectionOf(ctx context.Context, school string, d *reportsv1.Drill, from, to time.Time) (eventlog.Query, bool, error) {
	if positions, streams, ok, err := s.procurementDrill(ctx, school, d, from, to); ok || err != nil {
		return eventlog.Query{Streams: streams, Positions: positions}, ok, err
	}
	for _, resolve := range []func(context.Context, string, *reportsv1.Drill, time.Time, time.Time) (eventlog.Query, bool, error){
		s.repairSelection, s.loanSelection, s.custodySelection,
	} {
		if q, ok, err := resolve(ctx, school, d, from, to); ok || err != nil {
			return q, ok, err
		}
	}
	st, ok, err := s.streamsOf(ctx, school, d, from, to)
	return eventlog.Query{Streams: st}, ok, err
}

// streamsOf resolves a drill whose events are all the events of some streams.
func (s *Server) streamsOf(ctx context.Context, school string, d *reportsv1.Drill, from, to time.Time) ([]string, bool, error) {
	if d.Report == ReportStream {
		return []string{d.Key}, true, nil
	}
	if st, ok, err := s.writeOffStreams(ctx, school, d, from, to); ok || err != nil {
		return st, ok, err
	}
	dim, grouped := strings.CutPrefix(d.Report, ReportLedger+"_")
	switch {
	case d.Report == ReportLedger:
		dim = ""
	case !grouped || !ledger.ValidDimension(dim):
		return nil, false, nil
	}
	if to.IsZero() {
		to = s.today()
	}
	entries, err := s.Ledger.Entries(ctx, school, to, s.endOf(to))
	if err != nil {
		return nil, true, err
	}
	return ledger.StreamsOf(entries, dim, d.Key), true, nil
}

// date parses an optional YYYY-MM-DD field.
func date(v *errs.Violations, field, value string) time.Time {
	if value == "" {
		return time.Time{}
	}
	d, err := time.Parse(domain.DateLayout, value)
	if err != nil {
		v.Add(field, "日期格式须为YYYY-MM-DD / "+field+" must be YYYY-MM-DD")
	}
	return d
}

// asOf parses an optional as_of field: the end of that day, or today when it is empty.
func (s *Server) asOf(v *errs.Violations, value string) time.Time {
	if value == "" {
		return s.today()
	}
	return date(v, "as_of", value)
}

// schoolID checks a request's school_id.
func schoolID(v *errs.Violations, id string) {
	if !event.ValidToken(id) {
		v.Add("school_id", "学校编号有误 / invalid school_id")
	}
}

// ListEvents implements reportsv1.ReportsServiceServer.
func (s *Server) ListEvents(ctx context.Context, r *reportsv1.ListEventsRequest) (*reportsv1.ListEventsResponse, error) {
	var v errs.Violations
	schoolID(&v, r.SchoolId)
	d := r.Drill
	if d == nil {
		d = &reportsv1.Drill{}
	}
	from := date(&v, "drill.from", d.From)
	to := date(&v, "drill.to", d.To)
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		v.Add("drill.to", "截止日期早于开始日期 / to is before from")
	}
	if d.Report == ReportStream && d.Key == "" {
		v.Add("drill.key", "须指明业务对象 / a stream report needs the stream id as key")
	}
	size := int(r.PageSize)
	switch {
	case size == 0:
		size = 100
	case size < 0 || size > 500:
		v.Add("page_size", "每页1至500条 / page_size must be 1–500")
	}
	after, ok := eventlog.ParseToken(r.PageToken)
	if !ok {
		v.Add("page_token", "翻页令牌无效 / invalid page_token")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	q, known, err := s.selectionOf(ctx, r.SchoolId, d, from, to)
	if err != nil {
		return nil, err
	}
	if !known {
		return nil, errs.Invalid("drill.report", "未知报表 / unknown report")
	}
	q.School, q.Limit, q.After = r.SchoolId, size, after
	if !from.IsZero() && q.Positions == nil {
		q.From = s.startOf(from)
	}
	if !to.IsZero() && q.Positions == nil {
		q.To = s.startOf(to.AddDate(0, 0, 1))
	}
	recs, next, err := s.Events.List(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &reportsv1.ListEventsResponse{}
	for _, x := range recs {
		out.Events = append(out.Events, &reportsv1.EventRecord{EventId: x.EventID, SchoolId: x.SchoolID, StreamId: x.StreamID,
			Version: x.Version, Type: event.ShortType(x.Type), TypeName: eventlog.TypeName(x.Type),
			OccurredAt: x.OccurredAt.In(s.Loc).Format(time.RFC3339), RecordedAt: x.RecordedAt.In(s.Loc).Format(time.RFC3339),
			Actor: x.Actor, PolicyVersion: x.PolicyVersion, PayloadJson: x.Payload})
	}
	if next.StreamID != "" {
		out.NextPageToken = next.Token()
	}
	return out, nil
}

// endOf is the first instant after a district date.
func (s *Server) endOf(d time.Time) time.Time { return s.startOf(d.AddDate(0, 0, 1)) }

// startOf is the first instant of a district date.
func (s *Server) startOf(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, s.Loc)
}
