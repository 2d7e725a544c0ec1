package ports

import (
	"context"
	"time"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/event"
	procdomain "houqin.dev/procurement/domain"
	"houqin.dev/projector/procurement"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// fiscalYear checks a fiscal year; 0 means the district's current year.
func (s *Server) fiscalYear(v *errs.Violations, y int32) int32 {
	if y == 0 {
		return int32(s.today().Year())
	}
	if y < 2000 || y > 2100 {
		v.Add("fiscal_year", "预算年度须在2000至2100之间 / fiscal_year must be 2000–2100")
	}
	return y
}

// permille is part of whole in ‰ (0 when whole is not positive).
func permille(part, whole int64) int64 {
	if whole <= 0 {
		return 0
	}
	return part * 1000 / whole
}

// GetBudgetSpend implements reportsv1.ReportsServiceServer.
func (s *Server) GetBudgetSpend(ctx context.Context, r *reportsv1.GetBudgetSpendRequest) (*reportsv1.GetBudgetSpendResponse, error) {
	var v errs.Violations
	if !event.ValidToken(r.SchoolId) {
		v.Add("school_id", "学校编号有误 / invalid school_id")
	}
	year := s.fiscalYear(&v, r.FiscalYear)
	if err := v.Err(); err != nil {
		return nil, err
	}
	sp, err := s.Procurement.BudgetSpend(ctx, r.SchoolId, year)
	if err != nil {
		return nil, err
	}
	out := &reportsv1.GetBudgetSpendResponse{SchoolId: r.SchoolId, FiscalYear: year}
	for _, l := range sp.Lines {
		avail := l.BudgetFen - l.CommittedFen - l.SpentFen
		out.Lines = append(out.Lines, &reportsv1.BudgetLineSpend{BudgetLineId: l.ID, Code: l.Code, Name: l.Name,
			FundingSource: l.FundingSource, BudgetFen: l.BudgetFen, CommittedFen: l.CommittedFen, SpentFen: l.SpentFen,
			AvailableFen: avail, SpentPermille: permille(l.SpentFen, l.BudgetFen),
			Drill: &reportsv1.Drill{Report: ReportStream, Key: l.StreamID}})
		out.BudgetFen += l.BudgetFen
		out.CommittedFen += l.CommittedFen
		out.SpentFen += l.SpentFen
		out.AvailableFen += avail
	}
	for _, m := range sp.Months {
		out.Months = append(out.Months, &reportsv1.MonthSpend{Month: m.Key, SpentFen: m.Fen})
	}
	for _, c := range sp.Categories {
		out.Categories = append(out.Categories, &reportsv1.CategorySpend{Category: c.Key, SpentFen: c.Fen})
	}
	return out, nil
}

// days counts whole days from a to b (dates).
func days(a, b time.Time) int32 {
	return int32(b.Sub(time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)).Hours() / 24)
}

