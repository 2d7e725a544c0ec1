package domain

import (
	"fmt"
	"strconv"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

// Reasons of purchase request refusals.
const (
	// The request is approved or rejected: there is no step left to decide.
	ReasonRequestNotPending errs.Reason = "PURCHASE_REQUEST_NOT_PENDING"
	// The request was rejected: no quotes, no order.
	ReasonRequestRejected errs.Reason = "PURCHASE_REQUEST_REJECTED"
	// The caller approved an earlier step of the request: nobody approves twice.
	ReasonAlreadyApproved errs.Reason = "APPROVER_ALREADY_APPROVED"
	// The request's budget line is not a line of the school.
	ReasonBudgetLineUnknown errs.Reason = "BUDGET_LINE_UNKNOWN"
)

// Request statuses.
const (
	RequestPending  = "pending"
	RequestApproved = "approved"
	RequestRejected = "rejected"
)

// Asset classes of a requested line.
const (
	AssetClassByRule       = ""
	AssetClassFixedAsset   = "fixed_asset"
	AssetClassNotFixed     = "not_fixed_asset"
	maxRequestLines        = 50
	maxQuantity            = 1_000_000
	maxRequestReasonLength = 500
)

// MaterialCategories are the purchase categories of goods that are not fixed assets (材料账).
// Fixed-asset categories come from the assets service's classification (GB/T 14885).
var MaterialCategories = map[string]string{
	"office":      "办公用品",
	"cleaning":    "清洁用品",
	"teaching":    "教学耗材",
	"maintenance": "维修材料",
	"food":        "食品原料",
	"sports":      "体育用品",
	"other":       "其他",
}

// Catalogue is the purchase categories a district uses: code → Chinese name, and which codes
// are fixed-asset categories.
type Catalogue struct {
	Categories           map[string]string
	FixedAssetCategories map[string]bool
}

// RequestLine is one item of a purchase request.
type RequestLine struct {
	Name                  string
	Category              string
	Model                 string
	Unit                  string
	Quantity              int64
	EstimatedUnitPriceFen int64
	AssetClass            string
}

// Step is one step of an approval chain.
type Step struct {
	Step         string
	Role         string
	Approver     string
	ApproverName string
	ApprovedOn   string
}

// Quote is a supplier's quote for a request (询价).
type Quote struct {
	ID            string
	SupplierID    string
	SupplierName  string
	UnitPricesFen []int64
	TotalFen      int64
	QuotedOn      string
	Note          string
}

// PurchaseRequest is a department's purchase request (购物申请) with its approvals and quotes.
type PurchaseRequest struct {
	ID                    string
	SchoolID              string
	Department            string
	Lines                 []RequestLine
	EstimatedTotalFen     int64
	BudgetLineID          string
	Reason                string
	GovernmentProcurement bool
	RequestedBy           string
	SubmittedOn           string
	Chain                 []Step
	Status                string
	RejectionReason       string
	QuotesRequired        bool
	MinQuotes             int32
	PolicyVersion         string
	Quotes                []Quote
	ChosenQuoteID         string
	ChoiceReason          string
	Submitted             bool
}

// Quote returns the request's quote with id.
func (r PurchaseRequest) Quote(id string) (Quote, bool) {
	for _, q := range r.Quotes {
		if q.ID == id {
			return q, true
		}
	}
	return Quote{}, false
}

// NextStep is the index of the first step not approved yet (len(Chain) when all are).
func (r PurchaseRequest) NextStep() int {
	for i, s := range r.Chain {
		if s.Approver == "" {
			return i
		}
	}
	return len(r.Chain)
}

// EvolvePurchaseRequest folds one event into a request.
func EvolvePurchaseRequest(r PurchaseRequest, m proto.Message) PurchaseRequest {
	switch e := m.(type) {
	case *eventsv1.PurchaseRequestSubmitted:
		r = PurchaseRequest{ID: e.PurchaseRequestId, SchoolID: e.SchoolId, Department: e.Department,
			EstimatedTotalFen: e.EstimatedTotalFen, BudgetLineID: e.BudgetLineId, Reason: e.Reason,
			GovernmentProcurement: e.GovernmentProcurement, RequestedBy: e.RequestedBy, SubmittedOn: e.SubmittedOn,
			Status: RequestPending, QuotesRequired: e.QuotesRequired, MinQuotes: e.MinQuotes, PolicyVersion: e.PolicyVersion,
			Submitted: true}
		for _, l := range e.Lines {
			r.Lines = append(r.Lines, RequestLine{Name: l.Name, Category: l.Category, Model: l.Model, Unit: l.Unit,
				Quantity: l.Quantity, EstimatedUnitPriceFen: l.EstimatedUnitPriceFen, AssetClass: l.AssetClass})
		}
		for _, s := range e.Chain {
			r.Chain = append(r.Chain, Step{Step: s.Step, Role: s.Role})
		}
	case *eventsv1.PurchaseRequestApproved:
		if i := int(e.StepIndex); i >= 0 && i < len(r.Chain) {
			r.Chain = append([]Step(nil), r.Chain...)
			r.Chain[i].Approver, r.Chain[i].ApproverName, r.Chain[i].ApprovedOn = e.Approver, e.ApproverName, e.ApprovedOn
		}
		if e.Final {
			r.Status = RequestApproved
		}
	case *eventsv1.PurchaseRequestRejected:
		r.Status, r.RejectionReason = RequestRejected, e.Reason
	case *eventsv1.QuoteAdded:
		r.Quotes = append(r.Quotes, Quote{ID: e.QuoteId, SupplierID: e.SupplierId, SupplierName: e.SupplierName,
			UnitPricesFen: e.UnitPricesFen, TotalFen: e.TotalFen, QuotedOn: e.QuotedOn, Note: e.Note})
	case *eventsv1.QuoteChosen:
		r.ChosenQuoteID, r.ChoiceReason = e.QuoteId, e.Reason
	}
	return r
}

// Approval steps.
const (
	StepDepartmentHead    = "department_head"
	StepLogisticsDirector = "logistics_director"
	StepPrincipal         = "principal"
	StepBureau            = "bureau"
)

// ApprovalChain is the chain a request needs under p (部门申请、主管审批): the department head and
// the logistics director always; the principal when a unit price or the total is above the
// policy's limits; the bureau above the district limit or for government procurement.
func ApprovalChain(lines []RequestLine, total int64, government bool, p Policy) []Step {
	chain := []Step{{Step: StepDepartmentHead, Role: RoleDepartmentHead}, {Step: StepLogisticsDirector, Role: RoleLogisticsDirector}}
	principal := total > p.PrincipalTotalFen
	for _, l := range lines {
		principal = principal || l.EstimatedUnitPriceFen > p.PrincipalUnitPriceFen
	}
	bureau := government || total > p.DistrictLimitFen
	if principal || bureau {
		chain = append(chain, Step{Step: StepPrincipal, Role: RolePrincipal})
	}
	if bureau {
		chain = append(chain, Step{Step: StepBureau, Role: RoleBureauAdmin})
	}
	return chain
}

// SubmitPurchaseRequest 购物申请.
type SubmitPurchaseRequest struct {
	PurchaseRequestID     string
	SchoolID              string
	Department            string
	Lines                 []RequestLine
	BudgetLineID          string
	Reason                string
	GovernmentProcurement bool
	RequestedBy           string
}

// DecideSubmitPurchaseRequest decides a new request on day today under policy p; cat names the
// categories.
func DecideSubmitPurchaseRequest(r PurchaseRequest, c SubmitPurchaseRequest, cat Catalogue, p Policy, today string) ([]proto.Message, error) {
	var v errs.Violations
	text(&v, "department", c.Department, 1, 40, "department")
	if len(c.Lines) == 0 || len(c.Lines) > maxRequestLines {
		v.Addf("lines", "须有1–%d项 / 1–%d lines are required", maxRequestLines, maxRequestLines)
	}
	var total int64
	for i, l := range c.Lines {
		f := func(name string) string { return fmt.Sprintf("lines[%d].%s", i, name) }
		text(&v, f("name"), l.Name, 1, 100, "name")
		if _, ok := cat.Categories[l.Category]; !ok {
			v.Add(f("category"), "未知的采购分类 / unknown category")
		} else if l.AssetClass == AssetClassFixedAsset && !cat.FixedAssetCategories[l.Category] {
			v.Add(f("category"), "固定资产须用固定资产分类(GB/T 14885) / a fixed asset needs a fixed-asset category (GB/T 14885)")
		}
		text(&v, f("model"), l.Model, 0, 100, "model")
		text(&v, f("unit"), l.Unit, 1, 10, "unit")
		if l.Quantity <= 0 || l.Quantity > maxQuantity {
			v.Add(f("quantity"), "数量须为1–1000000 / quantity must be 1–1,000,000")
		}
		if l.EstimatedUnitPriceFen <= 0 || l.EstimatedUnitPriceFen > MaxAmountFen {
			v.Add(f("estimated_unit_price_fen"), "估价须大于0且不超过1亿元 / estimate must be above 0 and at most 100,000,000 yuan")
		} else if l.Quantity > 0 && l.Quantity <= maxQuantity {
			total += l.EstimatedUnitPriceFen * l.Quantity
		}
		if l.AssetClass != AssetClassByRule && l.AssetClass != AssetClassFixedAsset && l.AssetClass != AssetClassNotFixed {
			v.Add(f("asset_class"), "未知的资产类别 / unknown asset class")
		}
	}
	if total > MaxAmountFen*10 {
		v.Add("lines", "申请总额过大 / the total is too large")
	}
	if c.BudgetLineID == "" {
		v.Add("budget_line_id", "必填 / budget line is required")
	}
	text(&v, "reason", c.Reason, 2, maxRequestReasonLength, "reason")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if r.Submitted {
		return nil, errs.Rule(ReasonRequestNotPending, "该申请已提交 / the request was submitted already", "purchase_request_id", r.ID)
	}
	e := &eventsv1.PurchaseRequestSubmitted{PurchaseRequestId: c.PurchaseRequestID, SchoolId: c.SchoolID, Department: c.Department,
		EstimatedTotalFen: total, BudgetLineId: c.BudgetLineID, Reason: c.Reason, GovernmentProcurement: c.GovernmentProcurement,
		RequestedBy: c.RequestedBy, SubmittedOn: today, QuotesRequired: total > p.QuoteThresholdFen, MinQuotes: int32(p.MinQuotes),
		PolicyVersion: p.Version}
	for _, l := range c.Lines {
		e.Lines = append(e.Lines, &eventsv1.RequestLine{Name: l.Name, Category: l.Category, Model: l.Model, Unit: l.Unit,
			Quantity: l.Quantity, EstimatedUnitPriceFen: l.EstimatedUnitPriceFen, AssetClass: l.AssetClass})
	}
	for _, s := range ApprovalChain(c.Lines, total, c.GovernmentProcurement, p) {
		e.Chain = append(e.Chain, &eventsv1.ApprovalStep{Step: s.Step, Role: s.Role})
	}
	return []proto.Message{e}, nil
}

// pendingStep returns the request's next step, refusing when actor may not decide it.
func (r PurchaseRequest) pendingStep(actor Actor) (int, Step, error) {
	if !r.Submitted {
		return 0, Step{}, errs.NotFound("purchase_request", r.ID)
	}
	i := r.NextStep()
	if r.Status != RequestPending || i >= len(r.Chain) {
		return 0, Step{}, errs.Rule(ReasonRequestNotPending, "该申请已审结 / the request is no longer pending", "status", r.Status)
	}
	s := r.Chain[i]
	if !actor.Has(s.Role) {
		return 0, Step{}, errs.Rule(ReasonApproverRole, fmt.Sprintf("当前步骤须由%s审批 / this step must be approved by %s", roleName(s.Role), s.Role),
			"step", s.Step, "required_role", s.Role, "policy_version", r.PolicyVersion)
	}
	return i, s, nil
}

// DecideApprovePurchaseRequest approves the request's next step on day today.
func DecideApprovePurchaseRequest(r PurchaseRequest, actor Actor, comment, today string) ([]proto.Message, error) {
	var v errs.Violations
	text(&v, "comment", comment, 0, 200, "comment")
	if err := v.Err(); err != nil {
		return nil, err
	}
	i, s, err := r.pendingStep(actor)
	if err != nil {
		return nil, err
	}
	for _, prev := range r.Chain[:i] {
		if prev.Approver == actor.Subject {
			return nil, errs.Rule(ReasonAlreadyApproved, "同一人不能审批两次 / nobody approves a request twice",
				"step", prev.Step)
		}
	}
	e := &eventsv1.PurchaseRequestApproved{PurchaseRequestId: r.ID, StepIndex: int32(i), Step: s.Step, Role: s.Role,
		Approver: actor.Subject, ApproverName: actor.Name, ApprovedOn: today, PolicyVersion: r.PolicyVersion, Comment: comment,
		Final: i == len(r.Chain)-1}
	if !e.Final {
		e.NextStep, e.NextRole = r.Chain[i+1].Step, r.Chain[i+1].Role
	}
	return []proto.Message{e}, nil
}

// DecideRejectPurchaseRequest refuses the request at its next step.
func DecideRejectPurchaseRequest(r PurchaseRequest, actor Actor, reason, today string) ([]proto.Message, error) {
	var v errs.Violations
	text(&v, "reason", reason, 2, 200, "reason")
	if err := v.Err(); err != nil {
		return nil, err
	}
	i, s, err := r.pendingStep(actor)
	if err != nil {
		return nil, err
	}
	return []proto.Message{&eventsv1.PurchaseRequestRejected{PurchaseRequestId: r.ID, StepIndex: int32(i), Step: s.Step, Role: s.Role,
		RejectedBy: actor.Subject, Reason: reason, RejectedOn: today, PolicyVersion: r.PolicyVersion}}, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
