package ports

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/event"
	procdomain "houqin.dev/procurement/domain"
	"houqin.dev/projector/eventlog"
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
	schoolID(&v, r.SchoolId)
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
		out.Months = append(out.Months, &reportsv1.MonthSpend{Month: m.Key, SpentFen: m.Fen,
			Drill: &reportsv1.Drill{Report: ReportSpendMonth, Key: spendKey(year, m.Key)}})
	}
	for _, c := range sp.Categories {
		out.Categories = append(out.Categories, &reportsv1.CategorySpend{Category: c.Key, SpentFen: c.Fen,
			Drill: &reportsv1.Drill{Report: ReportSpendCategory, Key: spendKey(year, c.Key)}})
	}
	out.Drill = &reportsv1.Drill{Report: ReportBudget, Key: strconv.Itoa(int(year))}
	return out, nil
}

// days counts whole days from a to b (dates).
func days(a, b time.Time) int32 {
	return int32(b.Sub(time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)).Hours() / 24)
}

// GetApprovalsWaiting implements reportsv1.ReportsServiceServer.
func (s *Server) GetApprovalsWaiting(ctx context.Context, r *reportsv1.GetApprovalsWaitingRequest) (*reportsv1.GetApprovalsWaitingResponse, error) {
	var v errs.Violations
	schoolID(&v, r.SchoolId)
	asOf := s.asOf(&v, r.AsOf)
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
			Drill: drill(ReportStream, w.StreamID, asOf)})
	}
	return out, nil
}

// GetDistrictProcurement implements reportsv1.ReportsServiceServer.
func (s *Server) GetDistrictProcurement(ctx context.Context, r *reportsv1.GetDistrictProcurementRequest) (*reportsv1.GetDistrictProcurementResponse, error) {
	var v errs.Violations
	year := s.fiscalYear(&v, r.FiscalYear)
	asOf := s.asOf(&v, r.AsOf)
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

// window checks an optional from/to pair of business dates.
func window(v *errs.Violations, from, to string) procurement.Window {
	w := procurement.Window{From: date(v, "from", from), To: date(v, "to", to)}
	if !w.From.IsZero() && !w.To.IsZero() && w.To.Before(w.From) {
		v.Add("to", "截止日期早于开始日期 / to is before from")
	}
	return w
}

func (s *Server) compliance(ctx context.Context, school, from, to string) ([]*reportsv1.SchoolCompliance, error) {
	var v errs.Violations
	if school != "" && !event.ValidToken(school) {
		v.Add("school_id", "学校编号有误 / invalid school_id")
	}
	w := window(&v, from, to)
	if err := v.Err(); err != nil {
		return nil, err
	}
	cs, err := s.Procurement.Compliance(ctx, school, w)
	if err != nil {
		return nil, err
	}
	dr := func(report, key string) *reportsv1.Drill {
		return &reportsv1.Drill{Report: report, Key: key, From: from, To: to}
	}
	var out []*reportsv1.SchoolCompliance
	for _, c := range cs {
		out = append(out, &reportsv1.SchoolCompliance{SchoolId: c.SchoolID, Name: c.Name,
			QuotesRequired: c.QuotesRequired, QuotesCompliant: c.QuotesCompliant, QuotesPermille: rate(c.QuotesCompliant, c.QuotesRequired),
			Acceptances: c.Acceptances, AcceptancesTwoPerson: c.AcceptancesTwo, AcceptancesPermille: rate(c.AcceptancesTwo, c.Acceptances),
			InvoicesReimbursed: c.InvoicesReimbursed, InvoicesThreeSigned: c.InvoicesFull, InvoicesPermille: rate(c.InvoicesFull, c.InvoicesReimbursed),
			QuotesCompliantDrill:      dr(ReportComplianceQuotes, KeyCompliant),
			QuotesNoncompliantDrill:   dr(ReportComplianceQuotes, KeyNoncompliant),
			AcceptancesTwoPersonDrill: dr(ReportComplianceAcceptances, KeyTwoPerson),
			AcceptancesSingleDrill:    dr(ReportComplianceAcceptances, KeySingle),
			InvoicesThreeSignedDrill:  dr(ReportComplianceInvoices, KeyThreeSigned),
			InvoicesIncompleteDrill:   dr(ReportComplianceInvoices, KeyIncomplete)})
	}
	return out, nil
}

// GetProcurementCompliance implements reportsv1.ReportsServiceServer.
func (s *Server) GetProcurementCompliance(ctx context.Context, r *reportsv1.GetProcurementComplianceRequest) (*reportsv1.GetProcurementComplianceResponse, error) {
	if r.SchoolId == "" {
		return nil, errs.Invalid("school_id", "学校编号有误 / invalid school_id")
	}
	rows, err := s.compliance(ctx, r.SchoolId, r.From, r.To)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, errs.NotFound("school", r.SchoolId)
	}
	return &reportsv1.GetProcurementComplianceResponse{Schools: rows, From: r.From, To: r.To}, nil
}

