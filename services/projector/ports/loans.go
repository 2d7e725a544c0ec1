package ports

import (
	"context"
	"time"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/projector/eventlog"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// Drill reports of the loans report: the lent assets' events up to the end of to.
const (
	ReportLoansOpen    = "loans_open"
	ReportLoansOverdue = "loans_overdue"
)

// GetLoansReport implements reportsv1.ReportsServiceServer.
func (s *Server) GetLoansReport(ctx context.Context, r *reportsv1.GetLoansReportRequest) (*reportsv1.GetLoansReportResponse, error) {
	var v errs.Violations
	schoolID(&v, r.SchoolId)
	asOf := s.asOf(&v, r.AsOf)
	if err := v.Err(); err != nil {
		return nil, err
	}
	open, err := s.Loans.Open(ctx, r.SchoolId, asOf)
	if err != nil {
		return nil, err
	}
	out := &reportsv1.GetLoansReportResponse{SchoolId: r.SchoolId, AsOf: asOf.Format(domain.DateLayout), Open: int64(len(open)),
		OpenDrill: drill(ReportLoansOpen, "", asOf), OverdueDrill: drill(ReportLoansOverdue, "", asOf)}
	for _, l := range open {
		if l.DaysOverdue > 0 {
			out.Overdue++
		}
		out.Loans = append(out.Loans, &reportsv1.OpenLoan{LoanId: l.LoanID, Tag: l.Tag, Name: l.Name, Borrower: l.Borrower,
			LentOn: l.LentOn.Format(domain.DateLayout), DueOn: l.DueOn.Format(domain.DateLayout), OffCampus: l.OffCampus,
			DaysOverdue: l.DaysOverdue, Drill: drill(ReportStream, l.StreamID, asOf)})
	}
	return out, nil
}

// loanSelection resolves a loans drill as of the end of to (zero: today).
func (s *Server) loanSelection(ctx context.Context, school string, d *reportsv1.Drill, _, to time.Time) (eventlog.Query, bool, error) {
	if d.Report != ReportLoansOpen && d.Report != ReportLoansOverdue {
		return eventlog.Query{}, false, nil
	}
	if to.IsZero() {
		to = s.today()
	}
	st, err := s.Loans.Streams(ctx, school, to, d.Report == ReportLoansOverdue)
	return eventlog.Query{Streams: st}, true, err
}
