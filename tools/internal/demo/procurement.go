package demo

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"houqin.dev/platform/auth"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

// Suppliers of the demo district's directory (供应商名录).
var Suppliers = []struct{ Name, CreditCode string }{
	{"青山区文华办公用品商行", "91420100MA4K0DEM01"},
	{"城关鑫达电脑科技有限公司", "91420100MA4K0DEM02"},
	{"江北晨光文教用品有限公司", "91420100MA4K0DEM03"},
	{"青山区联创信息技术有限公司", "91420100MA4K0DEM04"},
	{"滨江洁美清洁用品经营部", "91420100MA4K0DEM05"},
	{"华中教学仪器设备有限公司", "91420100MA4K0DEM06"},
}

// ProcurementResult counts what SeedProcurement holds.
type ProcurementResult struct {
	Suppliers, BudgetLines, Requests, Orders int
	// OrderIDs are the computer orders by school (SeedStockAndFees delivers some).
	OrderIDs map[string]string
}

// SeedProcurement fills the procurement service (through conn) with the demo district's
// supplier directory, two budget lines per school for the current fiscal year and three
// purchase requests per school at different stages: one waiting for the department head, one
// waiting for the principal, one approved, quoted three times (货比三家) and ordered. Request
// ids are fixed per school and year, so seeding again changes nothing.
func SeedProcurement(ctx context.Context, conn grpc.ClientConnInterface, token TokenFunc, year int) (ProcurementResult, error) {
	c := procurementv1.NewProcurementServiceClient(conn)
	as := func(role auth.Role, school, name string) (context.Context, error) {
		tok, err := token(role, school, name)
		if err != nil {
			return nil, err
		}
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok), nil
	}
	res := ProcurementResult{OrderIDs: map[string]string{}}
	admin, err := as(auth.RoleBureauAdmin, "", "教育局装备科")
	if err != nil {
		return res, err
	}
	var sups []string
	for i, s := range Suppliers {
		r, err := c.RegisterSupplier(admin, &procurementv1.RegisterSupplierRequest{RequestId: "demo-supplier-" + s.CreditCode,
			Name: s.Name, CreditCode: s.CreditCode, Contact: "业务经理", Phone: fmt.Sprintf("027-8888%04d", i),
			Licences: []*procurementv1.Licence{{Kind: "business_licence", Number: s.CreditCode, ExpiresOn: fmt.Sprintf("%d-12-31", year+5)}}})
		if err != nil {
			return res, fmt.Errorf("demo: supplier %s: %w", s.Name, err)
		}
		sups = append(sups, r.SupplierId)
	}
	res.Suppliers = len(sups)
	for _, s := range Schools {
		order, err := seedSchoolProcurement(ctx, c, as, s, year, sups)
		if err != nil {
			return res, fmt.Errorf("demo: procurement of %s: %w", s.ID, err)
		}
		res.BudgetLines += 2
		res.Requests += 3
		res.Orders++
		res.OrderIDs[s.ID] = order
	}
	return res, nil
}