// GetDistrictCompliance implements reportsv1.ReportsServiceServer.
func (s *Server) GetDistrictCompliance(ctx context.Context, r *reportsv1.GetDistrictComplianceRequest) (*reportsv1.GetDistrictComplianceResponse, error) {
	rows, err := s.compliance(ctx, "", r.From, r.To)
	if err != nil {
		return nil, err
	}
	return &reportsv1.GetDistrictComplianceResponse{Schools: rows, From: r.From, To: r.To}, nil
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
	schoolID(&v, r.SchoolId)
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
			ReceivedFen: c.Received, IssuedFen: c.Issued, ReturnedFen: c.Returned, AdjustedFen: c.Adjusted, ClosingFen: c.Closing,
			Drill: &reportsv1.Drill{Report: ReportStockCategory, Key: c.Category, To: last}})
		out.ClosingFen += c.Closing
	}
	return out, nil
}

// GetStockValue implements reportsv1.ReportsServiceServer with the procurement domain's pure
// SlowMovingStock under the default stock policy in force on as_of.
func (s *Server) GetStockValue(ctx context.Context, r *reportsv1.GetStockValueRequest) (*reportsv1.GetStockValueResponse, error) {
	var v errs.Violations
	schoolID(&v, r.SchoolId)
	asOf := s.asOf(&v, r.AsOf)
	if err := v.Err(); err != nil {
		return nil, err
	}
	day := asOf.Format(domain.DateLayout)
	moves, err := s.Procurement.StockMoves(ctx, r.SchoolId, day)
	if err != nil {
		return nil, err
	}
	p := procdomain.DefaultStockPolicies.At(asOf)
	st := stockOf(moves, day, p)
	out := &reportsv1.GetStockValueResponse{SchoolId: r.SchoolId, AsOf: day, PolicyVersion: p.Version, ValueFen: st.value,
		SlowMovingValueFen: st.slowValue, Items: st.findings, Drill: &reportsv1.Drill{Report: ReportStock, To: day}}
	return out, nil
}

// stock is one school's stock at the end of a day under a stock policy.
type stock struct {
	value, slowValue       int64
	items, slow, overstock int32
	findings               []*reportsv1.StockItemValue // slow-moving or overstocked, each with its drill
}

// stockOf sums a school's movements up to the end of day with the procurement domain's pure
// StockAsOf and SlowMovingStock.
func stockOf(moves []procdomain.Movement, day string, p procdomain.StockPolicy) stock {
	var st stock
	_, st.value = procdomain.StockAsOf(moves, day)
	onHand := map[string]int64{}
	for _, m := range moves {
		if m.On <= day {
			onHand[m.ItemCode] += m.Quantity
		}
	}
	for _, q := range onHand {
		if q > 0 {
			st.items++
		}
	}
	for _, f := range procdomain.SlowMovingStock(moves, day, p) {
		st.findings = append(st.findings, &reportsv1.StockItemValue{ItemCode: f.ItemCode, Category: f.Category, OnHand: f.OnHand,
			ValueFen: f.ValueFen, LastIssuedOn: f.LastIssuedOn, SlowMoving: f.SlowMoving, Overstock: f.Overstock, CoverDays: f.CoverDays,
			Drill: &reportsv1.Drill{Report: ReportStockItem, Key: f.ItemCode, To: day}})
		if f.SlowMoving {
			st.slowValue += f.ValueFen
			st.slow++
		}
		if f.Overstock {
			st.overstock++
		}
	}
	return st
}

