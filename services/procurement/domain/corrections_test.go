package domain

import (
	"testing"
	"time"

	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

// reimbursed is signed(t) completed by carol, the laptops registered and i1 reimbursed with
// the order closed.
func reimbursed(t *testing.T) Fulfilment {
	t.Helper()
	f := signed(t)
	ev, err := DecideSignInvoice(f, "i1", InvoiceAuditor, carol, "2025-09-03")
	f = run(t, f, ev, err)
	ev, err = DecideRecordLineRegistered(f, "a1", Registration{AssetID: "asset", Tag: "CG-1"})
	f = run(t, f, ev, err)
	ev, _, err = DecideReimburseInvoice(f, order, "i1", true, carol, "2025-09-04")
	return run(t, f, ev, err)
}

var i1Lines = []InvoiceLine{{OrderLineID: orderID + "-1", Quantity: 6, UnitPriceFen: 450_000}, {OrderLineID: orderID + "-2", Quantity: 20, UnitPriceFen: 2_500}}

func TestCancelInvoiceBeforeReimbursement(t *testing.T) {
	f := signed(t)
	c := CancelInvoice{InvoiceID: "i1", Reason: "x", Actor: carol, Today: "2025-09-04"}
	_, err := DecideCancelInvoice(f, order, c)
	wantFields(t, err, "reason")
	c.Reason = "发票抬头错误"
	ev, err := DecideCancelInvoice(f, order, c)
	if err != nil || ev[0].(*eventsv1.InvoiceCancelled).CancelledBy != "carol" || ev[0].(*eventsv1.InvoiceCancelled).AmountFen != 2_750_000 {
		t.Fatal(ev, err)
	}
	f = run(t, f, ev, err)
	if ev, err := DecideCancelInvoice(f, order, c); err != nil || len(ev) != 0 {
		t.Fatalf("cancelled twice: %v %v", ev, err)
	}
	// A cancelled invoice is neither signed nor reimbursed; its number stays used.
	_, err = DecideSignInvoice(f, "i1", InvoiceAuditor, carol, "2025-09-04")
	wantReason(t, err, ReasonInvoiceCancelled)
	_, _, err = DecideReimburseInvoice(f, order, "i1", false, carol, "2025-09-04")
	wantReason(t, err, ReasonInvoiceCancelled)
	_, err = DecideRecordInvoice(f, order, invoice("i2", "No1", 2_750_000, i1Lines...), fpolicy)
	wantReason(t, err, ReasonInvoiceNumberTaken)
	// Its quantities are free again for the corrected invoice, which names it.
	c2 := invoice("i2", "No2", 2_750_000, i1Lines...)
	c2.Corrects = "i1"
	ev, err = DecideRecordInvoice(f, order, c2, fpolicy)
	f = run(t, f, ev, err)
	if inv, _ := f.Invoice("i2"); inv.Corrects != "i1" {
		t.Fatalf("%+v", inv)
	}
	// Only a cancelled or reversed invoice can be corrected.
	c3 := invoice("i3", "No3", 2_500, InvoiceLine{OrderLineID: orderID + "-2", Quantity: 1, UnitPriceFen: 2_500})
	c3.Corrects = "i2"
	_, err = DecideRecordInvoice(f, order, c3, fpolicy)
	wantReason(t, err, ReasonNothingToCorrect)
}

func TestReimbursedInvoiceIsReversedNotCancelled(t *testing.T) {
	f := reimbursed(t)
	_, err := DecideCancelInvoice(f, order, CancelInvoice{InvoiceID: "i1", Reason: "发票抬头错误", Actor: carol, Today: "2025-09-05"})
	wantReason(t, err, ReasonInvoiceReimbursed)

	red := func(id, number string, lines ...InvoiceLine) RecordInvoice {
		c := invoice(id, number, 0, lines...)
		for _, l := range lines {
			c.TotalFen += l.Quantity * l.UnitPriceFen
		}
		c.Reverses = "i1"
		return c
	}
	// The red-letter invoice is matched against the original and the order (three-way).
	_, err = DecideRecordInvoice(f, order, red("r1", "R1", i1Lines[0]), fpolicy)
	wantReason(t, err, ReasonReversalMismatch)
	_, err = DecideRecordInvoice(f, order, red("r1", "R1", InvoiceLine{OrderLineID: orderID + "-1", Quantity: 5, UnitPriceFen: 450_000}, i1Lines[1]), fpolicy)
	wantReason(t, err, ReasonReversalMismatch)
	_, err = DecideRecordInvoice(f, order, red("r1", "R1", InvoiceLine{OrderLineID: orderID + "-1", Quantity: 6, UnitPriceFen: 440_000}, i1Lines[1]), fpolicy)
	wantReason(t, err, ReasonInvoicePriceMismatch)
	// The order is closed, but it takes the red-letter invoice.
	ev, err := DecideRecordInvoice(f, order, red("r1", "R1", i1Lines...), fpolicy)
	f = run(t, f, ev, err)
	_, err = DecideRecordInvoice(f, order, red("r2", "R2", i1Lines...), fpolicy)
	wantReason(t, err, ReasonInvoiceAlreadyReversed)
	// The three signers apply to it.
	_, _, err = DecideReimburseInvoice(f, order, "r1", false, carol, "2025-09-06")
	wantReason(t, err, ReasonInvoiceNeedsSigners)
	for role, who := range map[string]Actor{InvoiceHandler: alice, InvoiceInspector: bob, InvoiceAuditor: carol} {
		ev, err := DecideSignInvoice(f, "r1", role, who, "2025-09-06")
		f = run(t, f, ev, err)
	}
	ev, re, err := DecideReimburseInvoice(f, order, "r1", true, carol, "2025-09-06")
	if err != nil || re.Reverses != "i1" || re.AmountFen != 2_750_000 || len(re.Categories) != 2 {
		t.Fatalf("%v %+v %v", ev, re, err)
	}
	if x := ev[0].(*eventsv1.InvoiceReversed); x.InvoiceId != "i1" || x.ReversalInvoiceId != "r1" || x.BudgetLineId != "bl" {
		t.Fatal(x)
	}
	f = run(t, f, ev, err)
	if f.Closed {
		t.Fatal("a reversal reopens the order for the corrected invoice")
	}
	if _, _, invoiced := f.Quantities(orderID + "-1"); invoiced != 0 {
		t.Fatalf("reversed quantities are free: %d", invoiced)
	}
	if _, _, err := DecideReimburseInvoice(f, order, "r1", false, carol, "2025-09-07"); err != nil {
		t.Fatal("a repeat:", err)
	}
	// An invoice that is not reimbursed is cancelled, not reversed.
	c := invoice("i2", "No2", 2_750_000, i1Lines...)
	c.Corrects = "i1"
	ev, err = DecideRecordInvoice(f, order, c, fpolicy)
	f = run(t, f, ev, err)
	r3 := red("r3", "R3", i1Lines...)
	r3.Reverses = "i2"
	_, err = DecideRecordInvoice(f, order, r3, fpolicy)
	wantReason(t, err, ReasonInvoiceNotReimbursed)
}

func TestReverseSpend(t *testing.T) {
	b := budget(&eventsv1.BudgetCommitted{BudgetLineId: "bl", PurchaseOrderId: "o1", AmountFen: 60_000},
		&eventsv1.BudgetSpent{BudgetLineId: "bl", PurchaseOrderId: "o1", InvoiceId: "i1", AmountFen: 60_000, FromCommitmentFen: 60_000})
	c := ReverseSpend{OrderID: "o1", InvoiceID: "i1", ReversalInvoiceID: "r1", AmountFen: 60_000, ReversedOn: "2025-03-05",
		Categories: []CategoryAmount{{Category: "office", AmountFen: 60_000}}}
	ev, err := DecideReverseSpend(b, c)
	if err != nil || len(ev) != 1 {
		t.Fatal(ev, err)
	}
	b = EvolveBudget(b, ev[0])
	if b.SpentFen != 0 || b.AvailableFen() != 100_000 || b.CommittedFen() != 0 {
		t.Fatalf("the spend is available again, not committed: %+v", b)
	}
	if ev, err := DecideReverseSpend(b, c); err != nil || len(ev) != 0 {
		t.Fatalf("reversed twice: %v %v", ev, err)
	}
	c.InvoiceID = "i9"
	_, err = DecideReverseSpend(b, c)
	wantReason(t, err, ReasonSpendNotRecorded)
}

// No spend beyond a line without an approved adjustment (domain.md): a corrected invoice after
// a reversal is a new spend; if the line was lowered in the meantime, reimbursing it is refused
// until an adjustment raises the line.
func TestSpendBeyondTheLineIsRefused(t *testing.T) {
	b := budget(&eventsv1.BudgetCommitted{BudgetLineId: "bl", PurchaseOrderId: "o1", AmountFen: 60_000},
		&eventsv1.BudgetSpent{BudgetLineId: "bl", PurchaseOrderId: "o1", InvoiceId: "i1", AmountFen: 60_000, FromCommitmentFen: 60_000},
		&eventsv1.BudgetSpendReversed{BudgetLineId: "bl", PurchaseOrderId: "o1", InvoiceId: "i1", ReversalInvoiceId: "r1", AmountFen: 60_000},
		&eventsv1.BudgetAdjustmentApproved{BudgetLineId: "bl", AdjustmentId: "a1", AmountFen: -50_000, NewAmountFen: 50_000})
	spend := RecordSpend{OrderID: "o1", InvoiceID: "i2", AmountFen: 60_000, SpentOn: "2025-03-06",
		Categories: []CategoryAmount{{Category: "office", AmountFen: 60_000}}}
	_, err := DecideRecordSpend(b, spend)
	wantReason(t, err, ReasonBudgetExceeded)
	b = EvolveBudget(b, &eventsv1.BudgetAdjustmentApproved{BudgetLineId: "bl", AdjustmentId: "a2", AmountFen: 10_000, NewAmountFen: 60_000})
	if ev, err := DecideRecordSpend(b, spend); err != nil || len(ev) != 1 {
		t.Fatal(ev, err)
	}
}

// A retry after the chosen quote changed commits the order again at the new amount.
func TestCommitmentFollowsTheChangedQuote(t *testing.T) {
	b := budget(&eventsv1.BudgetCommitted{BudgetLineId: "bl", PurchaseOrderId: "o1", AmountFen: 60_000},
		&eventsv1.BudgetCommitted{BudgetLineId: "bl", PurchaseOrderId: "o2", AmountFen: 30_000})
	_, err := DecideCommitBudget(b, CommitBudget{OrderID: "o1", AmountFen: 70_001, On: "2025-03-01"})
	wantReason(t, err, ReasonBudgetExceeded)
	ev, err := DecideCommitBudget(b, CommitBudget{OrderID: "o1", AmountFen: 70_000, On: "2025-03-01"})
	if err != nil || len(ev) != 2 || ev[0].(*eventsv1.BudgetCommitmentReleased).AmountFen != 60_000 ||
		ev[1].(*eventsv1.BudgetCommitted).AmountFen != 70_000 || ev[1].(*eventsv1.BudgetCommitted).AvailableAfterFen != 0 {
		t.Fatal(ev, err)
	}
	for _, e := range ev {
		b = EvolveBudget(b, e)
	}
	if b.Commitments["o1"] != 70_000 || b.AvailableFen() != 0 {
		t.Fatalf("%+v", b)
	}
	ev, err = DecideCommitBudget(b, CommitBudget{OrderID: "o1", AmountFen: 50_000, On: "2025-03-01"})
	if err != nil || len(ev) != 2 {
		t.Fatal(ev, err)
	}
	for _, e := range ev {
		b = EvolveBudget(b, e)
	}
	if b.Commitments["o1"] != 50_000 || b.AvailableFen() != 20_000 {
		t.Fatalf("%+v", b)
	}
}

func TestAbandonOrderAfterGrace(t *testing.T) {
	at := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	c := AbandonOrder{OrderID: "o1", SchoolID: "s1", PurchaseRequestID: "r1", BudgetLineID: "bl", CommittedAt: at, Now: at.Add(fpolicy.CommitmentGrace - time.Second)}
	if ev, err := DecideAbandonOrder(PurchaseOrder{}, c, fpolicy); err != nil || len(ev) != 0 {
		t.Fatalf("within the grace period: %v %v", ev, err)
	}
	c.Now = at.Add(fpolicy.CommitmentGrace)
	if ev, err := DecideAbandonOrder(order, c, fpolicy); err != nil || len(ev) != 0 {
		t.Fatalf("a placed order keeps its commitment: %v %v", ev, err)
	}
	ev, err := DecideAbandonOrder(PurchaseOrder{}, c, fpolicy)
	if err != nil || len(ev) != 1 || ev[0].(*eventsv1.PurchaseOrderAbandoned).GraceSeconds != 3600 {
		t.Fatal(ev, err)
	}
	o := EvolvePurchaseOrder(PurchaseOrder{}, ev[0])
	if ev, err := DecideAbandonOrder(o, c, fpolicy); err != nil || len(ev) != 0 {
		t.Fatalf("twice: %v %v", ev, err)
	}
	// The id is closed: a late retry cannot place it.
	_, err = DecidePlacePurchaseOrder(o, PlacePurchaseOrder{OrderID: "o1", Request: PurchaseRequest{ID: "r1", Submitted: true}}, Catalogue{}, Capitalisation{})
	wantReason(t, err, ReasonOrderAbandoned)
}

// The cancellation is recorded on the fulfilment stream: once it is, a delivery or an invoice
// is refused, and once a delivery is, the cancellation is.
func TestCancellationAndDeliveryExcludeEachOther(t *testing.T) {
	ev, err := DecideRecordCancellation(Fulfilment{}, order, "不再需要", director, "2025-09-01")
	f := run(t, Fulfilment{}, ev, err)
	if !f.Cancelled || f.OrderID != orderID {
		t.Fatalf("%+v", f)
	}
	if ev, err := DecideRecordCancellation(f, order, "不再需要", director, "2025-09-01"); err != nil || len(ev) != 0 {
		t.Fatalf("twice: %v %v", ev, err)
	}
	_, err = DecideRecordDelivery(f, order, delivery("r1", DeliveryLine{OrderLineID: orderID + "-2", Delivered: 1, Accepted: 1, ItemCode: "bg-a4"}), fpolicy)
	wantReason(t, err, ReasonOrderNotOpen)
	_, err = DecideRecordCancellation(accepted(t), order, "不再需要", director, "2025-09-01")
	wantReason(t, err, ReasonOrderNotCancellable)
	_, err = DecideRecordCancellation(Fulfilment{}, order, "", director, "2025-09-01")
	wantFields(t, err, "reason")
}
