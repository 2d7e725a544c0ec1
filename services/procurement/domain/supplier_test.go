package domain

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

// given folds events into a state with evolve.
func given[S any](evolve func(S, proto.Message) S, events ...proto.Message) S {
	var s S
	for _, e := range events {
		s = evolve(s, e)
	}
	return s
}

// wantReason fails unless err is a rule error with reason r.
func wantReason(t *testing.T, err error, r errs.Reason) {
	t.Helper()
	re, ok := errs.As[*errs.RuleError](err)
	if !ok || re.Reason != r {
		t.Fatalf("got %v, want %s", err, r)
	}
}

// wantFields fails unless err is invalid input naming exactly fields.
func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	ie, ok := errs.As[*errs.InvalidError](err)
	if !ok {
		t.Fatalf("got %v, want invalid %v", err, fields)
	}
	got := map[string]bool{}
	for _, v := range ie.Violations {
		got[v.Field] = true
	}
	for _, f := range fields {
		if !got[f] {
			t.Errorf("no violation of %s in %v", f, ie.Violations)
		}
	}
	if len(got) != len(fields) {
		t.Errorf("violations %v, want %v", ie.Violations, fields)
	}
}

var registered = &eventsv1.SupplierRegistered{SupplierId: "sup", Name: "城关文具", CreditCode: "91140100MA0K000001",
	Licences: []*eventsv1.Licence{{Kind: "business_licence", Number: "1", ExpiresOn: "2025-06-30"}}}

func TestRegisterSupplier(t *testing.T) {
	c := RegisterSupplier{SupplierID: "sup", Name: "城关文具", CreditCode: "91140100MA0K000001",
		Licences: []Licence{{Kind: "business_licence", Number: "1", ExpiresOn: "2025-06-30"}}}
	ev, err := DecideRegisterSupplier(Supplier{}, c)
	if err != nil || len(ev) != 1 || !proto.Equal(ev[0], registered) {
		t.Fatalf("%v %v", ev, err)
	}
	_, err = DecideRegisterSupplier(given(EvolveSupplier, registered), c)
	wantReason(t, err, ReasonSupplierExists)

	bad := c
	bad.CreditCode = "91140100ma0k000001"
	bad.Licences = []Licence{{Kind: "x", Number: "", ExpiresOn: "2025-6-30"}, {Kind: "x", Number: "2", ExpiresOn: "2025-06-30"}}
	_, err = DecideRegisterSupplier(Supplier{}, bad)
	wantFields(t, err, "credit_code", "licences[0].kind", "licences[0].number", "licences[0].expires_on", "licences[1].kind")
	bad.Licences = nil
	_, err = DecideRegisterSupplier(Supplier{}, bad)
	wantFields(t, err, "credit_code", "licences")
}

func TestSupplierUsableOn(t *testing.T) {
	s := given(EvolveSupplier, registered)
	if err := s.UsableOn("2025-06-30"); err != nil {
		t.Fatalf("last valid day: %v", err)
	}
	wantReason(t, s.UsableOn("2025-07-01"), ReasonSupplierLicenceExpired)
	if _, ok := errs.As[*errs.NotFoundError](Supplier{ID: "x"}.UsableOn("2025-01-01")); !ok {
		t.Fatal("an unregistered supplier is not found")
	}

	// Renewal replaces the licence of the same kind; another kind is added and counts too.
	s = given(EvolveSupplier, registered,
		&eventsv1.SupplierLicenceRenewed{SupplierId: "sup", Licence: &eventsv1.Licence{Kind: "business_licence", Number: "2", ExpiresOn: "2030-01-01"}},
		&eventsv1.SupplierLicenceRenewed{SupplierId: "sup", Licence: &eventsv1.Licence{Kind: "food_business", Number: "3", ExpiresOn: "2026-01-01"}})
	if len(s.Licences) != 2 || s.UsableOn("2025-07-01") != nil {
		t.Fatalf("renewed: %+v", s.Licences)
	}
	wantReason(t, s.UsableOn("2026-01-02"), ReasonSupplierLicenceExpired)

	// Blacklisted from a day on; reinstated, usable again.
	ev, err := DecideBlacklistSupplier(s, "以次充好", "2025-08-01")
	if err != nil || len(ev) != 1 {
		t.Fatal(ev, err)
	}
	b := given(EvolveSupplier, append([]proto.Message{registered}, ev...)...)
	wantReason(t, b.UsableOn("2025-08-01"), ReasonSupplierBlacklisted)
	if err := b.UsableOn("2025-06-01"); err != nil {
		t.Fatalf("before the blacklisting: %v", err)
	}
	if ev, err := DecideBlacklistSupplier(b, "再次", "2025-08-02"); err != nil || len(ev) != 0 {
		t.Fatalf("blacklisting twice records nothing: %v %v", ev, err)
	}
	_, err = DecideBlacklistSupplier(b, "", "2025-08-02")
	wantFields(t, err, "reason")
	ev, err = DecideReinstateSupplier(b, "整改合格", "2025-09-01")
	if err != nil {
		t.Fatal(err)
	}
	r := EvolveSupplier(b, ev[0])
	if err := r.UsableOn("2025-06-01"); err != nil {
		t.Fatalf("reinstated: %v", err)
	}
	_, err = DecideReinstateSupplier(r, "整改合格", "2025-09-02")
	wantReason(t, err, ReasonSupplierNotBlacklisted)
}
