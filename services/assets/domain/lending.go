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

// Reasons of lending refusals (借还).
const (
	// 该资产已借出: an asset has one open loan at a time.
	ReasonAlreadyOnLoan errs.Reason = "ASSET_ALREADY_ON_LOAN"
	// 该资产未借出: there is no open loan to return.
	ReasonNotOnLoan errs.Reason = "ASSET_NOT_ON_LOAN"
	// 已报废的资产不能借出.
	ReasonAssetWrittenOff errs.Reason = "ASSET_WRITTEN_OFF"
	// 出校须有总务处出校许可.
	ReasonPermitRequired errs.Reason = "OFF_CAMPUS_PERMIT_REQUIRED"
	// The permit is for another person, used, or not valid for the whole loan.
	ReasonPermitNotValid errs.Reason = "OFF_CAMPUS_PERMIT_NOT_VALID"
	// The due date is beyond the policy's longest loan.
	ReasonLoanTooLong errs.Reason = "LOAN_TOO_LONG"
	// The permit would run longer than the policy allows.
	ReasonPermitTooLong errs.Reason = "PERMIT_TOO_LONG"
)

// Lending is the loan side of an asset: its open loan and its off-campus permits.
type Lending struct {
	Loan    *Loan
	Permits []Permit
	// OffLedger: the asset left the school's ledger (written off, removed by a stocktake,
	// registration reversed, transferred to another school); it cannot be lent.
	OffLedger bool
}

// Loan is an open loan.
type Loan struct {
	ID        string
	Borrower  string
	LentOn    string
	DueOn     string
	OffCampus bool
	PermitID  string
}

// Permit is an off-campus permit (出校许可) of an asset.
type Permit struct {
	ID         string
	Holder     string
	ValidFrom  string
	ValidUntil string
	Used       bool
}

// evolveLending folds the lending events into an asset; EvolveAsset calls it for events it
// does not know itself.
func evolveLending(a Asset, m proto.Message) Asset {
	switch e := m.(type) {
	case *eventsv1.OffCampusPermitIssued:
		a.Lending.Permits = append(slices.Clip(a.Lending.Permits),
			Permit{ID: e.PermitId, Holder: e.Holder, ValidFrom: e.ValidFrom, ValidUntil: e.ValidUntil})
	case *eventsv1.AssetLent:
		a.Lending.Loan = &Loan{ID: e.LoanId, Borrower: e.Borrower, LentOn: e.LentOn, DueOn: e.DueOn,
			OffCampus: e.OffCampus, PermitID: e.PermitId}
		if e.PermitId != "" {
			ps := slices.Clone(a.Lending.Permits)
			for i := range ps {
				if ps[i].ID == e.PermitId {
					ps[i].Used = true
				}
			}
			a.Lending.Permits = ps
		}
	case *eventsv1.AssetReturned:
		a.Lending.Loan = nil
	}
	return a
}

func person(v *errs.Violations, field, value, what string) {
	switch n := utf8.RuneCountInString(value); {
	case n == 0:
		v.Addf(field, "必填 / %s is required", what)
	case n > 60:
		v.Addf(field, "不超过60个字 / %s must be at most 60 characters", what)
	}
}

func optional(v *errs.Violations, field, value string, max int) {
	if utf8.RuneCountInString(value) > max {
		v.Addf(field, "不超过%d个字 / at most %d characters", max, max)
	}
}

// IssueOffCampusPermit 出校许可.
type IssueOffCampusPermit struct {
	PermitID   string
	Holder     string
	ValidUntil string
	Reason     string
}

// DecideIssueOffCampusPermit decides a permit from today to c.ValidUntil.
func DecideIssueOffCampusPermit(a Asset, c IssueOffCampusPermit, today Day, p CustodyPolicy) ([]proto.Message, error) {
	var v errs.Violations
	person(&v, "holder", c.Holder, "holder")
	until, ok := ParseDay(c.ValidUntil)
	if !ok {
		v.Add("valid_until", "日期格式须为YYYY-MM-DD / date must be YYYY-MM-DD")
	} else if until.Before(today) {
		v.Add("valid_until", "不能早于今天 / cannot be before today")
	}
	if strings.TrimSpace(c.Reason) == "" {
		v.Add("reason", "必填 / reason is required")
	}
	optional(&v, "reason", c.Reason, 200)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !a.Registered {
		return nil, errs.NotFound("asset", a.ID)
	}
	if a.Lending.OffLedger {
		return nil, errs.Rule(ReasonAssetWrittenOff, "资产已报废 / the asset is written off", "asset_id", a.ID)
	}
	if DaysBetween(today, until) > int64(p.MaxPermitDays) {
		return nil, errs.Rule(ReasonPermitTooLong, "出校许可期限超过规定 / the permit runs longer than the policy allows",
			"max_days", itoa(int64(p.MaxPermitDays)), "policy_version", p.Version)
	}
	return []proto.Message{&eventsv1.OffCampusPermitIssued{AssetId: a.ID, PermitId: c.PermitID, Holder: c.Holder,
		ValidFrom: FormatDay(today), ValidUntil: c.ValidUntil, Reason: c.Reason}}, nil
}

