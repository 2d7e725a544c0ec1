package domain

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

// Reasons of budget refusals.
const (
	// 科目已存在: the school already has a line with the code in the year.
	ReasonBudgetLineExists errs.Reason = "BUDGET_LINE_EXISTS"
	// 超预算: the line's available amount does not cover the commitment or spend; an approved
	// adjustment must raise it first.
	ReasonBudgetExceeded errs.Reason = "BUDGET_EXCEEDED"
	// The order's date is not in the line's fiscal year.
	ReasonBudgetYearMismatch errs.Reason = "BUDGET_YEAR_MISMATCH"
	// The adjustment was approved or rejected already.
	ReasonAdjustmentNotPending errs.Reason = "BUDGET_ADJUSTMENT_NOT_PENDING"
	// A lowered line would be below what is committed and spent.
	ReasonBudgetBelowUsed errs.Reason = "BUDGET_BELOW_COMMITTED_AND_SPENT"
	// The caller does not hold the role the step or adjustment needs.
	ReasonApproverRole errs.Reason = "APPROVER_ROLE_REQUIRED"
	// The order's commitment was released; the order cannot commit again.
	ReasonCommitmentReleased errs.Reason = "ORDER_COMMITMENT_RELEASED"
	// A spend reversal names an invoice whose spend the line never recorded.
	ReasonSpendNotRecorded errs.Reason = "BUDGET_SPEND_NOT_RECORDED"
)

// Adjustment statuses.
const (
	AdjustmentRequested = "requested"
	AdjustmentApproved  = "approved"
	AdjustmentRejected  = "rejected"
)

// Adjustment is a requested change of a budget line (预算调整).
type Adjustment struct {
	ID           string
	AmountFen    int64
	Reason       string
	ApproverRole string
	RequestedBy  string
	Status       string
}

// Budget is one budget line of a school for a fiscal year (预算科目). Evolve updates its maps in
// place: a folded state belongs to one fold.
type Budget struct {
	ID            string
	SchoolID      string
	FiscalYear    int32
	Code          string
	Name          string
	FundingSource string
	// AmountFen includes approved adjustments.
	AmountFen   int64
	Adjustments []Adjustment
	// Commitments are the open commitments by order id; Committed lists every order that
	// ever committed (released ones too).
	Commitments map[string]int64
	Committed   map[string]bool
	SpentFen    int64
	Invoices    map[string]bool
	// Reversed are the invoices whose spend a red-letter invoice reversed (红字冲销).
	Reversed map[string]bool
	Opened   bool
}

// CommittedFen is the sum of open commitments.
func (b Budget) CommittedFen() int64 {
	var n int64
	for _, v := range b.Commitments {
		n += v
	}
	return n
}

// AvailableFen is what can still be committed or spent.
func (b Budget) AvailableFen() int64 { return b.AmountFen - b.CommittedFen() - b.SpentFen }

// adjustment returns the adjustment with id in a copy of the list, so that changing it leaves
// earlier states alone.
func (b *Budget) adjustment(id string) *Adjustment {
	b.Adjustments = append([]Adjustment(nil), b.Adjustments...)
	for i := range b.Adjustments {
		if b.Adjustments[i].ID == id {
			return &b.Adjustments[i]
		}
	}
	return nil
}

