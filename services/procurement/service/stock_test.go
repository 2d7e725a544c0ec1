package service_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/testkit"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

func TestStockAuthorization(t *testing.T) {
	e := start(t)
	testkit.AuthorizationMatrix(t, e.conn, "houqin.procurement.v1.StockService", e.auth, auth.Table, "s1", "s2")
}

var chalk = &procurementv1.StockItemSpec{Code: "bj-001", Name: "无尘粉笔", Unit: "盒", Category: "教学耗材"}

const (
	line1 = "0192f0c4-0000-7000-8000-0000000000a1"
	order = "0192f0c4-0000-7000-8000-0000000000b1"
)

func TestStockFlow(t *testing.T) {
	e := start(t)
	stock := procurementv1.NewStockServiceClient(e.conn)
	svc := e.as(t, auth.RoleService, "")
	keeper := e.as(t, auth.RoleStorekeeper, "s1")
	director := e.as(t, auth.RoleLogisticsDirector, "s1")
	teacher := e.as(t, auth.RoleTeacher, "s1")

	// An accepted purchase line goes into stock once: a second call (another request id) writes nothing.
	recv := &procurementv1.ReceiveAcceptedLineRequest{RequestId: "stk-00000001", SchoolId: "s1", AcceptanceLineId: line1, OrderId: order,
		Item: chalk, Quantity: 10, UnitCostFen: 200, ReceivedOn: "2025-09-01"}
	r1, err := stock.ReceiveAcceptedLine(svc, recv)
	if err != nil || r1.ItemCode != "BJ-001" || r1.Version != 2 || r1.Already {
		t.Fatalf("receive: %v %v", r1, err)
	}
	recv.RequestId = "stk-00000002"
	r2, err := stock.ReceiveAcceptedLine(svc, recv)
	if err != nil || !r2.Already || r2.Version != 2 || r2.LotId != r1.LotId {
		t.Fatalf("second receive: %v %v", r2, err)
	}
	// The same line into another item is refused.
	recv.RequestId, recv.Item = "stk-00000003", &procurementv1.StockItemSpec{Code: "ZB-9", Name: "纸杯", Unit: "包", Category: "办公用品"}
	if _, err := stock.ReceiveAcceptedLine(svc, recv); status.Code(err) != codes.FailedPrecondition || reason(err) != "ACCEPTANCE_LINE_ALREADY_RECEIVED" {
		t.Fatalf("line into another item: %v", err)
	}
	// A donation by the storekeeper: a second lot.
	if _, err := stock.ReceiveGoods(keeper, &procurementv1.ReceiveGoodsRequest{RequestId: "stk-00000004", SchoolId: "s1", Item: chalk,
		Quantity: 5, UnitCostFen: 300, ReceivedOn: "2025-09-05", Source: "donation", Note: "家委会捐赠"}); err != nil {
		t.Fatal(err)
	}
	// Bad input: every field named, nothing written.
	_, err = stock.ReceiveGoods(keeper, &procurementv1.ReceiveGoodsRequest{RequestId: "x", SchoolId: "s1", Item: &procurementv1.StockItemSpec{Code: "?"},
		Quantity: -1, ReceivedOn: "2025-13-01", Source: "purchase"})
	if status.Code(err) != codes.InvalidArgument || fmt.Sprint(fields(err)) != "[item.category item.code item.name item.unit quantity received_on request_id source]" {
		t.Fatalf("bad goods in: %v %v", err, fields(err))
	}

	// A teacher asks for 12; the director approves; the storekeeper issues within the approval.
	req, err := stock.RequestRequisition(teacher, &procurementv1.RequestRequisitionRequest{RequestId: "stk-00000005", SchoolId: "s1",
		Department: "三年级二班", Purpose: "期中考试", Lines: []*procurementv1.RequisitionLine{{ItemCode: "BJ-001", Quantity: 12}}})
	if err != nil {
		t.Fatal(err)
	}
	issue := &procurementv1.IssueStockRequest{RequestId: "stk-00000006", SchoolId: "s1", RequisitionId: req.RequisitionId, ItemCode: "BJ-001",
		Quantity: 12, IssuedOn: "2025-09-06"}
	if _, err := stock.IssueStock(keeper, issue); reason(err) != "REQUISITION_NOT_APPROVED" {
		t.Fatalf("issue before approval: %v", err)
	}
	if _, err := stock.ApproveRequisition(director, &procurementv1.ApproveRequisitionRequest{RequestId: "stk-00000007", SchoolId: "s1",
		RequisitionId: req.RequisitionId}); err != nil {
		t.Fatal(err)
	}
	issue.RequestId, issue.Quantity = "stk-00000008", 13
	if _, err := stock.IssueStock(keeper, issue); reason(err) != "ISSUE_EXCEEDS_APPROVED" {
		t.Fatalf("issue above approval: %v", err)
	}
	issue.RequestId, issue.Quantity, issue.ExpectedVersion = "stk-00000009", 12, 1
	if _, err := stock.IssueStock(keeper, issue); status.Code(err) != codes.Aborted {
		t.Fatalf("stale expected version: %v", err)
	}
	issue.RequestId, issue.ExpectedVersion = "stk-00000010", 3
	is, err := stock.IssueStock(keeper, issue)
	// FIFO: 10 × 2.00 from the purchase, 2 × 3.00 from the donation.
	if err != nil || is.CostFen != 2600 || len(is.Slices) != 2 || is.Slices[0].LotId != r1.LotId || is.Slices[1].Quantity != 2 {
		t.Fatalf("issue: %v %v", is, err)
	}
	again, err := stock.IssueStock(keeper, issue)
	if err != nil || again.Version != is.Version || again.CostFen != 2600 {
		t.Fatalf("repeated issue: %v %v", again, err)
	}

	// Two requisitions race for the last 3: exactly one gets them.
	var reqs []string
	for i := range 2 {
		rq, err := stock.RequestRequisition(teacher, &procurementv1.RequestRequisitionRequest{RequestId: fmt.Sprintf("stk-race-%d-req", i), SchoolId: "s1",
			Department: "总务处", Lines: []*procurementv1.RequisitionLine{{ItemCode: "BJ-001", Quantity: 3}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := stock.ApproveRequisition(director, &procurementv1.ApproveRequisitionRequest{RequestId: fmt.Sprintf("stk-race-%d-ok", i),
			SchoolId: "s1", RequisitionId: rq.RequisitionId}); err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, rq.RequisitionId)
	}
	var wg sync.WaitGroup
	errsOut := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errsOut[i] = stock.IssueStock(keeper, &procurementv1.IssueStockRequest{RequestId: fmt.Sprintf("stk-race-%d-out", i), SchoolId: "s1",
				RequisitionId: reqs[i], ItemCode: "BJ-001", Quantity: 3, IssuedOn: "2025-09-06"})
		}()
	}
	wg.Wait()
	if (errsOut[0] == nil) == (errsOut[1] == nil) || reason(errsOut[0])+reason(errsOut[1]) != "STOCK_INSUFFICIENT" {
		t.Fatalf("race: %v / %v", errsOut[0], errsOut[1])
	}
	winner := reqs[0]
	if errsOut[0] != nil {
		winner = reqs[1]
	}

	// A return of 2 goes back into the donation lot at 3.00.
	ret, err := stock.ReturnStock(keeper, &procurementv1.ReturnStockRequest{RequestId: "stk-00000011", SchoolId: "s1", RequisitionId: winner,
		ItemCode: "BJ-001", Quantity: 2, ReturnedOn: "2025-09-07", Reason: "多领"})
	if err != nil || ret.ValueFen != 600 {
		t.Fatalf("return: %v %v", ret, err)
	}
	if _, err := stock.ReturnStock(keeper, &procurementv1.ReturnStockRequest{RequestId: "stk-00000012", SchoolId: "s1", RequisitionId: winner,
		ItemCode: "BJ-001", Quantity: 2, ReturnedOn: "2025-09-07"}); reason(err) != "RETURN_EXCEEDS_ISSUED" {
		t.Fatalf("returning more than is out: %v", err)
	}

	// Stocktake: 2 on the book, 1 counted; only an approval books the shortage.
	cnt, err := stock.RecordStockCount(keeper, &procurementv1.RecordStockCountRequest{RequestId: "stk-00000013", SchoolId: "s1", StocktakeId: "2025-09-end",
		ItemCode: "BJ-001", CountedQuantity: 1, CountedOn: "2025-09-30"})
	if err != nil || cnt.BookQuantity != 2 || cnt.Difference != -1 {
		t.Fatalf("count: %v %v", cnt, err)
	}
	if _, err := stock.ApproveStockAdjustment(keeper, &procurementv1.ApproveStockAdjustmentRequest{RequestId: "stk-00000014", SchoolId: "s1",
		StocktakeId: "2025-09-end", ItemCode: "BJ-001", AdjustedOn: "2025-09-30"}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("storekeeper approving: %v", err)
	}
	adj, err := stock.ApproveStockAdjustment(director, &procurementv1.ApproveStockAdjustmentRequest{RequestId: "stk-00000015", SchoolId: "s1",
		StocktakeId: "2025-09-end", ItemCode: "BJ-001", AdjustedOn: "2025-09-30"})
	if err != nil || adj.Difference != -1 || adj.ValueFen != -300 {
		t.Fatalf("adjustment: %v %v", adj, err)
	}

	// The account now and as of earlier days: 09-05 15 (3500), 09-06 0 (12 + 3 out), 09-07 2 (600).
	get := func(asOf string) *procurementv1.StockItem {
		t.Helper()
		it, err := stock.GetStockItem(e.as(t, auth.RoleAccountant, "s1"), &procurementv1.GetStockItemRequest{SchoolId: "s1", ItemCode: "bj-001", AsOf: asOf})
		if err != nil {
			t.Fatal(err)
		}
		return it.Item
	}
	for _, c := range []struct {
		day        string
		qty, value int64
	}{{"2025-08-31", 0, 0}, {"2025-09-05", 15, 3500}, {"2025-09-06", 0, 0}, {"2025-09-07", 2, 600}, {"2025-09-30", 1, 300}} {
		if it := get(c.day); it.OnHandAsOf != c.qty || it.ValueAsOfFen != c.value {
			t.Errorf("as of %s: %d %d, want %d %d", c.day, it.OnHandAsOf, it.ValueAsOfFen, c.qty, c.value)
		}
	}
	if it := get(""); it.OnHand != 1 || it.ValueFen != 300 || len(it.Lots) != 1 || it.LastIssuedOn != "2025-09-06" || it.Spec.Category != "教学耗材" {
		t.Fatalf("item now: %v", it)
	}

	// Another school sees none of it.
	other := e.as(t, auth.RoleLogisticsDirector, "s2")
	if _, err := stock.GetStockItem(other, &procurementv1.GetStockItemRequest{SchoolId: "s2", ItemCode: "BJ-001"}); status.Code(err) != codes.NotFound {
		t.Fatalf("other school's item: %v", err)
	}
	if _, err := stock.GetRequisition(other, &procurementv1.GetRequisitionRequest{SchoolId: "s2", RequisitionId: req.RequisitionId}); status.Code(err) != codes.NotFound {
		t.Fatalf("other school's requisition: %v", err)
	}
	if _, err := stock.ApproveRequisition(other, &procurementv1.ApproveRequisitionRequest{RequestId: "stk-00000016", SchoolId: "s2",
		RequisitionId: req.RequisitionId}); status.Code(err) != codes.NotFound {
		t.Fatalf("approving another school's requisition: %v", err)
	}
	rq, err := stock.GetRequisition(teacher, &procurementv1.GetRequisitionRequest{SchoolId: "s1", RequisitionId: req.RequisitionId})
	if err != nil || rq.Requisition.Status != "approved" || len(rq.Requisition.Approved) != 1 || rq.Requisition.Approved[0].Quantity != 12 {
		t.Fatalf("requisition: %v %v", rq, err)
	}
	if _, broken, err := e.svc.Store().VerifyAll(context.Background()); err != nil || len(broken) != 0 {
		t.Fatalf("verify: %v %v", broken, err)
	}
}
