package domain

import (
	"testing"

	"google.golang.org/protobuf/proto"

	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

// 作业本费 collected on behalf: 30.00 yuan per student.
var published = &eventsv1.FeeStandardPublished{FeeId: "f1", Term: "2026-2027-1", Item: "作业本费", Kind: "on_behalf",
	AmountPerStudentFen: 3000, Basis: "县发改委〔2026〕12号", ApprovalDocument: "县教育局批复2026-08", PublishedOn: "2026-08-25", PublishedBy: "principal"}

// paid: 三年级一班 40 students (120000), 三年级二班 38 (114000): 234000 collected.
func paid() Fee {
	return given(EvolveFee, published,
		&eventsv1.FeeCollected{FeeId: "f1", ClassName: "三年级一班", StudentCount: 40, AmountFen: 120000, CollectedOn: "2026-09-01"},
		&eventsv1.FeeCollected{FeeId: "f1", ClassName: "三年级二班", StudentCount: 38, AmountFen: 114000, CollectedOn: "2026-09-02"})
}

func TestValidTerm(t *testing.T) {
	for s, ok := range map[string]bool{"2026-2027-1": true, "2026-2027-2": true, "2026-2028-1": false, "2026-2027-3": false, "2026秋": false} {
		if ValidTerm(s) != ok {
			t.Errorf("%s: %v", s, !ok)
		}
	}
}

func TestPublishFeeStandard(t *testing.T) {
	c := PublishFeeStandard{FeeID: "f1", Term: "2026-2027-1", Item: "作业本费", Kind: "on_behalf", AmountPerStudentFen: 3000,
		Basis: "县发改委〔2026〕12号", ApprovalDocument: "县教育局批复2026-08", PublishedOn: "2026-08-25", PublishedBy: "principal"}
	ev, err := DecidePublishFeeStandard(Fee{}, c)
	if err != nil || len(ev) != 1 || !proto.Equal(ev[0], published) {
		t.Fatalf("%v %v", ev, err)
	}
	_, err = DecidePublishFeeStandard(given(EvolveFee, published), c)
	wantReason(t, err, ReasonFeeStandardExists)
	_, err = DecidePublishFeeStandard(Fee{}, PublishFeeStandard{Term: "2026", Kind: "misc"})
	wantFields(t, err, "term", "item", "kind", "amount_per_student_fen", "basis", "approval_document")
}

func TestRecordFeeCollection(t *testing.T) {
	f := given(EvolveFee, published)
	ev, err := DecideRecordFeeCollection(f, RecordFeeCollection{ClassName: "三年级一班", Students: 2, StudentIDs: []string{"G001", "G002"},
		AmountFen: 6000, CollectedOn: "2026-09-01"}, "2026-09-01")
	if err != nil || !proto.Equal(ev[0], &eventsv1.FeeCollected{FeeId: "f1", Term: "2026-2027-1", Item: "作业本费", Kind: "on_behalf",
		ClassName: "三年级一班", StudentCount: 2, StudentIds: []string{"G001", "G002"}, AmountFen: 6000, CollectedOn: "2026-09-01",
		CollectedTotalFen: 6000, StudentsTotal: 2}) {
		t.Fatalf("%v %v", ev, err)
	}
	f = EvolveFee(f, ev[0])
	// A second payment of the class adds up.
	ev, _ = DecideRecordFeeCollection(f, RecordFeeCollection{ClassName: "三年级一班", Students: 1, AmountFen: 3000, CollectedOn: "2026-09-02"}, "2026-09-02")
	if e := ev[0].(*eventsv1.FeeCollected); e.CollectedTotalFen != 9000 || e.StudentsTotal != 3 {
		t.Fatalf("%v", e)
	}
	if f = EvolveFee(f, ev[0]); f.Classes["三年级一班"].Students != 3 || f.Classes["三年级一班"].AmountFen != 9000 {
		t.Fatalf("%+v", f.Classes)
	}

	ok := RecordFeeCollection{ClassName: "三年级一班", Students: 1, AmountFen: 3000, CollectedOn: "2026-09-01"}
	// Not published (no standard), or collected before the publication day.
	_, err = DecideRecordFeeCollection(Fee{}, ok, "2026-09-01")
	wantReason(t, err, ReasonFeeNotPublished)
	early := ok
	early.CollectedOn = "2026-08-24"
	_, err = DecideRecordFeeCollection(f, early, "2026-09-01")
	wantReason(t, err, ReasonFeeNotPublished)
	_, err = DecideRecordFeeCollection(f, ok, "2026-08-31")
	wantReason(t, err, ReasonFeeDateInFuture)
	wrong := ok
	wrong.AmountFen = 2500
	_, err = DecideRecordFeeCollection(f, wrong, "2026-09-01")
	wantReason(t, err, ReasonFeeAmountMismatch)
	_, err = DecideRecordFeeCollection(f, RecordFeeCollection{Students: 2, StudentIDs: []string{"x"}, CollectedOn: "9/1"}, "2026-09-01")
	wantFields(t, err, "class_name", "student_ids", "amount_fen", "collected_on")
	_, err = DecideRecordFeeCollection(f, RecordFeeCollection{ClassName: "一班", Students: 2, StudentIDs: []string{"G1", "G1"}, AmountFen: 6000,
		CollectedOn: "2026-09-01"}, "2026-09-01")
	wantFields(t, err, "student_ids[1]")
	settled := EvolveFee(f, &eventsv1.FeeSettled{FeeId: "f1"})
	_, err = DecideRecordFeeCollection(settled, ok, "2026-09-01")
	wantReason(t, err, ReasonFeeAlreadySettled)
}

func TestSettleFees(t *testing.T) {
	f := paid()
	// Spent 218400 of 234000: surplus 15600 = 78 students × 200 fen.
	refunds := []FeeRefund{{ClassName: "三年级一班", Students: 40, AmountFen: 8000}, {ClassName: "三年级二班", Students: 38, AmountFen: 7600}}
	ev, err := DecideSettleFees(f, SettleFees{SpentFen: 218400, Refunds: refunds, SettledOn: "2027-01-15", SettledBy: "accountant"}, "2027-01-15")
	want := &eventsv1.FeeSettled{FeeId: "f1", Term: "2026-2027-1", Item: "作业本费", CollectedFen: 234000, SpentFen: 218400, SurplusFen: 15600,
		Refunds:        []*eventsv1.FeeRefundLine{{ClassName: "三年级一班", StudentCount: 40, AmountFen: 8000}, {ClassName: "三年级二班", StudentCount: 38, AmountFen: 7600}},
		RefundTotalFen: 15600, SettledOn: "2027-01-15", SettledBy: "accountant", Students: 78}
	if err != nil || len(ev) != 1 || !proto.Equal(ev[0], want) {
		t.Fatalf("%v %v", ev, err)
	}
	s := EvolveFee(f, ev[0])
	if s.Settlement != SettlementSettled || s.SurplusFen != 15600 || len(s.Refunds) != 2 {
		t.Fatalf("%+v", s)
	}
	// Settling twice.
	_, err = DecideSettleFees(s, SettleFees{SpentFen: 218400, Refunds: refunds, SettledOn: "2027-01-15"}, "2027-01-15")
	wantReason(t, err, ReasonFeeAlreadySettled)
	// Refunds not summing to the surplus: one fen short, or nothing refunded.
	short := append([]FeeRefund(nil), refunds...)
	short[1].AmountFen = 7599
	_, err = DecideSettleFees(f, SettleFees{SpentFen: 218400, Refunds: short, SettledOn: "2027-01-15"}, "2027-01-15")
	wantReason(t, err, ReasonRefundsNotSurplus)
	_, err = DecideSettleFees(f, SettleFees{SpentFen: 218400, SettledOn: "2027-01-15"}, "2027-01-15")
	wantReason(t, err, ReasonRefundsNotSurplus)
	// Everything spent: nothing to refund. A deficit refunds nothing either.
	if ev, err := DecideSettleFees(f, SettleFees{SpentFen: 234000, SettledOn: "2027-01-15"}, "2027-01-15"); err != nil || ev[0].(*eventsv1.FeeSettled).SurplusFen != 0 {
		t.Fatalf("%v %v", ev, err)
	}
	if ev, err := DecideSettleFees(f, SettleFees{SpentFen: 240000, SettledOn: "2027-01-15"}, "2027-01-15"); err != nil || ev[0].(*eventsv1.FeeSettled).SurplusFen != -6000 {
		t.Fatalf("deficit %v %v", ev, err)
	}
	_, err = DecideSettleFees(f, SettleFees{SpentFen: 240000, Refunds: refunds, SettledOn: "2027-01-15"}, "2027-01-15")
	wantReason(t, err, ReasonRefundsNotSurplus)
	// A refund to a class that did not pay, or to more students than paid.
	_, err = DecideSettleFees(f, SettleFees{SpentFen: 218400, Refunds: []FeeRefund{{ClassName: "四年级一班", Students: 1, AmountFen: 15600}},
		SettledOn: "2027-01-15"}, "2027-01-15")
	wantReason(t, err, ReasonRefundNotPaid)
	_, err = DecideSettleFees(f, SettleFees{SpentFen: 218400, Refunds: []FeeRefund{{ClassName: "三年级二班", Students: 39, AmountFen: 15600}},
		SettledOn: "2027-01-15"}, "2027-01-15")
	wantReason(t, err, ReasonRefundNotPaid)
	// A refund to one student by id.
	if _, err := DecideSettleFees(f, SettleFees{SpentFen: 234000 - 500, Refunds: []FeeRefund{{ClassName: "三年级二班", StudentID: "G007", Students: 1, AmountFen: 500}},
		SettledOn: "2027-01-15"}, "2027-01-15"); err != nil {
		t.Fatal(err)
	}
	// Only fees on behalf are settled; a fee must be published; no future date; bad input.
	regular := paid()
	regular.Kind = "regular"
	_, err = DecideSettleFees(regular, SettleFees{SettledOn: "2027-01-15"}, "2027-01-15")
	wantReason(t, err, ReasonFeeNotOnBehalf)
	_, err = DecideSettleFees(Fee{}, SettleFees{SettledOn: "2027-01-15"}, "2027-01-15")
	wantReason(t, err, ReasonFeeNotPublished)
	_, err = DecideSettleFees(f, SettleFees{SpentFen: 218400, Refunds: refunds, SettledOn: "2027-01-16"}, "2027-01-15")
	wantReason(t, err, ReasonFeeDateInFuture)
	_, err = DecideSettleFees(f, SettleFees{SpentFen: -1, Refunds: []FeeRefund{{StudentID: "G1", Students: 2}}, SettledOn: ""}, "2027-01-15")
	wantFields(t, err, "spent_fen", "refunds[0].class_name", "refunds[0].student_id", "refunds[0].amount_fen", "settled_on")
}

func TestApproveAndPublishSettlement(t *testing.T) {
	f := paid()
	_, err := DecideApproveFeeSettlement(f, "principal", "2027-01-16")
	wantReason(t, err, ReasonFeeNotSettled)
	_, err = DecidePublishFeeSettlement(f, "accountant", "2027-01-16")
	wantReason(t, err, ReasonFeeNotSettled)
	f = EvolveFee(f, &eventsv1.FeeSettled{FeeId: "f1", SettledBy: "accountant", SpentFen: 234000})
	// Not before approval; not by the one who settled.
	_, err = DecidePublishFeeSettlement(f, "accountant", "2027-01-16")
	wantReason(t, err, ReasonSettlementNotPending)
	_, err = DecideApproveFeeSettlement(f, "accountant", "2027-01-16")
	wantReason(t, err, ReasonSettlementSelfApproval)
	ev, err := DecideApproveFeeSettlement(f, "principal", "2027-01-16")
	if err != nil || !proto.Equal(ev[0], &eventsv1.FeeSettlementApproved{FeeId: "f1", Term: "2026-2027-1", Item: "作业本费", ApprovedBy: "principal", ApprovedOn: "2027-01-16"}) {
		t.Fatalf("%v %v", ev, err)
	}
	f = EvolveFee(f, ev[0])
	_, err = DecideApproveFeeSettlement(f, "principal", "2027-01-16")
	wantReason(t, err, ReasonSettlementNotPending)
	ev, err = DecidePublishFeeSettlement(f, "accountant", "2027-01-17")
	if err != nil || len(ev) != 1 {
		t.Fatalf("%v %v", ev, err)
	}
	f = EvolveFee(f, ev[0])
	if f.Settlement != SettlementPublished {
		t.Fatal(f.Settlement)
	}
	_, err = DecidePublishFeeSettlement(f, "accountant", "2027-01-17")
	wantReason(t, err, ReasonSettlementNotPending)
}
