package domain

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

var chalk = StockItemSpec{Code: "BJ-001", Name: "无尘粉笔", Unit: "盒", Category: "教学耗材"}

func receive(lot, on string, qty, cost int64) ReceiveStock {
	return ReceiveStock{Item: chalk, LotID: lot, Quantity: qty, UnitCostFen: cost, ReceivedOn: on, Source: "donation"}
}

// decided folds the events a decision returned (the item's state after it).
func decided(t *testing.T, s StockItem, ev []proto.Message, err error) StockItem {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ev {
		s = EvolveStockItem(s, e)
	}
	return s
}

// stocked is chalk with lots A 10 @ 200 (09-01) and B 5 @ 300 (09-05).
func stocked(t *testing.T) StockItem {
	s := StockItem{}
	ev, err := DecideReceiveStock(s, receive("A", "2026-09-01", 10, 200), "2026-09-01")
	s = decided(t, s, ev, err)
	ev, err = DecideReceiveStock(s, receive("B", "2026-09-05", 5, 300), "2026-09-05")
	return decided(t, s, ev, err)
}

var approvedReq = Requisition{ID: "req1", Department: "三年级二班", Status: RequisitionApproved, Approved: map[string]int64{"BJ-001": 12}}

func TestReceiveStock(t *testing.T) {
	ev, err := DecideReceiveStock(StockItem{}, ReceiveStock{Item: chalk, LotID: "A", Quantity: 10, UnitCostFen: 200, ReceivedOn: "2026-09-01",
		FromAcceptance: true, AcceptanceLineID: "line-1", OrderID: "po-1", SupplierID: "sup-1"}, "2026-09-02")
	want := []proto.Message{
		&eventsv1.StockItemOpened{ItemCode: "BJ-001", Name: "无尘粉笔", Unit: "盒", Category: "教学耗材"},
		&eventsv1.StockReceived{ItemCode: "BJ-001", Category: "教学耗材", LotId: "A", Quantity: 10, UnitCostFen: 200, ValueFen: 2000,
			ReceivedOn: "2026-09-01", Source: "purchase", AcceptanceLineId: "line-1", OrderId: "po-1", SupplierId: "sup-1",
			OnHandAfter: 10, ValueAfterFen: 2000},
	}
	if err != nil || len(ev) != 2 || !proto.Equal(ev[0], want[0]) || !proto.Equal(ev[1], want[1]) {
		t.Fatalf("%v %v", ev, err)
	}
	s := given(EvolveStockItem, ev...)
	// The same acceptance line again: nothing.
	if again, err := DecideReceiveStock(s, ReceiveStock{Item: chalk, LotID: "A2", Quantity: 10, UnitCostFen: 200, ReceivedOn: "2026-09-01",
		FromAcceptance: true, AcceptanceLineID: "line-1"}, "2026-09-02"); err != nil || len(again) != 0 {
		t.Fatalf("second receipt of the line: %v %v", again, err)
	}
	// A second lot: no new opening, the after-values include both lots.
	ev, err = DecideReceiveStock(s, receive("B", "2026-09-05", 5, 300), "2026-09-05")
	if err != nil || len(ev) != 1 {
		t.Fatalf("%v %v", ev, err)
	}
	if r := ev[0].(*eventsv1.StockReceived); r.OnHandAfter != 15 || r.ValueAfterFen != 3500 || r.Source != "donation" {
		t.Fatalf("second lot %v", r)
	}
}

