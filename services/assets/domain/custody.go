package domain

import (
	"regexp"
	"slices"
	"strconv"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Reasons of custody agreement refusals (保管责任书).
const (
	// One agreement per room/class and term.
	ReasonAgreementExists errs.Reason = "CUSTODY_AGREEMENT_EXISTS"
	// A listed asset is somewhere else in the ledger (or written off).
	ReasonItemNotInUnit errs.Reason = "CUSTODY_ITEM_NOT_IN_UNIT"
	// Nothing to list: the ledger has no asset at the unit.
	ReasonAgreementEmpty errs.Reason = "CUSTODY_AGREEMENT_EMPTY"
	// Signing or re-checking out of order: start signature, re-check, end signature.
	ReasonAgreementOutOfOrder errs.Reason = "CUSTODY_AGREEMENT_OUT_OF_ORDER"
)

// Unit kinds and signing phases.
const (
	UnitRoom   = "room"
	UnitClass  = "class"
	PhaseStart = "start"
	PhaseEnd   = "end"
	// Finding kinds.
	FindingMissing   = "missing"
	FindingNotListed = "not_listed"
)

// Custody agreement statuses.
const (
	CustodyDrawnUp   = "drawn_up"
	CustodySigned    = "signed"
	CustodyRechecked = "rechecked"
	CustodyClosed    = "closed"
)

// CustodyAgreement is one room's or class's agreement for a term.
type CustodyAgreement struct {
	ID              string
	Term            string
	UnitKind        string
	Unit            string
	Head            string
	AssetIDs        []string
	SignedAtStartOn string
	RecheckedOn     string
	SignedAtEndOn   string
	Findings        []*eventsv1.CustodyFinding
	DrawnUp         bool
}

// Status is drawn_up, signed, rechecked or closed.
func (c CustodyAgreement) Status() string {
	switch {
	case c.SignedAtEndOn != "":
		return CustodyClosed
	case c.RecheckedOn != "":
		return CustodyRechecked
	case c.SignedAtStartOn != "":
		return CustodySigned
	}
	return CustodyDrawnUp
}

// EvolveCustody folds one event into an agreement.
func EvolveCustody(c CustodyAgreement, m proto.Message) CustodyAgreement {
	switch e := m.(type) {
	case *eventsv1.CustodyAgreementDrawnUp:
		c = CustodyAgreement{ID: e.AgreementId, Term: e.Term, UnitKind: e.UnitKind, Unit: e.Unit, Head: e.Head, DrawnUp: true}
		for _, it := range e.Items {
			c.AssetIDs = append(c.AssetIDs, it.AssetId)
		}
	case *eventsv1.CustodyAgreementSigned:
		if e.Phase == PhaseStart {
			c.SignedAtStartOn = e.SignedOn
		} else {
			c.SignedAtEndOn = e.SignedOn
		}
	case *eventsv1.CustodyAgreementRechecked:
		c.RecheckedOn, c.Findings = e.CheckedOn, e.Findings
	}
	return c
}

var termRE = regexp.MustCompile(`^(\d{4})-(\d{4})-[12]$`)

// ValidTerm reports whether term reads 学年-学期, e.g. 2025-2026-1.
func ValidTerm(term string) bool {
	m := termRE.FindStringSubmatch(term)
	if m == nil {
		return false
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	return b == a+1
}

// AgreementKey is the unique key of one agreement per unit and term.
func AgreementKey(school, term, unit string) string { return school + "/" + term + "/" + unit }

// DrawUpCustodyAgreement 保管责任书. Items are the listed assets as the ledger has them.
type DrawUpCustodyAgreement struct {
	AgreementID string
	Term        string
	UnitKind    string
	Unit        string
	Head        string
	Items       []Asset
}

// DecideDrawUpCustodyAgreement decides an agreement; every item must be at the unit.
func DecideDrawUpCustodyAgreement(s CustodyAgreement, c DrawUpCustodyAgreement) ([]proto.Message, error) {
	var v errs.Violations
	if !ValidTerm(c.Term) {
		v.Add("term", "学期格式须为2025-2026-1 / term must read like 2025-2026-1")
	}
	if c.UnitKind != UnitRoom && c.UnitKind != UnitClass {
		v.Add("unit_kind", "请选择功能室或班级 / unit_kind must be room or class")
	}
	person(&v, "unit", c.Unit, "unit")
	person(&v, "head", c.Head, "head")
	if len(c.Items) > 2000 {
		v.Add("asset_ids", "至多2000项 / at most 2,000 items")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if s.DrawnUp {
		return nil, errs.Rule(ReasonAgreementExists, "该责任书已存在 / the agreement exists already", "agreement_id", s.ID)
	}
	if len(c.Items) == 0 {
		return nil, errs.Rule(ReasonAgreementEmpty, "该处台帐上没有资产 / the ledger has no asset at the unit", "unit", c.Unit)
	}
	e := &eventsv1.CustodyAgreementDrawnUp{AgreementId: c.AgreementID, Term: c.Term, UnitKind: c.UnitKind, Unit: c.Unit, Head: c.Head}
	seen := map[string]bool{}
	for _, a := range c.Items {
		if seen[a.ID] {
			continue
		}
		seen[a.ID] = true
		if a.Location != c.Unit || a.Lending.OffLedger {
			return nil, errs.Rule(ReasonItemNotInUnit, "台帐上该资产不在此处 / the ledger puts the asset elsewhere",
				"asset_id", a.ID, "tag", a.Tag, "ledger_location", a.Location)
		}
		e.Items = append(e.Items, &eventsv1.CustodyItem{AssetId: a.ID, Tag: a.Tag, Name: a.Name, UnitPriceFen: a.UnitPriceFen, Quantity: a.Quantity})
		e.ValueFen += a.UnitPriceFen * a.Quantity
	}
	e.ItemCount = int64(len(e.Items))
	return []proto.Message{e}, nil
}

// SignCustodyAgreement: the head signs at start or end.
type SignCustodyAgreement struct {
	Phase    string
	SignedBy string
}

// DecideSignCustodyAgreement decides a signature today.
func DecideSignCustodyAgreement(s CustodyAgreement, c SignCustodyAgreement, today Day) ([]proto.Message, error) {
	var v errs.Violations
	if c.Phase != PhaseStart && c.Phase != PhaseEnd {
		v.Add("phase", "请选择期初或期末 / phase must be start or end")
	}
	person(&v, "signed_by", c.SignedBy, "signer")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !s.DrawnUp {
		return nil, errs.NotFound("custody agreement", s.ID)
	}
	order := func(msg string) error {
		return errs.Rule(ReasonAgreementOutOfOrder, msg, "status", s.Status())
	}
	switch {
	case c.Phase == PhaseStart && s.SignedAtStartOn != "":
		return nil, order("期初已签 / signed at term start already")
	case c.Phase == PhaseEnd && s.RecheckedOn == "":
		return nil, order("期末须先清点再签字 / re-check before signing at term end")
	case c.Phase == PhaseEnd && s.SignedAtEndOn != "":
		return nil, order("期末已签 / signed at term end already")
	}
	return []proto.Message{&eventsv1.CustodyAgreementSigned{AgreementId: s.ID, Term: s.Term, Unit: s.Unit, Phase: c.Phase,
		SignedBy: c.SignedBy, SignedOn: FormatDay(today), FindingCount: int64(len(s.Findings))}}, nil
}

// RecheckCustodyAgreement 期末清点. Ledger holds the listed and the found assets as the ledger
// has them now (their location, whether on loan).
type RecheckCustodyAgreement struct {
	FoundAssetIDs []string
	CheckedBy     string
	Ledger        map[string]Asset
}

// DecideRecheckCustodyAgreement compares what was found with the list and the ledger: an
// item that left without a transfer (the ledger still puts it here, it is not on loan) or
// arrived without one (the ledger puts it elsewhere) is a finding.
func DecideRecheckCustodyAgreement(s CustodyAgreement, c RecheckCustodyAgreement, today Day) ([]proto.Message, error) {
	var v errs.Violations
	person(&v, "checked_by", c.CheckedBy, "checker")
	if len(c.FoundAssetIDs) > 2000 {
		v.Add("found_asset_ids", "至多2000项 / at most 2,000 items")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !s.DrawnUp {
		return nil, errs.NotFound("custody agreement", s.ID)
	}
	if s.SignedAtStartOn == "" || s.SignedAtEndOn != "" {
		return nil, errs.Rule(ReasonAgreementOutOfOrder, "须在期初签字后、期末签字前清点 / re-check between the start and end signatures",
			"status", s.Status())
	}
	found := map[string]bool{}
	for _, id := range c.FoundAssetIDs {
		found[id] = true
	}
	e := &eventsv1.CustodyAgreementRechecked{AgreementId: s.ID, Term: s.Term, Unit: s.Unit, CheckedOn: FormatDay(today),
		CheckedBy: c.CheckedBy, ListedCount: int64(len(s.AssetIDs)), FoundCount: int64(len(found))}
	finding := func(a Asset, kind string) {
		e.Findings = append(e.Findings, &eventsv1.CustodyFinding{AssetId: a.ID, Tag: a.Tag, Name: a.Name, Kind: kind, LedgerLocation: a.Location})
	}
	for _, id := range s.AssetIDs {
		if found[id] {
			continue
		}
		a := c.Ledger[id]
		switch {
		case a.Lending.Loan != nil:
			e.OnLoan = append(e.OnLoan, id)
		case a.Location != s.Unit || a.Lending.OffLedger:
			e.TransferredOut = append(e.TransferredOut, id)
		default:
			finding(a, FindingMissing)
		}
	}
	for _, id := range c.FoundAssetIDs {
		if slices.Contains(s.AssetIDs, id) || slices.Contains(e.TransferredIn, id) {
			continue
		}
		a, ok := c.Ledger[id]
		if !ok || !a.Registered {
			return nil, errs.NotFound("asset", id)
		}
		if a.Location == s.Unit {
			e.TransferredIn = append(e.TransferredIn, id)
		} else if !slices.ContainsFunc(e.Findings, func(f *eventsv1.CustodyFinding) bool { return f.AssetId == id }) {
			finding(a, FindingNotListed)
		}
	}
	return []proto.Message{e}, nil
}
