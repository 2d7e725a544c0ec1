package domain

import (
	"testing"

	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

var capRule = Capitalisation{PolicyVersion: "cap-2022", FixedAsset: func(category string, price int64) bool {
	return category == "5" || price >= 100_000 // books are fixed whatever their price
}}

// approvedWithQuote is a request of paper, a computer and a desk, approved, with a chosen quote
// from supplier a.
func approvedWithQuote(t *testing.T, deskClass string) PurchaseRequest {
	t.Helper()
	desk := RequestLine{Name: "办公桌", Category: "6", Unit: "张", Quantity: 1, EstimatedUnitPriceFen: 80_000, AssetClass: deskClass}
	r := request(t, submit(paper, computer, desk))
	r, _ = approve(t, r, head)
	r, _ = approve(t, r, director)
	r, _ = approve(t, r, principal)
	r = quote(t, r, "q1", supplierOK("a"), 11_000, 430_000, 78_000)
	r = quote(t, r, "q2", supplierOK("b"), 12_000, 440_000, 79_000)
	r = quote(t, r, "q3", supplierOK("c"), 13_000, 450_000, 80_000)
	ev, err := DecideChooseQuote(r, "q1", "", director, policy)
	if err != nil {
		t.Fatal(err)
	}
	return EvolvePurchaseRequest(r, ev[0])
}

func TestPlacePurchaseOrder(t *testing.T) {
	r := approvedWithQuote(t, AssetClassByRule)
	c := PlacePurchaseOrder{OrderID: "o1", Request: r, Supplier: supplierOK("a"), Today: "2025-03-10"}
	ev, err := DecidePlacePurchaseOrder(PurchaseOrder{}, c, catalogue, capRule)
	if err != nil {
		t.Fatal(err)
	}
	e := ev[0].(*eventsv1.PurchaseOrderPlaced)
	if e.TotalFen != 10*11_000+2*430_000+78_000 || e.SupplierId != "a" || e.BudgetLineId != "bl" || e.OrderedOn != "2025-03-10" ||
		e.CapitalisationPolicyVersion != "cap-2022" || len(e.Lines) != 3 {
		t.Fatal(e)
	}
	// Paper: a material; the computer reaches the threshold in a fixed-asset category; the desk
	// (780 yuan) does not.
	want := []bool{false, true, false}
	for i, l := range e.Lines {
		if l.FixedAsset != want[i] || l.LineId != LineID("o1", i+1) {
			t.Errorf("line %d: %v", i, l)
		}
	}
	if e.Lines[1].UnitPriceFen != 430_000 || e.Lines[1].AmountFen != 860_000 {
		t.Fatal(e.Lines[1])
	}
	// The request may say the desk is a fixed asset.
	c.Request = approvedWithQuote(t, AssetClassFixedAsset)
	ev, _ = DecidePlacePurchaseOrder(PurchaseOrder{}, c, catalogue, capRule)
	if !ev[0].(*eventsv1.PurchaseOrderPlaced).Lines[2].FixedAsset {
		t.Fatal("the request's fixed-asset desk")
	}
	o := EvolvePurchaseOrder(PurchaseOrder{}, ev[0])
	if o.Status != OrderPlaced || len(o.Lines) != 3 || !o.Placed {
		t.Fatalf("%+v", o)
	}
	// Placed already.
	_, err = DecidePlacePurchaseOrder(o, c, catalogue, capRule)
	wantReason(t, err, ReasonOrderExists)
}

func TestOrderRefusals(t *testing.T) {
	r := approvedWithQuote(t, "")
	c := PlacePurchaseOrder{OrderID: "o1", Request: r, Supplier: supplierOK("a"), Today: "2025-03-10"}

	// The supplier's licence expired before the order date; blacklisted.
	c.Supplier.Licences[0].ExpiresOn = "2025-03-09"
	_, err := DecidePlacePurchaseOrder(PurchaseOrder{}, c, catalogue, capRule)
	wantReason(t, err, ReasonSupplierLicenceExpired)
	c.Supplier = supplierOK("a")
	c.Supplier.Blacklisted, c.Supplier.BlacklistedOn = true, "2025-03-10"
	_, err = DecidePlacePurchaseOrder(PurchaseOrder{}, c, catalogue, capRule)
	wantReason(t, err, ReasonSupplierBlacklisted)

	// Not approved yet.
	pending := request(t, submit(paper))
	pending = quote(t, pending, "q1", supplierOK("a"), 11_000)
	c = PlacePurchaseOrder{OrderID: "o2", Request: pending, Supplier: supplierOK("a"), Today: "2025-03-10"}
	_, err = DecidePlacePurchaseOrder(PurchaseOrder{}, c, catalogue, capRule)
	wantReason(t, err, ReasonRequestNotApproved)
	// Approved, but no quote chosen.
	c.Request, _ = approve(t, pending, head)
	c.Request, _ = approve(t, c.Request, director)
	_, err = DecidePlacePurchaseOrder(PurchaseOrder{}, c, catalogue, capRule)
	wantReason(t, err, ReasonQuoteNotChosen)
}

func TestCancelPurchaseOrder(t *testing.T) {
	r := approvedWithQuote(t, "")
	ev, _ := DecidePlacePurchaseOrder(PurchaseOrder{}, PlacePurchaseOrder{OrderID: "o1", Request: r, Supplier: supplierOK("a"), Today: "2025-03-10"}, catalogue, capRule)
	o := EvolvePurchaseOrder(PurchaseOrder{}, ev[0])
	_, err := DecideCancelPurchaseOrder(o, Fulfilment{}, "", director, "2025-03-11")
	wantFields(t, err, "reason")
	// Goods came (or an invoice): too late to cancel.
	delivered := given(EvolveFulfilment, &eventsv1.DeliveryRecorded{PurchaseOrderId: "o1", ReceiptId: "r1", SchoolId: "s1", DeliveredOn: "2025-03-11"})
	_, err = DecideCancelPurchaseOrder(o, delivered, "供应商缺货", director, "2025-03-11")
	wantReason(t, err, ReasonOrderNotCancellable)
	ev, err = DecideCancelPurchaseOrder(o, Fulfilment{}, "供应商缺货", director, "2025-03-11")
	if err != nil {
		t.Fatal(err)
	}
	o = EvolvePurchaseOrder(o, ev[0])
	if o.Status != OrderCancelled || o.CancelReason != "供应商缺货" {
		t.Fatalf("%+v", o)
	}
	_, err = DecideCancelPurchaseOrder(o, Fulfilment{}, "再次取消", director, "2025-03-11")
	wantReason(t, err, ReasonOrderNotCancellable)
	if _, err := DecideCancelPurchaseOrder(PurchaseOrder{ID: "x"}, Fulfilment{}, "取消订单", director, "2025-03-11"); err == nil {
		t.Fatal("cancelling an order that does not exist")
	}
}
