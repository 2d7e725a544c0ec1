package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"houqin.dev/gateway/httpapi"
	"houqin.dev/platform/auth"
	"houqin.dev/platform/testkit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
	"houqin.dev/tools/internal/stack"
)

// errorJSON is the gateway's error body.
type errorJSON struct {
	Error struct {
		Code            string `json:"code"`
		Message         string `json:"message"`
		Reason          string `json:"reason"`
		FieldViolations []struct {
			Field       string `json:"field"`
			Description string `json:"description"`
		} `json:"field_violations"`
	} `json:"error"`
}

func (e errorJSON) fields() string {
	var fs []string
	for _, f := range e.Error.FieldViolations {
		fs = append(fs, f.Field)
	}
	sort.Strings(fs)
	return strings.Join(fs, ",")
}

// callRPC posts body to the gateway's RPC route for method ("houqin.assets.v1.RepairsService/ReportRepair")
// with tok (none when empty) and decodes a success into out; it returns the status and the
// error body.
func callRPC(t *testing.T, st *stack.Stack, tok, method, body string, out any, header ...string) (int, errorJSON) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, st.URL()+httpapi.RPCPrefix+method, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var e errorJSON
	if res.StatusCode != http.StatusOK {
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("%s: HTTP %d, not an error body: %s", method, res.StatusCode, b)
		}
		return res.StatusCode, e
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: %v: %s", method, err, b)
		}
	}
	return res.StatusCode, e
}