// GetDistrictStock implements reportsv1.ReportsServiceServer: every school's stock as
// GetStockValue computes it, under the stock policy in force on as_of.
func (s *Server) GetDistrictStock(ctx context.Context, r *reportsv1.GetDistrictStockRequest) (*reportsv1.GetDistrictStockResponse, error) {
	var v errs.Violations
	asOf := s.asOf(&v, r.AsOf)
	if err := v.Err(); err != nil {
		return nil, err
	}
	day := asOf.Format(domain.DateLayout)
	schools, moves, err := s.Procurement.StockBySchool(ctx, day)
	if err != nil {
		return nil, err
	}
	p := procdomain.DefaultStockPolicies.At(asOf)
	out := &reportsv1.GetDistrictStockResponse{AsOf: day, PolicyVersion: p.Version}
	for _, sc := range schools {
		st := stockOf(moves[sc.ID], day, p)
		out.Schools = append(out.Schools, &reportsv1.SchoolStock{SchoolId: sc.ID, Name: sc.Name, Items: st.items, ValueFen: st.value,
			SlowMovingItems: st.slow, SlowMovingValueFen: st.slowValue, OverstockItems: st.overstock,
			SlowMovingPermille: permille(st.slowValue, st.value), Drill: &reportsv1.Drill{Report: ReportStock, To: day}})
		for _, f := range st.findings {
			out.Items = append(out.Items, &reportsv1.DistrictStockItem{SchoolId: sc.ID, Name: sc.Name, Item: f})
		}
		out.ValueFen += st.value
		out.SlowMovingValueFen += st.slowValue
	}
	sort.SliceStable(out.Items, func(i, j int) bool { return out.Items[i].Item.ValueFen > out.Items[j].Item.ValueFen })
	return out, nil
}

// GetDistrictFees implements reportsv1.ReportsServiceServer.
func (s *Server) GetDistrictFees(ctx context.Context, r *reportsv1.GetDistrictFeesRequest) (*reportsv1.GetDistrictFeesResponse, error) {
	if len(r.Term) > 64 {
		return nil, errs.Invalid("term", "学期过长 / term too long")
	}
	fees, err := s.Procurement.DistrictFees(ctx, r.Term)
	if err != nil {
		return nil, err
	}
	out := &reportsv1.GetDistrictFeesResponse{Term: r.Term}
	for _, f := range fees {
		out.Schools = append(out.Schools, &reportsv1.SchoolFees{SchoolId: f.ID, Name: f.Name, Published: f.Published,
			CollectedFen: f.CollectedFen, OnBehalf: f.OnBehalf, Settled: f.Settled, Unsettled: f.OnBehalf - f.Settled,
			SettlementPublished: f.SettlementsPublished, SurplusFen: f.SurplusFen, RefundTotalFen: f.RefundFen,
			RefundsOutstandingFen: f.OutstandingFen, Drill: &reportsv1.Drill{Report: ReportFees, Key: r.Term}})
		out.CollectedFen += f.CollectedFen
		out.RefundTotalFen += f.RefundFen
		out.RefundsOutstandingFen += f.OutstandingFen
		out.Unsettled += f.OnBehalf - f.Settled
	}
	return out, nil
}

// Procurement reports a drill can name (Drill.report) besides a stream.
const (
	ReportBudget                = "budget"         // key the fiscal year: every budget line's events
	ReportSpendMonth            = "spend_month"    // key "<fiscal year>:<YYYY-MM>"
	ReportSpendCategory         = "spend_category" // key "<fiscal year>:<category>"
	ReportStock                 = "stock"          // key empty; to: the day
	ReportStockItem             = "stock_item"     // key the item code; to: the day
	ReportStockCategory         = "stock_category" // key the category; to: the month's last day
	ReportFees                  = "fees"           // key the term, empty for every term
	ReportComplianceQuotes      = "compliance_quotes"
	ReportComplianceAcceptances = "compliance_acceptances"
	ReportComplianceInvoices    = "compliance_invoices"
)

