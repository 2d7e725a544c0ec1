package domain

import (
	"testing"

	"google.golang.org/protobuf/proto"

	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

var requested = &eventsv1.RequisitionRequested{RequisitionId: "r1", Department: "三年级二班", Purpose: "期中考试",
	Lines:       []*eventsv1.StockRequisitionLine{{ItemCode: "BJ-001", Quantity: 10}, {ItemCode: "ZB-002", Quantity: 4}},
	RequestedBy: "teacher", RequestedOn: "2026-09-06"}

func TestRequestRequisition(t *testing.T) {
	ev, err := DecideRequestRequisition(Requisition{}, RequestRequisition{RequisitionID: "r1", Department: "三年级二班", Purpose: "期中考试",
		Lines: []RequisitionLine{{"BJ-001", 10}, {"ZB-002", 4}}, RequestedBy: "teacher", RequestedOn: "2026-09-06"})
	if err != nil || len(ev) != 1 || !proto.Equal(ev[0], requested) {
		t.Fatalf("%v %v", ev, err)
	}
	_, err = DecideRequestRequisition(Requisition{}, RequestRequisition{Lines: []RequisitionLine{{"BJ-001", 0}, {"BJ-001", 1}, {"x y", 1}}})
	wantFields(t, err, "department", "lines[0].quantity", "lines[1].item_code", "lines[2].item_code")
	_, err = DecideRequestRequisition(Requisition{}, RequestRequisition{Department: "总务处"})
	wantFields(t, err, "lines")
	_, err = DecideRequestRequisition(given(EvolveRequisition, requested), RequestRequisition{Department: "总务处", Lines: []RequisitionLine{{"BJ-001", 1}}})
	wantReason(t, err, ReasonRequisitionNotPending)
}

func TestApproveRequisition(t *testing.T) {
	r := given(EvolveRequisition, requested)
	// Empty lines: as requested.
	ev, err := DecideApproveRequisition(r, nil, "director", "2026-09-06")
	if err != nil || !proto.Equal(ev[0], &eventsv1.RequisitionApproved{RequisitionId: "r1", ApprovedBy: "director", ApprovedOn: "2026-09-06",
		Lines: []*eventsv1.StockRequisitionLine{{ItemCode: "BJ-001", Quantity: 10}, {ItemCode: "ZB-002", Quantity: 4}}}) {
		t.Fatalf("%v %v", ev, err)
	}
	// Fewer than requested; a line approved at 0 is left out.
	ev, err = DecideApproveRequisition(r, []RequisitionLine{{"BJ-001", 6}, {"ZB-002", 0}}, "director", "2026-09-06")
	if err != nil || !proto.Equal(ev[0], &eventsv1.RequisitionApproved{RequisitionId: "r1", ApprovedBy: "director", ApprovedOn: "2026-09-06",
		Lines: []*eventsv1.StockRequisitionLine{{ItemCode: "BJ-001", Quantity: 6}}}) {
		t.Fatalf("%v %v", ev, err)
	}
	approved := EvolveRequisition(r, ev[0])
	if approved.Status != RequisitionApproved || approved.Approved["BJ-001"] != 6 || approved.Approved["ZB-002"] != 0 {
		t.Fatalf("%+v", approved)
	}
	_, err = DecideApproveRequisition(r, []RequisitionLine{{"BJ-001", 11}}, "director", "2026-09-06")
	wantReason(t, err, ReasonApprovalExceedsRequest)
	_, err = DecideApproveRequisition(r, nil, "teacher", "2026-09-06")
	wantReason(t, err, ReasonRequisitionSelfApproval)
	_, err = DecideApproveRequisition(r, []RequisitionLine{{"XX-1", 1}, {"BJ-001", -1}}, "director", "2026-09-06")
	wantFields(t, err, "lines[0].item_code", "lines[1].quantity")
	_, err = DecideApproveRequisition(r, []RequisitionLine{{"BJ-001", 0}}, "director", "2026-09-06")
	wantFields(t, err, "lines")
	_, err = DecideApproveRequisition(approved, nil, "director", "2026-09-06")
	wantReason(t, err, ReasonRequisitionNotPending)
}

func TestRejectRequisition(t *testing.T) {
	r := given(EvolveRequisition, requested)
	ev, err := DecideRejectRequisition(r, "库存不足，下月再领", "director", "2026-09-06")
	if err != nil || len(ev) != 1 {
		t.Fatalf("%v %v", ev, err)
	}
	rejected := EvolveRequisition(r, ev[0])
	if rejected.Status != RequisitionRejected || rejected.RejectReason != "库存不足，下月再领" {
		t.Fatalf("%+v", rejected)
	}
	_, err = DecideRejectRequisition(rejected, "再次驳回", "director", "2026-09-06")
	wantReason(t, err, ReasonRequisitionNotPending)
	_, err = DecideApproveRequisition(rejected, nil, "director", "2026-09-06")
	wantReason(t, err, ReasonRequisitionNotPending)
	_, err = DecideRejectRequisition(r, "", "director", "2026-09-06")
	wantFields(t, err, "reason")
}
