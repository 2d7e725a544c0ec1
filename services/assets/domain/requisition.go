package domain

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Reasons of requisition refusals (申领/领用).
const (
	// Issue before approval, or approval of a decided request.
	ReasonRequisitionNotApproved errs.Reason = "REQUISITION_NOT_APPROVED"
	ReasonRequisitionDecided     errs.Reason = "REQUISITION_ALREADY_DECIDED"
	ReasonRequisitionRejected    errs.Reason = "REQUISITION_REJECTED"
	// Issuing more than approved (in total over all issues).
	ReasonIssueExceedsApproved errs.Reason = "ISSUE_EXCEEDS_APPROVED"
	// Approving more than requested.
	ReasonApprovalExceedsRequest errs.Reason = "APPROVAL_EXCEEDS_REQUEST"
	// Nothing left to issue or to return.
	ReasonNothingToIssue  errs.Reason = "NOTHING_TO_ISSUE"
	ReasonNothingToReturn errs.Reason = "NOTHING_TO_RETURN"
	// Returning a consumable, or more than is out.
	ReasonNotReturnable       errs.Reason = "ITEM_NOT_RETURNABLE"
	ReasonReturnExceedsIssued errs.Reason = "RETURN_EXCEEDS_ISSUED"
)

// Requisition statuses.
const (
	RequisitionSubmitted = "submitted"
	RequisitionApproved  = "approved"
	RequisitionRejected  = "rejected"
	RequisitionIssued    = "issued"
)

// RequisitionLine is one line and its quantities.
type RequisitionLine struct {
	Line       int32
	Item       string
	Unit       string
	Returnable bool
	Requested  int64
	Approved   int64
	Issued     int64
	Returned   int64
}

// Requisition is one request for items (申领单).
type Requisition struct {
	ID        string
	Requester string
	// RequesterStaffNo is the requester's 工号 ("" without a staff directory).
	RequesterStaffNo string
	Department       string
	Purpose          string
	Lines            []RequisitionLine
	Submitted        bool
	Approved         bool
	Rejected         bool
	RejectReason     string
}

// Status is submitted, approved, rejected or issued.
func (r Requisition) Status() string {
	switch {
	case r.Rejected:
		return RequisitionRejected
	case !r.Approved:
		return RequisitionSubmitted
	}
	for _, l := range r.Lines {
		if l.Issued < l.Approved {
			return RequisitionApproved
		}
	}
	return RequisitionIssued
}

// EvolveRequisition folds one event into a requisition.
func EvolveRequisition(r Requisition, m proto.Message) Requisition {
	set := func(ls []*eventsv1.LineQuantity, f func(*RequisitionLine, int64)) {
		r.Lines = slices.Clone(r.Lines)
		for _, q := range ls {
			if i := int(q.Line) - 1; i >= 0 && i < len(r.Lines) {
				f(&r.Lines[i], q.Total)
			}
		}
	}
	switch e := m.(type) {
	case *eventsv1.RequisitionSubmitted:
		r = Requisition{ID: e.RequisitionId, Requester: e.Requester, RequesterStaffNo: e.RequesterStaffNo, Department: e.Department, Purpose: e.Purpose, Submitted: true}
		for _, l := range e.Lines {
			r.Lines = append(r.Lines, RequisitionLine{Line: l.Line, Item: l.Item, Unit: l.Unit, Returnable: l.Returnable, Requested: l.Quantity})
		}
	case *eventsv1.RequisitionApproved:
		r.Approved = true
		set(e.Lines, func(l *RequisitionLine, t int64) { l.Approved = t })
	case *eventsv1.RequisitionRejected:
		r.Rejected, r.RejectReason = true, e.Reason
	case *eventsv1.RequisitionIssued:
		set(e.Lines, func(l *RequisitionLine, t int64) { l.Issued = t })
	case *eventsv1.IssuedItemsReturned:
		set(e.Lines, func(l *RequisitionLine, t int64) { l.Returned = t })
	}
	return r
}

// SubmitRequisition 申领.
type SubmitRequisition struct {
	RequisitionID string
	Requester     string
	// RequesterStaffNo is the requester's 工号 (optional; see Campus.Person).
	RequesterStaffNo string
	Department       string
	Purpose          string
	Lines            []RequisitionLine // Item, Unit, Requested, Returnable
}