// Commands through the gateway's RPC route answer as the services decide: the command's reply,
// 400 with field violations, 422 with the rule's reason, 409 on a concurrent update, 403 for
// another school, 401 without a token, 404 for what is not an RPC of the table.
func TestCommandsOverHTTP(t *testing.T) {
	st := startStack(t)
	if err := st.StartAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	const school = "hc-e2e-xx"
	registerSchool(t, st, assets(t, st), school, "东风小学", assetsv1.SchoolKind_SCHOOL_KIND_PRIMARY)
	teacher := token(t, st, auth.RoleTeacher, school)
	director := token(t, st, auth.RoleLogisticsDirector, school)
	const report = "houqin.assets.v1.RepairsService/ReportRepair"

	// A teacher reports a repair; the same request id again is the same repair.
	body := `{"request_id":"hc-repair-0001","school_id":"` + school + `","location":"教学楼301","class_name":"三年级2班",
		"description":"灯管不亮","severity":"REPAIR_SEVERITY_MAJOR"}`
	var rep struct {
		RepairID string `json:"repair_id"`
		Version  string `json:"version"`
	}
	if code, e := callRPC(t, st, teacher, report, body, &rep); code != 200 || rep.RepairID == "" || rep.Version != "1" {
		t.Fatalf("report repair: %d %+v %+v", code, rep, e)
	}
	var again struct {
		RepairID string `json:"repair_id"`
	}
	if code, _ := callRPC(t, st, teacher, report, body, &again); code != 200 || again.RepairID != rep.RepairID {
		t.Fatalf("repeated request id: %d %s, want %s", code, again.RepairID, rep.RepairID)
	}
	// The Idempotency-Key header stands in for request_id.
	var keyed struct {
		RepairID string `json:"repair_id"`
	}
	noID := `{"school_id":"` + school + `","location":"操场","description":"篮球架松动","severity":"REPAIR_SEVERITY_MINOR"}`
	if code, e := callRPC(t, st, teacher, report, noID, &keyed, "Idempotency-Key", "hc-repair-keyed-1"); code != 200 ||
		keyed.RepairID == "" || keyed.RepairID == rep.RepairID {
		t.Fatalf("Idempotency-Key: %d %+v %+v", code, keyed, e)
	}

	// Bad input: 400, one violation per field, in proto field names, Chinese first.
	code, e := callRPC(t, st, teacher, report, `{"request_id":"hc-repair-0002","school_id":"`+school+`","description":"坏"}`, nil)
	if code != 400 || e.Error.Code != "INVALID_ARGUMENT" || e.fields() != "description,location,severity" {
		t.Fatalf("bad input: %d %+v", code, e)
	}
	if d := e.Error.FieldViolations[0].Description; !strings.Contains(d, " / ") || d[0] < 0x80 {
		t.Fatalf("violation not Chinese first: %q", d)
	}
	if code, e := callRPC(t, st, teacher, report, `{"request_id":`, nil); code != 400 || !strings.HasPrefix(e.Error.Message, "JSON格式有误") {
		t.Fatalf("malformed JSON: %d %+v", code, e)
	}
	if code, e := callRPC(t, st, teacher, report, `{"no_such_field":1}`, nil); code != 400 || e.Error.Code != "INVALID_ARGUMENT" {
		t.Fatalf("unknown field: %d %+v", code, e)
	}

	// A business rule: work cannot start before the repair is dispatched (422, its reason).
	start := `{"request_id":"hc-start-0001","school_id":"` + school + `","repair_id":"` + rep.RepairID + `"}`
	if code, e := callRPC(t, st, director, "houqin.assets.v1.RepairsService/StartRepair", start, nil); code != 422 ||
		e.Error.Code != "FAILED_PRECONDITION" || e.Error.Reason != "REPAIR_NOT_DISPATCHED" || !strings.HasPrefix(e.Error.Message, "尚未派工") {
		t.Fatalf("start before dispatch: %d %+v", code, e)
	}

	// A concurrent update: the client saw a version the repair is no longer at (409).
	dispatch := func(id string, expected int) (int, errorJSON) {
		return callRPC(t, st, director, "houqin.assets.v1.RepairsService/DispatchRepair", `{"request_id":"`+id+`","school_id":"`+school+
			`","repair_id":"`+rep.RepairID+`","expected_version":"`+strconv.Itoa(expected)+`","assignee_kind":"REPAIR_ASSIGNEE_KIND_SCHOOL_WORKER","assignee":"李师傅"}`, nil)
	}
	if code, e := dispatch("hc-dispatch-0001", 1); code != 200 {
		t.Fatalf("dispatch at version 1: %d %+v", code, e)
	}
	if code, e := dispatch("hc-dispatch-0002", 1); code != 409 || e.Error.Code != "ABORTED" || e.Error.Reason != "CONCURRENT_UPDATE" {
		t.Fatalf("dispatch at a stale version: %d %+v", code, e)
	}

	// Another school's teacher (403), no token (401): the services decide, not the gateway.
	other := token(t, st, auth.RoleTeacher, "other-school")
	if code, e := callRPC(t, st, other, report, strings.Replace(body, "hc-repair-0001", "hc-repair-0003", 1), nil); code != 403 ||
		e.Error.Reason != "OTHER_SCHOOL" {
		t.Fatalf("other school: %d %+v", code, e)
	}
	if code, e := callRPC(t, st, "", report, body, nil); code != 401 || e.Error.Code != "UNAUTHENTICATED" {
		t.Fatalf("no token: %d %+v", code, e)
	}
	if code, e := callRPC(t, st, teacher, "houqin.assets.v1.RepairsService/DispatchRepair", `{"school_id":"`+school+`"}`, nil); code != 403 ||
		e.Error.Reason != "ROLE_NOT_ALLOWED" {
		t.Fatalf("teacher dispatching: %d %+v", code, e)
	}

	// Not an RPC of the table: 404 from the gateway; a GET is not the route's method.
	for _, m := range []string{"houqin.assets.v1.RepairsService/Nope", "houqin.nope.v1.X/Y", "grpc.health.v1.Health/Check"} {
		if code, e := callRPC(t, st, teacher, m, `{}`, nil); code != 404 || e.Error.Reason != httpapi.ReasonUnknownRPC {
			t.Fatalf("%s: %d %+v", m, code, e)
		}
	}
	if res, err := http.Get(st.URL() + httpapi.RPCPrefix + report); err != nil || res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET on the RPC route: %v %v", res.StatusCode, err)
	}

	// Procurement too: the department head approves a purchase request's first step over HTTP,
	// and the approval shows in the approvals report read through the same route.
	sub := waitingPurchaseRequest(t, st, school, "hc")
	approve := `{"request_id":"hc-approve-1","school_id":"` + school + `","purchase_request_id":"` + sub.PurchaseRequestId + `"}`
	if code, e := callRPC(t, st, director, "houqin.procurement.v1.ProcurementService/ApprovePurchaseRequest", approve, nil); code != 422 ||
		e.Error.Reason != "APPROVER_ROLE_REQUIRED" || !strings.HasPrefix(e.Error.Message, "当前步骤须由部门负责人审批") {
		t.Fatalf("director approving the department head's step: %d %+v", code, e)
	}
	var ap struct {
		Status string `json:"status"`
	}
	head := token(t, st, auth.RoleDepartmentHead, school)
	approve = strings.Replace(approve, "hc-approve-1", "hc-approve-2", 1)
	if code, e := callRPC(t, st, head, "houqin.procurement.v1.ProcurementService/ApprovePurchaseRequest", approve, &ap); code != 200 || ap.Status != "pending" {
		t.Fatalf("department head approves: %d %+v %+v", code, ap, e)
	}
	testkit.Eventually(t, 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		var w struct {
			Requests []struct {
				ID   string `json:"purchase_request_id"`
				Step string `json:"step"`
			} `json:"requests"`
		}
		code, _ := callRPC(t, st, director, "houqin.reports.v1.ReportsService/GetApprovalsWaiting", `{"school_id":"`+school+`"}`, &w)
		return code == 200 && len(w.Requests) == 1 && w.Requests[0].ID == sub.PurchaseRequestId && w.Requests[0].Step == "logistics_director",
			"approvals waiting not at the director's step"
	})
}