func TestReceiveStockRefusals(t *testing.T) {
	s := stocked(t)
	_, err := DecideReceiveStock(StockItem{}, ReceiveStock{Item: StockItemSpec{Code: "bad code"}, Quantity: 0, UnitCostFen: -1,
		ReceivedOn: "2026/09/01", Source: "gift"}, "2026-09-01")
	wantFields(t, err, "item.code", "item.name", "item.unit", "item.category", "quantity", "unit_cost_fen", "received_on", "source")
	_, err = DecideReceiveStock(StockItem{}, ReceiveStock{Item: chalk, Quantity: 1, ReceivedOn: "2026-09-01", FromAcceptance: true}, "2026-09-01")
	wantFields(t, err, "acceptance_line_id", "unit_cost_fen")
	_, err = DecideReceiveStock(StockItem{}, ReceiveStock{Item: chalk, Quantity: 1, ReceivedOn: "2026-09-01", Source: "purchase"}, "2026-09-01")
	wantFields(t, err, "source")
	_, err = DecideReceiveStock(StockItem{}, ReceiveStock{Item: chalk, Quantity: MaxQuantity, UnitCostFen: MaxAmountFen, ReceivedOn: "2026-09-01", Source: "other"}, "2026-09-01")
	wantFields(t, err, "quantity")

	box := receive("C", "2026-09-06", 1, 100)
	box.Item.Unit = "箱"
	_, err = DecideReceiveStock(s, box, "2026-09-06")
	wantReason(t, err, ReasonStockUnitMismatch)
	_, err = DecideReceiveStock(s, receive("C", "2026-09-07", 1, 100), "2026-09-06")
	wantReason(t, err, ReasonStockDateInFuture)
}

func TestReceiveStockBackdated(t *testing.T) {
	s := stocked(t) // A 10 @ 200 (09-01), B 5 @ 300 (09-05)
	ev, err := DecideIssueStock(s, approvedReq, IssueStock{RequisitionID: "req1", Quantity: 11, IssuedOn: "2026-09-06"}, "2026-09-06")
	s = decided(t, s, ev, err) // B 4 @ 300 left; last movement 09-06
	// Goods accepted on 09-04 arrive in the book after the issue: their lot goes before B.
	ev, err = DecideReceiveStock(s, receive("A2", "2026-09-04", 2, 250), "2026-09-07")
	s = decided(t, s, ev, err)
	if r := ev[0].(*eventsv1.StockReceived); r.OnHandAfter != 6 || r.ValueAfterFen != 1700 || s.Lots[0].ID != "A2" || s.LastMovedOn != "2026-09-06" {
		t.Fatalf("backdated receipt %v, lots %v, last %s", r, s.Lots, s.LastMovedOn)
	}
	// The next issue takes A2 first: 1 × 250.
	ev, err = DecideIssueStock(s, approvedReq, IssueStock{RequisitionID: "req1", Quantity: 1, IssuedOn: "2026-09-07"}, "2026-09-07")
	if err != nil || ev[0].(*eventsv1.StockIssued).CostFen != 250 {
		t.Fatalf("%v %v", ev, err)
	}
	// Movements out stay in date order.
	_, err = DecideIssueStock(s, approvedReq, IssueStock{RequisitionID: "req1", Quantity: 1, IssuedOn: "2026-09-05"}, "2026-09-07")
	wantReason(t, err, ReasonStockDateBeforeLast)
}

func TestIssueStockFIFO(t *testing.T) {
	s := stocked(t)
	ev, err := DecideIssueStock(s, approvedReq, IssueStock{RequisitionID: "req1", Quantity: 12, IssuedOn: "2026-09-06"}, "2026-09-06")
	want := &eventsv1.StockIssued{ItemCode: "BJ-001", Category: "教学耗材", RequisitionId: "req1", Department: "三年级二班", Quantity: 12,
		Slices: []*eventsv1.StockLotSlice{{LotId: "A", Quantity: 10, UnitCostFen: 200, ReceivedOn: "2026-09-01"},
			{LotId: "B", Quantity: 2, UnitCostFen: 300, ReceivedOn: "2026-09-05"}},
		CostFen: 2600, IssuedOn: "2026-09-06", OnHandAfter: 3, ValueAfterFen: 900}
	if err != nil || len(ev) != 1 || !proto.Equal(ev[0], want) {
		t.Fatalf("%v %v", ev, err)
	}
	s = decided(t, s, ev, err)
	if s.Lots.Quantity() != 3 || s.Lots.Value() != 900 || s.LastIssuedOn != "2026-09-06" || s.Issue("req1").Out() != 12 {
		t.Fatalf("after issue %+v", s)
	}
	// Fully issued: even one more is above the approval.
	_, err = DecideIssueStock(s, approvedReq, IssueStock{RequisitionID: "req1", Quantity: 1, IssuedOn: "2026-09-06"}, "2026-09-06")
	wantReason(t, err, ReasonIssueExceedsApproved)
}