// EvolveBudget folds one event into a budget line.
func EvolveBudget(b Budget, m proto.Message) Budget {
	switch e := m.(type) {
	case *eventsv1.BudgetLineOpened:
		b = Budget{ID: e.BudgetLineId, SchoolID: e.SchoolId, FiscalYear: e.FiscalYear, Code: e.Code, Name: e.Name,
			FundingSource: e.FundingSource, AmountFen: e.AmountFen, Opened: true,
			Commitments: map[string]int64{}, Committed: map[string]bool{}, Invoices: map[string]bool{}, Reversed: map[string]bool{}}
	case *eventsv1.BudgetAdjustmentRequested:
		b.Adjustments = append(b.Adjustments, Adjustment{ID: e.AdjustmentId, AmountFen: e.AmountFen, Reason: e.Reason,
			ApproverRole: e.ApproverRole, RequestedBy: e.RequestedBy, Status: AdjustmentRequested})
	case *eventsv1.BudgetAdjustmentApproved:
		if a := b.adjustment(e.AdjustmentId); a != nil {
			a.Status = AdjustmentApproved
		}
		b.AmountFen = e.NewAmountFen
	case *eventsv1.BudgetAdjustmentRejected:
		if a := b.adjustment(e.AdjustmentId); a != nil {
			a.Status = AdjustmentRejected
		}
	case *eventsv1.BudgetCommitted:
		b.Commitments[e.PurchaseOrderId] += e.AmountFen
		b.Committed[e.PurchaseOrderId] = true
	case *eventsv1.BudgetCommitmentReleased:
		b.Commitments[e.PurchaseOrderId] -= e.AmountFen
		if b.Commitments[e.PurchaseOrderId] <= 0 {
			delete(b.Commitments, e.PurchaseOrderId)
		}
	case *eventsv1.BudgetSpent:
		if e.FromCommitmentFen > 0 {
			b.Commitments[e.PurchaseOrderId] -= e.FromCommitmentFen
			if b.Commitments[e.PurchaseOrderId] <= 0 {
				delete(b.Commitments, e.PurchaseOrderId)
			}
		}
		b.SpentFen += e.AmountFen
		b.Invoices[e.InvoiceId] = true
	case *eventsv1.BudgetSpendReversed:
		if b.Reversed == nil {
			b.Reversed = map[string]bool{}
		}
		b.SpentFen -= e.AmountFen
		b.Reversed[e.InvoiceId] = true
	}
	return b
}

// OpenBudgetLine opens a line of a school's budget.
type OpenBudgetLine struct {
	BudgetLineID  string
	SchoolID      string
	FiscalYear    int32
	Code          string
	Name          string
	AmountFen     int64
	FundingSource string
}

// BudgetLineKey keeps a line's code unique within its school and year.
func BudgetLineKey(school string, year int32, code string) string {
	return school + "/" + strconv.Itoa(int(year)) + "/" + code
}

// DecideOpenBudgetLine decides OpenBudgetLine.
func DecideOpenBudgetLine(b Budget, c OpenBudgetLine) ([]proto.Message, error) {
	var v errs.Violations
	if c.FiscalYear < 2000 || c.FiscalYear > 2100 {
		v.Add("fiscal_year", "预算年度须为2000–2100 / fiscal year must be 2000–2100")
	}
	text(&v, "code", c.Code, 1, 20, "code")
	if strings.IndexFunc(c.Code, unicode.IsSpace) >= 0 {
		v.Add("code", "科目编码不能含空格 / code must not contain spaces")
	}
	text(&v, "name", c.Name, 1, 60, "name")
	if c.AmountFen < 0 || c.AmountFen > MaxAmountFen {
		v.Add("amount_fen", "金额须为0–1亿元 / amount must be 0–100,000,000 yuan")
	}
	text(&v, "funding_source", c.FundingSource, 0, 60, "funding source")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if b.Opened {
		return nil, errs.Rule(ReasonBudgetLineExists, "该预算科目已存在 / the budget line exists", "budget_line_id", b.ID)
	}
	return []proto.Message{&eventsv1.BudgetLineOpened{BudgetLineId: c.BudgetLineID, SchoolId: c.SchoolID, FiscalYear: c.FiscalYear,
		Code: c.Code, Name: c.Name, AmountFen: c.AmountFen, FundingSource: c.FundingSource}}, nil
}

// RequestBudgetAdjustment 预算调整申请.
type RequestBudgetAdjustment struct {
	AdjustmentID string
	AmountFen    int64
	Reason       string
	RequestedBy  string
}

// AdjustmentApproverRole is the role that approves an adjustment of amount under p.
func AdjustmentApproverRole(amount int64, p Policy) string {
	if amount < 0 {
		amount = -amount
	}
	if amount <= p.AdjustmentPrincipalMaxFen {
		return RolePrincipal
	}
	return RoleBureauAdmin
}

