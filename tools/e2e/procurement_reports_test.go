package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/testkit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
	"houqin.dev/tools/internal/stack"
)

// A school's procurement — budget lines, a request waiting, purchases with and without
// three quotes, an acceptance, a reimbursed invoice, stores and fees (stockFeesAndCompliance,
// whose numbers are computed by hand) — shows in the procurement reports through the gateway
// — JSON, CSV and the dashboard page with its drill-down — for the bureau and for the school.
func TestProcurementReportsPage(t *testing.T) {
	st := startStack(t)
	if err := st.StartAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	const school = "pr-e2e-zx"
	registerSchool(t, st, assets(t, st), school, "城关中学", assetsv1.SchoolKind_SCHOOL_KIND_MIDDLE)
	sub := waitingPurchaseRequest(t, st, school, "pr")
	stockFeesAndCompliance(t, st, school)

	viewer := token(t, st, auth.RoleBureauViewer, "")
	var d struct {
		BudgetFen        string `json:"budget_fen"`
		ApprovalsWaiting int    `json:"approvals_waiting"`
		Schools          []struct {
			SchoolID         string `json:"school_id"`
			Name             string `json:"name"`
			AvailableFen     string `json:"available_fen"`
			ApprovalsWaiting int    `json:"approvals_waiting"`
		} `json:"schools"`
	}
	testkit.Eventually(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		code := getJSON(t, st, viewer, "/api/v1/district/procurement", &d)
		return code == 200 && d.BudgetFen == fmt.Sprint(wantBudgetFen) && d.ApprovalsWaiting == 1 && len(d.Schools) == 1 && d.Schools[0].Name == "城关中学",
			"district procurement not caught up" // the name comes from the ledger, another runner
	})
	if len(d.Schools) != 1 || d.Schools[0].Name != "城关中学" || d.Schools[0].AvailableFen != fmt.Sprint(wantBudgetFen-wantSpentFen-wantCommittedFen) || d.Schools[0].ApprovalsWaiting != 1 {
		t.Fatalf("district procurement %+v", d)
	}
	dirTok := token(t, st, auth.RoleLogisticsDirector, school)
	csv := string(getFile(t, st, dirTok, "/api/v1/schools/"+school+"/procurement/approvals?format=csv"))
	if !strings.Contains(csv, sub.PurchaseRequestId) || !strings.Contains(csv, "教务处") || !strings.Contains(csv, "4500.00") {
		t.Fatalf("approvals csv: %s", csv)
	}
	var bad struct {
		Error struct {
			FieldViolations []struct{ Field string } `json:"field_violations"`
		} `json:"error"`
	}
	if code := getJSON(t, st, dirTok, "/api/v1/schools/"+school+"/procurement/budget?fiscal_year=abc", &bad); code != 400 ||
		len(bad.Error.FieldViolations) != 1 || bad.Error.FieldViolations[0].Field != "fiscal_year" {
		t.Fatalf("bad fiscal_year: %d %+v", code, bad)
	}
	if code := getJSON(t, st, token(t, st, auth.RoleLogisticsDirector, "other-school"), "/api/v1/schools/"+school+"/procurement/budget", nil); code != 403 {
		t.Fatalf("other school's budget: %d", code)
	}

	browse(t, st.URL()+"/#token="+viewer, func(b *browser) {
		b.click(`#views button[data-view="procurement"]`)
		b.waitText("#proc-budget", "¥25,000.00")
		b.waitText("#proc-committed", "¥176.00")
		b.waitText("#proc-spent", "¥1,200.00")
		b.waitText("#proc-schools tbody", "城关中学")
		// 货比三家 counts the paper (three quotes) and not the keyboards (below the threshold):
		// quotes, acceptances and invoices each 1/1.
		b.waitText("#proc-compliance tbody", "城关中学\t1/1 · 100.0%\t1/1 · 100.0%\t1/1 · 100.0%")
		b.waitText("#district-stock tbody", "城关中学")
		b.waitText("#district-stock-value", "¥2,938.50")
		b.waitText("#district-stock-slow", "¥540.00")
		b.waitText("#district-fees tbody", "城关中学")
		b.waitText("#district-fees-collected", "¥7,200.00")
		b.waitText("#district-fees-unsettled", "1")
		// A compliance number opens the purchases behind it, and back.
		b.click(`#proc-compliance tr[data-school="` + school + `"] .link`)
		b.waitText("#events-title", "城关中学 · 货比三家合规")
		b.click("#events-back")
		b.click(`#proc-schools tr[data-school="` + school + `"]`)
		b.waitText("#proc-title", "城关中学")
		b.waitText("#budget-lines tbody", "专用设备购置")
		b.waitText("#budget-available", "23,624.00")
		b.waitText("#budget-spent", "1,200.00")
		b.waitText("#approvals tbody", "部门负责人")
		b.waitText("#school-compliance tbody", "城关中学")
		b.waitText("#stock-value", "¥2,938.50")
		b.waitText("#stock-slow", "¥540.00")
		b.waitText("#stock-items tbody", "TY-200\t体育器材\t60\t540.00\t从未 / never\t呆滞")
		b.waitText("#stock-items tbody", "BG-BZ\t办公用品\t490\t735.00\t")
		// 490 on hand at 10 used in the 180-day window: 490 / (10/180) = 8,820 days.
		b.waitText("#stock-items tbody", "积压（可用 8820 天）")
		b.waitText("#stock-closing", "2,938.50")
		b.waitText("#fees tbody", "2025-2026-2\t作业本费\t120\t3,600.00\t3,360.00\t240.00\t240.00\t结算已公示")
		b.waitText("#fees tbody", "2026-2027-1\t作业本费\t120\t3,600.00\t0.00\t0.00\t0.00\t收费中")
		b.click("#stock-value-card")
		b.waitText("#events-title", "库存（截至")
		b.click("#events-back")
		// The budget table's totals lead to the year's budget lines: opened, committed, spent.
		b.click("#budget-totals")
		b.waitText("#events-title", "预算执行")
		b.waitText("#event-list tbody", "预算下达")
		b.waitText("#event-list tbody", "预算占用")
		b.click("#events-back")
		// Drill-down: the waiting request leads to its submission.
		b.click(`#approvals tr[data-request="` + sub.PurchaseRequestId + `"]`)
		b.waitText("#event-list tbody", "购物申请")
		b.waitText("#event-list tbody", "投影仪")
	})
}