// LendAsset 借出.
type LendAsset struct {
	LoanID   string
	Borrower string
	// BorrowerStaffNo is the borrower's 工号 (optional; see Campus.Person).
	BorrowerStaffNo string
	DueOn           string
	OffCampus       bool
	PermitID        string
	Purpose         string
	// BorrowerCleared: the leaving dates of the borrower's completed clearances (from the
	// event store: ClearedScope).
	BorrowerCleared []string
}

// DecideLendAsset decides a loan from today to a person of the school of campus (its staff
// directory judges the borrower). A person whose clearance for leaving is complete borrows
// nothing more until the leaving day has passed (after it, the name is someone else's or a
// returning colleague's).
func DecideLendAsset(a Asset, c LendAsset, campus Campus, today Day, p CustodyPolicy) ([]proto.Message, error) {
	var v errs.Violations
	person(&v, "borrower", c.Borrower, "borrower")
	due, ok := ParseDay(c.DueOn)
	if !ok {
		v.Add("due_on", "日期格式须为YYYY-MM-DD / date must be YYYY-MM-DD")
	} else if due.Before(today) {
		v.Add("due_on", "归还日期不能早于今天 / due date cannot be before today")
	}
	if !c.OffCampus && c.PermitID != "" {
		v.Add("permit_id", "校内借用无需出校许可 / a permit is only for off-campus loans")
	}
	optional(&v, "purpose", c.Purpose, 200)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !a.Registered {
		return nil, errs.NotFound("asset", a.ID)
	}
	if a.Lending.OffLedger {
		return nil, errs.Rule(ReasonAssetWrittenOff, "已报废的资产不能借出 / a written-off asset cannot be lent", "asset_id", a.ID)
	}
	if err := notCleared(c.BorrowerCleared, today, "borrower", c.Borrower); err != nil {
		return nil, err
	}
	if l := a.Lending.Loan; l != nil {
		return nil, errs.Rule(ReasonAlreadyOnLoan, "该资产已借出，须先归还 / the asset is on loan and must be returned first",
			"loan_id", l.ID, "borrower", l.Borrower, "due_on", l.DueOn)
	}
	if DaysBetween(today, due) > int64(p.MaxLoanDays) {
		return nil, errs.Rule(ReasonLoanTooLong, "借用期限超过规定 / the loan is longer than the policy allows",
			"max_days", itoa(int64(p.MaxLoanDays)), "policy_version", p.Version)
	}
	borrower, err := campus.Person("borrower", "borrower_staff_no", c.Borrower, c.BorrowerStaffNo, FormatDay(today))
	if err != nil {
		return nil, err
	}
	if c.OffCampus {
		if c.PermitID == "" {
			return nil, errs.Rule(ReasonPermitRequired, "带出校园须有总务处出校许可 / taking an asset off campus needs an off-campus permit")
		}
		i := slices.IndexFunc(a.Lending.Permits, func(x Permit) bool { return x.ID == c.PermitID })
		if i < 0 {
			return nil, errs.Rule(ReasonPermitRequired, "没有该出校许可 / no such off-campus permit for this asset", "permit_id", c.PermitID)
		}
		pm := a.Lending.Permits[i]
		switch {
		case pm.Used:
			return nil, errs.Rule(ReasonPermitNotValid, "出校许可已使用 / the permit was used already", "permit_id", pm.ID)
		case pm.Holder != c.Borrower:
			return nil, errs.Rule(ReasonPermitNotValid, "出校许可不是发给借用人的 / the permit is for someone else",
				"permit_id", pm.ID, "holder", pm.Holder)
		case FormatDay(today) < pm.ValidFrom || c.DueOn > pm.ValidUntil:
			return nil, errs.Rule(ReasonPermitNotValid, "出校许可不覆盖整个借用期 / the permit does not cover the whole loan",
				"permit_id", pm.ID, "valid_until", pm.ValidUntil)
		}
	}
	return []proto.Message{&eventsv1.AssetLent{AssetId: a.ID, LoanId: c.LoanID, Borrower: c.Borrower,
		LentOn: FormatDay(today), DueOn: c.DueOn, OffCampus: c.OffCampus, PermitId: c.PermitID, Purpose: c.Purpose,
		Tag: a.Tag, Name: a.Name, Location: a.Location, BorrowerStaffNo: borrower.No}}, nil
}

// ReturnAsset 归还.
type ReturnAsset struct {
	Condition string
}

// DecideReturnAsset ends the open loan today.
func DecideReturnAsset(a Asset, c ReturnAsset, today Day) ([]proto.Message, error) {
	var v errs.Violations
	optional(&v, "condition", c.Condition, 200)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !a.Registered {
		return nil, errs.NotFound("asset", a.ID)
	}
	l := a.Lending.Loan
	if l == nil {
		return nil, errs.Rule(ReasonNotOnLoan, "该资产未借出 / the asset is not on loan", "asset_id", a.ID)
	}
	var late int64
	if due, ok := ParseDay(l.DueOn); ok {
		late = max(0, DaysBetween(due, today))
	}
	return []proto.Message{&eventsv1.AssetReturned{AssetId: a.ID, LoanId: l.ID, Borrower: l.Borrower,
		ReturnedOn: FormatDay(today), DueOn: l.DueOn, DaysOverdue: late, Condition: c.Condition}}, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