// DecideRequestBudgetAdjustment decides a request to change a line by c.AmountFen; p fixes who
// approves it.
func DecideRequestBudgetAdjustment(b Budget, c RequestBudgetAdjustment, p Policy) ([]proto.Message, error) {
	var v errs.Violations
	if c.AmountFen == 0 || c.AmountFen > MaxAmountFen || c.AmountFen < -MaxAmountFen {
		v.Add("amount_fen", "调整金额不能为0且不超过1亿元 / the change must be non-zero and at most 100,000,000 yuan")
	}
	text(&v, "reason", c.Reason, 2, 200, "reason")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !b.Opened {
		return nil, errs.NotFound("budget_line", b.ID)
	}
	return []proto.Message{&eventsv1.BudgetAdjustmentRequested{BudgetLineId: b.ID, AdjustmentId: c.AdjustmentID,
		AmountFen: c.AmountFen, Reason: c.Reason, ApproverRole: AdjustmentApproverRole(c.AmountFen, p), RequestedBy: c.RequestedBy}}, nil
}

func (b Budget) pendingAdjustment(id string, actor Actor) (Adjustment, error) {
	if !b.Opened {
		return Adjustment{}, errs.NotFound("budget_line", b.ID)
	}
	a := b.adjustment(id)
	if a == nil {
		return Adjustment{}, errs.NotFound("budget_adjustment", id)
	}
	if a.Status != AdjustmentRequested {
		return Adjustment{}, errs.Rule(ReasonAdjustmentNotPending, "该调整已处理 / the adjustment was decided already",
			"adjustment_id", id, "status", a.Status)
	}
	if !actor.Has(a.ApproverRole) {
		return Adjustment{}, errs.Rule(ReasonApproverRole, fmt.Sprintf("须由%s审批 / must be approved by %s", roleName(a.ApproverRole), a.ApproverRole),
			"required_role", a.ApproverRole)
	}
	return *a, nil
}

// DecideApproveBudgetAdjustment applies a pending adjustment; actor must hold its approver role.
func DecideApproveBudgetAdjustment(b Budget, adjustmentID string, actor Actor) ([]proto.Message, error) {
	a, err := b.pendingAdjustment(adjustmentID, actor)
	if err != nil {
		return nil, err
	}
	amount := b.AmountFen + a.AmountFen
	if used := b.CommittedFen() + b.SpentFen; amount < used || amount > MaxAmountFen {
		return nil, errs.Rule(ReasonBudgetBelowUsed, "调整后预算低于已占用和已支出金额 / the line would be below what is committed and spent",
			"used_fen", strconv.FormatInt(used, 10), "new_amount_fen", strconv.FormatInt(amount, 10))
	}
	return []proto.Message{&eventsv1.BudgetAdjustmentApproved{BudgetLineId: b.ID, AdjustmentId: a.ID, AmountFen: a.AmountFen,
		Approver: actor.Subject, ApproverRole: a.ApproverRole, NewAmountFen: amount}}, nil
}

// DecideRejectBudgetAdjustment refuses a pending adjustment.
func DecideRejectBudgetAdjustment(b Budget, adjustmentID, reason string, actor Actor) ([]proto.Message, error) {
	var v errs.Violations
	text(&v, "reason", reason, 2, 200, "reason")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if _, err := b.pendingAdjustment(adjustmentID, actor); err != nil {
		return nil, err
	}
	return []proto.Message{&eventsv1.BudgetAdjustmentRejected{BudgetLineId: b.ID, AdjustmentId: adjustmentID, Reason: reason,
		RejectedBy: actor.Subject}}, nil
}

// CommitBudget holds part of a line for a placed order (预算占用).
type CommitBudget struct {
	OrderID           string
	PurchaseRequestID string
	AmountFen         int64
	On                string // YYYY-MM-DD, the order date
}