// Keys of the compliance drills: the two sides of each rate.
const (
	KeyCompliant    = "compliant"
	KeyNoncompliant = "noncompliant"
	KeyTwoPerson    = "two_person"
	KeySingle       = "single"
	KeyThreeSigned  = "three_signed"
	KeyIncomplete   = "incomplete"
)

// complianceDrills maps a compliance report to its fact and its keys to the side of the rate.
var complianceDrills = map[string]struct {
	fact string
	keys map[string]bool
}{
	ReportComplianceQuotes:      {procurement.FactQuotes, map[string]bool{KeyCompliant: true, KeyNoncompliant: false}},
	ReportComplianceAcceptances: {procurement.FactAcceptances, map[string]bool{KeyTwoPerson: true, KeySingle: false}},
	ReportComplianceInvoices:    {procurement.FactInvoices, map[string]bool{KeyThreeSigned: true, KeyIncomplete: false}},
}

func spendKey(year int32, key string) string { return strconv.Itoa(int(year)) + ":" + key }

// procurementDrill resolves a procurement report's drill (known is false for other reports).
// Reports whose numbers are chosen by the business dates in the events' payloads name the
// exact events (positions), so ListEvents applies no business-time window of its own to
// them; the fees report names its streams.
func (s *Server) procurementDrill(ctx context.Context, school string, d *reportsv1.Drill, from, to time.Time) (
	pos []eventlog.Position, streams []string, known bool, err error) {
	day := func() string {
		if to.IsZero() {
			return s.today().Format(domain.DateLayout)
		}
		return to.Format(domain.DateLayout)
	}
	badKey := func(msg string) error { return errs.Invalid("drill.key", msg) }
	switch d.Report {
	case ReportSpendMonth, ReportSpendCategory:
		y, key, ok := strings.Cut(d.Key, ":")
		year, yerr := strconv.Atoi(y)
		if !ok || yerr != nil || key == "" {
			return nil, nil, true, badKey("须为“预算年度:月份或分类” / key must be <fiscal year>:<month or category>")
		}
		month, category := key, ""
		if d.Report == ReportSpendCategory {
			month, category = "", key
		}
		pos, err = s.Procurement.SpendPositions(ctx, school, int32(year), month, category)
	case ReportStock:
		pos, err = s.Procurement.StockPositions(ctx, school, day(), "", "")
	case ReportStockItem, ReportStockCategory:
		if d.Key == "" {
			return nil, nil, true, badKey("须指明物品或分类 / key must name the item or category")
		}
		item, category := d.Key, ""
		if d.Report == ReportStockCategory {
			item, category = "", d.Key
		}
		pos, err = s.Procurement.StockPositions(ctx, school, day(), item, category)
	case ReportBudget:
		year, yerr := strconv.Atoi(d.Key)
		if yerr != nil {
			return nil, nil, true, badKey("须为预算年度 / key must be the fiscal year")
		}
		streams, err = s.Procurement.BudgetStreams(ctx, school, int32(year))
		return nil, streams, true, err
	case ReportFees:
		streams, err = s.Procurement.FeeStreams(ctx, school, d.Key)
		return nil, streams, true, err
	default:
		c, ok := complianceDrills[d.Report]
		if !ok {
			return nil, nil, false, nil
		}
		compliant, ok := c.keys[d.Key]
		if !ok {
			return nil, nil, true, badKey("合规追溯的键无效 / unknown key for a compliance drill")
		}
		pos, _, err = s.Procurement.CompliancePositions(ctx, school, c.fact, compliant, procurement.Window{From: from, To: to})
	}
	if pos == nil {
		pos = []eventlog.Position{} // none: an empty list, not "no list"
	}
	return pos, nil, true, err
}