// GetApprovalsWaiting implements reportsv1.ReportsServiceServer.
func (s *Server) GetApprovalsWaiting(ctx context.Context, r *reportsv1.GetApprovalsWaitingRequest) (*reportsv1.GetApprovalsWaitingResponse, error) {
	var v errs.Violations
	if !event.ValidToken(r.SchoolId) {
		v.Add("school_id", "学校编号有误 / invalid school_id")
	}
	asOf := s.today()
	if r.AsOf != "" {
		asOf = date(&v, "as_of", r.AsOf)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	ws, err := s.Procurement.Waiting(ctx, r.SchoolId, asOf)
	if err != nil {
		return nil, err
	}
	out := &reportsv1.GetApprovalsWaitingResponse{SchoolId: r.SchoolId, AsOf: asOf.Format(domain.DateLayout)}
	for _, w := range ws {
		out.Requests = append(out.Requests, &reportsv1.WaitingApproval{PurchaseRequestId: w.ID, Department: w.Department,
			EstimatedTotalFen: w.EstimatedTotalFen, SubmittedOn: w.SubmittedOn.Format(domain.DateLayout), Step: w.Step,
			Role: w.Role, WaitingSince: w.WaitingSince.Format(domain.DateLayout), AgeDays: days(w.WaitingSince, asOf),
			Drill: &reportsv1.Drill{Report: ReportStream, Key: w.StreamID}})
	}
	return out, nil
}

// GetDistrictProcurement implements reportsv1.ReportsServiceServer.
func (s *Server) GetDistrictProcurement(ctx context.Context, r *reportsv1.GetDistrictProcurementRequest) (*reportsv1.GetDistrictProcurementResponse, error) {
	var v errs.Violations
	year := s.fiscalYear(&v, r.FiscalYear)
	asOf := s.today()
	if r.AsOf != "" {
		asOf = date(&v, "as_of", r.AsOf)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	schools, err := s.Procurement.District(ctx, year, asOf)
	if err != nil {
		return nil, err
	}
	out := &reportsv1.GetDistrictProcurementResponse{FiscalYear: year, AsOf: asOf.Format(domain.DateLayout)}
	for _, sc := range schools {
		avail := sc.BudgetFen - sc.CommittedFen - sc.SpentFen
		row := &reportsv1.SchoolProcurement{SchoolId: sc.ID, Name: sc.Name, BudgetFen: sc.BudgetFen, CommittedFen: sc.CommittedFen,
			SpentFen: sc.SpentFen, AvailableFen: avail, SpentPermille: permille(sc.SpentFen, sc.BudgetFen),
			ApprovalsWaiting: sc.Waiting}
		if !sc.OldestWaiting.IsZero() {
			row.OldestWaitingDays = days(sc.OldestWaiting, asOf)
		}
		out.Schools = append(out.Schools, row)
		out.BudgetFen += sc.BudgetFen
		out.CommittedFen += sc.CommittedFen
		out.SpentFen += sc.SpentFen
		out.AvailableFen += avail
		out.ApprovalsWaiting += sc.Waiting
	}
	return out, nil
}

// rate is ok per mille of n; 1000 when there was nothing to comply with.
func rate(ok, n int32) int64 {
	if n == 0 {
		return 1000
	}
	return int64(ok) * 1000 / int64(n)
}

func (s *Server) compliance(ctx context.Context, school string) ([]*reportsv1.SchoolCompliance, error) {
	cs, err := s.Procurement.Compliance(ctx, school)
	if err != nil {
		return nil, err
	}
	var out []*reportsv1.SchoolCompliance
	for _, c := range cs {
		out = append(out, &reportsv1.SchoolCompliance{SchoolId: c.SchoolID, Name: c.Name,
			QuotesRequired: c.QuotesRequired, QuotesCompliant: c.QuotesCompliant, QuotesPermille: rate(c.QuotesCompliant, c.QuotesRequired),
			Acceptances: c.Acceptances, AcceptancesTwoPerson: c.AcceptancesTwo, AcceptancesPermille: rate(c.AcceptancesTwo, c.Acceptances),
			InvoicesReimbursed: c.InvoicesReimbursed, InvoicesThreeSigned: c.InvoicesFull, InvoicesPermille: rate(c.InvoicesFull, c.InvoicesReimbursed)})
	}
	return out, nil
}

// GetProcurementCompliance implements reportsv1.ReportsServiceServer.
func (s *Server) GetProcurementCompliance(ctx context.Context, r *reportsv1.GetProcurementComplianceRequest) (*reportsv1.GetProcurementComplianceResponse, error) {
	if !event.ValidToken(r.SchoolId) {
		return nil, errs.Invalid("school_id", "学校编号有误 / invalid school_id")
	}
	rows, err := s.compliance(ctx, r.SchoolId)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errs.NotFound("school", r.SchoolId)
	}
	return &reportsv1.GetProcurementComplianceResponse{Schools: rows}, nil
}

// GetDistrictCompliance implements reportsv1.ReportsServiceServer.
func (s *Server) GetDistrictCompliance(ctx context.Context, _ *reportsv1.GetDistrictComplianceRequest) (*reportsv1.GetDistrictComplianceResponse, error) {
	rows, err := s.compliance(ctx, "")
	if err != nil {
		return nil, err
	}
	return &reportsv1.GetDistrictComplianceResponse{Schools: rows}, nil
}

// GetFeeSettlement implements reportsv1.ReportsServiceServer.
func (s *Server) GetFeeSettlement(ctx context.Context, r *reportsv1.GetFeeSettlementRequest) (*reportsv1.GetFeeSettlementResponse, error) {
	if !event.ValidToken(r.SchoolId) {
		return nil, errs.Invalid("school_id", "学校编号有误 / invalid school_id")
	}
	if len(r.Term) > 64 {
		return nil, errs.Invalid("term", "学期过长 / term too long")
	}
	fees, err := s.Procurement.Fees(ctx, r.SchoolId, r.Term)
	if err != nil {
		return nil, err
	}
	out := &reportsv1.GetFeeSettlementResponse{SchoolId: r.SchoolId}
	for _, f := range fees {
		out.Fees = append(out.Fees, &reportsv1.FeeSettlement{FeeId: f.ID, Term: f.Term, Item: f.Item, Kind: f.Kind,
			AmountPerStudentFen: f.PerStudentFen, Students: f.Students, CollectedFen: f.CollectedFen, SpentFen: f.SpentFen,
			SurplusFen: f.SurplusFen, RefundTotalFen: f.RefundTotalFen, Status: f.Status, StatusName: procurement.FeeStatusNames[f.Status],
			Drill: &reportsv1.Drill{Report: ReportStream, Key: f.StreamID}})
	}
	return out, nil
}

// GetStockAudit implements reportsv1.ReportsServiceServer: the monthly categorised audit is
// the procurement domain's own pure function over the movements of the read model.
func (s *Server) GetStockAudit(ctx context.Context, r *reportsv1.GetStockAuditRequest) (*reportsv1.GetStockAuditResponse, error) {
	var v errs.Violations
	if !event.ValidToken(r.SchoolId) {
		v.Add("school_id", "学校编号有误 / invalid school_id")
	}
	month := r.Month
	if month == "" {
		month = s.today().Format("2006-01")
	} else if _, err := time.Parse("2006-01", month); err != nil {
		v.Add("month", "月份格式须为YYYY-MM / month must be YYYY-MM")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	first, _ := time.Parse("2006-01", month)
	last := first.AddDate(0, 1, -1).Format(domain.DateLayout)
	moves, err := s.Procurement.StockMoves(ctx, r.SchoolId, last)
	if err != nil {
		return nil, err
	}
	out := &reportsv1.GetStockAuditResponse{SchoolId: r.SchoolId, Month: month}
	for _, c := range procdomain.MonthlyAudit(moves, month) {
		out.Categories = append(out.Categories, &reportsv1.StockAuditRow{Category: c.Category, OpeningFen: c.Opening,
			ReceivedFen: c.Received, IssuedFen: c.Issued, ReturnedFen: c.Returned, AdjustedFen: c.Adjusted, ClosingFen: c.Closing})
		out.ClosingFen += c.Closing
	}
	return out, nil
}

// GetStockValue implements reportsv1.ReportsServiceServer with the procurement domain's pure
// SlowMovingStock under the default stock policy in force on as_of.
func (s *Server) GetStockValue(ctx context.Context, r *reportsv1.GetStockValueRequest) (*reportsv1.GetStockValueResponse, error) {
	var v errs.Violations
	if !event.ValidToken(r.SchoolId) {
		v.Add("school_id", "学校编号有误 / invalid school_id")
	}
	asOf := s.today()
	if r.AsOf != "" {
		asOf = date(&v, "as_of", r.AsOf)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	day := asOf.Format(domain.DateLayout)
	moves, err := s.Procurement.StockMoves(ctx, r.SchoolId, day)
	if err != nil {
		return nil, err
	}
	p := procdomain.DefaultStockPolicies.At(asOf)
	_, total := procdomain.StockAsOf(moves, day)
	out := &reportsv1.GetStockValueResponse{SchoolId: r.SchoolId, AsOf: day, PolicyVersion: p.Version, ValueFen: total}
	for _, f := range procdomain.SlowMovingStock(moves, day, p) {
		out.Items = append(out.Items, &reportsv1.StockItemValue{ItemCode: f.ItemCode, Category: f.Category, OnHand: f.OnHand,
			ValueFen: f.ValueFen, LastIssuedOn: f.LastIssuedOn, SlowMoving: f.SlowMoving, Overstock: f.Overstock, CoverDays: f.CoverDays})
		if f.SlowMoving {
			out.SlowMovingValueFen += f.ValueFen
		}
	}
	return out, nil
}