func TestIssueStockRefusals(t *testing.T) {
	s := stocked(t)
	issue := IssueStock{RequisitionID: "req1", Quantity: 1, IssuedOn: "2026-09-06"}
	_, err := DecideIssueStock(s, approvedReq, IssueStock{RequisitionID: "req1", Quantity: 0, IssuedOn: "9/6"}, "2026-09-06")
	wantFields(t, err, "quantity", "issued_on")
	pending := approvedReq
	pending.Status, pending.Approved = RequisitionRequested, nil
	_, err = DecideIssueStock(s, pending, issue, "2026-09-06")
	wantReason(t, err, ReasonRequisitionNotApproved)
	rejected := pending
	rejected.Status = RequisitionRejected
	_, err = DecideIssueStock(s, rejected, issue, "2026-09-06")
	wantReason(t, err, ReasonRequisitionNotApproved)
	other := approvedReq
	other.Approved = map[string]int64{"ZZ-9": 5}
	_, err = DecideIssueStock(s, other, issue, "2026-09-06")
	wantReason(t, err, ReasonRequisitionItemNotApproved)
	_, err = DecideIssueStock(s, approvedReq, IssueStock{RequisitionID: "req1", Quantity: 13, IssuedOn: "2026-09-06"}, "2026-09-06")
	wantReason(t, err, ReasonIssueExceedsApproved)
	big := approvedReq
	big.Approved = map[string]int64{"BJ-001": 100}
	_, err = DecideIssueStock(s, big, IssueStock{RequisitionID: "req1", Quantity: 16, IssuedOn: "2026-09-06"}, "2026-09-06")
	wantReason(t, err, ReasonStockInsufficient)
	_, err = DecideIssueStock(s, approvedReq, IssueStock{RequisitionID: "req1", Quantity: 1, IssuedOn: "2026-09-04"}, "2026-09-06")
	wantReason(t, err, ReasonStockDateBeforeLast)
	_, err = DecideIssueStock(s, approvedReq, IssueStock{RequisitionID: "req1", Quantity: 1, IssuedOn: "2026-09-07"}, "2026-09-06")
	wantReason(t, err, ReasonStockDateInFuture)
}

