package domain

import (
	"fmt"
	"regexp"
	"strings"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

// Reasons of stock refusals. Stable: clients match on them.
const (
	// 库存不足: more is asked for than is on hand.
	ReasonStockInsufficient errs.Reason = "STOCK_INSUFFICIENT"
	// The item's account keeps another unit of measure.
	ReasonStockUnitMismatch errs.Reason = "STOCK_ITEM_UNIT_MISMATCH"
	// 按日序记账: a movement out (issue, return, count, adjustment) may not be dated before
	// the item's last movement.
	ReasonStockDateBeforeLast errs.Reason = "STOCK_DATE_BEFORE_LAST_MOVEMENT"
	ReasonStockDateInFuture   errs.Reason = "STOCK_DATE_IN_FUTURE"
	// The acceptance line was already received into another item's account.
	ReasonAcceptanceLineReceived errs.Reason = "ACCEPTANCE_LINE_ALREADY_RECEIVED"
	// Goods out only against an approved requisition.
	ReasonRequisitionNotApproved errs.Reason = "REQUISITION_NOT_APPROVED"
	// The requisition has no approved quantity of the item.
	ReasonRequisitionItemNotApproved errs.Reason = "REQUISITION_ITEM_NOT_APPROVED"
	// 超出批准数量: the issue would take more than approved and not yet issued.
	ReasonIssueExceedsApproved errs.Reason = "ISSUE_EXCEEDS_APPROVED"
	// 退库数量超出已领数量
	ReasonReturnExceedsIssued errs.Reason = "RETURN_EXCEEDS_ISSUED"
	// The stocktake's count of the item was already turned into an adjustment.
	ReasonStocktakeAdjusted errs.Reason = "STOCKTAKE_ALREADY_ADJUSTED"
	// No count of the item was recorded in the stocktake.
	ReasonStockCountMissing errs.Reason = "STOCK_COUNT_NOT_RECORDED"
	// 盘点人不能审批自己的盘点: the counter cannot approve the count's adjustment.
	ReasonAdjustmentSelfApproval errs.Reason = "STOCK_ADJUSTMENT_SELF_APPROVAL"
)

// SourcePurchase is the source of goods in from an accepted purchase line (采购验收).
const SourcePurchase = "purchase"

// ManualSources are the sources of goods in by the storekeeper (入库来源).
var ManualSources = map[string]string{
	"donation":    "捐赠",
	"transfer_in": "调入",
	"other":       "其他",
}

// MaxQuantity bounds quantities so values cannot overflow.
const MaxQuantity = 1_000_000_000

var codeRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9._-]{0,31}$`)

// ItemCode normalises an item code (物资编码): trimmed, upper-case.
func ItemCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// validToken is for client-chosen ids (stocktake ids).
var tokenRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// StockItemSpec names an item of a school's stores.
type StockItemSpec struct {
	Code     string
	Name     string
	Unit     string
	Category string
}

// IssueRecord is what an item's account knows of one requisition: the quantity issued and
// returned, and the slices still out (taken order), which a return puts back newest first.
type IssueRecord struct {
	Issued      int64
	Returned    int64
	Outstanding []Slice
}

// Out is the quantity issued and not returned.
func (r IssueRecord) Out() int64 { return r.Issued - r.Returned }

// StockCount is a count of the item in one stocktake.
type StockCount struct {
	CountedOn string
	CountedBy string
	Book      int64
	Counted   int64
	Adjusted  bool
}

// StockItem is one item's account (材料账) at one school: the aggregate that every movement
// of the item goes through, so two issues of the same item cannot both take the last unit
// (the stream's version is the optimistic lock). Its state is what the deciders need — the
// open lots and per-requisition and per-stocktake counters, not the history (movements as of
// a date are read from the events: MovementOf).
//
// A state is a value that may be shared: the command handler caches an item's state between
// commands (es.Handler.WithCache) and hands it to deciders, which may fold events into it to
// look ahead. So EvolveStockItem never writes into anything the state it is given refers to:
// it replaces a table (Table, never changed once built) or slice it changes by a changed copy,
// and the state it was given stays as it was.
type StockItem struct {
	StockItemSpec
	Opened          bool
	Lots            Lots
	LastMovedOn     string
	LastIssuedOn    string
	LastUnitCostFen int64
	// ReceivedLines are the acceptance lines received (验收明细).
	ReceivedLines Table[bool]
	// Issues are per requisition (领用单).
	Issues Table[IssueRecord]
	// Counts are per stocktake (盘点).
	Counts Table[StockCount]
}

// Issue is what the item knows of requisition id (zero if nothing was issued on it).
func (s StockItem) Issue(id string) IssueRecord {
	r, _ := s.Issues.Get(id)
	return r
}

// NewStockItem is an item with no events.
func NewStockItem() StockItem { return StockItem{} }

func toSlices(ss []*eventsv1.StockLotSlice) []Slice {
	out := make([]Slice, len(ss))
	for i, s := range ss {
		out[i] = Slice{LotID: s.LotId, ReceivedOn: s.ReceivedOn, Quantity: s.Quantity, UnitCostFen: s.UnitCostFen}
	}
	return out
}

func fromSlices(ss []Slice) []*eventsv1.StockLotSlice {
	out := make([]*eventsv1.StockLotSlice, len(ss))
	for i, s := range ss {
		out[i] = &eventsv1.StockLotSlice{LotId: s.LotID, ReceivedOn: s.ReceivedOn, Quantity: s.Quantity, UnitCostFen: s.UnitCostFen}
	}
	return out
}

// EvolveStockItem folds one event into an item's account and returns the new state; s itself
// and the maps and slices it refers to are not changed (see StockItem).
func EvolveStockItem(s StockItem, m proto.Message) StockItem {
	moved := func(on string) { s.LastMovedOn = max(s.LastMovedOn, on) }
	switch e := m.(type) {
	case *eventsv1.StockItemOpened:
		s.StockItemSpec = StockItemSpec{Code: e.ItemCode, Name: e.Name, Unit: e.Unit, Category: e.Category}
		s.Opened = true
	case *eventsv1.StockReceived:
		s.Lots = s.Lots.Add(Lot{ID: e.LotId, ReceivedOn: e.ReceivedOn, Quantity: e.Quantity, UnitCostFen: e.UnitCostFen})
		s.LastUnitCostFen = e.UnitCostFen
		if e.AcceptanceLineId != "" {
			s.ReceivedLines = s.ReceivedLines.With(e.AcceptanceLineId, true)
		}
		moved(e.ReceivedOn)
	case *eventsv1.StockIssued:
		s.Lots, _, _ = s.Lots.Consume(e.Quantity)
		r := s.Issue(e.RequisitionId)
		r.Issued += e.Quantity
		r.Outstanding = appendSlices(r.Outstanding, toSlices(e.Slices))
		s.Issues = s.Issues.With(e.RequisitionId, r)
		s.LastIssuedOn = e.IssuedOn
		moved(e.IssuedOn)
	case *eventsv1.StockReturned:
		back := toSlices(e.Slices)
		s.Lots = s.Lots.Restore(back)
		r := s.Issue(e.RequisitionId)
		r.Returned += e.Quantity
		r.Outstanding = removeNewest(r.Outstanding, e.Quantity)
		s.Issues = s.Issues.With(e.RequisitionId, r)
		moved(e.ReturnedOn)
	case *eventsv1.StockCounted:
		s.Counts = s.Counts.With(e.StocktakeId, StockCount{CountedOn: e.CountedOn, CountedBy: e.CountedBy, Book: e.BookQuantity, Counted: e.CountedQuantity})
	case *eventsv1.StockAdjusted:
		if e.Difference > 0 {
			for _, sl := range toSlices(e.Slices) {
				s.Lots = s.Lots.Add(Lot{ID: sl.LotID, ReceivedOn: sl.ReceivedOn, Quantity: sl.Quantity, UnitCostFen: sl.UnitCostFen})
			}
		} else {
			s.Lots, _, _ = s.Lots.Consume(-e.Difference)
		}
		c, _ := s.Counts.Get(e.StocktakeId)
		c.Adjusted = true
		s.Counts = s.Counts.With(e.StocktakeId, c)
		moved(e.AdjustedOn)
	}
	return s
}

// appendSlices returns a new slice of slices followed by add, a slice of the same lot and
// cost as the one before it merged into it (issues against one requisition mostly take the
// same lot, so what a requisition has out stays a few slices however often it is issued).
func appendSlices(slices, add []Slice) []Slice {
	out := make([]Slice, len(slices), len(slices)+len(add))
	copy(out, slices)
	for _, a := range add {
		if n := len(out); n > 0 && out[n-1].LotID == a.LotID && out[n-1].UnitCostFen == a.UnitCostFen {
			out[n-1].Quantity += a.Quantity
			continue
		}
		out = append(out, a)
	}
	return out
}

// removeNewest drops the last qty units of slices (those a return put back).
func removeNewest(slices []Slice, qty int64) []Slice {
	out := append([]Slice(nil), slices...)
	for len(out) > 0 && qty > 0 {
		last := &out[len(out)-1]
		n := min(last.Quantity, qty)
		last.Quantity -= n
		qty -= n
		if last.Quantity == 0 {
			out = out[:len(out)-1]
		}
	}
	return out
}

// ValidItemCode records a violation of field unless code is a valid (normalised) item code.
func ValidItemCode(v *errs.Violations, field, code string) {
	if !codeRE.MatchString(code) {
		v.Add(field, "物资编码只能含字母、数字和.-_，1–32个字符 / item code: letters, digits, '.', '-', '_', 1–32 characters")
	}
}

func validSpec(v *errs.Violations, field string, s StockItemSpec) {
	ValidItemCode(v, field+".code", s.Code)
	text(v, field+".name", s.Name, 1, 60, "name")
	text(v, field+".unit", s.Unit, 1, 10, "unit")
	text(v, field+".category", s.Category, 1, 30, "category")
}

func validQuantity(v *errs.Violations, field string, q int64) {
	if q <= 0 || q > MaxQuantity {
		v.Addf(field, "须为1–%d / must be 1–%d", MaxQuantity, MaxQuantity)
	}
}

func validDate(v *errs.Violations, field, day string) {
	if !ValidDate(day) {
		v.Add(field, "日期格式须为YYYY-MM-DD / date must be YYYY-MM-DD")
	}
}

// movementDate refuses a movement dated after today or before the item's last movement.
func (s StockItem) movementDate(field, day, today string) error {
	if day > today {
		return errs.Rule(ReasonStockDateInFuture, "日期不能晚于今天 / the date is after today", field, day)
	}
	if day < s.LastMovedOn {
		return errs.Rule(ReasonStockDateBeforeLast,
			fmt.Sprintf("该物资最近一笔业务日期为%s，不能倒记 / the item's last movement is dated %s", s.LastMovedOn, s.LastMovedOn),
			field, day, "last_moved_on", s.LastMovedOn)
	}
	return nil
}

// after returns the on-hand quantity and value of lots.
func after(ls Lots) (int64, int64) { return ls.Quantity(), ls.Value() }

// ReceiveStock is a goods in (入库): a new lot of the item.
type ReceiveStock struct {
	Item        StockItemSpec
	LotID       string
	Quantity    int64
	UnitCostFen int64
	ReceivedOn  string
	// Source of a manual goods in (ManualSources); FromAcceptance makes it a purchase.
	Source string
	// FromAcceptance: an accepted purchase line (验收入库), with its line, order and supplier.
	FromAcceptance   bool
	AcceptanceLineID string
	OrderID          string
	SupplierID       string
	Note             string
}

// DecideReceiveStock decides a goods in. A purchase line already received into this account
// records nothing (the acceptance reactor may call twice).
func DecideReceiveStock(s StockItem, c ReceiveStock, today string) ([]proto.Message, error) {
	var v errs.Violations
	validSpec(&v, "item", c.Item)
	validQuantity(&v, "quantity", c.Quantity)
	if c.UnitCostFen < 0 || c.UnitCostFen > MaxAmountFen {
		v.Add("unit_cost_fen", "单价超出范围 / unit cost out of range")
	} else if c.Quantity > 0 && c.Quantity <= MaxQuantity && c.UnitCostFen > 0 && c.Quantity > MaxAmountFen/c.UnitCostFen {
		v.Add("quantity", "金额超出范围 / quantity × unit cost is too large")
	}
	validDate(&v, "received_on", c.ReceivedOn)
	if c.FromAcceptance {
		c.Source = SourcePurchase
		if c.AcceptanceLineID == "" {
			v.Add("acceptance_line_id", "必填 / required")
		}
		if c.UnitCostFen == 0 {
			v.Add("unit_cost_fen", "采购入库须有单价 / a purchase has a unit cost")
		}
	} else if _, ok := ManualSources[c.Source]; !ok {
		v.Add("source", "入库来源须为donation、transfer_in或other（采购须经验收入库） / source must be donation, transfer_in or other (purchases come in through acceptance)")
	}
	text(&v, "note", c.Note, 0, 200, "note")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if c.AcceptanceLineID != "" && s.ReceivedLines.Has(c.AcceptanceLineID) {
		return nil, nil
	}
	if s.Opened && s.Unit != c.Item.Unit {
		return nil, errs.Rule(ReasonStockUnitMismatch,
			fmt.Sprintf("该物资以“%s”计量 / the item is kept in %s", s.Unit, s.Unit), "item.unit", c.Item.Unit)
	}
	// A receipt may be dated before the last movement (an acceptance reaches the store after
	// later issues were recorded): its lot takes its date's FIFO place for the issues to come;
	// the costs of earlier issues stand.
	if c.ReceivedOn > today {
		return nil, errs.Rule(ReasonStockDateInFuture, "日期不能晚于今天 / the date is after today", "received_on", c.ReceivedOn)
	}
	var out []proto.Message
	spec := s.StockItemSpec
	if !s.Opened {
		spec = c.Item
		out = append(out, &eventsv1.StockItemOpened{ItemCode: spec.Code, Name: spec.Name, Unit: spec.Unit, Category: spec.Category})
	}
	q, val := after(s.Lots.Add(Lot{ID: c.LotID, ReceivedOn: c.ReceivedOn, Quantity: c.Quantity, UnitCostFen: c.UnitCostFen}))
	return append(out, &eventsv1.StockReceived{ItemCode: spec.Code, Category: spec.Category, LotId: c.LotID, Quantity: c.Quantity,
		UnitCostFen: c.UnitCostFen, ValueFen: c.Quantity * c.UnitCostFen, ReceivedOn: c.ReceivedOn, Source: c.Source,
		AcceptanceLineId: c.AcceptanceLineID, OrderId: c.OrderID, SupplierId: c.SupplierID, Note: c.Note,
		OnHandAfter: q, ValueAfterFen: val}), nil
}

// IssueStock is a goods out (出库) against a requisition.
type IssueStock struct {
	RequisitionID string
	Quantity      int64
	IssuedOn      string
}

// DecideIssueStock decides a goods out of item s against requisition r: approved, with the
// item approved, never more than approved and not yet issued (net of returns), never more
// than on hand; the oldest lots go first.
func DecideIssueStock(s StockItem, r Requisition, c IssueStock, today string) ([]proto.Message, error) {
	var v errs.Violations
	validQuantity(&v, "quantity", c.Quantity)
	validDate(&v, "issued_on", c.IssuedOn)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if r.Status != RequisitionApproved {
		return nil, errs.Rule(ReasonRequisitionNotApproved, "领用单未经批准 / the requisition is not approved", "requisition_id", r.ID,
			"status", string(r.Status))
	}
	approved := r.Approved[s.Code]
	if approved == 0 {
		return nil, errs.Rule(ReasonRequisitionItemNotApproved, "领用单未批准该物资 / the requisition has no approved quantity of the item",
			"item_code", s.Code)
	}
	rec := s.Issue(r.ID)
	if rec.Out()+c.Quantity > approved {
		return nil, errs.Rule(ReasonIssueExceedsApproved,
			fmt.Sprintf("批准%d，已领%d，本次最多%d / approved %d, issued %d: at most %d now", approved, rec.Out(), approved-rec.Out(),
				approved, rec.Out(), approved-rec.Out()), "quantity", fmt.Sprint(c.Quantity))
	}
	left, taken, ok := s.Lots.Consume(c.Quantity)
	if !ok {
		return nil, errs.Rule(ReasonStockInsufficient,
			fmt.Sprintf("库存仅%d%s / only %d on hand", s.Lots.Quantity(), s.Unit, s.Lots.Quantity()), "quantity", fmt.Sprint(c.Quantity))
	}
	if err := s.movementDate("issued_on", c.IssuedOn, today); err != nil {
		return nil, err
	}
	q, val := after(left)
	return []proto.Message{&eventsv1.StockIssued{ItemCode: s.Code, Category: s.Category, RequisitionId: r.ID, Department: r.Department,
		Quantity: c.Quantity, Slices: fromSlices(taken), CostFen: SlicesValue(taken), IssuedOn: c.IssuedOn,
		OnHandAfter: q, ValueAfterFen: val}}, nil
}

// ReturnStock is a return (退库) of goods issued against a requisition.
type ReturnStock struct {
	RequisitionID string
	Quantity      int64
	ReturnedOn    string
	Reason        string
}

// DecideReturnStock puts returned goods back into the lots they left (the last issued first),
// at their cost; never more than is out on the requisition.
func DecideReturnStock(s StockItem, c ReturnStock, today string) ([]proto.Message, error) {
	var v errs.Violations
	validQuantity(&v, "quantity", c.Quantity)
	validDate(&v, "returned_on", c.ReturnedOn)
	text(&v, "reason", c.Reason, 0, 200, "reason")
	if err := v.Err(); err != nil {
		return nil, err
	}
	rec := s.Issue(c.RequisitionID)
	if c.Quantity > rec.Out() {
		return nil, errs.Rule(ReasonReturnExceedsIssued,
			fmt.Sprintf("该领用单已领未退%d / only %d are out on the requisition", rec.Out(), rec.Out()), "quantity", fmt.Sprint(c.Quantity))
	}
	if err := s.movementDate("returned_on", c.ReturnedOn, today); err != nil {
		return nil, err
	}
	back := Unwind(rec.Outstanding, c.Quantity)
	q, val := after(s.Lots.Restore(back))
	return []proto.Message{&eventsv1.StockReturned{ItemCode: s.Code, Category: s.Category, RequisitionId: c.RequisitionID,
		Quantity: c.Quantity, Slices: fromSlices(back), ValueFen: SlicesValue(back), ReturnedOn: c.ReturnedOn, Reason: c.Reason,
		OnHandAfter: q, ValueAfterFen: val}}, nil
}

// RecordStockCount is the count of the item in a stocktake (盘点).
type RecordStockCount struct {
	StocktakeID string
	Counted     int64
	CountedOn   string
	CountedBy   string
}

// DecideRecordStockCount records a count against the book; a recount in the same stocktake
// replaces it until its adjustment is approved.
func DecideRecordStockCount(s StockItem, c RecordStockCount, today string) ([]proto.Message, error) {
	var v errs.Violations
	if !tokenRE.MatchString(c.StocktakeID) {
		v.Add("stocktake_id", "盘点编号只能含字母、数字和.-_，1–64个字符 / letters, digits, '.', '-', '_', 1–64 characters")
	}
	if c.Counted < 0 || c.Counted > MaxQuantity {
		v.Addf("counted_quantity", "须为0–%d / must be 0–%d", MaxQuantity, MaxQuantity)
	}
	validDate(&v, "counted_on", c.CountedOn)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if cnt, _ := s.Counts.Get(c.StocktakeID); cnt.Adjusted {
		return nil, errs.Rule(ReasonStocktakeAdjusted, "本次盘点已调整 / the stocktake's adjustment is already approved", "stocktake_id", c.StocktakeID)
	}
	if err := s.movementDate("counted_on", c.CountedOn, today); err != nil {
		return nil, err
	}
	book := s.Lots.Quantity()
	return []proto.Message{&eventsv1.StockCounted{ItemCode: s.Code, Category: s.Category, StocktakeId: c.StocktakeID, CountedOn: c.CountedOn,
		BookQuantity: book, CountedQuantity: c.Counted, Difference: c.Counted - book, CountedBy: c.CountedBy}}, nil
}

// ApproveStockAdjustment approves a count's difference (盘盈盘亏).
type ApproveStockAdjustment struct {
	StocktakeID string
	AdjustedOn  string
	ApprovedBy  string
	// LotID of the lot a surplus opens.
	LotID string
}

// DecideApproveStockAdjustment applies the count's difference to the book: a surplus opens a
// lot at the last receipt's unit cost, a shortage takes the oldest lots first. Someone other
// than the counter approves; a count that matched the book needs nothing.
func DecideApproveStockAdjustment(s StockItem, c ApproveStockAdjustment, today string) ([]proto.Message, error) {
	var v errs.Violations
	if !tokenRE.MatchString(c.StocktakeID) {
		v.Add("stocktake_id", "盘点编号只能含字母、数字和.-_，1–64个字符 / letters, digits, '.', '-', '_', 1–64 characters")
	}
	validDate(&v, "adjusted_on", c.AdjustedOn)
	if err := v.Err(); err != nil {
		return nil, err
	}
	cnt, ok := s.Counts.Get(c.StocktakeID)
	switch {
	case !ok:
		return nil, errs.Rule(ReasonStockCountMissing, "该物资没有本次盘点记录 / no count of the item in this stocktake", "stocktake_id", c.StocktakeID)
	case cnt.Adjusted:
		return nil, errs.Rule(ReasonStocktakeAdjusted, "本次盘点已调整 / the stocktake's adjustment is already approved", "stocktake_id", c.StocktakeID)
	case cnt.CountedBy != "" && cnt.CountedBy == c.ApprovedBy:
		return nil, errs.Rule(ReasonAdjustmentSelfApproval, "盘点人不能审批自己的盘点 / the counter cannot approve the adjustment")
	}
	diff := cnt.Counted - cnt.Book
	if diff == 0 {
		return nil, nil
	}
	if err := s.movementDate("adjusted_on", c.AdjustedOn, today); err != nil {
		return nil, err
	}
	var slices []Slice
	lots := s.Lots
	if diff > 0 {
		sl := Slice{LotID: c.LotID, ReceivedOn: c.AdjustedOn, Quantity: diff, UnitCostFen: s.LastUnitCostFen}
		slices, lots = []Slice{sl}, lots.Add(Lot{ID: sl.LotID, ReceivedOn: sl.ReceivedOn, Quantity: sl.Quantity, UnitCostFen: sl.UnitCostFen})
	} else {
		var ok bool
		if lots, slices, ok = lots.Consume(-diff); !ok {
			return nil, errs.Rule(ReasonStockInsufficient,
				fmt.Sprintf("盘亏%d超过现有库存%d / the shortage of %d exceeds the %d on hand", -diff, s.Lots.Quantity(), -diff, s.Lots.Quantity()))
		}
	}
	value := SlicesValue(slices)
	if diff < 0 {
		value = -value
	}
	q, val := after(lots)
	return []proto.Message{&eventsv1.StockAdjusted{ItemCode: s.Code, Category: s.Category, StocktakeId: c.StocktakeID, Difference: diff,
		Slices: fromSlices(slices), ValueFen: value, AdjustedOn: c.AdjustedOn, ApprovedBy: c.ApprovedBy, OnHandAfter: q, ValueAfterFen: val}}, nil
}
