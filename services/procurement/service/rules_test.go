package service_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/bus"
	"houqin.dev/platform/testkit"
	"houqin.dev/procurement/service"
	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

// failOnce makes the first PlacePurchaseOrder of each order fail after the budget commit, as
// a client that loses its connection between the two appends.
func failOnce() func(*service.Config) {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(cfg *service.Config) {
		cfg.AppHooks.AfterCommit = func(orderID string) error {
			mu.Lock()
			defer mu.Unlock()
			if seen[orderID] {
				return nil
			}
			seen[orderID] = true
			return status.Error(codes.Unavailable, "connection lost")
		}
	}
}

// count returns how many events of type typ the store holds for which match says yes.
func (e *env) count(t *testing.T, typ string, match func(any) bool) int {
	t.Helper()
	n := 0
	for _, r := range e.events(t) {
		if r.Type != typ {
			continue
		}
		m, err := r.Decode()
		if err != nil {
			t.Fatal(err)
		}
		if match(m) {
			n++
		}
	}
	return n
}

// A retry after the chosen quote changed commits the new amount, not both.
func TestOrderRetryAfterQuoteChanged(t *testing.T) {
	e := start(t, failOnce())
	line := e.line(t, "s1", "3100301", 1_500_000)
	req := e.approvedRequest(t, "s1", line, "requote", e.suppliers(t))
	director := e.as(t, auth.RoleLogisticsDirector, "s1")
	place := &procurementv1.PlacePurchaseOrderRequest{RequestId: "order-requote", SchoolId: "s1", PurchaseRequestId: req}
	if _, err := e.client.PlacePurchaseOrder(director, place); status.Code(err) != codes.Unavailable {
		t.Fatalf("the first attempt fails after the commit: %v", err)
	}
	if b := e.budget(t, "s1", line); b.CommittedFen != 970_000 {
		t.Fatalf("the first attempt committed the cheapest quote: %v", b)
	}
	got, err := e.client.GetPurchaseRequest(director, &procurementv1.GetPurchaseRequestRequest{SchoolId: "s1", PurchaseRequestId: req})
	if err != nil {
		t.Fatal(err)
	}
	second := got.PurchaseRequest.Quotes[1]
	if _, err := e.client.ChooseQuote(director, &procurementv1.ChooseQuoteRequest{RequestId: "choose-again", SchoolId: "s1",
		PurchaseRequestId: req, QuoteId: second.QuoteId, Reason: "第一家缺货"}); err != nil {
		t.Fatal(err)
	}
	o, err := e.client.PlacePurchaseOrder(director, place)
	if err != nil {
		t.Fatal(err)
	}
	if o.TotalFen != second.TotalFen || o.TotalFen == 970_000 {
		t.Fatalf("the order is of the chosen quote: %v, quote %v", o, second)
	}
	if b := e.budget(t, "s1", line); b.CommittedFen != o.TotalFen || b.AvailableFen != 1_500_000-o.TotalFen {
		t.Fatalf("the commitment follows the order: %v, order %d", b, o.TotalFen)
	}
	// A repeat answers the order and commits nothing again.
	if again, err := e.client.PlacePurchaseOrder(director, place); err != nil || again.PurchaseOrderId != o.PurchaseOrderId {
		t.Fatalf("repeat: %v %v", again, err)
	}
	if b := e.budget(t, "s1", line); b.CommittedFen != o.TotalFen {
		t.Fatalf("after the repeat: %v", b)
	}
}

