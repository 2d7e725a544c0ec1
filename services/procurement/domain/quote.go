package domain

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

// Reasons of quote refusals (货比三家).
const (
	// The supplier quoted for the request already: quotes must come from different suppliers.
	ReasonSupplierAlreadyQuoted errs.Reason = "QUOTE_SUPPLIER_ALREADY_QUOTED"
	// Fewer quotes from different suppliers than the policy needs for the request's amount.
	ReasonQuotesInsufficient errs.Reason = "QUOTES_INSUFFICIENT"
	// The chosen quote is not the cheapest and no reason was given.
	ReasonChoiceNeedsReason errs.Reason = "QUOTE_NOT_CHEAPEST_NEEDS_REASON"
	// At the quote's prices the request would need an approval step it did not get (a unit
	// price or total above what was approved): submit a new request.
	ReasonQuoteExceedsApproval errs.Reason = "QUOTE_EXCEEDS_APPROVAL"
)

// AddQuote records a supplier's quote for a request.
type AddQuote struct {
	QuoteID       string
	Supplier      Supplier
	UnitPricesFen []int64
	Note          string
}

// DecideAddQuote decides AddQuote on day today: the supplier must be usable that day and not
// have quoted for the request before.
func DecideAddQuote(r PurchaseRequest, c AddQuote, today string) ([]proto.Message, error) {
	var v errs.Violations
	if r.Submitted && len(c.UnitPricesFen) != len(r.Lines) {
		v.Addf("unit_prices_fen", "须为每一项报价（共%d项）/ one unit price per request line (%d)", len(r.Lines), len(r.Lines))
	}
	var total int64
	for i, p := range c.UnitPricesFen {
		if p <= 0 || p > MaxAmountFen {
			v.Add(fmt.Sprintf("unit_prices_fen[%d]", i), "单价须大于0且不超过1亿元 / unit price must be above 0 and at most 100,000,000 yuan")
		} else if i < len(r.Lines) {
			total += p * r.Lines[i].Quantity
		}
	}
	text(&v, "note", c.Note, 0, 200, "note")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !r.Submitted {
		return nil, errs.NotFound("purchase_request", r.ID)
	}
	if r.Status == RequestRejected {
		return nil, errs.Rule(ReasonRequestRejected, "该申请已被驳回 / the request was rejected")
	}
	if err := c.Supplier.UsableOn(today); err != nil {
		return nil, err
	}
	for _, q := range r.Quotes {
		if q.SupplierID == c.Supplier.ID {
			return nil, errs.Rule(ReasonSupplierAlreadyQuoted, "该供应商已报价，货比三家须为不同供应商 / the supplier has quoted already; quotes must come from different suppliers",
				"supplier_id", c.Supplier.ID, "quote_id", q.ID)
		}
	}
	return []proto.Message{&eventsv1.QuoteAdded{PurchaseRequestId: r.ID, QuoteId: c.QuoteID, SupplierId: c.Supplier.ID,
		SupplierName: c.Supplier.Name, UnitPricesFen: c.UnitPricesFen, TotalFen: total, QuotedOn: today, Note: c.Note}}, nil
}

// DecideChooseQuote chooses a quote under p, the policy the request was judged against at
// submission. The rules are judged on the quote's real prices as well as the estimate: three
// quotes from different suppliers when either is above the policy amount, and no quote whose
// prices would have needed an approval step the request did not get.
func DecideChooseQuote(r PurchaseRequest, quoteID, reason string, actor Actor, p Policy) ([]proto.Message, error) {
	var v errs.Violations
	text(&v, "reason", reason, 0, 200, "reason")
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !r.Submitted {
		return nil, errs.NotFound("purchase_request", r.ID)
	}
	if r.Status == RequestRejected {
		return nil, errs.Rule(ReasonRequestRejected, "该申请已被驳回 / the request was rejected")
	}
	q, ok := r.Quote(quoteID)
	if !ok {
		return nil, errs.NotFound("quote", quoteID)
	}
	suppliers := map[string]bool{}
	cheapest := q.TotalFen
	for _, x := range r.Quotes {
		suppliers[x.SupplierID] = true
		cheapest = min(cheapest, x.TotalFen)
	}
	priced := append([]RequestLine(nil), r.Lines...)
	for i := range priced {
		priced[i].EstimatedUnitPriceFen = q.UnitPricesFen[i]
	}
	if need := ApprovalChain(priced, q.TotalFen, r.GovernmentProcurement, p); len(need) > len(r.Chain) {
		return nil, errs.Rule(ReasonQuoteExceedsApproval,
			fmt.Sprintf("按此报价须经%s审批，超出已批准的范围，请重新申请 / at these prices the request needs approval by %s: submit a new request",
				roleName(need[len(need)-1].Role), need[len(need)-1].Role),
			"required_step", need[len(need)-1].Step, "policy_version", p.Version)
	}
	required, minQuotes := r.QuotesRequired, r.MinQuotes
	if q.TotalFen > p.QuoteThresholdFen {
		required, minQuotes = true, max(minQuotes, int32(p.MinQuotes))
	}
	if required && len(suppliers) < int(minQuotes) {
		return nil, errs.Rule(ReasonQuotesInsufficient,
			fmt.Sprintf("超过%s元须货比三家：至少%d家供应商报价，现有%d家 / above %s yuan at least %d quotes from different suppliers are needed, there are %d",
				Yuan(p.QuoteThresholdFen), minQuotes, len(suppliers), Yuan(p.QuoteThresholdFen), minQuotes, len(suppliers)),
			"min_quotes", itoa(int64(minQuotes)), "quotes", itoa(int64(len(suppliers))), "policy_version", p.Version)
	}
	if q.TotalFen > cheapest && reason == "" {
		return nil, errs.Rule(ReasonChoiceNeedsReason, "所选报价不是最低价，须说明理由 / the chosen quote is not the cheapest: a reason is required",
			"cheapest_total_fen", itoa(cheapest), "total_fen", itoa(q.TotalFen))
	}
	return []proto.Message{&eventsv1.QuoteChosen{PurchaseRequestId: r.ID, QuoteId: q.ID, SupplierId: q.SupplierID, TotalFen: q.TotalFen,
		Cheapest: q.TotalFen == cheapest, CheapestTotalFen: cheapest, Quotes: int32(len(r.Quotes)), DistinctSuppliers: int32(len(suppliers)),
		QuotesRequired: required, MinQuotes: minQuotes, Reason: reason, ChosenBy: actor.Subject}}, nil
}