func TestReturnStock(t *testing.T) {
	s := stocked(t)
	ev, err := DecideIssueStock(s, approvedReq, IssueStock{RequisitionID: "req1", Quantity: 12, IssuedOn: "2026-09-06"}, "2026-09-06")
	s = decided(t, s, ev, err)
	// Return 3 of the 12: the 2 from B (300) then 1 from A (200) come back = 800.
	ev, err = DecideReturnStock(s, ReturnStock{RequisitionID: "req1", Quantity: 3, ReturnedOn: "2026-09-07", Reason: "多领"}, "2026-09-07")
	want := &eventsv1.StockReturned{ItemCode: "BJ-001", Category: "教学耗材", RequisitionId: "req1", Quantity: 3,
		Slices: []*eventsv1.StockLotSlice{{LotId: "B", Quantity: 2, UnitCostFen: 300, ReceivedOn: "2026-09-05"},
			{LotId: "A", Quantity: 1, UnitCostFen: 200, ReceivedOn: "2026-09-01"}},
		ValueFen: 800, ReturnedOn: "2026-09-07", Reason: "多领", OnHandAfter: 6, ValueAfterFen: 1700}
	if err != nil || len(ev) != 1 || !proto.Equal(ev[0], want) {
		t.Fatalf("%v %v", ev, err)
	}
	s = decided(t, s, ev, err)
	// Lot A reopened before B: the next issue takes A's unit first.
	if s.Lots[0].ID != "A" || s.Lots[0].Quantity != 1 || s.Lots[1].Quantity != 5 || s.Issue("req1").Out() != 9 {
		t.Fatalf("lots %v issues %v", s.Lots, s.Issues)
	}
	// Returned goods may be issued again within the approval (12 − 9 = 3 more).
	if _, err := DecideIssueStock(s, approvedReq, IssueStock{RequisitionID: "req1", Quantity: 3, IssuedOn: "2026-09-07"}, "2026-09-07"); err != nil {
		t.Fatal(err)
	}
	// Refusals: more than is out; a requisition never issued; bad input.
	_, err = DecideReturnStock(s, ReturnStock{RequisitionID: "req1", Quantity: 10, ReturnedOn: "2026-09-07"}, "2026-09-07")
	wantReason(t, err, ReasonReturnExceedsIssued)
	_, err = DecideReturnStock(s, ReturnStock{RequisitionID: "req2", Quantity: 1, ReturnedOn: "2026-09-07"}, "2026-09-07")
	wantReason(t, err, ReasonReturnExceedsIssued)
	_, err = DecideReturnStock(s, ReturnStock{RequisitionID: "req1", Quantity: -1, ReturnedOn: ""}, "2026-09-07")
	wantFields(t, err, "quantity", "returned_on")
	_, err = DecideReturnStock(s, ReturnStock{RequisitionID: "req1", Quantity: 1, ReturnedOn: "2026-09-05"}, "2026-09-07")
	wantReason(t, err, ReasonStockDateBeforeLast)
}