// A commitment whose order never came is released by the sweeper after the grace period,
// once, with two instances sweeping; a late retry of the order is refused.
func TestCommitmentSweeperReleasesOrphans(t *testing.T) {
	c := testkit.NewClock(time.Now())
	withClock := func(cfg *service.Config) { cfg.Now, cfg.CommitmentSweep = c.Now, 20*time.Millisecond }
	fail := failOnce()
	e := start(t, withClock, fail)
	second := start(t, withClock, fail, func(cfg *service.Config) { cfg.DatabaseURL, cfg.NatsURL = e.cfg.DatabaseURL, e.cfg.NatsURL })
	line := e.line(t, "s1", "3100302", 3_000_000)
	sups := e.suppliers(t)
	orphanReq := e.approvedRequest(t, "s1", line, "orphan", sups)
	placedReq := e.approvedRequest(t, "s1", line, "placed", sups)
	director := e.as(t, auth.RoleLogisticsDirector, "s1")
	orphan := &procurementv1.PlacePurchaseOrderRequest{RequestId: "order-orphan", SchoolId: "s1", PurchaseRequestId: orphanReq}
	if _, err := e.client.PlacePurchaseOrder(director, orphan); status.Code(err) != codes.Unavailable {
		t.Fatal(err)
	}
	placed := &procurementv1.PlacePurchaseOrderRequest{RequestId: "order-placed", SchoolId: "s1", PurchaseRequestId: placedReq}
	if _, err := e.client.PlacePurchaseOrder(director, placed); status.Code(err) != codes.Unavailable {
		t.Fatal(err)
	}
	o, err := e.client.PlacePurchaseOrder(director, placed) // the retry completes this one
	if err != nil {
		t.Fatal(err)
	}
	if b := e.budget(t, "s1", line); b.CommittedFen != 2*970_000 {
		t.Fatalf("both committed: %v", b)
	}
	// Within the grace period nothing is released, however often the sweepers run.
	c.Advance(59 * time.Minute)
	time.Sleep(300 * time.Millisecond)
	if n, err := e.svc.App().SweepCommitments(context.Background(), e.svc.Commitments()); err != nil || n != 0 {
		t.Fatalf("within the grace period: %d %v", n, err)
	}
	if b := e.budget(t, "s1", line); b.CommittedFen != 2*970_000 {
		t.Fatalf("within the grace period: %v", b)
	}
	c.Advance(2 * time.Minute)
	var wg sync.WaitGroup
	for _, x := range []*env{e, second, e, second} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := x.svc.App().SweepCommitments(context.Background(), x.svc.Commitments()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for e.budget(t, "s1", line).CommittedFen != 970_000 {
		if time.Now().After(deadline) {
			t.Fatalf("not released: %v", e.budget(t, "s1", line))
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the background sweepers keep running
	released := e.count(t, "houqin.procurement.events.v1.BudgetCommitmentReleased", func(m any) bool {
		return m.(*eventsv1.BudgetCommitmentReleased).PurchaseOrderId != o.PurchaseOrderId
	})
	abandoned := e.count(t, "houqin.procurement.events.v1.PurchaseOrderAbandoned", func(m any) bool {
		return m.(*eventsv1.PurchaseOrderAbandoned).PurchaseRequestId == orphanReq
	})
	if released != 1 || abandoned != 1 {
		t.Fatalf("released %d, abandoned %d: want once each", released, abandoned)
	}
	if b := e.budget(t, "s1", line); b.CommittedFen != o.TotalFen {
		t.Fatalf("the placed order keeps its commitment: %v", b)
	}
	// The client's late retry is refused; a new request id orders the request.
	if _, err := e.client.PlacePurchaseOrder(director, orphan); status.Code(err) != codes.FailedPrecondition || reason(err) != "PURCHASE_ORDER_ABANDONED" {
		t.Fatalf("late retry: %v", err)
	}
	orphan.RequestId = "order-orphan-2"
	if _, err := e.client.PlacePurchaseOrder(director, orphan); status.Code(err) != codes.Unavailable {
		t.Fatal(err)
	}
	if _, err := e.client.PlacePurchaseOrder(director, orphan); err != nil {
		t.Fatal(err)
	}
}

// A cancellation and a delivery at the same moment never both pass: both are decided on the
// order's fulfilment stream.
func TestCancelRacesDelivery(t *testing.T) {
	e := start(t)
	if _, err := bus.EnsureStream(context.Background(), e.svc.JS, "assets", bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	line := e.line(t, "s1", "3100303", 10_000_000)
	sups := e.suppliers(t)
	director := e.as(t, auth.RoleLogisticsDirector, "s1")
	store := e.as(t, auth.RoleStorekeeper, "s1")
	ful := procurementv1.NewFulfilmentServiceClient(e.conn)
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	cancels, deliveries := 0, 0
	for i := range 6 {
		tag := fmt.Sprintf("race-%d", i)
		req := e.approvedRequest(t, "s1", line, tag, sups)
		o, err := e.client.PlacePurchaseOrder(director, &procurementv1.PlacePurchaseOrderRequest{RequestId: "order-" + tag, SchoolId: "s1",
			PurchaseRequestId: req})
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.client.GetPurchaseOrder(director, &procurementv1.GetPurchaseOrderRequest{SchoolId: "s1", PurchaseOrderId: o.PurchaseOrderId})
		if err != nil {
			t.Fatal(err)
		}
		var cancelErr, deliverErr error
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			_, cancelErr = e.client.CancelPurchaseOrder(director, &procurementv1.CancelPurchaseOrderRequest{RequestId: "cancel-" + tag,
				SchoolId: "s1", PurchaseOrderId: o.PurchaseOrderId, Reason: "不再需要"})
		}()
		go func() {
			defer wg.Done()
			<-start
			_, deliverErr = ful.RecordDelivery(store, &procurementv1.RecordDeliveryRequest{RequestId: "deliver-" + tag, SchoolId: "s1",
				PurchaseOrderId: o.PurchaseOrderId, DeliveredOn: today, Lines: []*procurementv1.DeliveryLine{
					{OrderLineId: got.PurchaseOrder.Lines[0].LineId, DeliveredQuantity: 1, AcceptedQuantity: 1, ItemCode: "bg-a4"}}})
		}()
		close(start)
		wg.Wait()
		switch {
		case cancelErr == nil && deliverErr == nil:
			t.Fatalf("round %d: both the cancellation and the delivery passed", i)
		case cancelErr == nil:
			if reason(deliverErr) != "PURCHASE_ORDER_NOT_OPEN" {
				t.Fatalf("round %d: delivery: %v", i, deliverErr)
			}
			cancels++
		case deliverErr == nil:
			if reason(cancelErr) != "PURCHASE_ORDER_NOT_CANCELLABLE" {
				t.Fatalf("round %d: cancel: %v", i, cancelErr)
			}
			deliveries++
		default:
			t.Fatalf("round %d: both refused: %v / %v", i, cancelErr, deliverErr)
		}
	}
	t.Logf("cancelled %d, delivered %d", cancels, deliveries)
	if b := e.budget(t, "s1", line); b.CommittedFen != int64(deliveries)*970_000 {
		t.Fatalf("only delivered orders stay committed: %v", b)
	}
}
