package domain

import (
	"testing"

	eventsv1 "houqin.dev/proto/gen/houqin/procurement/events/v1"
)

func TestLearnDistrictCategory(t *testing.T) {
	builtIn := Catalogue{Categories: map[string]string{"2": "通用设备", "office": "办公用品"}, FixedAssetCategories: map[string]bool{"2": true}}
	c := LearnCategory{Code: "2010199", Parent: "20101", Name: "智慧黑板", SourceEventID: "e1"}
	ev, err := DecideLearnCategory(DistrictCategories{}, builtIn, c)
	if err != nil || len(ev) != 1 || ev[0].(*eventsv1.AssetCategoryLearned).Code != "2010199" {
		t.Fatal(ev, err)
	}
	d := EvolveDistrictCategories(DistrictCategories{}, ev[0])
	if ev, err := DecideLearnCategory(d, builtIn, c); err != nil || len(ev) != 0 {
		t.Fatalf("learned twice: %v %v", ev, err)
	}
	if ev, err := DecideLearnCategory(d, builtIn, LearnCategory{Code: "2", Name: "通用设备"}); err != nil || len(ev) != 0 {
		t.Fatalf("a built-in class: %v %v", ev, err)
	}
	_, err = DecideLearnCategory(d, builtIn, LearnCategory{})
	wantFields(t, err, "code", "name")

	if builtIn.Knows("2010199") {
		t.Fatal("the built-in catalogue does not know the district's class")
	}
	cat := builtIn.With(d)
	if !cat.Knows("2010199", "2", "office") || !cat.FixedAssetCategories["2010199"] || cat.FixedAssetCategories["office"] {
		t.Fatalf("%+v", cat)
	}
	if builtIn.Knows("2010199") {
		t.Fatal("With changed the built-in catalogue")
	}
	// A request naming the class is accepted with the learned catalogue only.
	s := SubmitPurchaseRequest{PurchaseRequestID: "r1", SchoolID: "s1", Department: "教务处", BudgetLineID: "bl", Reason: "教室改造",
		RequestedBy: "t1", Lines: []RequestLine{{Name: "智慧黑板", Category: "2010199", Unit: "块", Quantity: 1, EstimatedUnitPriceFen: 100_000,
			AssetClass: AssetClassFixedAsset}}}
	_, err = DecideSubmitPurchaseRequest(PurchaseRequest{}, s, builtIn, policy, "2025-03-01")
	wantFields(t, err, "lines[0].category")
	if _, err := DecideSubmitPurchaseRequest(PurchaseRequest{}, s, cat, policy, "2025-03-01"); err != nil {
		t.Fatal(err)
	}
}
