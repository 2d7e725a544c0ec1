package domain

import (
	"testing"

	"google.golang.org/protobuf/proto"

	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

func submitted(t *testing.T) *eventsv1.RequisitionSubmitted {
	t.Helper()
	ev, err := DecideSubmitRequisition(Requisition{}, SubmitRequisition{RequisitionID: "r1", Requester: "张老师", Department: "语文组",
		Lines: []RequisitionLine{{Item: "粉笔", Unit: "盒", Requested: 10}, {Item: "电钻", Unit: "把", Requested: 2, Returnable: true}}}, Campus{}, today)
	if err != nil {
		t.Fatal(err)
	}
	return ev[0].(*eventsv1.RequisitionSubmitted)
}

func givenRequisition(events ...proto.Message) Requisition {
	r := Requisition{ID: "r1"}
	for _, e := range events {
		r = EvolveRequisition(r, e)
	}
	return r
}

// must returns the first event of a decision that must succeed.
func must(t *testing.T) func([]proto.Message, error) proto.Message {
	return func(ev []proto.Message, err error) proto.Message {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return ev[0]
	}
}

func TestRequisitionRequestApproveIssueReturn(t *testing.T) {
	sub := submitted(t)
	if len(sub.Lines) != 2 || sub.Lines[1].Line != 2 || !sub.Lines[1].Returnable {
		t.Fatalf("submitted %v", sub)
	}
	r := givenRequisition(sub)
	_, err := DecideIssueRequisition(r, IssueRequisition{}, today)
	wantReason(t, err, ReasonRequisitionNotApproved)
	_, err = DecideApproveRequisition(r, ApproveRequisition{Lines: LineAmounts{1: 11}}, today)
	wantReason(t, err, ReasonApprovalExceedsRequest)
	_, err = DecideApproveRequisition(r, ApproveRequisition{Lines: LineAmounts{3: 1}}, today)
	wantViolations(t, err, "lines")
	app := must(t)(DecideApproveRequisition(r, ApproveRequisition{Lines: LineAmounts{1: 6}}, today))
	r = EvolveRequisition(r, app)
	if r.Lines[0].Approved != 6 || r.Lines[1].Approved != 2 || r.Status() != RequisitionApproved {
		t.Fatalf("approved %+v", r)
	}
	_, err = DecideApproveRequisition(r, ApproveRequisition{}, today)
	wantReason(t, err, ReasonRequisitionDecided)

	// Issue in two goes; never more than approved.
	iss := must(t)(DecideIssueRequisition(r, IssueRequisition{Lines: LineAmounts{1: 4}}, today))
	r = EvolveRequisition(r, iss)
	_, err = DecideIssueRequisition(r, IssueRequisition{Lines: LineAmounts{1: 3}}, today)
	wantReason(t, err, ReasonIssueExceedsApproved)
	rest := must(t)(DecideIssueRequisition(r, IssueRequisition{}, today)).(*eventsv1.RequisitionIssued)
	if len(rest.Lines) != 2 || rest.Lines[0].Quantity != 2 || rest.Lines[0].Total != 6 || rest.Lines[1].Total != 2 || rest.IssuedTo != "张老师" {
		t.Fatalf("rest issued %v", rest)
	}
	r = EvolveRequisition(r, rest)
	if r.Status() != RequisitionIssued {
		t.Fatalf("status %s", r.Status())
	}
	_, err = DecideIssueRequisition(r, IssueRequisition{}, today)
	wantReason(t, err, ReasonNothingToIssue)

	// Returns: returnable lines only, never more than is out.
	_, err = DecideReturnIssuedItems(r, ReturnIssuedItems{Lines: LineAmounts{1: 1}}, today)
	wantReason(t, err, ReasonNotReturnable)
	_, err = DecideReturnIssuedItems(r, ReturnIssuedItems{Lines: LineAmounts{2: 3}}, today)
	wantReason(t, err, ReasonReturnExceedsIssued)
	ret := must(t)(DecideReturnIssuedItems(r, ReturnIssuedItems{}, today)).(*eventsv1.IssuedItemsReturned)
	if len(ret.Lines) != 1 || ret.Lines[0].Total != 2 {
		t.Fatalf("returned %v", ret)
	}
	r = EvolveRequisition(r, ret)
	_, err = DecideReturnIssuedItems(r, ReturnIssuedItems{}, today)
	wantReason(t, err, ReasonNothingToReturn)
}

func TestRejectedRequisitionIsNotIssued(t *testing.T) {
	r := givenRequisition(submitted(t))
	_, err := DecideRejectRequisition(r, RejectRequisition{}, today)
	wantViolations(t, err, "reason")
	r = EvolveRequisition(r, must(t)(DecideRejectRequisition(r, RejectRequisition{Reason: "库存不足"}, today)))
	_, err = DecideIssueRequisition(r, IssueRequisition{}, today)
	wantReason(t, err, ReasonRequisitionRejected)
	_, err = DecideApproveRequisition(r, ApproveRequisition{}, today)
	wantReason(t, err, ReasonRequisitionDecided)
	_, err = DecideSubmitRequisition(Requisition{}, SubmitRequisition{Lines: []RequisitionLine{{Requested: 0}}}, Campus{}, today)
	wantViolations(t, err, "requester", "items[0].item", "items[0].quantity")
}
