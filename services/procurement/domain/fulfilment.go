package domain

import (
	"fmt"
	"strconv"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

// Reasons of fulfilment refusals (验收、报账). Stable: clients match on them.
const (
	// The order is not open: cancelled, or closed by its last reimbursement.
	ReasonOrderNotOpen errs.Reason = "PURCHASE_ORDER_NOT_OPEN"
	// Accepted (and pending) quantities of a line would exceed the ordered quantity.
	ReasonDeliveryExceedsOrder errs.Reason = "DELIVERY_EXCEEDS_ORDER"
	// The receipt is accepted already; a new signature changes nothing, an edit is refused.
	ReasonReceiptAccepted errs.Reason = "GOODS_RECEIPT_ALREADY_ACCEPTED"
	// Three-way match (订单、验收、发票): an invoice line's unit price is not the order's.
	ReasonInvoicePriceMismatch errs.Reason = "INVOICE_PRICE_MISMATCH"
	// An invoice line's quantity is more than was accepted and not yet invoiced.
	ReasonInvoiceQuantityMismatch errs.Reason = "INVOICE_QUANTITY_MISMATCH"
	// The invoice's printed total is not the sum of its lines.
	ReasonInvoiceTotalMismatch errs.Reason = "INVOICE_TOTAL_MISMATCH"
	// The invoice number was recorded for this order already.
	ReasonInvoiceNumberTaken errs.Reason = "INVOICE_NUMBER_TAKEN"
	// One person may sign an invoice in one role only (经手人、验收人、审核人 are three people).
	ReasonInvoiceSignerRepeated errs.Reason = "INVOICE_SIGNER_REPEATED"
	// Someone else signed in this role already.
	ReasonInvoiceRoleSigned errs.Reason = "INVOICE_ROLE_ALREADY_SIGNED"
	// 发票须经手人、验收人、审核人三人签字方有效.
	ReasonInvoiceNeedsSigners errs.Reason = "INVOICE_NEEDS_THREE_SIGNERS"
	// A fixed-asset line is not registered in the assets service yet (先登记入账，后报账).
	ReasonAssetNotRegistered errs.Reason = "ASSET_NOT_REGISTERED"
	// The invoice was cancelled (作废): it can no longer be signed, reimbursed or reversed.
	ReasonInvoiceCancelled errs.Reason = "INVOICE_CANCELLED"
	// The invoice was reimbursed: it cannot be cancelled, only reversed by a red-letter
	// invoice (红字发票).
	ReasonInvoiceReimbursed errs.Reason = "INVOICE_ALREADY_REIMBURSED"
	// A red-letter invoice names an invoice that is not reimbursed (cancel that instead).
	ReasonInvoiceNotReimbursed errs.Reason = "INVOICE_NOT_REIMBURSED"
	// The invoice is reversed already, or a red-letter invoice for it is recorded.
	ReasonInvoiceAlreadyReversed errs.Reason = "INVOICE_ALREADY_REVERSED"
	// A red-letter invoice's lines are not the original's (order line, quantity, price).
	ReasonReversalMismatch errs.Reason = "INVOICE_REVERSAL_MISMATCH"
	// corrects_invoice_id names an invoice that is neither cancelled nor reversed.
	ReasonNothingToCorrect errs.Reason = "INVOICE_NOT_CANCELLED_OR_REVERSED"
)

// Invoice signing roles (发票签字).
const (
	InvoiceHandler   = "handler"   // 经手人
	InvoiceInspector = "inspector" // 验收人
	InvoiceAuditor   = "auditor"   // 审核人
)

// InvoiceRoleNames are the Chinese names of the signing roles.
var InvoiceRoleNames = map[string]string{InvoiceHandler: "经手人", InvoiceInspector: "验收人", InvoiceAuditor: "审核人"}

// ReceiptLine is one order line on a goods receipt.
type ReceiptLine struct {
	AcceptanceLineID string
	OrderLineID      string
	Name             string
	Category         string
	Model            string
	Unit             string
	FixedAsset       bool
	Delivered        int64
	Accepted         int64
	Rejected         int64
	RejectionReason  string
	UnitPriceFen     int64
	Location         string
	Custodian        string
	ItemCode         string
}

// Receipt is a goods receipt (入库单) of one delivery.
type Receipt struct {
	ID            string
	DeliveredOn   string
	FundingSource string
	Lines         []ReceiptLine
	MinSigners    int
	Signers       []string // subjects, each once
	Accepted      bool
	AcceptedOn    string
	PolicyVersion string
}

func (r Receipt) signed(subject string) bool {
	for _, s := range r.Signers {
		if s == subject {
			return true
		}
	}
	return false
}

// InvoiceLine is one line of an invoice.
type InvoiceLine struct {
	OrderLineID  string
	Quantity     int64
	UnitPriceFen int64
	AmountFen    int64
	Category     string
	FixedAsset   bool
}

// Invoice is a supplier's invoice against the order.
type Invoice struct {
	ID            string
	Number        string
	InvoicedOn    string
	Lines         []InvoiceLine
	TotalFen      int64
	RequiredRoles []string
	Signers       map[string]string // role → subject
	Reimbursed    bool
	PolicyVersion string
	// Cancelled (作废) before reimbursement, with the reason.
	Cancelled    bool
	CancelReason string
	// Reverses is set on a red-letter invoice (红字发票): the invoice it reverses.
	Reverses string
	// ReversedBy is the red-letter invoice that reversed this one, once reimbursed.
	ReversedBy string
	// Corrects is the cancelled or reversed invoice this one replaces.
	Corrects string
}

// Counts reports whether the invoice's quantities count as invoiced: not cancelled, not
// reversed, and not itself a red-letter invoice.
func (inv Invoice) Counts() bool { return !inv.Cancelled && inv.ReversedBy == "" && inv.Reverses == "" }

// Registration is the asset registered from an accepted line.
type Registration struct {
	AssetID string
	Tag     string
}

// Fulfilment is what happened to a purchase order after it was placed (履约): its receipts,
// registrations and invoices. One stream per order.
type Fulfilment struct {
	OrderID    string
	SchoolID   string
	Receipts   []Receipt
	Invoices   []Invoice
	Registered map[string]Registration // acceptance line id →
	Closed     bool
	// Cancelled: the order's cancellation was recorded on this stream (no more deliveries or
	// invoices).
	Cancelled bool
}

func (f *Fulfilment) receipt(id string) *Receipt {
	for i := range f.Receipts {
		if f.Receipts[i].ID == id {
			return &f.Receipts[i]
		}
	}
	return nil
}

func (f *Fulfilment) invoice(id string) *Invoice {
	for i := range f.Invoices {
		if f.Invoices[i].ID == id {
			return &f.Invoices[i]
		}
	}
	return nil
}

// Receipt returns a receipt by id.
func (f Fulfilment) Receipt(id string) (Receipt, bool) {
	r := f.receipt(id)
	if r == nil {
		return Receipt{}, false
	}
	return *r, true
}

// Invoice returns an invoice by id.
func (f Fulfilment) Invoice(id string) (Invoice, bool) {
	i := f.invoice(id)
	if i == nil {
		return Invoice{}, false
	}
	return *i, true
}

// PolicyVersion is the policy a receipt or an invoice was recorded under: its signatures and
// reimbursement are judged by the same rules.
func (f Fulfilment) PolicyVersion(receiptOrInvoiceID string) string {
	if r := f.receipt(receiptOrInvoiceID); r != nil {
		return r.PolicyVersion
	}
	if inv := f.invoice(receiptOrInvoiceID); inv != nil {
		return inv.PolicyVersion
	}
	return ""
}

// Quantities of an order line: accepted on signed receipts, held by receipts still waiting
// for signatures, and invoiced.
func (f Fulfilment) Quantities(orderLineID string) (accepted, pending, invoiced int64) {
	for _, r := range f.Receipts {
		for _, l := range r.Lines {
			if l.OrderLineID != orderLineID {
				continue
			}
			if r.Accepted {
				accepted += l.Accepted
			} else {
				pending += l.Accepted
			}
		}
	}
	for _, inv := range f.Invoices {
		if !inv.Counts() {
			continue
		}
		for _, l := range inv.Lines {
			if l.OrderLineID == orderLineID {
				invoiced += l.Quantity
			}
		}
	}
	return
}

// AcceptedLine finds an accepted line of a signed receipt by its acceptance line id.
func (f Fulfilment) AcceptedLine(id string) (ReceiptLine, bool) {
	for _, r := range f.Receipts {
		if !r.Accepted {
			continue
		}
		for _, l := range r.Lines {
			if l.AcceptanceLineID == id && l.Accepted > 0 {
				return l, true
			}
		}
	}
	return ReceiptLine{}, false
}

// EvolveFulfilment folds one event into an order's fulfilment.
func EvolveFulfilment(f Fulfilment, m proto.Message) Fulfilment {
	switch e := m.(type) {
	case *eventsv1.DeliveryRecorded:
		if f.OrderID == "" {
			f.OrderID, f.SchoolID = e.PurchaseOrderId, e.SchoolId
		}
		r := Receipt{ID: e.ReceiptId, DeliveredOn: e.DeliveredOn, FundingSource: e.FundingSource, MinSigners: int(e.MinSigners),
			PolicyVersion: e.PolicyVersion}
		for _, l := range e.Lines {
			r.Lines = append(r.Lines, fromReceiptLine(l))
		}
		f.Receipts = append(append([]Receipt(nil), f.Receipts...), r)
	case *eventsv1.GoodsReceiptSigned:
		f.Receipts = append([]Receipt(nil), f.Receipts...)
		if r := f.receipt(e.ReceiptId); r != nil && !r.signed(e.Signer) {
			r.Signers = append(append([]string(nil), r.Signers...), e.Signer)
		}
	case *eventsv1.GoodsAccepted:
		f.Receipts = append([]Receipt(nil), f.Receipts...)
		if r := f.receipt(e.ReceiptId); r != nil {
			r.Accepted, r.AcceptedOn = true, e.AcceptedOn
		}
	case *eventsv1.AcceptedLineRegistered:
		reg := make(map[string]Registration, len(f.Registered)+1)
		for k, v := range f.Registered {
			reg[k] = v
		}
		reg[e.AcceptanceLineId] = Registration{AssetID: e.AssetId, Tag: e.Tag}
		f.Registered = reg
	case *eventsv1.OrderCancellationRecorded:
		if f.OrderID == "" {
			f.OrderID, f.SchoolID = e.PurchaseOrderId, e.SchoolId
		}
		f.Cancelled = true
	case *eventsv1.InvoiceCancelled:
		f.Invoices = append([]Invoice(nil), f.Invoices...)
		if inv := f.invoice(e.InvoiceId); inv != nil {
			inv.Cancelled, inv.CancelReason = true, e.Reason
		}
	case *eventsv1.InvoiceReversed:
		f.Invoices = append([]Invoice(nil), f.Invoices...)
		if inv := f.invoice(e.InvoiceId); inv != nil {
			inv.ReversedBy = e.ReversalInvoiceId
		}
		if inv := f.invoice(e.ReversalInvoiceId); inv != nil {
			inv.Reimbursed = true
		}
		f.Closed = false // open for the corrected invoice
	case *eventsv1.InvoiceRecorded:
		inv := Invoice{ID: e.InvoiceId, Number: e.InvoiceNumber, InvoicedOn: e.InvoicedOn, TotalFen: e.TotalFen,
			RequiredRoles: e.RequiredRoles, Signers: map[string]string{}, PolicyVersion: e.PolicyVersion,
			Reverses: e.ReversesInvoiceId, Corrects: e.CorrectsInvoiceId}
		for _, l := range e.Lines {
			inv.Lines = append(inv.Lines, InvoiceLine{OrderLineID: l.OrderLineId, Quantity: l.Quantity, UnitPriceFen: l.UnitPriceFen,
				AmountFen: l.AmountFen, Category: l.Category, FixedAsset: l.FixedAsset})
		}
		f.Invoices = append(append([]Invoice(nil), f.Invoices...), inv)
	case *eventsv1.InvoiceSigned:
		f.Invoices = append([]Invoice(nil), f.Invoices...)
		if inv := f.invoice(e.InvoiceId); inv != nil {
			s := make(map[string]string, len(inv.Signers)+1)
			for k, v := range inv.Signers {
				s[k] = v
			}
			s[e.Role] = e.Signer
			inv.Signers = s
		}
	case *eventsv1.InvoiceReimbursed:
		f.Invoices = append([]Invoice(nil), f.Invoices...)
		if inv := f.invoice(e.InvoiceId); inv != nil {
			inv.Reimbursed = true
		}
		f.Closed = f.Closed || e.OrderClosed
	}
	return f
}

func fromReceiptLine(l *eventsv1.ReceiptLine) ReceiptLine {
	return ReceiptLine{AcceptanceLineID: l.AcceptanceLineId, OrderLineID: l.OrderLineId, Name: l.Name, Category: l.Category,
		Model: l.Model, Unit: l.Unit, FixedAsset: l.FixedAsset, Delivered: l.DeliveredQuantity, Accepted: l.AcceptedQuantity,
		Rejected: l.RejectedQuantity, RejectionReason: l.RejectionReason, UnitPriceFen: l.UnitPriceFen,
		Location: l.Location, Custodian: l.Custodian, ItemCode: l.ItemCode}
}

func toReceiptLine(l ReceiptLine) *eventsv1.ReceiptLine {
	return &eventsv1.ReceiptLine{AcceptanceLineId: l.AcceptanceLineID, OrderLineId: l.OrderLineID, Name: l.Name, Category: l.Category,
		Model: l.Model, Unit: l.Unit, FixedAsset: l.FixedAsset, DeliveredQuantity: l.Delivered, AcceptedQuantity: l.Accepted,
		RejectedQuantity: l.Rejected, RejectionReason: l.RejectionReason, UnitPriceFen: l.UnitPriceFen,
		AcceptedFen: l.Accepted * l.UnitPriceFen, Location: l.Location, Custodian: l.Custodian, ItemCode: l.ItemCode}
}

// openOrder checks the order can still receive goods and invoices.
func openOrder(f Fulfilment, o PurchaseOrder) error {
	if !o.Placed {
		return errs.NotFound("purchase_order", o.ID)
	}
	if o.Status == OrderCancelled || f.Cancelled || f.Closed {
		return errs.Rule(ReasonOrderNotOpen, "订单已取消或已结清 / the order is cancelled or closed", "purchase_order_id", o.ID)
	}
	return nil
}

func orderLine(o PurchaseOrder, id string) (OrderLine, bool) {
	for _, l := range o.Lines {
		if l.LineID == id {
			return l, true
		}
	}
	return OrderLine{}, false
}

// DeliveryLine is what came for one order line.
type DeliveryLine struct {
	OrderLineID     string
	Delivered       int64
	Accepted        int64
	RejectionReason string
	Location        string
	Custodian       string
	ItemCode        string
	// AcceptanceLineID is minted by the caller (deterministic from the receipt).
	AcceptanceLineID string
}

// RecordDelivery 到货验收: one delivery and its goods receipt.
type RecordDelivery struct {
	ReceiptID     string
	DeliveredOn   string
	Lines         []DeliveryLine
	FundingSource string
	Note          string
	Actor         Actor
	Today         string
}

// DecideRecordDelivery decides a delivery against order o: every line is an order line, once;
// what is accepted is at most what was delivered, a rejection has a reason, an accepted
// fixed asset has a place and a keeper; and what all receipts accept (signed or waiting) stays
// within the ordered quantity.
func DecideRecordDelivery(f Fulfilment, o PurchaseOrder, c RecordDelivery, p Policy) ([]proto.Message, error) {
	var v errs.Violations
	if !ValidDate(c.DeliveredOn) {
		v.Add("delivered_on", "日期格式须为YYYY-MM-DD / date must be YYYY-MM-DD")
	} else if c.DeliveredOn > c.Today {
		v.Add("delivered_on", "到货日期不能晚于今天 / the delivery date cannot be in the future")
	}
	text(&v, "funding_source", c.FundingSource, 0, 60, "funding source")
	text(&v, "note", c.Note, 0, 200, "note")
	if len(c.Lines) == 0 {
		v.Add("lines", "至少一行 / at least one line")
	}
	seen := map[string]bool{}
	for i, l := range c.Lines {
		field := fmt.Sprintf("lines[%d]", i)
		ol, ok := orderLine(o, l.OrderLineID)
		switch {
		case o.Placed && !ok:
			v.Add(field+".order_line_id", "不是该订单的明细行 / not a line of the order")
		case seen[l.OrderLineID]:
			v.Add(field+".order_line_id", "同一明细行只能出现一次 / each order line once")
		}
		seen[l.OrderLineID] = true
		if l.Delivered <= 0 || l.Delivered > 1_000_000 {
			v.Add(field+".delivered_quantity", "到货数量须为1–1000000 / delivered quantity must be 1–1,000,000")
		}
		if l.Accepted < 0 || l.Accepted > l.Delivered {
			v.Add(field+".accepted_quantity", "合格数量须在0与到货数量之间 / accepted quantity must be between 0 and the delivered quantity")
		}
		if l.Accepted < l.Delivered {
			text(&v, field+".rejection_reason", l.RejectionReason, 2, 200, "rejection reason")
		} else {
			text(&v, field+".rejection_reason", l.RejectionReason, 0, 200, "rejection reason")
		}
		if ol.FixedAsset && l.Accepted > 0 {
			text(&v, field+".location", l.Location, 1, 100, "location")
			text(&v, field+".custodian", l.Custodian, 1, 60, "custodian")
		} else {
			text(&v, field+".location", l.Location, 0, 100, "location")
			text(&v, field+".custodian", l.Custodian, 0, 60, "custodian")
		}
		if ok && !ol.FixedAsset && l.Accepted > 0 {
			ValidItemCode(&v, field+".item_code", ItemCode(l.ItemCode))
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := openOrder(f, o); err != nil {
		return nil, err
	}
	if f.receipt(c.ReceiptID) != nil {
		return nil, nil // recorded before under this id
	}
	e := &eventsv1.DeliveryRecorded{PurchaseOrderId: o.ID, ReceiptId: c.ReceiptID, SchoolId: o.SchoolID, SupplierId: o.SupplierID,
		Department: o.Department, FundingSource: c.FundingSource, DeliveredOn: c.DeliveredOn, RecordedBy: c.Actor.Subject,
		MinSigners: int32(p.AcceptanceMinSigners), PolicyVersion: p.Version, Note: c.Note}
	for _, l := range c.Lines {
		ol, _ := orderLine(o, l.OrderLineID)
		accepted, pending, _ := f.Quantities(l.OrderLineID)
		if accepted+pending+l.Accepted > ol.Quantity {
			return nil, errs.Rule(ReasonDeliveryExceedsOrder,
				fmt.Sprintf("「%s」订购%d，已验收%d、待签%d，本次不能再收%d / line %s: %d ordered, %d accepted and %d awaiting signatures; %d more is too many",
					ol.Name, ol.Quantity, accepted, pending, l.Accepted, ol.LineID, ol.Quantity, accepted, pending, l.Accepted),
				"order_line_id", ol.LineID, "ordered", strconv.FormatInt(ol.Quantity, 10),
				"accepted", strconv.FormatInt(accepted+pending, 10))
		}
		rl := ReceiptLine{AcceptanceLineID: l.AcceptanceLineID, OrderLineID: ol.LineID, Name: ol.Name, Category: ol.Category,
			Model: ol.Model, Unit: ol.Unit, FixedAsset: ol.FixedAsset, Delivered: l.Delivered, Accepted: l.Accepted,
			Rejected: l.Delivered - l.Accepted, RejectionReason: l.RejectionReason, UnitPriceFen: ol.UnitPriceFen,
			Location: l.Location, Custodian: l.Custodian}
		if !ol.FixedAsset && l.Accepted > 0 {
			rl.ItemCode = ItemCode(l.ItemCode)
		}
		e.Lines = append(e.Lines, toReceiptLine(rl))
	}
	return []proto.Message{e}, nil
}

// DecideSignGoodsReceipt records the actor's signature on a receipt. The same person signing
// again counts once and records nothing; when the receipt reaches its number of different
// signers, the goods are accepted on today.
func DecideSignGoodsReceipt(f Fulfilment, o PurchaseOrder, receiptID string, actor Actor, today string) ([]proto.Message, error) {
	r := f.receipt(receiptID)
	if r == nil {
		return nil, errs.NotFound("goods_receipt", receiptID)
	}
	if r.signed(actor.Subject) {
		return nil, nil // the same person twice counts once
	}
	if r.Accepted {
		return nil, errs.Rule(ReasonReceiptAccepted, "入库单已验收完毕 / the goods receipt is accepted already", "receipt_id", receiptID)
	}
	if err := openOrder(f, o); err != nil {
		return nil, err
	}
	n := len(r.Signers) + 1
	out := []proto.Message{&eventsv1.GoodsReceiptSigned{PurchaseOrderId: f.OrderID, ReceiptId: r.ID, Signer: actor.Subject,
		SignerName: actor.Name, SignedOn: today, Signers: int32(n)}}
	if n < r.MinSigners {
		return out, nil
	}
	e := &eventsv1.GoodsAccepted{PurchaseOrderId: f.OrderID, ReceiptId: r.ID, SchoolId: o.SchoolID, SupplierId: o.SupplierID,
		Department: o.Department, FundingSource: r.FundingSource, AcceptedOn: today, Signers: append(append([]string(nil), r.Signers...), actor.Subject)}
	for _, l := range r.Lines {
		e.Lines = append(e.Lines, toReceiptLine(l))
		e.AcceptedFen += l.Accepted * l.UnitPriceFen
	}
	return append(out, e), nil
}

// DecideRecordLineRegistered records that the assets service registered the asset of an
// accepted line. A line registered before records nothing.
func DecideRecordLineRegistered(f Fulfilment, lineID string, reg Registration) ([]proto.Message, error) {
	if _, ok := f.AcceptedLine(lineID); !ok {
		return nil, errs.NotFound("acceptance_line", lineID)
	}
	if _, ok := f.Registered[lineID]; ok {
		return nil, nil
	}
	return []proto.Message{&eventsv1.AcceptedLineRegistered{PurchaseOrderId: f.OrderID, AcceptanceLineId: lineID,
		AssetId: reg.AssetID, Tag: reg.Tag}}, nil
}

// RecordInvoice 发票登记.
type RecordInvoice struct {
	InvoiceID  string
	Number     string
	InvoicedOn string
	Lines      []InvoiceLine // order line, quantity and unit price as printed
	TotalFen   int64
	Actor      Actor
	Today      string
	// Reverses makes this a red-letter invoice (红字发票) of the reimbursed invoice with this id.
	Reverses string
	// Corrects is the cancelled or reversed invoice this one replaces (optional).
	Corrects string
}

// DecideRecordInvoice decides an invoice by three-way match: each line's unit price is the
// order's, its quantity at most what was accepted and not yet invoiced, and the printed total
// the sum of the lines. A mismatch is refused naming the line.
func DecideRecordInvoice(f Fulfilment, o PurchaseOrder, c RecordInvoice, p Policy) ([]proto.Message, error) {
	var v errs.Violations
	text(&v, "invoice_number", c.Number, 1, 40, "invoice number")
	if !ValidDate(c.InvoicedOn) {
		v.Add("invoiced_on", "日期格式须为YYYY-MM-DD / date must be YYYY-MM-DD")
	} else if c.InvoicedOn > c.Today {
		v.Add("invoiced_on", "开票日期不能晚于今天 / the invoice date cannot be in the future")
	}
	if len(c.Lines) == 0 {
		v.Add("lines", "至少一行 / at least one line")
	}
	seen := map[string]bool{}
	for i, l := range c.Lines {
		field := fmt.Sprintf("lines[%d]", i)
		if _, ok := orderLine(o, l.OrderLineID); o.Placed && !ok {
			v.Add(field+".order_line_id", "不是该订单的明细行 / not a line of the order")
		} else if seen[l.OrderLineID] {
			v.Add(field+".order_line_id", "同一明细行只能出现一次 / each order line once")
		}
		seen[l.OrderLineID] = true
		if l.Quantity <= 0 || l.Quantity > 1_000_000 {
			v.Add(field+".quantity", "数量须为1–1000000 / quantity must be 1–1,000,000")
		}
		if l.UnitPriceFen <= 0 || l.UnitPriceFen > MaxAmountFen {
			v.Add(field+".unit_price_fen", "单价须大于0且不超过1亿元 / unit price must be above 0 and at most 100,000,000 yuan")
		}
	}
	if c.TotalFen <= 0 || c.TotalFen > MaxAmountFen {
		v.Add("total_fen", "金额须大于0且不超过1亿元 / total must be above 0 and at most 100,000,000 yuan")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if f.invoice(c.InvoiceID) != nil {
		return nil, nil
	}
	if c.Reverses == "" {
		if err := openOrder(f, o); err != nil {
			return nil, err
		}
	} else if !o.Placed {
		return nil, errs.NotFound("purchase_order", o.ID)
	} else if o.Status == OrderCancelled || f.Cancelled {
		// A closed order takes a red-letter invoice: correcting a reimbursed invoice reopens it.
		return nil, errs.Rule(ReasonOrderNotOpen, "订单已取消 / the order is cancelled", "purchase_order_id", o.ID)
	}
	for _, inv := range f.Invoices {
		if inv.Number == c.Number {
			return nil, errs.Rule(ReasonInvoiceNumberTaken, "该发票号码已登记 / the invoice number is recorded already", "invoice_number", c.Number)
		}
	}
	if c.Corrects != "" {
		old := f.invoice(c.Corrects)
		if old == nil {
			return nil, errs.NotFound("invoice", c.Corrects)
		}
		if !old.Cancelled && old.ReversedBy == "" {
			return nil, errs.Rule(ReasonNothingToCorrect, "被更正的发票须已作废或已红冲 / the invoice corrected must be cancelled or reversed first",
				"corrects_invoice_id", c.Corrects)
		}
	}
	var orig *Invoice
	if c.Reverses != "" {
		if orig = f.invoice(c.Reverses); orig == nil {
			return nil, errs.NotFound("invoice", c.Reverses)
		}
		if err := reversible(f, *orig); err != nil {
			return nil, err
		}
	}
	e := &eventsv1.InvoiceRecorded{PurchaseOrderId: o.ID, InvoiceId: c.InvoiceID, InvoiceNumber: c.Number, InvoicedOn: c.InvoicedOn,
		TotalFen: c.TotalFen, RecordedBy: c.Actor.Subject, RequiredRoles: p.InvoiceSignerRoles, PolicyVersion: p.Version,
		ReversesInvoiceId: c.Reverses, CorrectsInvoiceId: c.Corrects}
	var sum int64
	for _, l := range c.Lines {
		ol, _ := orderLine(o, l.OrderLineID)
		if l.UnitPriceFen != ol.UnitPriceFen {
			return nil, errs.Rule(ReasonInvoicePriceMismatch,
				fmt.Sprintf("「%s」发票单价%s元，订单单价%s元 / line %s: invoiced at %s yuan, ordered at %s",
					ol.Name, Yuan(l.UnitPriceFen), Yuan(ol.UnitPriceFen), ol.LineID, Yuan(l.UnitPriceFen), Yuan(ol.UnitPriceFen)),
				"order_line_id", ol.LineID, "invoice_unit_price_fen", strconv.FormatInt(l.UnitPriceFen, 10),
				"order_unit_price_fen", strconv.FormatInt(ol.UnitPriceFen, 10))
		}
		if orig != nil {
			if q := orig.quantity(ol.LineID); l.Quantity != q {
				return nil, reversalMismatch(*orig, fmt.Sprintf("「%s」红字发票数量%d，原发票%d / line %s: %d on the red-letter invoice, %d on the original",
					ol.Name, l.Quantity, q, ol.LineID, l.Quantity, q))
			}
		} else {
			accepted, _, invoiced := f.Quantities(ol.LineID)
			if l.Quantity > accepted-invoiced {
				return nil, errs.Rule(ReasonInvoiceQuantityMismatch,
					fmt.Sprintf("「%s」发票数量%d，已验收%d、已开票%d / line %s: %d invoiced, %d accepted and %d invoiced before",
						ol.Name, l.Quantity, accepted, invoiced, ol.LineID, l.Quantity, accepted, invoiced),
					"order_line_id", ol.LineID, "quantity", strconv.FormatInt(l.Quantity, 10),
					"accepted_not_invoiced", strconv.FormatInt(accepted-invoiced, 10))
			}
		}
		amount := l.Quantity * l.UnitPriceFen
		sum += amount
		e.Lines = append(e.Lines, &eventsv1.InvoiceLine{OrderLineId: ol.LineID, Quantity: l.Quantity, UnitPriceFen: l.UnitPriceFen,
			AmountFen: amount, Category: ol.Category, FixedAsset: ol.FixedAsset})
	}
	if orig != nil && len(c.Lines) != len(orig.Lines) {
		return nil, reversalMismatch(*orig, fmt.Sprintf("红字发票须冲销原发票全部%d行 / a red-letter invoice reverses all %d lines of the original",
			len(orig.Lines), len(orig.Lines)))
	}
	if sum != c.TotalFen {
		return nil, errs.Rule(ReasonInvoiceTotalMismatch,
			fmt.Sprintf("发票合计%s元，明细之和%s元 / the invoice total %s yuan is not the sum of its lines, %s", Yuan(c.TotalFen), Yuan(sum), Yuan(c.TotalFen), Yuan(sum)),
			"total_fen", strconv.FormatInt(c.TotalFen, 10), "lines_fen", strconv.FormatInt(sum, 10))
	}
	return []proto.Message{e}, nil
}

func (inv Invoice) quantity(orderLineID string) int64 {
	var n int64
	for _, l := range inv.Lines {
		if l.OrderLineID == orderLineID {
			n += l.Quantity
		}
	}
	return n
}

func reversalMismatch(orig Invoice, msg string) error {
	return errs.Rule(ReasonReversalMismatch, msg, "reverses_invoice_id", orig.ID, "original_total_fen", strconv.FormatInt(orig.TotalFen, 10))
}

// reversible checks that orig may be reversed by a red-letter invoice: reimbursed, not
// cancelled, not a red-letter invoice itself, and not reversed or being reversed.
func reversible(f Fulfilment, orig Invoice) error {
	switch {
	case orig.Cancelled:
		return errs.Rule(ReasonInvoiceCancelled, "该发票已作废 / the invoice is cancelled", "invoice_id", orig.ID)
	case orig.Reverses != "":
		return errs.Rule(ReasonReversalMismatch, "红字发票不能再红冲 / a red-letter invoice cannot be reversed", "invoice_id", orig.ID)
	case !orig.Reimbursed:
		return errs.Rule(ReasonInvoiceNotReimbursed, "该发票尚未报账，应作废而不是红冲 / the invoice is not reimbursed: cancel it instead",
			"invoice_id", orig.ID)
	case orig.ReversedBy != "":
		return errs.Rule(ReasonInvoiceAlreadyReversed, "该发票已红冲 / the invoice is reversed already", "invoice_id", orig.ID,
			"reversal_invoice_id", orig.ReversedBy)
	}
	for _, inv := range f.Invoices {
		if inv.Reverses == orig.ID && !inv.Cancelled {
			return errs.Rule(ReasonInvoiceAlreadyReversed, "该发票已有红字发票 / a red-letter invoice for it is recorded already",
				"invoice_id", orig.ID, "reversal_invoice_id", inv.ID)
		}
	}
	return nil
}

// CancelInvoice 发票作废.
type CancelInvoice struct {
	InvoiceID string
	Reason    string
	Actor     Actor
	Today     string
}

// DecideCancelInvoice cancels an invoice not yet reimbursed; a reimbursed one is refused
// (INVOICE_ALREADY_REIMBURSED: reverse it with a red-letter invoice). Cancelling a cancelled
// invoice records nothing. A cancelled invoice no longer counts as invoiced, so a corrected
// one can be recorded for its quantities.
func DecideCancelInvoice(f Fulfilment, o PurchaseOrder, c CancelInvoice) ([]proto.Message, error) {
	var v errs.Violations
	text(&v, "reason", c.Reason, 2, 200, "reason")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !o.Placed {
		return nil, errs.NotFound("purchase_order", o.ID)
	}
	inv := f.invoice(c.InvoiceID)
	if inv == nil {
		return nil, errs.NotFound("invoice", c.InvoiceID)
	}
	if inv.Cancelled {
		return nil, nil
	}
	if inv.Reimbursed {
		return nil, errs.Rule(ReasonInvoiceReimbursed,
			"发票已报账，不能作废；须开具红字发票冲销 / the invoice is reimbursed: it cannot be cancelled, only reversed by a red-letter invoice",
			"invoice_id", inv.ID)
	}
	return []proto.Message{&eventsv1.InvoiceCancelled{PurchaseOrderId: f.OrderID, InvoiceId: inv.ID, InvoiceNumber: inv.Number,
		AmountFen: inv.TotalFen, Reason: c.Reason, CancelledBy: c.Actor.Subject, CancelledOn: c.Today}}, nil
}

// DecideRecordCancellation records on the fulfilment stream that the order is being
// cancelled: refused once goods or invoices were recorded or the order closed, so a delivery
// and a cancellation of the same moment are decided one after the other on this stream and
// never both pass. Recorded before: nothing new.
func DecideRecordCancellation(f Fulfilment, o PurchaseOrder, reason string, actor Actor, today string) ([]proto.Message, error) {
	if f.Cancelled {
		return nil, nil
	}
	if _, err := DecideCancelPurchaseOrder(o, f, reason, actor, today); err != nil {
		return nil, err
	}
	return []proto.Message{&eventsv1.OrderCancellationRecorded{PurchaseOrderId: o.ID, SchoolId: o.SchoolID, Reason: reason,
		CancelledBy: actor.Subject, CancelledOn: today}}, nil
}

// DecideSignInvoice records the actor's signature in role. Each role is signed by one person
// and each person signs in one role: the invoice needs as many different people as roles.
func DecideSignInvoice(f Fulfilment, invoiceID, role string, actor Actor, today string) ([]proto.Message, error) {
	inv := f.invoice(invoiceID)
	if inv == nil {
		return nil, errs.NotFound("invoice", invoiceID)
	}
	if inv.Cancelled {
		return nil, errs.Rule(ReasonInvoiceCancelled, "该发票已作废 / the invoice is cancelled", "invoice_id", invoiceID)
	}
	known := false
	for _, r := range inv.RequiredRoles {
		known = known || r == role
	}
	if !known {
		return nil, errs.Invalid("role", "须为经手人、验收人或审核人 / role must be handler, inspector or auditor")
	}
	if who, ok := inv.Signers[role]; ok {
		if who == actor.Subject {
			return nil, nil
		}
		return nil, errs.Rule(ReasonInvoiceRoleSigned, fmt.Sprintf("%s已签字 / the %s has signed already", InvoiceRoleNames[role], role), "role", role)
	}
	for r, who := range inv.Signers {
		if who == actor.Subject {
			return nil, errs.Rule(ReasonInvoiceSignerRepeated,
				fmt.Sprintf("同一人不能既是%s又是%s / one person cannot sign as both %s and %s", InvoiceRoleNames[r], InvoiceRoleNames[role], r, role),
				"role", role, "signed_as", r)
		}
	}
	return []proto.Message{&eventsv1.InvoiceSigned{PurchaseOrderId: f.OrderID, InvoiceId: invoiceID, Role: role,
		Signer: actor.Subject, SignerName: actor.Name, SignedOn: today}}, nil
}

// Reimbursement is what ReimburseInvoice spends: the amount by category, for the budget line.
type Reimbursement struct {
	AmountFen  int64
	Categories []CategoryAmount
	Repeated   bool // reimbursed before: nothing to do
	// Reverses is set when the invoice is a red-letter invoice: the original invoice whose
	// spend the budget line must reverse (instead of recording a spend).
	Reverses string
}

// DecideReimburseInvoice decides 报账 of an invoice: signed in every required role, and every
// fixed-asset line it bills registered in the assets service (all accepted lines of that
// order line). The returned Reimbursement is what the budget line must record first.
func DecideReimburseInvoice(f Fulfilment, o PurchaseOrder, invoiceID string, closeOrder bool, actor Actor, today string) ([]proto.Message, Reimbursement, error) {
	inv := f.invoice(invoiceID)
	if inv == nil {
		return nil, Reimbursement{}, errs.NotFound("invoice", invoiceID)
	}
	if inv.Reimbursed {
		return nil, Reimbursement{Repeated: true, AmountFen: inv.TotalFen, Reverses: inv.Reverses}, nil
	}
	if inv.Cancelled {
		return nil, Reimbursement{}, errs.Rule(ReasonInvoiceCancelled, "该发票已作废 / the invoice is cancelled", "invoice_id", invoiceID)
	}
	var orig *Invoice
	if inv.Reverses != "" {
		if !o.Placed {
			return nil, Reimbursement{}, errs.NotFound("purchase_order", o.ID)
		}
		if orig = f.invoice(inv.Reverses); orig == nil || !orig.Reimbursed || orig.ReversedBy != "" {
			return nil, Reimbursement{}, errs.Rule(ReasonInvoiceAlreadyReversed, "原发票已冲销或未报账 / the original invoice is reversed already or not reimbursed",
				"invoice_id", inv.Reverses)
		}
	} else if err := openOrder(f, o); err != nil {
		return nil, Reimbursement{}, err
	}
	var missing []string
	for _, r := range inv.RequiredRoles {
		if _, ok := inv.Signers[r]; !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		names := ""
		for _, r := range missing {
			names += InvoiceRoleNames[r]
		}
		return nil, Reimbursement{}, errs.Rule(ReasonInvoiceNeedsSigners,
			fmt.Sprintf("发票须经手人、验收人、审核人签字方有效，尚缺：%s / the invoice needs every signature; missing: %v", names, missing),
			"missing", fmt.Sprint(missing))
	}
	for _, l := range inv.Lines {
		if !l.FixedAsset || orig != nil {
			continue
		}
		for _, r := range f.Receipts {
			if !r.Accepted {
				continue
			}
			for _, rl := range r.Lines {
				if rl.OrderLineID != l.OrderLineID || rl.Accepted == 0 {
					continue
				}
				if _, ok := f.Registered[rl.AcceptanceLineID]; !ok {
					return nil, Reimbursement{}, errs.Rule(ReasonAssetNotRegistered,
						fmt.Sprintf("「%s」尚未在资产账登记，不能报账 / line %s: its assets are not registered yet", rl.Name, rl.OrderLineID),
						"order_line_id", rl.OrderLineID, "acceptance_line_id", rl.AcceptanceLineID)
				}
			}
		}
	}
	re := Reimbursement{AmountFen: inv.TotalFen}
	byCat := map[string]int64{}
	var cats []string
	for _, l := range inv.Lines {
		if _, ok := byCat[l.Category]; !ok {
			cats = append(cats, l.Category)
		}
		byCat[l.Category] += l.AmountFen
	}
	for _, c := range cats {
		re.Categories = append(re.Categories, CategoryAmount{Category: c, AmountFen: byCat[c]})
	}
	if orig != nil {
		re.Reverses = orig.ID
		return []proto.Message{&eventsv1.InvoiceReversed{PurchaseOrderId: f.OrderID, InvoiceId: orig.ID, ReversalInvoiceId: inv.ID,
			BudgetLineId: o.BudgetLineID, AmountFen: inv.TotalFen, ReversedOn: today, ReversedBy: actor.Subject}}, re, nil
	}
	return []proto.Message{&eventsv1.InvoiceReimbursed{PurchaseOrderId: f.OrderID, InvoiceId: inv.ID, BudgetLineId: o.BudgetLineID,
		AmountFen: inv.TotalFen, ReimbursedOn: today, ReimbursedBy: actor.Subject, OrderClosed: closeOrder}}, re, nil
}
