package domain

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

// Reasons of purchase order refusals.
const (
	// Only a fully approved request can be ordered.
	ReasonRequestNotApproved errs.Reason = "PURCHASE_REQUEST_NOT_APPROVED"
	// The request has no chosen quote.
	ReasonQuoteNotChosen errs.Reason = "QUOTE_NOT_CHOSEN"
	// The request was ordered already (one order per request).
	ReasonOrderExists errs.Reason = "PURCHASE_ORDER_EXISTS"
	// The order is no longer open (cancelled, or goods delivered).
	ReasonOrderNotCancellable errs.Reason = "PURCHASE_ORDER_NOT_CANCELLABLE"
	// The order id was abandoned: its commitment was made but the order never appended, and
	// the sweeper released it after the grace period. Place the order with a new request id.
	ReasonOrderAbandoned errs.Reason = "PURCHASE_ORDER_ABANDONED"
)

// Order statuses. Later areas (deliveries) add theirs.
const (
	OrderPlaced    = "placed"
	OrderCancelled = "cancelled"
	// OrderAbandoned: never placed; the id is closed and its commitment released.
	OrderAbandoned = "abandoned"
)

// OrderLine is one line of an order.
type OrderLine struct {
	LineID       string
	Name         string
	Category     string
	Model        string
	Unit         string
	Quantity     int64
	UnitPriceFen int64
	AmountFen    int64
	FixedAsset   bool
}

// PurchaseOrder is an order to a supplier (采购订单).
type PurchaseOrder struct {
	ID                string
	SchoolID          string
	PurchaseRequestID string
	QuoteID           string
	SupplierID        string
	SupplierName      string
	BudgetLineID      string
	Department        string
	OrderedOn         string
	Lines             []OrderLine
	TotalFen          int64
	Status            string
	CancelReason      string
	Placed            bool
}

// EvolvePurchaseOrder folds one event into an order.
func EvolvePurchaseOrder(o PurchaseOrder, m proto.Message) PurchaseOrder {
	switch e := m.(type) {
	case *eventsv1.PurchaseOrderPlaced:
		o = PurchaseOrder{ID: e.PurchaseOrderId, SchoolID: e.SchoolId, PurchaseRequestID: e.PurchaseRequestId, QuoteID: e.QuoteId,
			SupplierID: e.SupplierId, SupplierName: e.SupplierName, BudgetLineID: e.BudgetLineId, Department: e.Department,
			OrderedOn: e.OrderedOn, TotalFen: e.TotalFen, Status: OrderPlaced, Placed: true}
		for _, l := range e.Lines {
			o.Lines = append(o.Lines, OrderLine{LineID: l.LineId, Name: l.Name, Category: l.Category, Model: l.Model, Unit: l.Unit,
				Quantity: l.Quantity, UnitPriceFen: l.UnitPriceFen, AmountFen: l.AmountFen, FixedAsset: l.FixedAsset})
		}
	case *eventsv1.PurchaseOrderCancelled:
		o.Status, o.CancelReason = OrderCancelled, e.Reason
	case *eventsv1.PurchaseOrderAbandoned:
		o = PurchaseOrder{ID: e.PurchaseOrderId, SchoolID: e.SchoolId, PurchaseRequestID: e.PurchaseRequestId,
			BudgetLineID: e.BudgetLineId, Status: OrderAbandoned, CancelReason: e.Reason}
	}
	return o
}

// Capitalisation is the fixed-asset rule an order's lines are judged by: the assets service's
// rule in force on the order date (thresholds per class, classes always held as fixed).
type Capitalisation struct {
	FixedAsset    func(category string, unitPriceFen int64) bool
	PolicyVersion string
}

// PlacePurchaseOrder orders an approved request from its chosen quote.
type PlacePurchaseOrder struct {
	OrderID  string
	Request  PurchaseRequest
	Supplier Supplier
	Today    string
}

// LineID is the id of an order's n-th line (from 1): the source_line_id of assets registered
// from it.
func LineID(orderID string, n int) string { return fmt.Sprintf("%s-%d", orderID, n) }

