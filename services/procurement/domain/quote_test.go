package domain

import (
	"testing"

	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

func supplierOK(id string) Supplier {
	return Supplier{ID: id, Name: "供应商" + id, Registered: true, Licences: []Licence{{Kind: "business_licence", Number: id, ExpiresOn: "2030-12-31"}}}
}

func quote(t *testing.T, r PurchaseRequest, id string, sup Supplier, prices ...int64) PurchaseRequest {
	t.Helper()
	ev, err := DecideAddQuote(r, AddQuote{QuoteID: id, Supplier: sup, UnitPricesFen: prices}, "2025-03-05")
	if err != nil {
		t.Fatal(err)
	}
	return EvolvePurchaseRequest(r, ev[0])
}

func TestQuotes(t *testing.T) {
	r := request(t, submit(paper, computer)) // 10,200 yuan: three quotes
	// One price per line, each positive.
	_, err := DecideAddQuote(r, AddQuote{QuoteID: "q", Supplier: supplierOK("a"), UnitPricesFen: []int64{100}}, "2025-03-05")
	wantFields(t, err, "unit_prices_fen")
	_, err = DecideAddQuote(r, AddQuote{QuoteID: "q", Supplier: supplierOK("a"), UnitPricesFen: []int64{100, 0}}, "2025-03-05")
	wantFields(t, err, "unit_prices_fen[1]")
	// Only usable suppliers quote.
	expired := supplierOK("x")
	expired.Licences[0].ExpiresOn = "2025-03-04"
	_, err = DecideAddQuote(r, AddQuote{QuoteID: "q", Supplier: expired, UnitPricesFen: []int64{100, 100}}, "2025-03-05")
	wantReason(t, err, ReasonSupplierLicenceExpired)
	black := supplierOK("y")
	black.Blacklisted, black.BlacklistedOn = true, "2025-01-01"
	_, err = DecideAddQuote(r, AddQuote{QuoteID: "q", Supplier: black, UnitPricesFen: []int64{100, 100}}, "2025-03-05")
	wantReason(t, err, ReasonSupplierBlacklisted)

	r = quote(t, r, "q1", supplierOK("a"), 11_000, 430_000) // 9,700 yuan
	if q, _ := r.Quote("q1"); q.TotalFen != 10*11_000+2*430_000 || q.QuotedOn != "2025-03-05" {
		t.Fatalf("%+v", q)
	}
	// The same supplier twice does not count as another quote.
	_, err = DecideAddQuote(r, AddQuote{QuoteID: "q9", Supplier: supplierOK("a"), UnitPricesFen: []int64{10_000, 400_000}}, "2025-03-05")
	wantReason(t, err, ReasonSupplierAlreadyQuoted)
	r = quote(t, r, "q2", supplierOK("b"), 12_000, 420_000) // 9,600 yuan: the cheapest

	// Two quotes are not enough above 500 yuan.
	_, err = DecideChooseQuote(r, "q2", "", director, policy)
	wantReason(t, err, ReasonQuotesInsufficient)
	r = quote(t, r, "q3", supplierOK("c"), 13_000, 440_000)

	// Not the cheapest: a reason is needed.
	_, err = DecideChooseQuote(r, "q1", "", director, policy)
	wantReason(t, err, ReasonChoiceNeedsReason)
	ev, err := DecideChooseQuote(r, "q1", "售后服务更好", director, policy)
	if err != nil {
		t.Fatal(err)
	}
	e := ev[0].(*eventsv1.QuoteChosen)
	if e.Cheapest || e.CheapestTotalFen != 960_000 || e.TotalFen != 970_000 || e.DistinctSuppliers != 3 || !e.QuotesRequired || e.Reason != "售后服务更好" {
		t.Fatal(e)
	}
	// The cheapest needs no reason.
	ev, err = DecideChooseQuote(r, "q2", "", director, policy)
	if err != nil || !ev[0].(*eventsv1.QuoteChosen).Cheapest {
		t.Fatal(ev, err)
	}
	if r = EvolvePurchaseRequest(r, ev[0]); r.ChosenQuoteID != "q2" {
		t.Fatal(r.ChosenQuoteID)
	}
	if _, err := DecideChooseQuote(r, "nope", "", director, policy); err == nil {
		t.Fatal("an unknown quote")
	}
}

func TestOneQuoteIsEnoughAtOrBelowThePolicyAmount(t *testing.T) {
	small := paper
	small.Quantity = 4 // 480 yuan
	r := quote(t, request(t, submit(small)), "q1", supplierOK("a"), 12_500)
	if _, err := DecideChooseQuote(r, "q1", "", director, policy); err != nil {
		t.Fatal(err)
	}
	// A rejected request takes no quotes.
	ev, _ := DecideRejectPurchaseRequest(r, head, "不需要", "2025-03-06")
	r = EvolvePurchaseRequest(r, ev[0])
	_, err := DecideAddQuote(r, AddQuote{QuoteID: "q2", Supplier: supplierOK("b"), UnitPricesFen: []int64{1}}, "2025-03-06")
	wantReason(t, err, ReasonRequestRejected)
	_, err = DecideChooseQuote(r, "q1", "", director, policy)
	wantReason(t, err, ReasonRequestRejected)
}

// The rules hold for the real prices, not only the estimate.
func TestQuotePricesAboveTheApprovedEstimate(t *testing.T) {
	// Estimated 480 yuan: one quote would do; quoted at 520 yuan it needs three.
	small := paper
	small.Quantity = 4
	r := request(t, submit(small))
	r = quote(t, r, "q1", supplierOK("a"), 13_000)
	_, err := DecideChooseQuote(r, "q1", "", director, policy)
	wantReason(t, err, ReasonQuotesInsufficient)
	r = quote(t, quote(t, r, "q2", supplierOK("b"), 13_500), "q3", supplierOK("c"), 14_000)
	ev, err := DecideChooseQuote(r, "q1", "", director, policy)
	if err != nil || !ev[0].(*eventsv1.QuoteChosen).QuotesRequired || ev[0].(*eventsv1.QuoteChosen).MinQuotes != 3 {
		t.Fatal(ev, err)
	}

	// Estimated 2,900 yuan a unit (no principal); quoted at 3,100 it would need the principal.
	cheap := computer
	cheap.Quantity, cheap.EstimatedUnitPriceFen = 1, 290_000
	r = request(t, submit(cheap))
	if len(r.Chain) != 2 {
		t.Fatalf("chain %v", r.Chain)
	}
	r = quote(t, r, "q1", supplierOK("a"), 310_000)
	r = quote(t, r, "q2", supplierOK("b"), 320_000)
	r = quote(t, r, "q3", supplierOK("c"), 330_000)
	_, err = DecideChooseQuote(r, "q1", "", director, policy)
	wantReason(t, err, ReasonQuoteExceedsApproval)
	// At or under the estimate's limits it is fine.
	r = quote(t, request(t, submit(cheap)), "q1", supplierOK("a"), 300_000)
	r = quote(t, quote(t, r, "q2", supplierOK("b"), 305_000), "q3", supplierOK("c"), 299_000)
	if _, err := DecideChooseQuote(r, "q3", "", director, policy); err != nil {
		t.Fatal(err)
	}
}