func TestStocktakeAdjustments(t *testing.T) {
	s := stocked(t) // 15 on hand: A10@200, B5@300
	// A shortage of 11: approved by someone else, takes A10 and B1 = 2300.
	ev, err := DecideRecordStockCount(s, RecordStockCount{StocktakeID: "2026-09-term", Counted: 4, CountedOn: "2026-09-30", CountedBy: "keeper"}, "2026-09-30")
	if err != nil || !proto.Equal(ev[0], &eventsv1.StockCounted{ItemCode: "BJ-001", Category: "教学耗材", StocktakeId: "2026-09-term",
		CountedOn: "2026-09-30", BookQuantity: 15, CountedQuantity: 4, Difference: -11, CountedBy: "keeper"}) {
		t.Fatalf("%v %v", ev, err)
	}
	s = decided(t, s, ev, err)
	if s.Lots.Quantity() != 15 {
		t.Fatal("a count changed the book before approval")
	}
	_, err = DecideApproveStockAdjustment(s, ApproveStockAdjustment{StocktakeID: "2026-09-term", AdjustedOn: "2026-09-30", ApprovedBy: "keeper"}, "2026-09-30")
	wantReason(t, err, ReasonAdjustmentSelfApproval)
	_, err = DecideApproveStockAdjustment(s, ApproveStockAdjustment{StocktakeID: "other", AdjustedOn: "2026-09-30", ApprovedBy: "director"}, "2026-09-30")
	wantReason(t, err, ReasonStockCountMissing)
	ev, err = DecideApproveStockAdjustment(s, ApproveStockAdjustment{StocktakeID: "2026-09-term", AdjustedOn: "2026-09-30", ApprovedBy: "director"}, "2026-09-30")
	if err != nil || !proto.Equal(ev[0], &eventsv1.StockAdjusted{ItemCode: "BJ-001", Category: "教学耗材", StocktakeId: "2026-09-term", Difference: -11,
		Slices: []*eventsv1.StockLotSlice{{LotId: "A", Quantity: 10, UnitCostFen: 200, ReceivedOn: "2026-09-01"},
			{LotId: "B", Quantity: 1, UnitCostFen: 300, ReceivedOn: "2026-09-05"}},
		ValueFen: -2300, AdjustedOn: "2026-09-30", ApprovedBy: "director", OnHandAfter: 4, ValueAfterFen: 1200}) {
		t.Fatalf("%v %v", ev, err)
	}
	s = decided(t, s, ev, err)
	_, err = DecideApproveStockAdjustment(s, ApproveStockAdjustment{StocktakeID: "2026-09-term", AdjustedOn: "2026-09-30", ApprovedBy: "director"}, "2026-09-30")
	wantReason(t, err, ReasonStocktakeAdjusted)
	_, err = DecideRecordStockCount(s, RecordStockCount{StocktakeID: "2026-09-term", Counted: 4, CountedOn: "2026-09-30"}, "2026-09-30")
	wantReason(t, err, ReasonStocktakeAdjusted)

	// A surplus of 2 opens a lot at the last receipt's cost (300): +600.
	ev, err = DecideRecordStockCount(s, RecordStockCount{StocktakeID: "2026-10", Counted: 6, CountedOn: "2026-10-31", CountedBy: "keeper"}, "2026-10-31")
	s = decided(t, s, ev, err)
	ev, err = DecideApproveStockAdjustment(s, ApproveStockAdjustment{StocktakeID: "2026-10", AdjustedOn: "2026-10-31", ApprovedBy: "director", LotID: "S"}, "2026-10-31")
	if err != nil || ev[0].(*eventsv1.StockAdjusted).ValueFen != 600 || ev[0].(*eventsv1.StockAdjusted).ValueAfterFen != 1800 {
		t.Fatalf("%v %v", ev, err)
	}
	s = decided(t, s, ev, err)
	if s.Lots.Quantity() != 6 || s.Lots[len(s.Lots)-1].ID != "S" {
		t.Fatalf("lots %v", s.Lots)
	}

	// A count that matches the book needs no adjustment.
	ev, err = DecideRecordStockCount(s, RecordStockCount{StocktakeID: "2026-11", Counted: 6, CountedOn: "2026-11-30", CountedBy: "keeper"}, "2026-11-30")
	s = decided(t, s, ev, err)
	if ev, err := DecideApproveStockAdjustment(s, ApproveStockAdjustment{StocktakeID: "2026-11", AdjustedOn: "2026-11-30", ApprovedBy: "director"}, "2026-11-30"); err != nil || len(ev) != 0 {
		t.Fatalf("no difference: %v %v", ev, err)
	}
	_, err = DecideRecordStockCount(s, RecordStockCount{StocktakeID: "bad id!", Counted: -1, CountedOn: "x"}, "2026-11-30")
	wantFields(t, err, "stocktake_id", "counted_quantity", "counted_on")
}

func TestStocktakeShortageBeyondStock(t *testing.T) {
	s := stocked(t)
	ev, err := DecideRecordStockCount(s, RecordStockCount{StocktakeID: "t1", Counted: 0, CountedOn: "2026-09-30", CountedBy: "keeper"}, "2026-09-30")
	s = decided(t, s, ev, err) // book 15, counted 0
	ev, err = DecideIssueStock(s, approvedReq, IssueStock{RequisitionID: "req1", Quantity: 12, IssuedOn: "2026-09-30"}, "2026-09-30")
	s = decided(t, s, ev, err) // 3 left: a shortage of 15 cannot be booked any more
	_, err = DecideApproveStockAdjustment(s, ApproveStockAdjustment{StocktakeID: "t1", AdjustedOn: "2026-09-30", ApprovedBy: "director"}, "2026-09-30")
	wantReason(t, err, ReasonStockInsufficient)
}

