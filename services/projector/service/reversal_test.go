package service_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/testkit"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	pv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

// A reimbursed invoice reversed by a red-letter invoice (红字冲销) and replaced by a corrected
// one: the spend counts once, in the months as it happened; the red-letter invoice is a
// reimbursed document whose signatures compliance checks; a cancelled invoice is none.
func TestProcurementReversal(t *testing.T) {
	e := start(t)
	e.publish("s1", 1, &assetsv1.SchoolRegistered{SchoolId: "s1", Name: "一小", Kind: "primary"}, uuid.New())
	p := e.publishProcurement
	cats := func(fen int64) []*pv1.CategoryAmount {
		return []*pv1.CategoryAmount{{Category: "office", AmountFen: fen}}
	}
	p(t, "s1", "budget:L1", 1, &pv1.BudgetLineOpened{BudgetLineId: "L1", SchoolId: "s1", FiscalYear: 2025, Code: "A01", Name: "办公费", AmountFen: 1_000_000})
	p(t, "s1", "budget:L1", 2, &pv1.BudgetCommitted{BudgetLineId: "L1", PurchaseOrderId: "O1", AmountFen: 300_000})
	p(t, "s1", "budget:L1", 3, &pv1.BudgetSpent{BudgetLineId: "L1", PurchaseOrderId: "O1", InvoiceId: "I1", AmountFen: 300_000,
		FromCommitmentFen: 300_000, SpentOn: "2025-03-15", Categories: cats(300_000)})
	reversed := &pv1.BudgetSpendReversed{BudgetLineId: "L1", PurchaseOrderId: "O1", InvoiceId: "I1", ReversalInvoiceId: "R1",
		AmountFen: 300_000, ReversedOn: "2025-04-02", Categories: cats(300_000)}
	p(t, "s1", "budget:L1", 4, reversed)
	p(t, "s1", "budget:L1", 4, reversed) // again: counts once
	p(t, "s1", "budget:L1", 5, &pv1.BudgetSpent{BudgetLineId: "L1", PurchaseOrderId: "O1", InvoiceId: "I2", AmountFen: 280_000,
		SpentOn: "2025-04-03", Categories: cats(280_000)})
	v := int64(0)
	sign := func(inv string, who ...string) {
		for i, role := range []string{"handler", "inspector", "auditor"} {
			v++
			p(t, "s1", "fulfilment:O1", v, &pv1.InvoiceSigned{PurchaseOrderId: "O1", InvoiceId: inv, Role: role, Signer: who[i]})
		}
	}
	sign("I1", "a", "b", "c")
	sign("R1", "a", "b", "a") // the red-letter invoice signed by two people only
	sign("I2", "a", "b", "c")
	sign("I3", "a", "b", "c")
	p(t, "s1", "fulfilment:O1", v+1, &pv1.InvoiceReimbursed{PurchaseOrderId: "O1", InvoiceId: "I1"})
	p(t, "s1", "fulfilment:O1", v+2, &pv1.InvoiceReversed{PurchaseOrderId: "O1", InvoiceId: "I1", ReversalInvoiceId: "R1", BudgetLineId: "L1", AmountFen: 300_000})
	p(t, "s1", "fulfilment:O1", v+3, &pv1.InvoiceCancelled{PurchaseOrderId: "O1", InvoiceId: "I3", Reason: "抬头错误"})
	p(t, "s1", "fulfilment:O1", v+4, &pv1.InvoiceReimbursed{PurchaseOrderId: "O1", InvoiceId: "I2"})

	dir := testkit.Ctx(e.auth.Token(t, auth.RoleLogisticsDirector, "s1"))
	var b *reportsv1.GetBudgetSpendResponse
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		var err error
		b, err = e.reports.GetBudgetSpend(dir, &reportsv1.GetBudgetSpendRequest{SchoolId: "s1", FiscalYear: 2025})
		c, cerr := e.reports.GetProcurementCompliance(dir, &reportsv1.GetProcurementComplianceRequest{SchoolId: "s1"})
		return err == nil && cerr == nil && b.SpentFen == 280_000 && len(c.Schools) == 1 && c.Schools[0].InvoicesReimbursed == 3, "not caught up"
	})
	if l := b.Lines[0]; l.CommittedFen != 0 || l.SpentFen != 280_000 || l.AvailableFen != 720_000 {
		t.Fatalf("line %v", l)
	}
	if len(b.Months) != 2 || b.Months[0].Month != "2025-03" || b.Months[0].SpentFen != 300_000 || b.Months[1].Month != "2025-04" || b.Months[1].SpentFen != -20_000 {
		t.Fatalf("months %v", b.Months)
	}
	if len(b.Categories) != 1 || b.Categories[0].SpentFen != 280_000 {
		t.Fatalf("categories %v", b.Categories)
	}
	c, err := e.reports.GetProcurementCompliance(dir, &reportsv1.GetProcurementComplianceRequest{SchoolId: "s1"})
	if err != nil || c.Schools[0].InvoicesReimbursed != 3 || c.Schools[0].InvoicesThreeSigned != 2 {
		t.Fatalf("compliance %v %v", c, err)
	}
}