// waitingPurchaseRequest opens a budget line of ¥20,000 in school (as its accountant) and
// submits a request for a ¥4,500 projector from it (as a teacher), waiting for the department
// head; request ids start with prefix.
func waitingPurchaseRequest(t *testing.T, st *stack.Stack, school, prefix string) *procurementv1.SubmitPurchaseRequestResponse {
	t.Helper()
	conn, err := stack.Dial(st.ProcurementAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	pc := procurementv1.NewProcurementServiceClient(conn)
	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
	bl, err := pc.OpenBudgetLine(as(t, st, auth.RoleAccountant, school), &procurementv1.OpenBudgetLineRequest{RequestId: "budget-" + prefix + "-1",
		SchoolId: school, FiscalYear: int32(year), Code: "3100201", Name: "专用设备购置", AmountFen: 2_000_000, FundingSource: "财政拨款"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := pc.SubmitPurchaseRequest(as(t, st, auth.RoleTeacher, school), &procurementv1.SubmitPurchaseRequestRequest{RequestId: "submit-" + prefix + "-1",
		SchoolId: school, Department: "教务处", BudgetLineId: bl.BudgetLineId, Reason: "多媒体教室改造", Lines: []*procurementv1.RequestLine{
			{Name: "投影仪", Category: "2", Model: "EB-X51", Unit: "台", Quantity: 1, EstimatedUnitPriceFen: 450_000}}})
	if err != nil {
		t.Fatal(err)
	}
	return sub
}