func seedSchoolProcurement(ctx context.Context, c procurementv1.ProcurementServiceClient,
	as func(auth.Role, string, string) (context.Context, error), s School, year int, sups []string) (string, error) {
	ctxOf := map[auth.Role]context.Context{}
	for _, r := range []auth.Role{auth.RoleAccountant, auth.RoleTeacher, auth.RoleDepartmentHead, auth.RoleLogisticsDirector,
		auth.RolePrincipal, auth.RoleStorekeeper} {
		x, err := as(r, s.ID, s.Name+string(r))
		if err != nil {
			return "", err
		}
		ctxOf[r] = x
	}
	id := func(parts ...any) string { return fmt.Sprintf("demo-%s-%d-%s", s.ID, year, fmt.Sprint(parts...)) }
	// Budgets scale with the school's classes.
	lines := map[string]string{}
	for _, b := range []struct {
		code, name string
		perClass   int64
	}{{"30201", "办公费", 300_000}, {"31002", "办公设备购置", 2_000_000}} {
		r, err := c.OpenBudgetLine(ctxOf[auth.RoleAccountant], &procurementv1.OpenBudgetLineRequest{RequestId: id("budget-", b.code), SchoolId: s.ID,
			FiscalYear: int32(year), Code: b.code, Name: b.name, AmountFen: b.perClass * int64(s.Classes), FundingSource: "财政拨款"})
		if err != nil {
			return "", err
		}
		lines[b.code] = r.BudgetLineId
	}
	submit := func(tag, dept, reason, line string, l ...*procurementv1.RequestLine) (string, error) {
		r, err := c.SubmitPurchaseRequest(ctxOf[auth.RoleTeacher], &procurementv1.SubmitPurchaseRequestRequest{RequestId: id("request-", tag),
			SchoolId: s.ID, Department: dept, Lines: l, BudgetLineId: line, Reason: reason})
		if err != nil {
			return "", err
		}
		return r.PurchaseRequestId, nil
	}
	approve := func(tag, req string, roles ...auth.Role) error {
		for i, role := range roles {
			if _, err := c.ApprovePurchaseRequest(ctxOf[role], &procurementv1.ApprovePurchaseRequestRequest{RequestId: id("approve-", tag, i),
				SchoolId: s.ID, PurchaseRequestId: req, Comment: "同意"}); err != nil {
				return err
			}
		}
		return nil
	}
	// Paper for the teaching office: waiting for the department head.
	if _, err := submit("paper", "教务处", "新学期试卷印制用纸", lines["30201"],
		&procurementv1.RequestLine{Name: "A4复印纸", Category: "office", Model: "70g", Unit: "箱", Quantity: int64(s.Classes), EstimatedUnitPriceFen: 12_500}); err != nil {
		return "", err
	}
	// A projector for the lecture hall: waiting for the principal.
	proj, err := submit("projector", "总务处", "报告厅投影机老化", lines["31002"],
		&procurementv1.RequestLine{Name: "投影机", Category: "201", Model: "爱普生 CB-2265U", Unit: "台", Quantity: 1, EstimatedUnitPriceFen: 680_000})
	if err != nil {
		return "", err
	}
	if err := approve("projector", proj, auth.RoleDepartmentHead, auth.RoleLogisticsDirector); err != nil {
		return "", err
	}
	// Computers for the teachers' office: approved, three quotes, the cheapest chosen, ordered.
	pcs, err := submit("computers", "信息中心", "教师办公电脑更新", lines["31002"],
		&procurementv1.RequestLine{Name: "台式计算机", Category: "201", Model: "联想启天 M437", Unit: "台", Quantity: 4, EstimatedUnitPriceFen: 450_000},
		&procurementv1.RequestLine{Name: "键鼠套装", Category: "office", Unit: "套", Quantity: 4, EstimatedUnitPriceFen: 9_000})
	if err != nil {
		return "", err
	}
	if err := approve("computers", pcs, auth.RoleDepartmentHead, auth.RoleLogisticsDirector, auth.RolePrincipal); err != nil {
		return "", err
	}
	var cheapest string
	for i, sup := range sups[1:4] {
		q, err := c.AddQuote(ctxOf[auth.RoleStorekeeper], &procurementv1.AddQuoteRequest{RequestId: id("quote-computers-", i), SchoolId: s.ID,
			PurchaseRequestId: pcs, SupplierId: sup, UnitPricesFen: []int64{438_000 + int64(i)*6_000, 8_500 + int64(i)*300}})
		if err != nil {
			return "", err
		}
		if i == 0 {
			cheapest = q.QuoteId
		}
	}
	director := ctxOf[auth.RoleLogisticsDirector]
	if _, err := c.ChooseQuote(director, &procurementv1.ChooseQuoteRequest{RequestId: id("choose-computers"), SchoolId: s.ID,
		PurchaseRequestId: pcs, QuoteId: cheapest}); err != nil {
		return "", err
	}
	po, err := c.PlacePurchaseOrder(director, &procurementv1.PlacePurchaseOrderRequest{RequestId: id("order-computers"), SchoolId: s.ID,
		PurchaseRequestId: pcs})
	if err != nil {
		return "", err
	}
	return po.PurchaseOrderId, nil
}

// FiscalYear is the current year in the district's time zone.
func FiscalYear() int { return Today().Year() }

// Today is the current day (midnight) in the district's time zone.
func Today() time.Time {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	y, m, d := time.Now().In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}
