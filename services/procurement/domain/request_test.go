package domain

import (
	"testing"

	"google.golang.org/protobuf/proto"

	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

var catalogue = Catalogue{
	Categories:           map[string]string{"2": "通用设备", "6": "家具", "office": "办公用品"},
	FixedAssetCategories: map[string]bool{"2": true, "6": true},
}

var (
	head     = Actor{Subject: "h1", Roles: []string{RoleDepartmentHead}}
	headAndD = Actor{Subject: "hd", Roles: []string{RoleDepartmentHead, RoleLogisticsDirector}}
)

func submit(lines ...RequestLine) SubmitPurchaseRequest {
	return SubmitPurchaseRequest{PurchaseRequestID: "pr", SchoolID: "s1", Department: "教务处", Lines: lines,
		BudgetLineID: "bl", Reason: "新学期教学需要", RequestedBy: "t1"}
}

var (
	paper    = RequestLine{Name: "A4复印纸", Category: "office", Unit: "箱", Quantity: 10, EstimatedUnitPriceFen: 12_000}
	computer = RequestLine{Name: "台式电脑", Category: "2", Model: "联想启天M437", Unit: "台", Quantity: 2, EstimatedUnitPriceFen: 450_000}
)

func steps(chain []*eventsv1.ApprovalStep) []string {
	var out []string
	for _, s := range chain {
		out = append(out, s.Step+"/"+s.Role)
	}
	return out
}

func submitted(t *testing.T, c SubmitPurchaseRequest, p Policy) *eventsv1.PurchaseRequestSubmitted {
	t.Helper()
	ev, err := DecideSubmitPurchaseRequest(PurchaseRequest{}, c, catalogue, p, "2025-03-01")
	if err != nil {
		t.Fatal(err)
	}
	return ev[0].(*eventsv1.PurchaseRequestSubmitted)
}

func TestApprovalChainFromPolicy(t *testing.T) {
	// 1,200 yuan of paper: department head, logistics director; three quotes (above 500 yuan).
	e := submitted(t, submit(paper), policy)
	if got := steps(e.Chain); len(got) != 2 || got[0] != "department_head/department_head" || got[1] != "logistics_director/logistics_director" {
		t.Fatalf("chain %v", got)
	}
	if e.EstimatedTotalFen != 120_000 || !e.QuotesRequired || e.MinQuotes != 3 || e.PolicyVersion != "proc-2020" || e.SubmittedOn != "2025-03-01" {
		t.Fatal(e)
	}
	// A unit price above 3,000 yuan: the principal too.
	if got := steps(submitted(t, submit(computer), policy).Chain); len(got) != 3 || got[2] != "principal/principal" {
		t.Fatalf("chain %v", got)
	}
	// Cheap lines, but a total above the principal's total limit (10,000 yuan).
	many := paper
	many.Quantity = 84 // 10,080 yuan
	if got := steps(submitted(t, submit(many), policy).Chain); len(got) != 3 {
		t.Fatalf("chain %v", got)
	}
	// Above the district limit (50,000 yuan): principal, then bureau.
	big := computer
	big.Quantity = 12 // 54,000 yuan
	if got := steps(submitted(t, submit(big), policy).Chain); len(got) != 4 || got[3] != "bureau/bureau_admin" {
		t.Fatalf("chain %v", got)
	}
	// Government procurement named by the request: the bureau whatever the amount.
	gov := submit(paper)
	gov.GovernmentProcurement = true
	if got := steps(submitted(t, gov, policy).Chain); len(got) != 4 {
		t.Fatalf("chain %v", got)
	}
	// 500 yuan or less: no three quotes.
	small := paper
	small.Quantity = 4 // 480 yuan
	if submitted(t, submit(small), policy).QuotesRequired {
		t.Fatal("three quotes for 480 yuan")
	}
	// A later policy with other limits applies from its date, and the event names it.
	later := Policy{Version: "proc-2026", PrincipalUnitPriceFen: 500_000, PrincipalTotalFen: 5_000_000, DistrictLimitFen: 10_000_000,
		QuoteThresholdFen: 200_000, MinQuotes: 3}
	e = submitted(t, submit(computer), later)
	if len(e.Chain) != 2 || e.QuotesRequired != true || e.PolicyVersion != "proc-2026" {
		t.Fatal(e)
	}
	ps := Policies{policy, Policy{Version: "proc-2026", EffectiveFrom: date(2026, 1, 1)}}
	if ps.At(date(2025, 12, 31)).Version != "proc-2020" || ps.At(date(2026, 1, 1)).Version != "proc-2026" {
		t.Fatal("policy by date")
	}
}

func TestSubmitRefusesBadInput(t *testing.T) {
	bad := RequestLine{Name: "", Category: "furniture", Unit: "", Quantity: 0, EstimatedUnitPriceFen: -1, AssetClass: "x"}
	fixedOffice := RequestLine{Name: "打印纸", Category: "office", Unit: "箱", Quantity: 1, EstimatedUnitPriceFen: 1, AssetClass: AssetClassFixedAsset}
	c := submit(bad, fixedOffice)
	c.Department, c.BudgetLineID, c.Reason = "", "", "x"
	_, err := DecideSubmitPurchaseRequest(PurchaseRequest{}, c, catalogue, policy, "2025-03-01")
	wantFields(t, err, "department", "lines[0].name", "lines[0].category", "lines[0].unit", "lines[0].quantity",
		"lines[0].estimated_unit_price_fen", "lines[0].asset_class", "lines[1].category", "budget_line_id", "reason")
	_, err = DecideSubmitPurchaseRequest(PurchaseRequest{}, submit(), catalogue, policy, "2025-03-01")
	wantFields(t, err, "lines")
	_, err = DecideSubmitPurchaseRequest(request(t, submit(paper)), submit(paper), catalogue, policy, "2025-03-01")
	wantReason(t, err, ReasonRequestNotPending)
}

// request is the state after submitting c and then events.
func request(t *testing.T, c SubmitPurchaseRequest, events ...proto.Message) PurchaseRequest {
	t.Helper()
	return given(EvolvePurchaseRequest, append([]proto.Message{submitted(t, c, policy)}, events...)...)
}

func approve(t *testing.T, r PurchaseRequest, a Actor) (PurchaseRequest, *eventsv1.PurchaseRequestApproved) {
	t.Helper()
	ev, err := DecideApprovePurchaseRequest(r, a, "同意", "2025-03-02")
	if err != nil {
		t.Fatal(err)
	}
	return EvolvePurchaseRequest(r, ev[0]), ev[0].(*eventsv1.PurchaseRequestApproved)
}

func TestApprovals(t *testing.T) {
	r := request(t, submit(computer))
	// The logistics director cannot take the department head's step.
	_, err := DecideApprovePurchaseRequest(r, director, "", "2025-03-02")
	wantReason(t, err, ReasonApproverRole)

	r, e := approve(t, r, headAndD)
	if e.Step != StepDepartmentHead || e.StepIndex != 0 || e.Final || e.NextStep != StepLogisticsDirector || e.PolicyVersion != "proc-2020" ||
		e.Approver != "hd" || e.ApprovedOn != "2025-03-02" {
		t.Fatal(e)
	}
	// The same person holds the next step's role too, but nobody approves twice.
	_, err = DecideApprovePurchaseRequest(r, headAndD, "", "2025-03-02")
	wantReason(t, err, ReasonAlreadyApproved)
	r, _ = approve(t, r, director)
	if r.Status != RequestPending || r.NextStep() != 2 {
		t.Fatalf("%+v", r)
	}
	r, e = approve(t, r, principal)
	if !e.Final || r.Status != RequestApproved || e.NextStep != "" {
		t.Fatal(e, r.Status)
	}
	// Nothing left to approve or reject.
	_, err = DecideApprovePurchaseRequest(r, bureau, "", "2025-03-02")
	wantReason(t, err, ReasonRequestNotPending)
	_, err = DecideRejectPurchaseRequest(r, principal, "预算不足", "2025-03-02")
	wantReason(t, err, ReasonRequestNotPending)
	if _, err := DecideApprovePurchaseRequest(PurchaseRequest{ID: "x"}, head, "", "2025-03-02"); err == nil {
		t.Fatal("approving a request that does not exist")
	}
}

func TestRejection(t *testing.T) {
	r := request(t, submit(paper))
	r, _ = approve(t, r, head)
	_, err := DecideRejectPurchaseRequest(r, director, "", "2025-03-03")
	wantFields(t, err, "reason")
	_, err = DecideRejectPurchaseRequest(r, head, "库存充足", "2025-03-03")
	wantReason(t, err, ReasonApproverRole)
	ev, err := DecideRejectPurchaseRequest(r, director, "库存充足", "2025-03-03")
	if err != nil {
		t.Fatal(err)
	}
	e := ev[0].(*eventsv1.PurchaseRequestRejected)
	if e.Step != StepLogisticsDirector || e.Reason != "库存充足" || e.PolicyVersion != "proc-2020" {
		t.Fatal(e)
	}
	r = EvolvePurchaseRequest(r, e)
	if r.Status != RequestRejected {
		t.Fatal(r.Status)
	}
	_, err = DecideApprovePurchaseRequest(r, director, "", "2025-03-03")
	wantReason(t, err, ReasonRequestNotPending)
}