// DecidePlacePurchaseOrder decides an order: the request is approved and has a chosen quote,
// its supplier is usable on the order date; each line is a fixed asset as the request says or,
// by the capitalisation rule, when its category is a fixed-asset category and the rule holds
// it fixed at its unit price.
func DecidePlacePurchaseOrder(o PurchaseOrder, c PlacePurchaseOrder, cat Catalogue, rule Capitalisation) ([]proto.Message, error) {
	r := c.Request
	if !r.Submitted {
		return nil, errs.NotFound("purchase_request", r.ID)
	}
	if o.Placed {
		return nil, errs.Rule(ReasonOrderExists, "该订单已下达 / the order was placed already", "purchase_order_id", o.ID)
	}
	if o.Status == OrderAbandoned {
		return nil, abandoned(o)
	}
	if r.Status != RequestApproved {
		return nil, errs.Rule(ReasonRequestNotApproved, "申请尚未审批通过 / the request is not approved", "status", r.Status)
	}
	q, ok := r.Quote(r.ChosenQuoteID)
	if !ok {
		return nil, errs.Rule(ReasonQuoteNotChosen, "尚未选定报价 / no quote has been chosen")
	}
	if c.Supplier.ID != q.SupplierID {
		return nil, fmt.Errorf("order: supplier %s is not the chosen quote's %s", c.Supplier.ID, q.SupplierID)
	}
	if err := c.Supplier.UsableOn(c.Today); err != nil {
		return nil, err
	}
	e := &eventsv1.PurchaseOrderPlaced{PurchaseOrderId: c.OrderID, SchoolId: r.SchoolID, PurchaseRequestId: r.ID, QuoteId: q.ID,
		SupplierId: q.SupplierID, SupplierName: c.Supplier.Name, BudgetLineId: r.BudgetLineID, Department: r.Department,
		OrderedOn: c.Today, CapitalisationPolicyVersion: rule.PolicyVersion}
	for i, l := range r.Lines {
		price := q.UnitPricesFen[i]
		fixed := l.AssetClass == AssetClassFixedAsset ||
			l.AssetClass == AssetClassByRule && cat.FixedAssetCategories[l.Category] && rule.FixedAsset(l.Category, price)
		e.Lines = append(e.Lines, &eventsv1.OrderLine{LineId: LineID(c.OrderID, i+1), Name: l.Name, Category: l.Category, Model: l.Model,
			Unit: l.Unit, Quantity: l.Quantity, UnitPriceFen: price, AmountFen: price * l.Quantity, FixedAsset: fixed})
		e.TotalFen += price * l.Quantity
	}
	return []proto.Message{e}, nil
}

// DecideCancelPurchaseOrder cancels an open order on day today; f is the order's fulfilment:
// once goods were delivered or an invoice recorded, the order can no longer be cancelled.
func DecideCancelPurchaseOrder(o PurchaseOrder, f Fulfilment, reason string, actor Actor, today string) ([]proto.Message, error) {
	var v errs.Violations
	text(&v, "reason", reason, 2, 200, "reason")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !o.Placed {
		return nil, errs.NotFound("purchase_order", o.ID)
	}
	if o.Status != OrderPlaced {
		return nil, errs.Rule(ReasonOrderNotCancellable, "订单已不能取消 / the order can no longer be cancelled", "status", o.Status)
	}
	if len(f.Receipts) > 0 || len(f.Invoices) > 0 || f.Closed {
		return nil, errs.Rule(ReasonOrderNotCancellable, "订单已有到货或发票，不能取消 / goods or invoices were recorded against the order",
			"receipts", itoa(int64(len(f.Receipts))), "invoices", itoa(int64(len(f.Invoices))))
	}
	return []proto.Message{&eventsv1.PurchaseOrderCancelled{PurchaseOrderId: o.ID, Reason: reason, CancelledOn: today, CancelledBy: actor.Subject}}, nil
}

func abandoned(o PurchaseOrder) error {
	return errs.Rule(ReasonOrderAbandoned,
		"下单未完成，预算占用已超时释放；请用新的请求编号重新下单 / the order was never completed and its commitment was released after the grace period: place it again with a new request_id",
		"purchase_order_id", o.ID)
}

// AbandonOrder closes an order id whose budget commitment was made but whose order was never
// appended (预算占用超时释放).
type AbandonOrder struct {
	OrderID           string
	SchoolID          string
	PurchaseRequestID string
	BudgetLineID      string
	CommittedAt       time.Time
	Now               time.Time
}

// DecideAbandonOrder decides AbandonOrder under p: nothing when the order was placed (the
// commitment is the order's) or abandoned before, or while the commitment is younger than
// the policy's grace period; else PurchaseOrderAbandoned, after which the order id can never
// be placed and the commitment may be released.
func DecideAbandonOrder(o PurchaseOrder, c AbandonOrder, p Policy) ([]proto.Message, error) {
	if o.Placed || o.Status == OrderAbandoned || c.CommittedAt.IsZero() || c.Now.Sub(c.CommittedAt) < p.CommitmentGrace {
		return nil, nil
	}
	return []proto.Message{&eventsv1.PurchaseOrderAbandoned{PurchaseOrderId: c.OrderID, SchoolId: c.SchoolID,
		PurchaseRequestId: c.PurchaseRequestID, BudgetLineId: c.BudgetLineID, CommittedAt: c.CommittedAt.UTC().Format(time.RFC3339),
		GraceSeconds: int64(p.CommitmentGrace / time.Second),
		Reason:       fmt.Sprintf("预算已占用但订单未下达，%s后释放 / the budget was committed but the order never placed; released after %s", p.CommitmentGrace, p.CommitmentGrace)}}, nil
}