// Folding never changes the state it is given: the command handler caches states and
// deciders may fold events into them to look ahead (see StockItem). Every kind of event is
// folded into a state that already has every map and slice filled; the state must print the
// same before and after (dump prints every table's contents), and the new state must differ.
func TestEvolveStockItemLeavesStateAlone(t *testing.T) {
	s := stocked(t)
	ev, err := DecideIssueStock(s, approvedReq, IssueStock{RequisitionID: "req1", Quantity: 4, IssuedOn: "2026-09-06"}, "2026-09-06")
	s = decided(t, s, ev, err)
	ev, err = DecideReceiveStock(s, ReceiveStock{Item: chalk, LotID: "C", Quantity: 3, UnitCostFen: 250, ReceivedOn: "2026-09-07",
		FromAcceptance: true, AcceptanceLineID: "line-1"}, "2026-09-07")
	s = decided(t, s, ev, err)
	ev, err = DecideRecordStockCount(s, RecordStockCount{StocktakeID: "pd-1", Counted: 13, CountedOn: "2026-09-08", CountedBy: "保管员"}, "2026-09-08")
	s = decided(t, s, ev, err)

	next := []proto.Message{
		&eventsv1.StockReceived{ItemCode: "BJ-001", LotId: "D", Quantity: 2, UnitCostFen: 100, ReceivedOn: "2026-09-09", AcceptanceLineId: "line-2"},
		&eventsv1.StockIssued{ItemCode: "BJ-001", RequisitionId: "req1", Quantity: 2, IssuedOn: "2026-09-09",
			Slices: []*eventsv1.StockLotSlice{{LotId: "A", ReceivedOn: "2026-09-01", Quantity: 2, UnitCostFen: 200}}},
		&eventsv1.StockIssued{ItemCode: "BJ-001", RequisitionId: "req2", Quantity: 1, IssuedOn: "2026-09-09",
			Slices: []*eventsv1.StockLotSlice{{LotId: "A", ReceivedOn: "2026-09-01", Quantity: 1, UnitCostFen: 200}}},
		&eventsv1.StockReturned{ItemCode: "BJ-001", RequisitionId: "req1", Quantity: 1, ReturnedOn: "2026-09-09",
			Slices: []*eventsv1.StockLotSlice{{LotId: "A", ReceivedOn: "2026-09-01", Quantity: 1, UnitCostFen: 200}}},
		&eventsv1.StockCounted{ItemCode: "BJ-001", StocktakeId: "pd-1", CountedOn: "2026-09-09", BookQuantity: 14, CountedQuantity: 12},
		&eventsv1.StockCounted{ItemCode: "BJ-001", StocktakeId: "pd-2", CountedOn: "2026-09-09", BookQuantity: 14, CountedQuantity: 12},
		&eventsv1.StockAdjusted{ItemCode: "BJ-001", StocktakeId: "pd-1", Difference: -1, AdjustedOn: "2026-09-09",
			Slices: []*eventsv1.StockLotSlice{{LotId: "A", ReceivedOn: "2026-09-01", Quantity: 1, UnitCostFen: 200}}},
		&eventsv1.StockAdjusted{ItemCode: "BJ-001", StocktakeId: "pd-1", Difference: 1, AdjustedOn: "2026-09-09",
			Slices: []*eventsv1.StockLotSlice{{LotId: "S", ReceivedOn: "2026-09-09", Quantity: 1, UnitCostFen: 200}}},
	}
	before := dump(s)
	for _, m := range next {
		after := EvolveStockItem(s, m)
		if got := dump(s); got != before {
			t.Fatalf("folding %T changed the state it was given:\nbefore %s\nafter  %s", m, before, got)
		}
		if dump(after) == before {
			t.Fatalf("folding %T changed nothing", m)
		}
	}
}

