package domain

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

// Reasons of requisition refusals.
const (
	// The requisition was already approved or rejected.
	ReasonRequisitionNotPending errs.Reason = "REQUISITION_NOT_PENDING"
	// 不能审批自己的申请
	ReasonRequisitionSelfApproval errs.Reason = "REQUISITION_SELF_APPROVAL"
	// An approved quantity is above the requested one.
	ReasonApprovalExceedsRequest errs.Reason = "REQUISITION_APPROVAL_EXCEEDS_REQUEST"
)

// RequisitionStatus is where a requisition stands.
type RequisitionStatus string

// Requisition statuses.
const (
	RequisitionRequested RequisitionStatus = "requested"
	RequisitionApproved  RequisitionStatus = "approved"
	RequisitionRejected  RequisitionStatus = "rejected"
)

// RequisitionLine is one item of a requisition.
type RequisitionLine struct {
	ItemCode string
	Quantity int64
}

// Requisition is a 领用单: a teacher's or department's request for items from the store, which
// the logistics director approves. Issues against it are recorded on the items' accounts (one
// aggregate per item), which also keep how much of each was issued; the approved quantities
// never change after approval, so reading them outside the item's transaction is safe.
type Requisition struct {
	ID           string
	Department   string
	Purpose      string
	Requested    []RequisitionLine
	Approved     map[string]int64
	Status       RequisitionStatus
	RequestedBy  string
	ApprovedBy   string
	RejectReason string
}

// EvolveRequisition folds one event into a requisition.
func EvolveRequisition(r Requisition, m proto.Message) Requisition {
	switch e := m.(type) {
	case *eventsv1.RequisitionRequested:
		r = Requisition{ID: e.RequisitionId, Department: e.Department, Purpose: e.Purpose, Status: RequisitionRequested, RequestedBy: e.RequestedBy}
		for _, l := range e.Lines {
			r.Requested = append(r.Requested, RequisitionLine{ItemCode: l.ItemCode, Quantity: l.Quantity})
		}
	case *eventsv1.RequisitionApproved:
		r.Status, r.ApprovedBy, r.Approved = RequisitionApproved, e.ApprovedBy, map[string]int64{}
		for _, l := range e.Lines {
			r.Approved[l.ItemCode] = l.Quantity
		}
	case *eventsv1.RequisitionRejected:
		r.Status, r.RejectReason = RequisitionRejected, e.Reason
	}
	return r
}

// RequestRequisition 领用申请.
type RequestRequisition struct {
	RequisitionID string
	Department    string
	Purpose       string
	Lines         []RequisitionLine
	RequestedBy   string
	RequestedOn   string
}

// DecideRequestRequisition decides a new requisition.
func DecideRequestRequisition(r Requisition, c RequestRequisition) ([]proto.Message, error) {
	var v errs.Violations
	text(&v, "department", c.Department, 1, 40, "department")
	text(&v, "purpose", c.Purpose, 0, 200, "purpose")
	if len(c.Lines) == 0 || len(c.Lines) > 50 {
		v.Add("lines", "须有1–50项 / 1–50 lines")
	}
	seen := map[string]bool{}
	for i, l := range c.Lines {
		f := fmt.Sprintf("lines[%d]", i)
		if !codeRE.MatchString(l.ItemCode) {
			v.Add(f+".item_code", "物资编码有误 / invalid item code")
		} else if seen[l.ItemCode] {
			v.Add(f+".item_code", "同一物资只能列一项 / one line per item")
		}
		seen[l.ItemCode] = true
		validQuantity(&v, f+".quantity", l.Quantity)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if r.Status != "" {
		return nil, errs.Rule(ReasonRequisitionNotPending, "领用单已存在 / the requisition exists")
	}
	e := &eventsv1.RequisitionRequested{RequisitionId: c.RequisitionID, Department: c.Department, Purpose: c.Purpose,
		RequestedBy: c.RequestedBy, RequestedOn: c.RequestedOn}
	for _, l := range c.Lines {
		e.Lines = append(e.Lines, &eventsv1.StockRequisitionLine{ItemCode: l.ItemCode, Quantity: l.Quantity})
	}
	return []proto.Message{e}, nil
}

// DecideApproveRequisition approves lines (empty: every line as requested), each at most as
// requested; the requester cannot approve.
func DecideApproveRequisition(r Requisition, lines []RequisitionLine, by, on string) ([]proto.Message, error) {
	requested := map[string]int64{}
	for _, l := range r.Requested {
		requested[l.ItemCode] = l.Quantity
	}
	if len(lines) == 0 {
		lines = r.Requested
	}
	var v errs.Violations
	var total int64
	seen := map[string]bool{}
	for i, l := range lines {
		f := fmt.Sprintf("lines[%d]", i)
		if _, ok := requested[l.ItemCode]; !ok || seen[l.ItemCode] {
			v.Add(f+".item_code", "不是该领用单的物资，或重复 / not an item of the requisition, or repeated")
		}
		seen[l.ItemCode] = true
		if l.Quantity < 0 {
			v.Add(f+".quantity", "不能为负数 / must not be negative")
		}
		total += l.Quantity
	}
	if len(v) == 0 && total == 0 {
		v.Add("lines", "批准数量均为0，请驳回 / nothing approved: reject instead")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if r.Status != RequisitionRequested {
		return nil, errs.Rule(ReasonRequisitionNotPending, "领用单已审批 / the requisition was already decided", "status", string(r.Status))
	}
	if by != "" && by == r.RequestedBy {
		return nil, errs.Rule(ReasonRequisitionSelfApproval, "不能审批自己的申请 / nobody approves their own requisition")
	}
	e := &eventsv1.RequisitionApproved{RequisitionId: r.ID, ApprovedBy: by, ApprovedOn: on}
	for i, l := range lines {
		if l.Quantity > requested[l.ItemCode] {
			return nil, errs.Rule(ReasonApprovalExceedsRequest, "批准数量超过申请数量 / approved more than requested",
				"field", fmt.Sprintf("lines[%d].quantity", i))
		}
		if l.Quantity > 0 {
			e.Lines = append(e.Lines, &eventsv1.StockRequisitionLine{ItemCode: l.ItemCode, Quantity: l.Quantity})
		}
	}
	return []proto.Message{e}, nil
}

// DecideRejectRequisition rejects a pending requisition with a reason.
func DecideRejectRequisition(r Requisition, reason, by, on string) ([]proto.Message, error) {
	var v errs.Violations
	text(&v, "reason", reason, 2, 200, "reason")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if r.Status != RequisitionRequested {
		return nil, errs.Rule(ReasonRequisitionNotPending, "领用单已审批 / the requisition was already decided", "status", string(r.Status))
	}
	return []proto.Message{&eventsv1.RequisitionRejected{RequisitionId: r.ID, Reason: reason, RejectedBy: by, RejectedOn: on}}, nil
}