// DecideCommitBudget decides a commitment. An order that committed the same amount already
// commits nothing more (a retry); one whose commitment was released cannot commit again. An
// order whose open commitment is another amount — the request's chosen quote changed between
// a failed attempt and its retry — is committed again at the new amount: the old commitment
// is released and the new one recorded in one decision, and the new amount must fit into
// what the line has available besides the old.
func DecideCommitBudget(b Budget, c CommitBudget) ([]proto.Message, error) {
	if !b.Opened {
		return nil, errs.NotFound("budget_line", b.ID)
	}
	if b.Committed[c.OrderID] {
		open, ok := b.Commitments[c.OrderID]
		if !ok {
			return nil, errs.Rule(ReasonCommitmentReleased, "该订单的预算占用已释放 / the order's commitment was released", "purchase_order_id", c.OrderID)
		}
		if open == c.AmountFen {
			return nil, nil
		}
		if c.AmountFen-open > b.AvailableFen() {
			return nil, exceeded(b, c.AmountFen-open)
		}
		return []proto.Message{
			&eventsv1.BudgetCommitmentReleased{BudgetLineId: b.ID, PurchaseOrderId: c.OrderID, AmountFen: open,
				Reason: "所选报价已变更，按新金额重新占用 / the chosen quote changed: committed again at the new amount"},
			&eventsv1.BudgetCommitted{BudgetLineId: b.ID, PurchaseOrderId: c.OrderID, PurchaseRequestId: c.PurchaseRequestID,
				AmountFen: c.AmountFen, CommittedOn: c.On, AvailableAfterFen: b.AvailableFen() + open - c.AmountFen},
		}, nil
	}
	if !strings.HasPrefix(c.On, strconv.Itoa(int(b.FiscalYear))+"-") {
		return nil, errs.Rule(ReasonBudgetYearMismatch, fmt.Sprintf("预算科目属于%d年度 / the budget line is of fiscal year %d", b.FiscalYear, b.FiscalYear),
			"fiscal_year", strconv.Itoa(int(b.FiscalYear)), "date", c.On)
	}
	if c.AmountFen > b.AvailableFen() {
		return nil, exceeded(b, c.AmountFen)
	}
	return []proto.Message{&eventsv1.BudgetCommitted{BudgetLineId: b.ID, PurchaseOrderId: c.OrderID, PurchaseRequestId: c.PurchaseRequestID,
		AmountFen: c.AmountFen, CommittedOn: c.On, AvailableAfterFen: b.AvailableFen() - c.AmountFen}}, nil
}

func exceeded(b Budget, amount int64) error {
	return errs.Rule(ReasonBudgetExceeded,
		fmt.Sprintf("超出预算：可用%s元，需要%s元；须先申请预算调整 / over budget: %s yuan available, %s needed; an approved adjustment must raise the line first",
			Yuan(b.AvailableFen()), Yuan(amount), Yuan(b.AvailableFen()), Yuan(amount)),
		"budget_line_id", b.ID, "available_fen", strconv.FormatInt(b.AvailableFen(), 10), "amount_fen", strconv.FormatInt(amount, 10))
}

// DecideReleaseCommitment frees what remains of an order's commitment (none: nothing to record).
func DecideReleaseCommitment(b Budget, orderID, reason string) ([]proto.Message, error) {
	if !b.Opened {
		return nil, errs.NotFound("budget_line", b.ID)
	}
	open := b.Commitments[orderID]
	if open <= 0 {
		return nil, nil
	}
	return []proto.Message{&eventsv1.BudgetCommitmentReleased{BudgetLineId: b.ID, PurchaseOrderId: orderID, AmountFen: open, Reason: reason}}, nil
}

// CategoryAmount is part of a spend by purchase category.
type CategoryAmount struct {
	Category  string
	AmountFen int64
}

// RecordSpend records a reimbursed invoice against the line (报账支出). procurement-flow calls it
// through app.RecordBudgetSpend when a reimbursement is approved: the order's open commitment
// is drawn down first, any excess must fit into what is available. One invoice is recorded once.
type RecordSpend struct {
	OrderID    string
	InvoiceID  string
	AmountFen  int64
	SpentOn    string // YYYY-MM-DD
	Categories []CategoryAmount
}

