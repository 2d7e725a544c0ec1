package domain

import (
	"testing"

	"google.golang.org/protobuf/proto"

	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

func at(id, location string) Asset {
	return Asset{ID: id, Tag: "T-" + id, Name: "课桌椅", Location: location, UnitPriceFen: 30000, Quantity: 2, Registered: true}
}

func drawUp() DrawUpCustodyAgreement {
	return DrawUpCustodyAgreement{AgreementID: "g1", Term: "2024-2025-2", UnitKind: UnitClass, Unit: "三年级2班", Head: "陈老师",
		Items: []Asset{at("a", "三年级2班"), at("b", "三年级2班"), at("c", "三年级2班"), at("d", "三年级2班")}}
}

func givenAgreement(events ...proto.Message) CustodyAgreement {
	c := CustodyAgreement{ID: "g1"}
	for _, e := range events {
		c = EvolveCustody(c, e)
	}
	return c
}

func drawnUp(t *testing.T) *eventsv1.CustodyAgreementDrawnUp {
	t.Helper()
	ev, err := DecideDrawUpCustodyAgreement(givenAgreement(), drawUp())
	if err != nil {
		t.Fatal(err)
	}
	return ev[0].(*eventsv1.CustodyAgreementDrawnUp)
}

func signedStart() *eventsv1.CustodyAgreementSigned {
	return &eventsv1.CustodyAgreementSigned{AgreementId: "g1", Phase: PhaseStart, SignedBy: "陈老师", SignedOn: "2025-02-17"}
}

func TestDrawUpCustodyAgreement(t *testing.T) {
	e := drawnUp(t)
	if e.ItemCount != 4 || e.ValueFen != 240000 || e.Items[0].Tag != "T-a" || e.UnitKind != UnitClass {
		t.Fatalf("event %v", e)
	}
	c := drawUp()
	c.Items = append(c.Items, at("x", "图书馆"))
	_, err := DecideDrawUpCustodyAgreement(givenAgreement(), c)
	wantReason(t, err, ReasonItemNotInUnit)
	c.Items = nil
	_, err = DecideDrawUpCustodyAgreement(givenAgreement(), c)
	wantReason(t, err, ReasonAgreementEmpty)
	_, err = DecideDrawUpCustodyAgreement(givenAgreement(e), drawUp())
	wantReason(t, err, ReasonAgreementExists)
	c = drawUp()
	c.Term, c.UnitKind, c.Head = "2024-2026-1", "", ""
	_, err = DecideDrawUpCustodyAgreement(givenAgreement(), c)
	wantViolations(t, err, "term", "unit_kind", "head")
}

func TestCustodyAgreementOrder(t *testing.T) {
	sign := func(g CustodyAgreement, phase string) error {
		_, err := DecideSignCustodyAgreement(g, SignCustodyAgreement{Phase: phase, SignedBy: "陈老师"}, today)
		return err
	}
	g := givenAgreement(drawnUp(t))
	wantReason(t, sign(g, PhaseEnd), ReasonAgreementOutOfOrder)
	_, err := DecideRecheckCustodyAgreement(g, RecheckCustodyAgreement{CheckedBy: "保管员"}, today)
	wantReason(t, err, ReasonAgreementOutOfOrder)
	if err := sign(g, PhaseStart); err != nil {
		t.Fatal(err)
	}
	g = givenAgreement(drawnUp(t), signedStart())
	wantReason(t, sign(g, PhaseStart), ReasonAgreementOutOfOrder)
	wantReason(t, sign(g, PhaseEnd), ReasonAgreementOutOfOrder)
	wantViolations(t, sign(g, ""), "phase")
	if g.Status() != CustodySigned {
		t.Fatalf("status %s", g.Status())
	}
}

func TestRecheckFindsItemsMovedWithoutTransfer(t *testing.T) {
	g := givenAgreement(drawnUp(t), signedStart())
	onLoan := at("d", "三年级2班")
	onLoan.Lending.Loan = &Loan{ID: "l1"}
	ledger := map[string]Asset{
		"a": at("a", "三年级2班"), // found: fine
		"b": at("b", "三年级2班"), // not found, the ledger still puts it here: missing
		"c": at("c", "图书馆"),   // not found, transferred out: fine
		"d": onLoan,           // not found, on loan: fine
		"e": at("e", "三年级1班"), // found, not listed, the ledger puts it elsewhere: not listed
		"f": at("f", "三年级2班"), // found, not listed, transferred in: fine
	}
	ev, err := DecideRecheckCustodyAgreement(g, RecheckCustodyAgreement{FoundAssetIDs: []string{"a", "e", "f"}, CheckedBy: "保管员", Ledger: ledger}, today)
	if err != nil {
		t.Fatal(err)
	}
	r := ev[0].(*eventsv1.CustodyAgreementRechecked)
	if len(r.Findings) != 2 || r.Findings[0].AssetId != "b" || r.Findings[0].Kind != FindingMissing ||
		r.Findings[1].AssetId != "e" || r.Findings[1].Kind != FindingNotListed || r.Findings[1].LedgerLocation != "三年级1班" {
		t.Fatalf("findings %v", r.Findings)
	}
	if len(r.TransferredOut) != 1 || r.TransferredOut[0] != "c" || len(r.OnLoan) != 1 || len(r.TransferredIn) != 1 ||
		r.ListedCount != 4 || r.FoundCount != 3 {
		t.Fatalf("event %v", r)
	}
	g = EvolveCustody(g, r)
	ev, err = DecideSignCustodyAgreement(g, SignCustodyAgreement{Phase: PhaseEnd, SignedBy: "陈老师"}, today)
	if err != nil {
		t.Fatal(err)
	}
	if s := ev[0].(*eventsv1.CustodyAgreementSigned); s.FindingCount != 2 {
		t.Fatalf("end signature %v", s)
	}
	if g = EvolveCustody(g, ev[0]); g.Status() != CustodyClosed {
		t.Fatalf("status %s", g.Status())
	}
	_, err = DecideRecheckCustodyAgreement(g, RecheckCustodyAgreement{CheckedBy: "保管员", Ledger: ledger}, today)
	wantReason(t, err, ReasonAgreementOutOfOrder)
}

func TestValidTerm(t *testing.T) {
	for term, ok := range map[string]bool{"2025-2026-1": true, "2025-2026-2": true, "2025-2026-3": false, "2025-2027-1": false, "2025": false} {
		if ValidTerm(term) != ok {
			t.Errorf("%s: %v", term, !ok)
		}
	}
}
