package domain

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

const orderID = "0190b7a4-0000-7000-8000-00000000000a"

var (
	fpolicy = DefaultPolicies[0]
	order   = PurchaseOrder{ID: orderID, SchoolID: "s1", SupplierID: "sup", Department: "教务处", BudgetLineID: "bl", Placed: true,
		Status: OrderPlaced, Lines: []OrderLine{
			{LineID: orderID + "-1", Name: "笔记本电脑", Category: "2", Quantity: 10, UnitPriceFen: 450_000, FixedAsset: true},
			{LineID: orderID + "-2", Name: "A4复印纸", Category: "office", Quantity: 20, UnitPriceFen: 2_500},
		}}
	alice = Actor{Subject: "alice", Name: "张三"}
	bob   = Actor{Subject: "bob", Name: "李四"}
	carol = Actor{Subject: "carol", Name: "王五"}
)

func delivery(id string, lines ...DeliveryLine) RecordDelivery {
	return RecordDelivery{ReceiptID: id, DeliveredOn: "2025-09-01", Lines: lines, Actor: alice, Today: "2025-09-02"}
}

// run folds the events each step decides, failing on an error.
func run(t *testing.T, f Fulfilment, ev []proto.Message, err error) Fulfilment {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ev {
		f = EvolveFulfilment(f, e)
	}
	return f
}

// accepted is a fulfilment with one receipt accepted by alice and bob: 6 laptops (the other 2
// delivered rejected) and 20 boxes of paper.
func accepted(t *testing.T) Fulfilment {
	t.Helper()
	ev, err := DecideRecordDelivery(Fulfilment{}, order, delivery("r1",
		DeliveryLine{OrderLineID: orderID + "-1", Delivered: 8, Accepted: 6, RejectionReason: "屏幕破损", Location: "电脑室", Custodian: "赵老师", AcceptanceLineID: "a1"},
		DeliveryLine{OrderLineID: orderID + "-2", Delivered: 20, Accepted: 20, ItemCode: "bg-a4", AcceptanceLineID: "a2"}), fpolicy)
	f := run(t, Fulfilment{}, ev, err)
	ev, err = DecideSignGoodsReceipt(f, order, "r1", alice, "2025-09-02")
	f = run(t, f, ev, err)
	ev, err = DecideSignGoodsReceipt(f, order, "r1", bob, "2025-09-02")
	return run(t, f, ev, err)
}

func TestRecordDeliveryChecksLines(t *testing.T) {
	_, err := DecideRecordDelivery(Fulfilment{}, order, delivery("r1",
		DeliveryLine{OrderLineID: "x", Delivered: 0, Accepted: 1},
		DeliveryLine{OrderLineID: orderID + "-1", Delivered: 2, Accepted: 1},
		DeliveryLine{OrderLineID: orderID + "-1", Delivered: 1, Accepted: 1, Location: "电脑室", Custodian: "赵老师"}), fpolicy)
	wantFields(t, err, "lines[0].order_line_id", "lines[0].delivered_quantity", "lines[0].accepted_quantity",
		"lines[1].rejection_reason", "lines[1].location", "lines[1].custodian", "lines[2].order_line_id")
	// Accepted goods that are not fixed assets name their stock item; rejected ones need not.
	_, err = DecideRecordDelivery(Fulfilment{}, order, delivery("r1",
		DeliveryLine{OrderLineID: orderID + "-2", Delivered: 2, Accepted: 1, RejectionReason: "受潮", ItemCode: "纸"}), fpolicy)
	wantFields(t, err, "lines[0].item_code")
	ev, err := DecideRecordDelivery(Fulfilment{}, order, delivery("r1",
		DeliveryLine{OrderLineID: orderID + "-2", Delivered: 2, Accepted: 0, RejectionReason: "受潮"},
		DeliveryLine{OrderLineID: orderID + "-1", Delivered: 1, Accepted: 1, Location: "电脑室", Custodian: "赵老师", ItemCode: "x"}), fpolicy)
	if err != nil {
		t.Fatal(err)
	}
	if ls := ev[0].(*eventsv1.DeliveryRecorded).Lines; ls[0].ItemCode != "" || ls[1].ItemCode != "" || ls[0].RejectedQuantity != 2 {
		t.Fatalf("item codes only for stock: %v", ls)
	}
	c := delivery("r1")
	c.DeliveredOn = "2025-09-03"
	_, err = DecideRecordDelivery(Fulfilment{}, order, c, fpolicy)
	wantFields(t, err, "delivered_on", "lines")
}