// DecideRecordSpend decides RecordSpend.
func DecideRecordSpend(b Budget, c RecordSpend) ([]proto.Message, error) {
	var v errs.Violations
	text(&v, "invoice_id", c.InvoiceID, 1, 64, "invoice id")
	if c.AmountFen <= 0 || c.AmountFen > MaxAmountFen {
		v.Add("amount_fen", "金额须大于0且不超过1亿元 / amount must be above 0 and at most 100,000,000 yuan")
	}
	if !ValidDate(c.SpentOn) {
		v.Add("spent_on", "日期格式须为YYYY-MM-DD / date must be YYYY-MM-DD")
	}
	var sum int64
	for i, ca := range c.Categories {
		if ca.Category == "" || ca.AmountFen <= 0 || ca.AmountFen > MaxAmountFen {
			v.Add(fmt.Sprintf("categories[%d]", i), "分类和金额必填 / category and a positive amount are required")
		}
		sum += ca.AmountFen
	}
	if len(c.Categories) == 0 || sum != c.AmountFen {
		v.Add("categories", "分类金额之和须等于支出金额 / the category amounts must add up to the amount")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !b.Opened {
		return nil, errs.NotFound("budget_line", b.ID)
	}
	if b.Invoices[c.InvoiceID] {
		return nil, nil
	}
	from := min(c.AmountFen, b.Commitments[c.OrderID])
	if c.AmountFen-from > b.AvailableFen() {
		return nil, exceeded(b, c.AmountFen-from)
	}
	e := &eventsv1.BudgetSpent{BudgetLineId: b.ID, PurchaseOrderId: c.OrderID, InvoiceId: c.InvoiceID, AmountFen: c.AmountFen,
		FromCommitmentFen: from, SpentOn: c.SpentOn}
	for _, ca := range c.Categories {
		e.Categories = append(e.Categories, &eventsv1.CategoryAmount{Category: ca.Category, AmountFen: ca.AmountFen})
	}
	return []proto.Message{e}, nil
}

// ReverseSpend reverses a reimbursed invoice's spend by its red-letter invoice (红字冲销).
type ReverseSpend struct {
	OrderID           string
	InvoiceID         string // the original invoice
	ReversalInvoiceID string
	AmountFen         int64
	ReversedOn        string // YYYY-MM-DD
	Categories        []CategoryAmount
}

// DecideReverseSpend decides ReverseSpend: the line must have recorded the invoice's spend;
// a reversal is recorded once. The amount becomes available on the line again (not committed
// to the order: a corrected invoice is a new spend and must fit the line when reimbursed).
func DecideReverseSpend(b Budget, c ReverseSpend) ([]proto.Message, error) {
	if !b.Opened {
		return nil, errs.NotFound("budget_line", b.ID)
	}
	if b.Reversed[c.InvoiceID] {
		return nil, nil
	}
	if !b.Invoices[c.InvoiceID] {
		return nil, errs.Rule(ReasonSpendNotRecorded, "该发票未在预算中报账 / the invoice's spend is not recorded on the line", "invoice_id", c.InvoiceID)
	}
	e := &eventsv1.BudgetSpendReversed{BudgetLineId: b.ID, PurchaseOrderId: c.OrderID, InvoiceId: c.InvoiceID,
		ReversalInvoiceId: c.ReversalInvoiceID, AmountFen: c.AmountFen, ReversedOn: c.ReversedOn}
	for _, ca := range c.Categories {
		e.Categories = append(e.Categories, &eventsv1.CategoryAmount{Category: ca.Category, AmountFen: ca.AmountFen})
	}
	return []proto.Message{e}, nil
}

// Yuan formats fen as yuan with two decimals.
func Yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

func roleName(role string) string {
	switch role {
	case RoleDepartmentHead:
		return "部门负责人"
	case RoleLogisticsDirector:
		return "总务主任"
	case RolePrincipal:
		return "校长"
	case RoleBureauAdmin:
		return "教育局"
	}
	return role
}
