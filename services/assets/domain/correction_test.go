package domain

import (
	"testing"

	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

func TestCorrectRegistration(t *testing.T) {
	a := given(registered()) // 4,599 yuan computer, category 2, 2024-09-01
	ev, err := DecideCorrectRegistration(a, CorrectRegistration{Reason: "发票金额录错", UnitPriceFen: 89900, Category: "201",
		AcquiredOn: "2024-08-30"}, rulesAt(day("2024-08-30")))
	if err != nil {
		t.Fatal(err)
	}
	c := ev[0].(*eventsv1.AssetRegistrationCorrected)
	if c.Before.UnitPriceFen != 459900 || !c.Before.FixedAsset || c.Before.DepreciationMonths != 72 || c.Before.Category != "2" ||
		c.After.UnitPriceFen != 89900 || c.After.FixedAsset || c.After.DepreciationMonths != 0 || c.After.Category != "201" ||
		c.After.AcquiredOn != "2024-08-30" || c.After.Name != "台式计算机" || c.CorrectedOn != "2025-03-10" || c.Reason != "发票金额录错" {
		t.Fatalf("correction %v", c)
	}
	fixed := EvolveAsset(a, c)
	if fixed.UnitPriceFen != 89900 || fixed.FixedAsset || fixed.Category != "201" || fixed.Tag != a.Tag || fixed.Location != a.Location {
		t.Fatalf("after correction %+v", fixed)
	}
	// Quantity up: judged again, fixed asset again with its category's life.
	ev, err = DecideCorrectRegistration(fixed, CorrectRegistration{Reason: "单价更正", UnitPriceFen: 459900}, rulesAt(day("2024-08-30")))
	if err != nil {
		t.Fatal(err)
	}
	if c := ev[0].(*eventsv1.AssetRegistrationCorrected); !c.After.FixedAsset || c.After.DepreciationMonths != 72 || c.After.LifeVersion != "201@2017-01-01" {
		t.Fatalf("second correction %v", c.After)
	}

	_, err = DecideCorrectRegistration(a, CorrectRegistration{Reason: "无变化", Name: "台式计算机"}, rulesAt(day("2024-09-01")))
	wantReason(t, err, ReasonCorrectionNoChange)
	_, err = DecideCorrectRegistration(a, CorrectRegistration{Reason: "", UnitPriceFen: -1, Category: "99", AcquiredOn: "2030-01-01"}, rulesAt(today))
	wantViolations(t, err, "reason", "unit_price_fen", "category", "acquired_on")
	_, err = DecideCorrectRegistration(given(), CorrectRegistration{Reason: "更正", Quantity: 2}, rulesAt(today))
	if err == nil {
		t.Fatal("correction of an unregistered asset")
	}

	ev, err = DecideReverseRegistration(a, "重复登记", today)
	if err != nil {
		t.Fatal(err)
	}
	r := ev[0].(*eventsv1.AssetRegistrationReversed)
	if r.Before.UnitPriceFen != 459900 || r.ReversedOn != "2025-03-10" {
		t.Fatalf("reversal %v", r)
	}
	gone := EvolveAsset(a, r)
	if gone.InLedger() {
		t.Fatal("a reversed registration is still in the ledger")
	}
	_, err = DecideReverseRegistration(gone, "再次冲销", today)
	wantReason(t, err, ReasonRegistrationReversed)
	_, err = DecideCorrectRegistration(gone, CorrectRegistration{Reason: "更正", Quantity: 2}, rulesAt(today))
	wantReason(t, err, ReasonRegistrationReversed)
	_, err = DecideTransferAsset(gone, TransferAsset{ToLocation: "仓库"}, Campus{}, today)
	wantReason(t, err, ReasonRegistrationReversed)
	_, err = DecideReverseRegistration(a, "x", today)
	wantViolations(t, err, "reason")
}
