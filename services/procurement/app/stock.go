package app

import (
	"cmp"
	"context"
	"strings"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	"houqin.dev/platform/event"
	"houqin.dev/platform/eventstore"
	"houqin.dev/procurement/domain"
	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

// Stock aggregates: one account per school and item code (every movement of the item goes
// through its stream, so its version is the lock that keeps two issues from taking the same
// units), one stream per requisition.
var (
	StockItemAggregate   = es.Aggregate[domain.StockItem]{Type: "stock_item", Initial: domain.NewStockItem, Evolve: domain.EvolveStockItem}
	RequisitionAggregate = es.Aggregate[domain.Requisition]{Type: "requisition",
		Initial: func() domain.Requisition { return domain.Requisition{} }, Evolve: domain.EvolveRequisition}
)

type stockHandlers struct {
	items        *es.Handler[domain.StockItem]
	requisitions *es.Handler[domain.Requisition]
	policies     domain.StockPolicies
}

func newStockHandlers(store *eventstore.Store, o Options) stockHandlers {
	if o.StockPolicies == nil {
		o.StockPolicies = domain.DefaultStockPolicies
	}
	// An item's stream holds its whole history (every goods in and out for years), so its
	// folded state is kept between commands and a command reads only the events appended
	// since; the fold never changes a state it is given (domain.StockItem), which the cache needs.
	items := es.NewHandler(store, StockItemAggregate, o.Retries, o.Now)
	if o.CachedStockItems >= 0 {
		items = items.WithCache(cmp.Or(o.CachedStockItems, DefaultCachedStockItems))
	}
	return stockHandlers{items: items,
		requisitions: es.NewHandler(store, RequisitionAggregate, o.Retries, o.Now), policies: o.StockPolicies}
}

// DefaultCachedStockItems is how many items' states a process keeps by default: a school's
// stores hold a few hundred items.
const DefaultCachedStockItems = 4096

// itemID is the id of a school's item account: the school and the item code.
func itemID(school, code string) string { return school + "/" + code }

// Receipt is the outcome of a goods in.
type Receipt struct {
	ItemCode string
	LotID    string
	Version  int64
	// Already: the acceptance line was received before; nothing new was written.
	Already bool
}

// acceptanceLineLot derives a lot id from an acceptance line, so every attempt names the same lot.
var acceptanceLineLot = uuid.MustParse("5b0a3b8e-6f51-4f0e-9a55-7d4f4c1d2e01")

// ReceiveAcceptedLine puts an accepted purchase line into stock (验收入库), once per line: a
// later call for the same line, whatever its request id, writes nothing and answers Already.
// procurement's acceptance reactor calls it for accepted lines that are not fixed assets.
func (a *App) ReceiveAcceptedLine(ctx context.Context, meta es.Meta, c domain.ReceiveStock) (Receipt, error) {
	c.FromAcceptance = true
	c.AcceptanceLineID = strings.ToLower(strings.TrimSpace(c.AcceptanceLineID))
	var v errs.Violations
	for _, f := range []struct{ name, id string }{{"acceptance_line_id", c.AcceptanceLineID}, {"order_id", c.OrderID}, {"supplier_id", c.SupplierID}} {
		if _, err := uuid.Parse(f.id); err != nil && (f.id != "" || f.name == "acceptance_line_id") {
			v.Add(f.name, "ID格式有误 / "+f.name+" must be a UUID")
		}
	}
	if v.Err() == nil {
		c.LotID = uuid.NewSHA1(acceptanceLineLot, []byte(c.AcceptanceLineID)).String()
	}
	return a.receive(ctx, meta, c, v.Err(), []eventstore.UniqueKey{{Scope: "stock_acceptance_line",
		Key: meta.SchoolID + "/" + c.AcceptanceLineID, Reason: domain.ReasonAcceptanceLineReceived,
		Message: "该验收明细已入库到另一物资 / the acceptance line was received into another item"}})
}

// ReceiveGoods is a goods in by the storekeeper that did not come through a purchase
// (donation, transfer in, other).
func (a *App) ReceiveGoods(ctx context.Context, meta es.Meta, c domain.ReceiveStock) (Receipt, error) {
	c.LotID, c.FromAcceptance, c.AcceptanceLineID, c.OrderID, c.SupplierID = newID(), false, "", "", ""
	return a.receive(ctx, meta, c, nil, nil)
}

func (a *App) receive(ctx context.Context, meta es.Meta, c domain.ReceiveStock, pre error, keys []eventstore.UniqueKey) (Receipt, error) {
	c.Item.Code = domain.ItemCode(c.Item.Code)
	today := domain.Day(a.Today())
	// Invalid input is answered at once and in full, before any read.
	_, derr := domain.DecideReceiveStock(domain.NewStockItem(), c, today)
	if err := errs.Join(meta.Validate(), pre, invalidOnly(derr)); err != nil {
		return Receipt{}, err
	}
	res, err := a.stock.items.Execute(ctx, meta, es.Command[domain.StockItem]{ID: itemID(meta.SchoolID, c.Item.Code),
		Decide: func(s domain.StockItem) (es.Decision, error) {
			ev, err := domain.DecideReceiveStock(s, c, today)
			return es.Decision{Events: ev, OccurredAt: a.BusinessTime(c.ReceivedOn), UniqueKeys: keys}, err
		}})
	if err != nil {
		return Receipt{}, err
	}
	return Receipt{ItemCode: c.Item.Code, LotID: c.LotID, Version: res.Version, Already: res.Repeated || len(res.EventIDs) == 0}, nil
}

// invalidOnly keeps err if it is invalid input (a refusal needs the state to be judged).
func invalidOnly(err error) error {
	if _, ok := errs.As[*errs.InvalidError](err); ok {
		return err
	}
	return nil
}

// RequestRequisition records a requisition (领用申请) and returns its id and version.
func (a *App) RequestRequisition(ctx context.Context, meta es.Meta, c domain.RequestRequisition) (string, int64, error) {
	c.RequisitionID, c.RequestedBy, c.RequestedOn = newID(), meta.Actor, domain.Day(a.Today())
	for i := range c.Lines {
		c.Lines[i].ItemCode = domain.ItemCode(c.Lines[i].ItemCode)
	}
	if err := meta.Validate(); err != nil {
		_, derr := domain.DecideRequestRequisition(domain.Requisition{}, c)
		return "", 0, errs.Join(err, derr)
	}
	res, err := a.stock.requisitions.Execute(ctx, meta, es.Command[domain.Requisition]{ID: c.RequisitionID, New: true,
		Decide: func(r domain.Requisition) (es.Decision, error) {
			ev, err := domain.DecideRequestRequisition(r, c)
			return es.Decision{Events: ev}, err
		}})
	if err != nil {
		return "", 0, err
	}
	return strings.TrimPrefix(res.StreamID, RequisitionAggregate.Type+":"), res.Version, nil
}

// ApproveRequisition approves a requisition (lines empty: as requested).
func (a *App) ApproveRequisition(ctx context.Context, meta es.Meta, id string, expected int64, lines []domain.RequisitionLine) (int64, error) {
	for i := range lines {
		lines[i].ItemCode = domain.ItemCode(lines[i].ItemCode)
	}
	return a.requisitionCommand(ctx, meta, id, expected, func(r domain.Requisition) (es.Decision, error) {
		ev, err := domain.DecideApproveRequisition(r, lines, meta.Actor, domain.Day(a.Today()))
		return es.Decision{Events: ev}, err
	})
}

// RejectRequisition rejects a requisition with a reason.
func (a *App) RejectRequisition(ctx context.Context, meta es.Meta, id, reason string) (int64, error) {
	return a.requisitionCommand(ctx, meta, id, 0, func(r domain.Requisition) (es.Decision, error) {
		ev, err := domain.DecideRejectRequisition(r, reason, meta.Actor, domain.Day(a.Today()))
		return es.Decision{Events: ev}, err
	})
}

func (a *App) requisitionCommand(ctx context.Context, meta es.Meta, id string, expected int64, decide func(domain.Requisition) (es.Decision, error)) (int64, error) {
	if err := errs.Join(meta.Validate(), checkID("requisition_id", id), checkExpected(expected)); err != nil {
		return 0, err
	}
	res, err := a.stock.requisitions.Execute(ctx, meta, es.Command[domain.Requisition]{ID: id, Expected: expected,
		Decide: func(r domain.Requisition) (es.Decision, error) {
			if r.Status == "" {
				return es.Decision{}, errs.NotFound("requisition", id)
			}
			return decide(r)
		}})
	return res.Version, err
}

func checkExpected(v int64) error {
	if v < 0 {
		return errs.Invalid("expected_version", "不能为负数 / must not be negative")
	}
	return nil
}

// GetRequisition returns a requisition of school and its version.
func (a *App) GetRequisition(ctx context.Context, school, id string) (domain.Requisition, int64, error) {
	if err := checkID("requisition_id", id); err != nil {
		return domain.Requisition{}, 0, err
	}
	return a.stock.requisitions.Load(ctx, school, id)
}

// Issue is the outcome of a goods out.
type Issue struct {
	Version int64
	CostFen int64
	Slices  []*eventsv1.StockLotSlice
}

// IssueStock issues an item of an approved requisition (出库), oldest lots first. A repeated
// request answers the first issue's cost and slices.
func (a *App) IssueStock(ctx context.Context, meta es.Meta, code string, expected int64, c domain.IssueStock) (Issue, error) {
	code = domain.ItemCode(code)
	today := domain.Day(a.Today())
	_, derr := domain.DecideIssueStock(domain.NewStockItem(), domain.Requisition{}, c, today)
	if err := errs.Join(meta.Validate(), checkCode(code), checkID("requisition_id", c.RequisitionID), checkExpected(expected), invalidOnly(derr)); err != nil {
		return Issue{}, err
	}
	req, _, err := a.stock.requisitions.Load(ctx, meta.SchoolID, c.RequisitionID)
	if err != nil {
		return Issue{}, err
	}
	res, evs, err := a.itemCommand(ctx, meta, code, expected, func(s domain.StockItem) (es.Decision, error) {
		ev, err := domain.DecideIssueStock(s, req, c, today)
		return es.Decision{Events: ev, OccurredAt: a.BusinessTime(c.IssuedOn)}, err
	})
	if err != nil {
		return Issue{}, err
	}
	out := Issue{Version: res.Version}
	for _, m := range evs {
		if e, ok := m.(*eventsv1.StockIssued); ok {
			out.CostFen, out.Slices = e.CostFen, e.Slices
		}
	}
	return out, nil
}

// storedEvents returns the payloads of the events a command appended (also for a repeat).
func (a *App) storedEvents(ctx context.Context, res es.Result[domain.StockItem]) ([]proto.Message, error) {
	if len(res.EventIDs) == 0 {
		return nil, nil
	}
	st, err := a.store.Load(ctx, res.StreamID)
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, id := range res.EventIDs {
		ids[id] = true
	}
	var out []proto.Message
	for _, e := range st.Events {
		if ids[e.ID.String()] {
			m, err := e.Decode()
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
	}
	return out, nil
}

func (a *App) itemCommand(ctx context.Context, meta es.Meta, code string, expected int64,
	decide func(domain.StockItem) (es.Decision, error)) (es.Result[domain.StockItem], []proto.Message, error) {
	var decided []proto.Message
	res, err := a.stock.items.Execute(ctx, meta, es.Command[domain.StockItem]{ID: itemID(meta.SchoolID, code), Expected: expected,
		Decide: func(s domain.StockItem) (es.Decision, error) {
			if !s.Opened {
				return es.Decision{}, errs.NotFound("stock_item", code)
			}
			d, err := decide(s)
			decided = d.Events
			return d, err
		}})
	if err != nil {
		return res, nil, err
	}
	// The events appended are those of the last decision, unless the request was a repeat:
	// then they are read back (not the item's whole stream on every command).
	if res.Repeated {
		evs, err := a.storedEvents(ctx, res)
		return res, evs, err
	}
	if len(res.EventIDs) == 0 {
		return res, nil, nil
	}
	return res, decided, nil
}

func checkCode(code string) error {
	var v errs.Violations
	domain.ValidItemCode(&v, "item_code", code)
	return v.Err()
}

// ReturnStock returns issued goods into the lots they left (退库).
func (a *App) ReturnStock(ctx context.Context, meta es.Meta, code string, c domain.ReturnStock) (int64, int64, error) {
	code = domain.ItemCode(code)
	today := domain.Day(a.Today())
	_, derr := domain.DecideReturnStock(domain.NewStockItem(), c, today)
	if err := errs.Join(meta.Validate(), checkCode(code), checkID("requisition_id", c.RequisitionID), invalidOnly(derr)); err != nil {
		return 0, 0, err
	}
	res, evs, err := a.itemCommand(ctx, meta, code, 0, func(s domain.StockItem) (es.Decision, error) {
		ev, err := domain.DecideReturnStock(s, c, today)
		return es.Decision{Events: ev, OccurredAt: a.BusinessTime(c.ReturnedOn)}, err
	})
	if err != nil {
		return 0, 0, err
	}
	var value int64
	for _, m := range evs {
		if e, ok := m.(*eventsv1.StockReturned); ok {
			value = e.ValueFen
		}
	}
	return res.Version, value, err
}

// Count is the outcome of a stock count.
type Count struct {
	Version    int64
	Book       int64
	Difference int64
}

// RecordStockCount records the counted quantity of an item in a stocktake (盘点).
func (a *App) RecordStockCount(ctx context.Context, meta es.Meta, code string, c domain.RecordStockCount) (Count, error) {
	code = domain.ItemCode(code)
	c.CountedBy = meta.Actor
	today := domain.Day(a.Today())
	_, derr := domain.DecideRecordStockCount(domain.NewStockItem(), c, today)
	if err := errs.Join(meta.Validate(), checkCode(code), invalidOnly(derr)); err != nil {
		return Count{}, err
	}
	res, evs, err := a.itemCommand(ctx, meta, code, 0, func(s domain.StockItem) (es.Decision, error) {
		ev, err := domain.DecideRecordStockCount(s, c, today)
		return es.Decision{Events: ev, OccurredAt: a.BusinessTime(c.CountedOn)}, err
	})
	if err != nil {
		return Count{}, err
	}
	out := Count{Version: res.Version}
	for _, m := range evs {
		if e, ok := m.(*eventsv1.StockCounted); ok {
			out.Book, out.Difference = e.BookQuantity, e.Difference
		}
	}
	return out, err
}

// Adjustment is the outcome of an approved count.
type Adjustment struct {
	Version    int64
	Difference int64
	ValueFen   int64
}

// ApproveStockAdjustment turns a stocktake count's difference into an adjustment (盘盈盘亏).
func (a *App) ApproveStockAdjustment(ctx context.Context, meta es.Meta, code string, c domain.ApproveStockAdjustment) (Adjustment, error) {
	code = domain.ItemCode(code)
	c.ApprovedBy, c.LotID = meta.Actor, newID()
	today := domain.Day(a.Today())
	_, derr := domain.DecideApproveStockAdjustment(domain.NewStockItem(), c, today)
	if err := errs.Join(meta.Validate(), checkCode(code), invalidOnly(derr)); err != nil {
		return Adjustment{}, err
	}
	res, evs, err := a.itemCommand(ctx, meta, code, 0, func(s domain.StockItem) (es.Decision, error) {
		ev, err := domain.DecideApproveStockAdjustment(s, c, today)
		return es.Decision{Events: ev, OccurredAt: a.BusinessTime(c.AdjustedOn)}, err
	})
	if err != nil {
		return Adjustment{}, err
	}
	out := Adjustment{Version: res.Version}
	for _, m := range evs {
		if e, ok := m.(*eventsv1.StockAdjusted); ok {
			out.Difference, out.ValueFen = e.Difference, e.ValueFen
		}
	}
	return out, err
}

// GetStockItem returns an item's account of school, its movements (for reads as of a date)
// and its version. It reads the whole stream, not the cache: reads do not wait for commands.
func (a *App) GetStockItem(ctx context.Context, school, code string) (domain.StockItem, []domain.Movement, int64, error) {
	code = domain.ItemCode(code)
	if err := checkCode(code); err != nil {
		return domain.StockItem{}, nil, 0, err
	}
	st, err := a.store.Load(ctx, event.StreamID(StockItemAggregate.Type, itemID(school, code)))
	if err != nil {
		return domain.StockItem{}, nil, 0, err
	}
	if st.Version == 0 || st.SchoolID != school {
		return domain.StockItem{}, nil, 0, errs.NotFound(StockItemAggregate.Type, itemID(school, code))
	}
	it := domain.NewStockItem()
	var moves []domain.Movement
	for _, e := range st.Events {
		m, err := e.Decode()
		if err != nil {
			return domain.StockItem{}, nil, 0, err
		}
		it = domain.EvolveStockItem(it, m)
		if mv, ok := domain.MovementOf(m); ok {
			moves = append(moves, mv)
		}
	}
	return it, moves, st.Version, nil
}
