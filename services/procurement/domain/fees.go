package domain

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

// Reasons of fee refusals.
const (
	// 未公示不得收费: the fee is not published, or was published after the collection date.
	ReasonFeeNotPublished errs.Reason = "FEE_NOT_PUBLISHED"
	// The school already published the item for the term.
	ReasonFeeStandardExists errs.Reason = "FEE_STANDARD_EXISTS"
	// The amount collected is not the student count × the published amount.
	ReasonFeeAmountMismatch errs.Reason = "FEE_AMOUNT_MISMATCH"
	// The fee was settled: no more collections, no second settlement.
	ReasonFeeAlreadySettled errs.Reason = "FEE_ALREADY_SETTLED"
	// Only fees collected on behalf (代收费) are settled and refunded.
	ReasonFeeNotOnBehalf errs.Reason = "FEE_NOT_ON_BEHALF"
	// The refunds do not sum to the surplus (collected − spent).
	ReasonRefundsNotSurplus errs.Reason = "FEE_REFUNDS_NOT_SURPLUS"
	// A refund names a class that did not pay, or more of its students than paid.
	ReasonRefundNotPaid   errs.Reason = "FEE_REFUND_NOT_PAID"
	ReasonFeeNotSettled   errs.Reason = "FEE_NOT_SETTLED"
	ReasonFeeDateInFuture errs.Reason = "FEE_DATE_IN_FUTURE"
	// The settlement is not at the step the command needs (approve: settled; publish: approved).
	ReasonSettlementNotPending errs.Reason = "FEE_SETTLEMENT_NOT_PENDING"
	// The one who settled cannot approve the settlement.
	ReasonSettlementSelfApproval errs.Reason = "FEE_SETTLEMENT_SELF_APPROVAL"
)

// Fee kinds.
var FeeKinds = map[string]string{
	"regular":   "行政事业性收费",
	"on_behalf": "代收费/代办费",
}

// Settlement statuses.
const (
	SettlementSettled   = "settled"
	SettlementApproved  = "approved"
	SettlementPublished = "published"
)

var termRE = regexp.MustCompile(`^(\d{4})-(\d{4})-([12])$`)

// ValidTerm reports whether s is a term 学年-学期 like 2026-2027-1.
func ValidTerm(s string) bool {
	m := termRE.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	from, _ := strconv.Atoi(m[1])
	to, _ := strconv.Atoi(m[2])
	return to == from+1
}

// FeeClass is what one class paid.
type FeeClass struct {
	ClassName string
	Students  int64
	AmountFen int64
}

// FeeRefund is a refund of the surplus.
type FeeRefund struct {
	ClassName string
	StudentID string
	Students  int64
	AmountFen int64
}

// Fee is a published fee standard (收费公示) with what was collected against it and its
// term-end settlement: one aggregate, so a collection and the settlement cannot cross.
type Fee struct {
	ID                  string
	Term                string
	Item                string
	Kind                string
	AmountPerStudentFen int64
	Basis               string
	ApprovalDocument    string
	PublishedOn         string
	Published           bool
	Classes             map[string]FeeClass
	CollectedFen        int64
	Students            int64
	Settlement          string
	SettledBy           string
	SpentFen            int64
	SurplusFen          int64
	Refunds             []FeeRefund
}