func TestDeliveriesNeverExceedTheOrder(t *testing.T) {
	f := accepted(t)
	// 6 accepted of 10; a waiting receipt holds 3 more; the fourth would still fit, a fifth not.
	ev, err := DecideRecordDelivery(f, order, delivery("r2",
		DeliveryLine{OrderLineID: orderID + "-1", Delivered: 3, Accepted: 3, Location: "电脑室", Custodian: "赵老师", AcceptanceLineID: "a3"}), fpolicy)
	f = run(t, f, ev, err)
	_, err = DecideRecordDelivery(f, order, delivery("r3",
		DeliveryLine{OrderLineID: orderID + "-1", Delivered: 2, Accepted: 2, Location: "电脑室", Custodian: "赵老师"}), fpolicy)
	wantReason(t, err, ReasonDeliveryExceedsOrder)
	if re, _ := errs.As[*errs.RuleError](err); re.Metadata["order_line_id"] != orderID+"-1" {
		t.Fatalf("the refusal names the line: %v", re.Metadata)
	}
	// Rejected goods do not count: 2 delivered, 1 accepted fits.
	if _, err := DecideRecordDelivery(f, order, delivery("r3",
		DeliveryLine{OrderLineID: orderID + "-1", Delivered: 2, Accepted: 1, RejectionReason: "型号不符", Location: "电脑室", Custodian: "赵老师"}), fpolicy); err != nil {
		t.Fatal(err)
	}
	// The same receipt id again records nothing.
	if ev, err := DecideRecordDelivery(f, order, delivery("r2",
		DeliveryLine{OrderLineID: orderID + "-2", Delivered: 1, Accepted: 0, RejectionReason: "受潮"}), fpolicy); err != nil || len(ev) != 0 {
		t.Fatalf("%v %v", ev, err)
	}
	cancelled := order
	cancelled.Status = OrderCancelled
	_, err = DecideRecordDelivery(f, cancelled, delivery("r4",
		DeliveryLine{OrderLineID: orderID + "-2", Delivered: 1, Accepted: 1, ItemCode: "BG-A4"}), fpolicy)
	wantReason(t, err, ReasonOrderNotOpen)
}

func TestGoodsReceiptNeedsTwoDifferentSigners(t *testing.T) {
	ev, err := DecideRecordDelivery(Fulfilment{}, order, delivery("r1",
		DeliveryLine{OrderLineID: orderID + "-2", Delivered: 5, Accepted: 5, ItemCode: "BG-A4", AcceptanceLineID: "a1"}), fpolicy)
	f := run(t, Fulfilment{}, ev, err)
	ev, err = DecideSignGoodsReceipt(f, order, "r1", alice, "2025-09-02")
	if len(ev) != 1 {
		t.Fatalf("one signature accepts nothing: %v", ev)
	}
	f = run(t, f, ev, err)
	if ev, err := DecideSignGoodsReceipt(f, order, "r1", alice, "2025-09-03"); err != nil || len(ev) != 0 {
		t.Fatalf("the same person twice counts once: %v %v", ev, err)
	}
	ev, err = DecideSignGoodsReceipt(f, order, "r1", bob, "2025-09-03")
	if err != nil || len(ev) != 2 {
		t.Fatalf("%v %v", ev, err)
	}
	ga := ev[1].(*eventsv1.GoodsAccepted)
	if ga.AcceptedOn != "2025-09-03" || ga.AcceptedFen != 12_500 || len(ga.Signers) != 2 || ga.Lines[0].AcceptanceLineId != "a1" {
		t.Fatalf("%v", ga)
	}
	f = run(t, f, ev, err)
	_, err = DecideSignGoodsReceipt(f, order, "r1", carol, "2025-09-03")
	wantReason(t, err, ReasonReceiptAccepted)
	_, err = DecideSignGoodsReceipt(f, order, "nope", carol, "2025-09-03")
	if _, ok := errs.As[*errs.NotFoundError](err); !ok {
		t.Fatal(err)
	}

	// Policy: three signers.
	p3 := fpolicy
	p3.AcceptanceMinSigners = 3
	ev, err = DecideRecordDelivery(Fulfilment{}, order, delivery("r1", DeliveryLine{OrderLineID: orderID + "-2", Delivered: 5, Accepted: 5, ItemCode: "BG-A4"}), p3)
	f = run(t, Fulfilment{}, ev, err)
	for _, a := range []Actor{alice, bob} {
		ev, err = DecideSignGoodsReceipt(f, order, "r1", a, "2025-09-02")
		f = run(t, f, ev, err)
	}
	if r, _ := f.Receipt("r1"); r.Accepted {
		t.Fatal("accepted with two of three signers")
	}
}

