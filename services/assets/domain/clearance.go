package domain

import (
	"strconv"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Reasons of clearance refusals (教职工调离).
const (
	// The person still holds assets, loans or issued items.
	ReasonHoldingsOutstanding errs.Reason = "CLEARANCE_HOLDINGS_OUTSTANDING"
	ReasonClearanceCompleted  errs.Reason = "CLEARANCE_ALREADY_COMPLETED"
	// A clearance for the person and leaving date exists.
	ReasonClearanceExists errs.Reason = "CLEARANCE_EXISTS"
	// The borrower's (or new custodian's) clearance for leaving is complete and the leaving
	// day has not passed.
	ReasonBorrowerCleared errs.Reason = "BORROWER_CLEARED"
	// What the person holds changed while the command was decided (a loan to them and the
	// completion of their clearance at the same instant). The app decides again; a client sees
	// it only as Aborted when that keeps happening.
	ReasonHolderChanged errs.Reason = "HOLDER_CHANGED"
)

// HolderScope is the unique-key scope of a person's holder version (持有人版本): a loan to the
// person and the completion of their clearance each claim the next number in it (keys 1, 2,
// …, the next being the count plus one), in the same append as their events. Two of them
// decided on the same version claim the same key and only one commits: the other decides
// again on what the first changed. A per-person lock with no stream of its own, in the event
// store's transaction.
func HolderScope(school, person string) string { return "holder:" + school + "/" + person }

// notCleared refuses a loan or a custody to person (field) while one of their completed
// clearances (cleared: leaving dates) has a leaving day still to come; after it, the name is
// someone else's or a returning colleague's.
func notCleared(cleared []string, today Day, field, person string) error {
	for _, leaving := range cleared {
		if leaving >= FormatDay(today) {
			return errs.Rule(ReasonBorrowerCleared, "该教职工已完成离校清查，离校前不能再借用或保管资产 / the person has been cleared for leaving and can neither borrow nor keep assets before leaving",
				field, person, "leaving_on", leaving)
		}
	}
	return nil
}

// ClearedScope is the unique-key scope of a person's completed clearances: their leaving
// dates, claimed by the completion, read by loans (BORROWER_CLEARED).
func ClearedScope(school, person string) string { return "cleared:" + school + "/" + person }

// Kinds of held items.
const (
	HeldCustodian = "custodian"
	HeldLoan      = "loan"
	HeldIssued    = "issued"
)

// Held is what a person holds: assets in custody, open loans, returnable items issued.
type Held []*eventsv1.HeldItem

// Clearance is one leaving person's clearance.
type Clearance struct {
	ID     string
	Person string
	// StaffNo is the person's 工号 ("": the school had no staff directory).
	StaffNo     string
	Department  string
	LeavingOn   string
	Reason      string
	Started     bool
	CompletedOn string
}

// EvolveClearance folds one event into a clearance.
func EvolveClearance(c Clearance, m proto.Message) Clearance {
	switch e := m.(type) {
	case *eventsv1.ClearanceStarted:
		c = Clearance{ID: e.ClearanceId, Person: e.Person, StaffNo: e.StaffNo, Department: e.Department, LeavingOn: e.LeavingOn, Reason: e.Reason, Started: true}
	case *eventsv1.ClearanceCompleted:
		c.CompletedOn = e.CompletedOn
	}
	return c
}

// ClearanceKey keeps one clearance per person and leaving date.
func ClearanceKey(school, person, leavingOn string) string {
	return school + "/" + person + "/" + leavingOn
}

// StartClearance 教职工调离. Held is what the person holds now.
type StartClearance struct {
	ClearanceID string
	Person      string
	// StaffNo is the person's 工号 (optional; see Campus.Person).
	StaffNo    string
	Department string
	LeavingOn  string
	Reason     string
	Held       Held
}

// DecideStartClearance opens a clearance at the school of campus (its departments judge the
// department, its staff directory the person).
func DecideStartClearance(s Clearance, c StartClearance, campus Campus) ([]proto.Message, error) {
	var v errs.Violations
	person(&v, "person", c.Person, "person")
	optional(&v, "department", c.Department, 60)
	optional(&v, "reason", c.Reason, 200)
	if _, ok := ParseDay(c.LeavingOn); !ok {
		v.Add("leaving_on", "日期格式须为YYYY-MM-DD / date must be YYYY-MM-DD")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if s.Started {
		return nil, errs.Rule(ReasonClearanceExists, "离校清查已开始 / the clearance exists already", "clearance_id", s.ID)
	}
	if err := checkDepartment(campus, "department", c.Department); err != nil {
		return nil, err
	}
	// The person leaving may already be recorded as left: any member, current or not.
	st, err := campus.Person("person", "staff_no", c.Person, c.StaffNo, "")
	if err != nil {
		return nil, err
	}
	return []proto.Message{&eventsv1.ClearanceStarted{ClearanceId: c.ClearanceID, Person: c.Person, Department: c.Department,
		LeavingOn: c.LeavingOn, Reason: c.Reason, Held: c.Held, StaffNo: st.No}}, nil
}

// CompleteClearance: Held is what the person holds now.
type CompleteClearance struct {
	Held        Held
	CompletedBy string
}

// DecideCompleteClearance completes a clearance today, only when the person holds nothing.
func DecideCompleteClearance(s Clearance, c CompleteClearance, today Day) ([]proto.Message, error) {
	if !s.Started {
		return nil, errs.NotFound("clearance", s.ID)
	}
	if s.CompletedOn != "" {
		return nil, errs.Rule(ReasonClearanceCompleted, "离校清查已完成 / the clearance is complete", "completed_on", s.CompletedOn)
	}
	if len(c.Held) > 0 {
		n := map[string]int{}
		for _, h := range c.Held {
			n[h.Kind]++
		}
		return nil, errs.Rule(ReasonHoldingsOutstanding,
			"尚有物品未归还或未移交 / the person still holds items: return or transfer them first",
			"custodian", strconv.Itoa(n[HeldCustodian]), "loans", strconv.Itoa(n[HeldLoan]), "issued", strconv.Itoa(n[HeldIssued]))
	}
	return []proto.Message{&eventsv1.ClearanceCompleted{ClearanceId: s.ID, Person: s.Person, CompletedOn: FormatDay(today),
		CompletedBy: c.CompletedBy}}, nil
}