// ClassNames are the paying classes, sorted.
func (f Fee) ClassNames() []string {
	var out []string
	for c := range f.Classes {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// EvolveFee folds one event into a fee.
func EvolveFee(f Fee, m proto.Message) Fee {
	switch e := m.(type) {
	case *eventsv1.FeeStandardPublished:
		f = Fee{ID: e.FeeId, Term: e.Term, Item: e.Item, Kind: e.Kind, AmountPerStudentFen: e.AmountPerStudentFen, Basis: e.Basis,
			ApprovalDocument: e.ApprovalDocument, PublishedOn: e.PublishedOn, Published: true, Classes: map[string]FeeClass{}}
	case *eventsv1.FeeCollected:
		if f.Classes == nil {
			f.Classes = map[string]FeeClass{}
		}
		c := f.Classes[e.ClassName]
		c.ClassName = e.ClassName
		c.Students += e.StudentCount
		c.AmountFen += e.AmountFen
		f.Classes[e.ClassName] = c
		f.CollectedFen += e.AmountFen
		f.Students += e.StudentCount
	case *eventsv1.FeeSettled:
		f.Settlement, f.SettledBy, f.SpentFen, f.SurplusFen = SettlementSettled, e.SettledBy, e.SpentFen, e.SurplusFen
		f.Refunds = nil
		for _, r := range e.Refunds {
			f.Refunds = append(f.Refunds, FeeRefund{ClassName: r.ClassName, StudentID: r.StudentId, Students: r.StudentCount, AmountFen: r.AmountFen})
		}
	case *eventsv1.FeeSettlementApproved:
		f.Settlement = SettlementApproved
	case *eventsv1.FeeSettlementPublished:
		f.Settlement = SettlementPublished
	}
	return f
}

// PublishFeeStandard 收费公示.
type PublishFeeStandard struct {
	FeeID               string
	Term                string
	Item                string
	Kind                string
	AmountPerStudentFen int64
	Basis               string
	ApprovalDocument    string
	PublishedOn         string
	PublishedBy         string
}

// FeeStandardKey keeps one standard per school, term and item.
func FeeStandardKey(school, term, item string) string {
	return school + "/" + term + "/" + strings.ToLower(item)
}

// DecidePublishFeeStandard decides a fee standard's publication.
func DecidePublishFeeStandard(f Fee, c PublishFeeStandard) ([]proto.Message, error) {
	var v errs.Violations
	if !ValidTerm(c.Term) {
		v.Add("term", "学期格式须为“起始年-结束年-1或2”，如2026-2027-1 / term must be like 2026-2027-1")
	}
	text(&v, "item", c.Item, 2, 40, "item")
	if _, ok := FeeKinds[c.Kind]; !ok {
		v.Add("kind", "收费类别须为regular或on_behalf / kind must be regular or on_behalf")
	}
	if c.AmountPerStudentFen <= 0 || c.AmountPerStudentFen > MaxAmountFen {
		v.Add("amount_per_student_fen", "金额须大于0 / the amount must be positive")
	}
	text(&v, "basis", c.Basis, 2, 200, "basis")
	text(&v, "approval_document", c.ApprovalDocument, 2, 100, "approval document")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if f.Published {
		return nil, errs.Rule(ReasonFeeStandardExists, "该收费项目本学期已公示 / the item is already published for the term")
	}
	return []proto.Message{&eventsv1.FeeStandardPublished{FeeId: c.FeeID, Term: c.Term, Item: c.Item, Kind: c.Kind,
		AmountPerStudentFen: c.AmountPerStudentFen, Basis: c.Basis, ApprovalDocument: c.ApprovalDocument,
		PublishedOn: c.PublishedOn, PublishedBy: c.PublishedBy}}, nil
}

// RecordFeeCollection is what a class paid.
type RecordFeeCollection struct {
	ClassName   string
	Students    int64
	StudentIDs  []string
	AmountFen   int64
	CollectedOn string
}

// DecideRecordFeeCollection records a class's payment of a published fee: only after its
// publication, at exactly the published amount per student, never after the settlement.
func DecideRecordFeeCollection(f Fee, c RecordFeeCollection, today string) ([]proto.Message, error) {
	var v errs.Violations
	text(&v, "class_name", c.ClassName, 1, 30, "class")
	if c.Students <= 0 || c.Students > 5000 {
		v.Add("student_count", "须为1–5000 / must be 1–5000")
	}
	if len(c.StudentIDs) > 0 && int64(len(c.StudentIDs)) != c.Students {
		v.Add("student_ids", "学生编号数须等于人数 / as many student ids as students")
	}
	seen := map[string]bool{}
	for i, id := range c.StudentIDs {
		if !tokenRE.MatchString(id) || seen[id] {
			v.Add(fmt.Sprintf("student_ids[%d]", i), "学生编号有误或重复 / invalid or repeated student id")
		}
		seen[id] = true
	}
	if c.AmountFen <= 0 || c.AmountFen > MaxAmountFen {
		v.Add("amount_fen", "金额须大于0 / the amount must be positive")
	}
	validDate(&v, "collected_on", c.CollectedOn)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !f.Published || c.CollectedOn < f.PublishedOn {
		return nil, errs.Rule(ReasonFeeNotPublished, "未公示的收费不得收取 / a fee is collected only after it is published",
			"published_on", f.PublishedOn, "collected_on", c.CollectedOn)
	}
	if c.CollectedOn > today {
		return nil, errs.Rule(ReasonFeeDateInFuture, "日期不能晚于今天 / the date is after today", "collected_on", c.CollectedOn)
	}
	if f.Settlement != "" {
		return nil, errs.Rule(ReasonFeeAlreadySettled, "该收费已结算 / the fee is settled")
	}
	if want := c.Students * f.AmountPerStudentFen; c.AmountFen != want {
		return nil, errs.Rule(ReasonFeeAmountMismatch,
			fmt.Sprintf("应收%d人×%d分=%d分 / %d students × %d fen = %d fen", c.Students, f.AmountPerStudentFen, want, c.Students, f.AmountPerStudentFen, want),
			"amount_fen", fmt.Sprint(c.AmountFen))
	}
	return []proto.Message{&eventsv1.FeeCollected{FeeId: f.ID, Term: f.Term, Item: f.Item, Kind: f.Kind, ClassName: c.ClassName,
		StudentCount: c.Students, StudentIds: c.StudentIDs, AmountFen: c.AmountFen, CollectedOn: c.CollectedOn,
		CollectedTotalFen: f.CollectedFen + c.AmountFen, StudentsTotal: f.Students + c.Students}}, nil
}

// SettleFees is a term-end settlement of a fee collected on behalf (代收费结算).
type SettleFees struct {
	SpentFen  int64
	Refunds   []FeeRefund
	SettledOn string
	SettledBy string
}

// DecideSettleFees settles a fee collected on behalf once: the surplus (collected − spent) is
// refunded in full — the refunds sum to it, each to a class that paid and to no more of its
// students than paid; a deficit refunds nothing.
func DecideSettleFees(f Fee, c SettleFees, today string) ([]proto.Message, error) {
	var v errs.Violations
	if c.SpentFen < 0 || c.SpentFen > MaxAmountFen {
		v.Add("spent_fen", "支出不能为负数 / spend must not be negative")
	}
	for i, r := range c.Refunds {
		fld := fmt.Sprintf("refunds[%d]", i)
		text(&v, fld+".class_name", r.ClassName, 1, 30, "class")
		if r.StudentID != "" && (!tokenRE.MatchString(r.StudentID) || r.Students != 1) {
			v.Add(fld+".student_id", "学生编号有误，或单个学生的人数须为1 / invalid student id, or student_count is not 1")
		}
		if r.Students <= 0 || r.Students > 5000 {
			v.Add(fld+".student_count", "须为1–5000 / must be 1–5000")
		}
		if r.AmountFen <= 0 || r.AmountFen > MaxAmountFen {
			v.Add(fld+".amount_fen", "金额须大于0 / the amount must be positive")
		}
	}
	validDate(&v, "settled_on", c.SettledOn)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !f.Published {
		return nil, errs.Rule(ReasonFeeNotPublished, "该收费未公示 / the fee is not published")
	}
	if f.Kind != "on_behalf" {
		return nil, errs.Rule(ReasonFeeNotOnBehalf, "只有代收费需结算退费 / only fees collected on behalf are settled")
	}
	if f.Settlement != "" {
		return nil, errs.Rule(ReasonFeeAlreadySettled, "该收费已结算，不能重复结算 / the fee is already settled")
	}
	if c.SettledOn > today {
		return nil, errs.Rule(ReasonFeeDateInFuture, "日期不能晚于今天 / the date is after today", "settled_on", c.SettledOn)
	}
	surplus := f.CollectedFen - c.SpentFen
	var total int64
	students := map[string]int64{}
	for i, r := range c.Refunds {
		total += r.AmountFen
		students[r.ClassName] += r.Students
		if students[r.ClassName] > f.Classes[r.ClassName].Students {
			return nil, errs.Rule(ReasonRefundNotPaid, fmt.Sprintf("%s缴费%d人，退费人数超出 / %s: more refunded students than paid",
				r.ClassName, f.Classes[r.ClassName].Students, r.ClassName), "field", fmt.Sprintf("refunds[%d]", i))
		}
	}
	if want := max(surplus, 0); total != want {
		return nil, errs.Rule(ReasonRefundsNotSurplus,
			fmt.Sprintf("退费合计%d分，结余%d分 / refunds total %d fen, the surplus is %d fen", total, want, total, want),
			"surplus_fen", fmt.Sprint(want), "refund_total_fen", fmt.Sprint(total))
	}
	e := &eventsv1.FeeSettled{FeeId: f.ID, Term: f.Term, Item: f.Item, CollectedFen: f.CollectedFen, SpentFen: c.SpentFen,
		SurplusFen: surplus, RefundTotalFen: total, SettledOn: c.SettledOn, SettledBy: c.SettledBy, Students: f.Students}
	for _, r := range c.Refunds {
		e.Refunds = append(e.Refunds, &eventsv1.FeeRefundLine{ClassName: r.ClassName, StudentId: r.StudentID, StudentCount: r.Students, AmountFen: r.AmountFen})
	}
	return []proto.Message{e}, nil
}

// DecideApproveFeeSettlement approves a settlement; the one who settled does not approve it.
func DecideApproveFeeSettlement(f Fee, by, on string) ([]proto.Message, error) {
	switch {
	case f.Settlement == "":
		return nil, errs.Rule(ReasonFeeNotSettled, "该收费尚未结算 / the fee is not settled")
	case f.Settlement != SettlementSettled:
		return nil, errs.Rule(ReasonSettlementNotPending, "结算已审批 / the settlement is already approved", "status", f.Settlement)
	case by != "" && by == f.SettledBy:
		return nil, errs.Rule(ReasonSettlementSelfApproval, "结算人不能审批自己的结算 / the one who settled cannot approve")
	}
	return []proto.Message{&eventsv1.FeeSettlementApproved{FeeId: f.ID, Term: f.Term, Item: f.Item, ApprovedBy: by, ApprovedOn: on}}, nil
}

// DecidePublishFeeSettlement publishes an approved settlement (结算公示).
func DecidePublishFeeSettlement(f Fee, by, on string) ([]proto.Message, error) {
	switch {
	case f.Settlement == "":
		return nil, errs.Rule(ReasonFeeNotSettled, "该收费尚未结算 / the fee is not settled")
	case f.Settlement != SettlementApproved:
		return nil, errs.Rule(ReasonSettlementNotPending, "结算须经审批后公示，且只公示一次 / only an approved settlement is published, once", "status", f.Settlement)
	}
	return []proto.Message{&eventsv1.FeeSettlementPublished{FeeId: f.ID, Term: f.Term, Item: f.Item, PublishedBy: by, PublishedOn: on}}, nil
}