func TestLineRegistered(t *testing.T) {
	f := accepted(t)
	ev, err := DecideRecordLineRegistered(f, "a1", Registration{AssetID: "asset", Tag: "CG-1"})
	f = run(t, f, ev, err)
	if f.Registered["a1"].Tag != "CG-1" {
		t.Fatal(f.Registered)
	}
	if ev, err := DecideRecordLineRegistered(f, "a1", Registration{AssetID: "asset", Tag: "CG-1"}); err != nil || len(ev) != 0 {
		t.Fatalf("twice: %v %v", ev, err)
	}
	if _, err := DecideRecordLineRegistered(f, "zz", Registration{}); err == nil {
		t.Fatal("an unknown line is registered")
	}
}

func invoice(id, number string, total int64, lines ...InvoiceLine) RecordInvoice {
	return RecordInvoice{InvoiceID: id, Number: number, InvoicedOn: "2025-09-02", Lines: lines, TotalFen: total, Actor: alice, Today: "2025-09-02"}
}

func TestInvoiceThreeWayMatch(t *testing.T) {
	f := accepted(t)
	_, err := DecideRecordInvoice(f, order, invoice("i1", "", 0, InvoiceLine{OrderLineID: "x"}), fpolicy)
	wantFields(t, err, "invoice_number", "total_fen", "lines[0].order_line_id", "lines[0].quantity", "lines[0].unit_price_fen")

	_, err = DecideRecordInvoice(f, order, invoice("i1", "No1", 2_460_000,
		InvoiceLine{OrderLineID: orderID + "-1", Quantity: 6, UnitPriceFen: 410_000}), fpolicy)
	wantReason(t, err, ReasonInvoicePriceMismatch)
	if re, _ := errs.As[*errs.RuleError](err); re.Metadata["order_line_id"] != orderID+"-1" {
		t.Fatalf("the refusal names the line: %v", re.Metadata)
	}
	// 7 invoiced, 6 accepted (2 were rejected).
	_, err = DecideRecordInvoice(f, order, invoice("i1", "No1", 3_150_000,
		InvoiceLine{OrderLineID: orderID + "-1", Quantity: 7, UnitPriceFen: 450_000}), fpolicy)
	wantReason(t, err, ReasonInvoiceQuantityMismatch)
	_, err = DecideRecordInvoice(f, order, invoice("i1", "No1", 2_700_001,
		InvoiceLine{OrderLineID: orderID + "-1", Quantity: 6, UnitPriceFen: 450_000}), fpolicy)
	wantReason(t, err, ReasonInvoiceTotalMismatch)

	ev, err := DecideRecordInvoice(f, order, invoice("i1", "No1", 2_700_000,
		InvoiceLine{OrderLineID: orderID + "-1", Quantity: 6, UnitPriceFen: 450_000}), fpolicy)
	f = run(t, f, ev, err)
	// Invoiced already: nothing of the line is left to invoice; the number is taken.
	_, err = DecideRecordInvoice(f, order, invoice("i2", "No2", 450_000,
		InvoiceLine{OrderLineID: orderID + "-1", Quantity: 1, UnitPriceFen: 450_000}), fpolicy)
	wantReason(t, err, ReasonInvoiceQuantityMismatch)
	_, err = DecideRecordInvoice(f, order, invoice("i2", "No1", 50_000,
		InvoiceLine{OrderLineID: orderID + "-2", Quantity: 20, UnitPriceFen: 2_500}), fpolicy)
	wantReason(t, err, ReasonInvoiceNumberTaken)
	if ev, err := DecideRecordInvoice(f, order, invoice("i1", "No1", 2_700_000,
		InvoiceLine{OrderLineID: orderID + "-1", Quantity: 6, UnitPriceFen: 450_000}), fpolicy); err != nil || len(ev) != 0 {
		t.Fatalf("the same invoice id again: %v %v", ev, err)
	}
}