// DecideSubmitRequisition decides a request made today at the school of campus (its
// departments judge the department).
func DecideSubmitRequisition(r Requisition, c SubmitRequisition, campus Campus, today Day) ([]proto.Message, error) {
	var v errs.Violations
	person(&v, "requester", c.Requester, "requester")
	optional(&v, "department", c.Department, 60)
	optional(&v, "purpose", c.Purpose, 200)
	if len(c.Lines) == 0 || len(c.Lines) > 100 {
		v.Add("items", "须有1–100项 / 1–100 items are required")
	}
	for i, l := range c.Lines {
		f := "items[" + strconv.Itoa(i) + "]."
		if n := utf8.RuneCountInString(l.Item); n == 0 || n > 100 {
			v.Add(f+"item", "物品名称须为1–100个字 / item must be 1–100 characters")
		}
		optional(&v, f+"unit", l.Unit, 10)
		if l.Requested <= 0 || l.Requested > 100_000 {
			v.Add(f+"quantity", "数量须为1–100000 / quantity must be 1–100,000")
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if r.Submitted {
		return nil, errs.Rule(ReasonRequisitionDecided, "申领单已存在 / the requisition exists already", "requisition_id", r.ID)
	}
	if err := checkDepartment(campus, "department", c.Department); err != nil {
		return nil, err
	}
	requester, err := campus.Person("requester", "requester_staff_no", c.Requester, c.RequesterStaffNo, FormatDay(today))
	if err != nil {
		return nil, err
	}
	e := &eventsv1.RequisitionSubmitted{RequisitionId: c.RequisitionID, Requester: c.Requester, RequesterStaffNo: requester.No, Department: c.Department,
		Purpose: c.Purpose, SubmittedOn: FormatDay(today)}
	for i, l := range c.Lines {
		e.Lines = append(e.Lines, &eventsv1.RequisitionLine{Line: int32(i + 1), Item: strings.TrimSpace(l.Item), Unit: l.Unit,
			Quantity: l.Requested, Returnable: l.Returnable})
	}
	return []proto.Message{e}, nil
}

// LineAmounts are quantities by line number.
type LineAmounts map[int32]int64

func (r Requisition) checkLines(v *errs.Violations, amounts LineAmounts, allowZero bool) {
	for line, q := range amounts {
		if line < 1 || int(line) > len(r.Lines) {
			v.Addf("lines", "没有第%d项 / there is no line %d", line, line)
		}
		if q < 0 || (!allowZero && q == 0) {
			v.Addf("lines", "第%d项数量有误 / line %d: invalid quantity", line, line)
		}
	}
}

// ApproveRequisition approves up to a quantity per line; lines not named as requested.
type ApproveRequisition struct {
	Lines      LineAmounts
	ApprovedBy string
}

// DecideApproveRequisition decides an approval today.
func DecideApproveRequisition(r Requisition, c ApproveRequisition, today Day) ([]proto.Message, error) {
	if !r.Submitted {
		return nil, errs.NotFound("requisition", r.ID)
	}
	var v errs.Violations
	r.checkLines(&v, c.Lines, true)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if r.Approved || r.Rejected {
		return nil, errs.Rule(ReasonRequisitionDecided, "申领单已审批 / the requisition was decided already", "status", r.Status())
	}
	e := &eventsv1.RequisitionApproved{RequisitionId: r.ID, ApprovedBy: c.ApprovedBy, ApprovedOn: FormatDay(today)}
	for _, l := range r.Lines {
		q, named := c.Lines[l.Line]
		if !named {
			q = l.Requested
		}
		if q > l.Requested {
			return nil, errs.Rule(ReasonApprovalExceedsRequest, "批准数量超过申领数量 / approval above the requested quantity",
				"line", strconv.Itoa(int(l.Line)), "requested", itoa(l.Requested))
		}
		e.Lines = append(e.Lines, &eventsv1.LineQuantity{Line: l.Line, Item: l.Item, Quantity: q, Total: q, Returnable: l.Returnable})
	}
	return []proto.Message{e}, nil
}

// RejectRequisition refuses the request.
type RejectRequisition struct {
	Reason     string
	RejectedBy string
}

// DecideRejectRequisition decides a refusal today.
func DecideRejectRequisition(r Requisition, c RejectRequisition, today Day) ([]proto.Message, error) {
	var v errs.Violations
	if strings.TrimSpace(c.Reason) == "" {
		v.Add("reason", "请说明理由 / reason is required")
	}
	optional(&v, "reason", c.Reason, 200)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !r.Submitted {
		return nil, errs.NotFound("requisition", r.ID)
	}
	if r.Approved || r.Rejected {
		return nil, errs.Rule(ReasonRequisitionDecided, "申领单已审批 / the requisition was decided already", "status", r.Status())
	}
	return []proto.Message{&eventsv1.RequisitionRejected{RequisitionId: r.ID, Reason: c.Reason, RejectedBy: c.RejectedBy,
		RejectedOn: FormatDay(today)}}, nil
}

// IssueRequisition 领用: quantities per line; empty means everything approved not yet issued.
type IssueRequisition struct{ Lines LineAmounts }

// DecideIssueRequisition decides an issue today: only approved, never more than approved.
func DecideIssueRequisition(r Requisition, c IssueRequisition, today Day) ([]proto.Message, error) {
	if !r.Submitted {
		return nil, errs.NotFound("requisition", r.ID)
	}
	var v errs.Violations
	r.checkLines(&v, c.Lines, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	switch {
	case r.Rejected:
		return nil, errs.Rule(ReasonRequisitionRejected, "申领未获批准，不能发放 / the requisition was rejected", "reason", r.RejectReason)
	case !r.Approved:
		return nil, errs.Rule(ReasonRequisitionNotApproved, "申领尚未审批，不能发放 / issue needs the logistics director's approval first")
	}
	e := &eventsv1.RequisitionIssued{RequisitionId: r.ID, IssuedTo: r.Requester, IssuedToStaffNo: r.RequesterStaffNo, IssuedOn: FormatDay(today), Department: r.Department}
	for _, l := range r.Lines {
		q, named := c.Lines[l.Line]
		if len(c.Lines) == 0 {
			q, named = l.Approved-l.Issued, true
		}
		if !named || q == 0 {
			continue
		}
		if l.Issued+q > l.Approved {
			return nil, errs.Rule(ReasonIssueExceedsApproved, "发放数量超过批准数量 / issuing more than approved",
				"line", strconv.Itoa(int(l.Line)), "approved", itoa(l.Approved), "issued", itoa(l.Issued))
		}
		e.Lines = append(e.Lines, &eventsv1.LineQuantity{Line: l.Line, Item: l.Item, Quantity: q, Total: l.Issued + q, Returnable: l.Returnable})
	}
	if len(e.Lines) == 0 {
		return nil, errs.Rule(ReasonNothingToIssue, "没有待发放的物品 / nothing approved is left to issue")
	}
	return []proto.Message{e}, nil
}

// ReturnIssuedItems: quantities per line; empty means every returnable item still out.
type ReturnIssuedItems struct{ Lines LineAmounts }

// DecideReturnIssuedItems decides a return today.
func DecideReturnIssuedItems(r Requisition, c ReturnIssuedItems, today Day) ([]proto.Message, error) {
	if !r.Submitted {
		return nil, errs.NotFound("requisition", r.ID)
	}
	var v errs.Violations
	r.checkLines(&v, c.Lines, false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	e := &eventsv1.IssuedItemsReturned{RequisitionId: r.ID, ReturnedBy: r.Requester, ReturnedOn: FormatDay(today)}
	for _, l := range r.Lines {
		q, named := c.Lines[l.Line]
		if len(c.Lines) == 0 && l.Returnable {
			q, named = l.Issued-l.Returned, true
		}
		if !named || q == 0 {
			continue
		}
		if !l.Returnable {
			return nil, errs.Rule(ReasonNotReturnable, "消耗品无需归还 / a consumable is not returned", "line", strconv.Itoa(int(l.Line)))
		}
		if l.Returned+q > l.Issued {
			return nil, errs.Rule(ReasonReturnExceedsIssued, "归还数量超过未还数量 / returning more than is out",
				"line", strconv.Itoa(int(l.Line)), "out", itoa(l.Issued-l.Returned))
		}
		e.Lines = append(e.Lines, &eventsv1.LineQuantity{Line: l.Line, Item: l.Item, Quantity: q, Total: l.Returned + q, Returnable: true})
	}
	if len(e.Lines) == 0 {
		return nil, errs.Rule(ReasonNothingToReturn, "没有待归还的物品 / nothing returnable is out")
	}
	return []proto.Message{e}, nil
}