// Every RPC of the authorisation table is reachable through the RPC route. Without a token each
// must be answered by its own service's interceptor (401), which runs only for methods the
// server has: a method the gateway does not route (404), routes to the wrong service
// (Unimplemented) or that is missing from the table fails.
func TestEveryDeclaredRPCReachableOverHTTP(t *testing.T) {
	st := startStack(t)
	if err := st.StartAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := 0
	for name, rule := range auth.Table {
		if rule.Scope == auth.ScopePublic {
			continue
		}
		n++
		if code, e := callRPC(t, st, "", strings.TrimPrefix(name, "/"), `{}`, nil); code != 401 || e.Error.Code != "UNAUTHENTICATED" {
			t.Errorf("%s: HTTP %d %s %s %q, want 401 from the service", name, code, e.Error.Code, e.Error.Reason, e.Error.Message)
		}
	}
	if n < 100 {
		t.Fatalf("only %d RPCs in the table", n)
	}
}

// The dashboard's forms send commands through the RPC route: the logistics director reports a
// repair (报修) and sees it counted in the repairs report, and approves his step of a waiting
// purchase request (审批) from the approvals table; the services' refusals show in Chinese.
func TestDashboardForms(t *testing.T) {
	st := startStack(t)
	if err := st.StartAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	const school = "hc-web-zx"
	registerSchool(t, st, assets(t, st), school, "东风小学", assetsv1.SchoolKind_SCHOOL_KIND_PRIMARY)
	sub := waitingPurchaseRequest(t, st, school, "web")
	approve := `{"request_id":"web-approve-1","school_id":"` + school + `","purchase_request_id":"` + sub.PurchaseRequestId + `"}`
	if code, e := callRPC(t, st, token(t, st, auth.RoleDepartmentHead, school), "houqin.procurement.v1.ProcurementService/ApprovePurchaseRequest", approve, nil); code != 200 {
		t.Fatalf("department head approves: %d %+v", code, e)
	}
	director := token(t, st, auth.RoleLogisticsDirector, school)

	browse(t, st.URL()+"/#token="+director, func(b *browser) {
		b.waitText("#school-title", "东风小学")
		b.click(`#views button[data-view="repair"]`)
		// Nothing filled in: the service's field violations, named as the form names them.
		b.click(`#repair-form button[type="submit"]`)
		b.waitText("#error", "地点：请填写地点或选择资产")
		b.waitText("#error", "故障描述：故障描述须为2–500个字")
		b.fill(`#repair-form input[name="location"]`, "教学楼301")
		b.fill(`#repair-form input[name="class_name"]`, "三年级2班")
		b.fill(`#repair-form textarea[name="description"]`, "日光灯不亮")
		b.fill(`#repair-form select[name="severity"]`, "REPAIR_SEVERITY_MAJOR")
		b.click(`#repair-form button[type="submit"]`)
		b.waitText("#repair-result", "已报修")
		b.click("#repair-to-report")
		b.until("#repairs-opened", func(s string) bool { return s == "1" }, "#repairs-back", "#open-repairs")
		b.waitText("#repair-classes tbody", "三年级2班")

		// 审批: the request waits at the director's step.
		b.click(`#views button[data-view="procurement"]`)
		b.waitText("#approvals tbody", sub.PurchaseRequestId)
		b.click(`#approvals tr[data-request="` + sub.PurchaseRequestId + `"] button.reject`)
		b.waitText("#error", "驳回理由：")
		b.click(`#approvals tr[data-request="` + sub.PurchaseRequestId + `"] button.approve`)
		// ¥4,500 a unit needs the principal too: the request moves on to that step.
		b.waitText("#approval-result", "已批准，待下一步审批")
		b.until(`#approvals tr[data-request="`+sub.PurchaseRequestId+`"]`, func(s string) bool { return strings.Contains(s, "校长") },
			`#views button[data-view="procurement"]`)
	})

	// A teacher reads no reports: the dashboard opens on the 报修 form, and the report is taken.
	browse(t, st.URL()+"/#token="+token(t, st, auth.RoleTeacher, school), func(b *browser) {
		b.fill(`#repair-form input[name="location"]`, "操场")
		b.fill(`#repair-form textarea[name="description"]`, "篮球架松动")
		b.fill(`#repair-form select[name="severity"]`, "REPAIR_SEVERITY_MINOR")
		b.click(`#repair-form button[type="submit"]`)
		b.waitText("#repair-result", "已报修")
	})
}