// signed is accepted(t) with invoice i1 (6 laptops, 20 boxes of paper) signed by handler and
// inspector.
func signed(t *testing.T) Fulfilment {
	t.Helper()
	f := accepted(t)
	ev, err := DecideRecordInvoice(f, order, invoice("i1", "No1", 2_750_000,
		InvoiceLine{OrderLineID: orderID + "-1", Quantity: 6, UnitPriceFen: 450_000},
		InvoiceLine{OrderLineID: orderID + "-2", Quantity: 20, UnitPriceFen: 2_500}), fpolicy)
	f = run(t, f, ev, err)
	ev, err = DecideSignInvoice(f, "i1", InvoiceHandler, alice, "2025-09-03")
	f = run(t, f, ev, err)
	ev, err = DecideSignInvoice(f, "i1", InvoiceInspector, bob, "2025-09-03")
	return run(t, f, ev, err)
}

func TestInvoiceNeedsThreeDifferentSigners(t *testing.T) {
	f := signed(t)
	_, err := DecideSignInvoice(f, "i1", InvoiceAuditor, alice, "2025-09-03")
	wantReason(t, err, ReasonInvoiceSignerRepeated)
	_, err = DecideSignInvoice(f, "i1", InvoiceHandler, carol, "2025-09-03")
	wantReason(t, err, ReasonInvoiceRoleSigned)
	if ev, err := DecideSignInvoice(f, "i1", InvoiceHandler, alice, "2025-09-03"); err != nil || len(ev) != 0 {
		t.Fatalf("the same signature twice: %v %v", ev, err)
	}
	_, err = DecideSignInvoice(f, "i1", "boss", carol, "2025-09-03")
	wantFields(t, err, "role")
	_, _, err = DecideReimburseInvoice(f, order, "i1", false, carol, "2025-09-04")
	wantReason(t, err, ReasonInvoiceNeedsSigners)
}

func TestReimbursementNeedsRegisteredAssets(t *testing.T) {
	f := signed(t)
	ev, err := DecideSignInvoice(f, "i1", InvoiceAuditor, carol, "2025-09-03")
	f = run(t, f, ev, err)
	_, _, err = DecideReimburseInvoice(f, order, "i1", false, carol, "2025-09-04")
	wantReason(t, err, ReasonAssetNotRegistered)
	if re, _ := errs.As[*errs.RuleError](err); re.Metadata["acceptance_line_id"] != "a1" {
		t.Fatalf("the refusal names the line: %v", re.Metadata)
	}
	ev, err = DecideRecordLineRegistered(f, "a1", Registration{AssetID: "asset", Tag: "CG-1"})
	f = run(t, f, ev, err)
	ev, re, err := DecideReimburseInvoice(f, order, "i1", true, carol, "2025-09-04")
	if err != nil || re.AmountFen != 2_750_000 || len(re.Categories) != 2 || re.Categories[0] != (CategoryAmount{Category: "2", AmountFen: 2_700_000}) {
		t.Fatalf("%v %+v %v", ev, re, err)
	}
	ir := ev[0].(*eventsv1.InvoiceReimbursed)
	if ir.BudgetLineId != "bl" || !ir.OrderClosed || ir.AmountFen != 2_750_000 {
		t.Fatal(ir)
	}
	f = run(t, f, ev, err)
	if ev, re, err := DecideReimburseInvoice(f, order, "i1", true, carol, "2025-09-05"); err != nil || len(ev) != 0 || !re.Repeated {
		t.Fatalf("reimbursed twice: %v %+v %v", ev, re, err)
	}
	_, err = DecideSignInvoice(f, "i1", InvoiceAuditor, Actor{Subject: "dave"}, "2025-09-05")
	wantReason(t, err, ReasonInvoiceRoleSigned)
	// A closed order takes no more deliveries.
	_, err = DecideRecordDelivery(f, order, delivery("r9", DeliveryLine{OrderLineID: orderID + "-1", Delivered: 1, Accepted: 1,
		Location: "电脑室", Custodian: "赵老师"}), fpolicy)
	wantReason(t, err, ReasonOrderNotOpen)
}