// dump prints a state with its tables' contents (fmt prints maps sorted by key).
func dump(s StockItem) string {
	contents := func(t any) string {
		switch t := t.(type) {
		case Table[bool]:
			m := map[string]bool{}
			t.All(func(k string, v bool) bool { m[k] = v; return true })
			return fmt.Sprintf("%d %v", t.Len(), m)
		case Table[IssueRecord]:
			m := map[string]IssueRecord{}
			t.All(func(k string, v IssueRecord) bool { m[k] = v; return true })
			return fmt.Sprintf("%d %+v", t.Len(), m)
		case Table[StockCount]:
			m := map[string]StockCount{}
			t.All(func(k string, v StockCount) bool { m[k] = v; return true })
			return fmt.Sprintf("%d %+v", t.Len(), m)
		}
		panic(t)
	}
	tables := contents(s.ReceivedLines) + " " + contents(s.Issues) + " " + contents(s.Counts)
	s.ReceivedLines, s.Issues, s.Counts = Table[bool]{}, Table[IssueRecord]{}, Table[StockCount]{}
	return fmt.Sprintf("%#v %s", s, tables)
}

// Issues against one requisition that take the same lot keep one slice out, however many.
func TestIssuesOfOneLotMerge(t *testing.T) {
	s := stocked(t)
	for i := range 3 {
		ev, err := DecideIssueStock(s, approvedReq, IssueStock{RequisitionID: "req1", Quantity: 2, IssuedOn: "2026-09-06"}, "2026-09-06")
		s = decided(t, s, ev, err)
		if got := s.Issue("req1").Outstanding; len(got) != 1 || got[0].Quantity != int64(2*(i+1)) {
			t.Fatalf("after %d issues: %+v", i+1, got)
		}
	}
	ev, err := DecideIssueStock(s, approvedReq, IssueStock{RequisitionID: "req1", Quantity: 6, IssuedOn: "2026-09-06"}, "2026-09-06")
	s = decided(t, s, ev, err)
	if got := s.Issue("req1").Outstanding; len(got) != 2 || got[0] != (Slice{"A", "2026-09-01", 10, 200}) || got[1] != (Slice{"B", "2026-09-05", 2, 300}) {
		t.Fatalf("across lots: %+v", got)
	}
	// A return of 3 gives back the newest first: 2 of B, then 1 of A.
	ev, err = DecideReturnStock(s, ReturnStock{RequisitionID: "req1", Quantity: 3, ReturnedOn: "2026-09-07"}, "2026-09-07")
	if err != nil || SlicesValue(toSlices(ev[0].(*eventsv1.StockReturned).Slices)) != 2*300+200 {
		t.Fatalf("return: %v %v", ev, err)
	}
}

// BenchmarkFoldStockItem folds one item's history of a school year: 2,000 issues against
// 200 requisitions, a goods in every 20 issues (what a command without the cache reads).
func BenchmarkFoldStockItem(b *testing.B) {
	var evs []proto.Message
	lot := 0
	for i := range 2000 {
		if i%20 == 0 {
			lot++
			evs = append(evs, &eventsv1.StockReceived{ItemCode: "BJ-001", LotId: fmt.Sprint("L", lot), Quantity: 20, UnitCostFen: 200,
				ReceivedOn: "2026-09-01", AcceptanceLineId: fmt.Sprint("line-", lot)})
		}
		evs = append(evs, &eventsv1.StockIssued{ItemCode: "BJ-001", RequisitionId: fmt.Sprint("req-", i%200), Quantity: 1, IssuedOn: "2026-09-02",
			Slices: []*eventsv1.StockLotSlice{{LotId: fmt.Sprint("L", lot), ReceivedOn: "2026-09-01", Quantity: 1, UnitCostFen: 200}}})
	}
	b.ReportAllocs()
	for b.Loop() {
		s := NewStockItem()
		for _, m := range evs {
			s = EvolveStockItem(s, m)
		}
		if s.Lots.Quantity() != 0 {
			b.Fatal(s.Lots.Quantity())
		}
	}
}
