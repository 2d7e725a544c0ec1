package domain

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

func tree(events ...proto.Message) CategoryTree {
	t := DefaultCategoryTree()
	for _, e := range events {
		t = EvolveCategoryTree(t, e)
	}
	return t
}

func day(s string) time.Time {
	d, err := time.Parse(DateLayout, s)
	if err != nil {
		panic(err)
	}
	return d
}

// The registration records whether the item is a fixed asset, and the life and start rule of
// its depreciation, judged by the policy and category life in force on the acquisition date.
func TestRegistrationJudgesFixedAssetAndDepreciation(t *testing.T) {
	laptops := tree(&eventsv1.CategoryAdded{Code: "20101", Parent: "201", Name: "便携式计算机", LifeMonths: 48, EffectiveFrom: "2020-01-01"},
		&eventsv1.CategoryLifeSet{Code: "20101", LifeMonths: 36, EffectiveFrom: "2024-09-01"})
	nextMonth := DefaultPolicies.At(today)
	nextMonth.Version, nextMonth.DepreciationStart = "district-next-month", "next_month"
	for _, tc := range []struct {
		name        string
		category    string
		price       int64
		expectedUse int
		on          string
		cats        CategoryTree
		policy      *Policy
		fixed       bool
		months      int32
		start       string
		version     string
	}{
		{"computer at 1,000 yuan", "2", 100000, 0, "2024-09-01", tree(), nil, true, 72, "same_month", "2@2017-01-01"},
		{"999.99 yuan: low-value item", "2", 99999, 0, "2024-09-01", tree(), nil, false, 0, "same_month", ""},
		{"500 yuan under the 1997 rules", "2", 50000, 0, "2010-05-01", tree(), nil, true, 72, "same_month", "2@2017-01-01"},
		{"special equipment 1,200 yuan in 2015: below its 1,500", "3", 120000, 0, "2015-06-01", tree(), nil, false, 0, "same_month", ""},
		{"special equipment 1,500 yuan in 2015", "3", 150000, 0, "2015-06-01", tree(), nil, true, 120, "same_month", "3@2017-01-01"},
		{"special equipment 1,200 yuan since 2022", "3", 120000, 0, "2024-06-01", tree(), nil, true, 120, "same_month", "3@2017-01-01"},
		{"expected use exactly a year: low-value", "2", 500000, 12, "2024-09-01", tree(), nil, false, 0, "same_month", ""},
		{"expected use 13 months: fixed", "2", 500000, 13, "2024-09-01", tree(), nil, true, 72, "same_month", "2@2017-01-01"},
		{"books at 35 yuan: fixed, never depreciated", "5", 3500, 0, "2024-09-01", tree(), nil, true, 0, "same_month", "5@never"},
		{"relic: never depreciated", "4", 2000000, 0, "2024-09-01", tree(), nil, true, 0, "same_month", "4@never"},
		{"plants: never depreciated", "602", 300000, 0, "2024-09-01", tree(), nil, true, 0, "same_month", "602@never"},
		{"furniture 15 years", "601", 150000, 0, "2024-09-01", tree(), nil, true, 180, "same_month", "601@2017-01-01"},
		{"vehicle 8 years", "203", 15000000, 0, "2024-09-01", tree(), nil, true, 96, "same_month", "203@2017-01-01"},
		{"brick building 30 years", "102", 500000000, 0, "2024-09-01", tree(), nil, true, 360, "same_month", "102@2017-01-01"},
		{"district sub-class before its life change", "20101", 600000, 0, "2024-08-31", laptops, nil, true, 48, "same_month", "20101@2020-01-01"},
		{"district sub-class after its life change", "20101", 600000, 0, "2024-09-01", laptops, nil, true, 36, "same_month", "20101@2024-09-01"},
		{"district starting next month", "2", 600000, 0, "2024-09-01", tree(), &nextMonth, true, 72, "next_month", "2@2017-01-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validRegister()
			c.Category, c.UnitPriceFen, c.ExpectedUseMonths, c.AcquiredOn = tc.category, tc.price, tc.expectedUse, tc.on
			r := rulesAt(day(tc.on))
			r.Categories = tc.cats
			if tc.policy != nil {
				r.Policy = *tc.policy
			}
			ev, err := DecideRegisterAsset(given(), c, r)
			if err != nil {
				t.Fatal(err)
			}
			e := ev[0].(*eventsv1.AssetRegistered)
			if e.FixedAsset != tc.fixed || e.DepreciationMonths != tc.months || e.DepreciationStart != tc.start ||
				e.LifeVersion != tc.version || e.ExpectedUseMonths != int32(tc.expectedUse) {
				t.Fatalf("fixed %v, %d months from %s by %s (use %d); want %v, %d, %s, %s",
					e.FixedAsset, e.DepreciationMonths, e.DepreciationStart, e.LifeVersion, e.ExpectedUseMonths,
					tc.fixed, tc.months, tc.start, tc.version)
			}
			a := EvolveAsset(given(), e)
			if a.DepreciationMonths != int(tc.months) || a.FixedAsset != tc.fixed {
				t.Fatalf("evolved %+v", a)
			}
		})
	}
	c := validRegister()
	c.ExpectedUseMonths = -1
	_, err := DecideRegisterAsset(given(), c, rulesAt(today))
	wantViolations(t, err, "expected_use_months")
	c.ExpectedUseMonths, c.Category = 0, "20101" // not in the default tree
	_, err = DecideRegisterAsset(given(), c, rulesAt(today))
	wantViolations(t, err, "category")
}

func TestAddCategory(t *testing.T) {
	ev, err := DecideAddCategory(tree(), AddCategory{Code: "20101", Parent: "201", Name: "便携式计算机", LifeMonths: 48, EffectiveFrom: "2020-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	got := tree(ev...)
	c, ok := got.Get("20101")
	if !ok || c.Parent != "201" || c.Name != "便携式计算机" {
		t.Fatalf("tree after add: %+v %v", c, ok)
	}
	if m, v := c.LifeAt(day("2019-01-01")); m != 48 || v != "20101@2020-01-01" {
		t.Fatalf("life before the first effective date: %d %s (the earliest applies)", m, v)
	}
	if _, ok := tree().Get("20101"); ok {
		t.Fatal("evolving changed the default tree")
	}
	// A never-depreciated class under a depreciated one, and under a never-depreciated one.
	if _, err := DecideAddCategory(tree(), AddCategory{Code: "60201", Parent: "602", Name: "校园古树", NeverDepreciated: true, EffectiveFrom: "2020-01-01"}); err != nil {
		t.Fatal(err)
	}
	if _, err := DecideAddCategory(tree(), AddCategory{Code: "20199", Parent: "201", Name: "不折旧的特殊设备", NeverDepreciated: true, EffectiveFrom: "2020-01-01"}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		c      AddCategory
		fields []string
	}{
		{"code not digits", AddCategory{Code: "2A01", Parent: "2", Name: "某类", LifeMonths: 12, EffectiveFrom: "2020-01-01"}, []string{"code"}},
		{"code not under parent", AddCategory{Code: "30101", Parent: "201", Name: "某类", LifeMonths: 12, EffectiveFrom: "2020-01-01"}, []string{"code"}},
		{"code three digits longer", AddCategory{Code: "201001", Parent: "201", Name: "某类", LifeMonths: 12, EffectiveFrom: "2020-01-01"}, []string{"code"}},
		{"no parent: no new top level", AddCategory{Code: "7", Name: "某类", LifeMonths: 12, EffectiveFrom: "2020-01-01"}, []string{"code", "parent"}},
		{"short name", AddCategory{Code: "20101", Parent: "201", Name: "某", LifeMonths: 12, EffectiveFrom: "2020-01-01"}, []string{"name"}},
		{"no life", AddCategory{Code: "20101", Parent: "201", Name: "某类", EffectiveFrom: "2020-01-01"}, []string{"life_months"}},
		{"life too long", AddCategory{Code: "20101", Parent: "201", Name: "某类", LifeMonths: 1201, EffectiveFrom: "2020-01-01"}, []string{"life_months"}},
		{"never depreciated with a life", AddCategory{Code: "20101", Parent: "201", Name: "某类", LifeMonths: 12, NeverDepreciated: true, EffectiveFrom: "2020-01-01"}, []string{"life_months"}},
		{"bad date", AddCategory{Code: "20101", Parent: "201", Name: "某类", LifeMonths: 12, EffectiveFrom: "2020-1-1"}, []string{"effective_from"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecideAddCategory(tree(), tc.c)
			wantViolations(t, err, tc.fields...)
		})
	}
	_, err = DecideAddCategory(tree(), AddCategory{Code: "20901", Parent: "209", Name: "某类", LifeMonths: 12, EffectiveFrom: "2020-01-01"})
	wantReason(t, err, ReasonCategoryParentUnknown)
	_, err = DecideAddCategory(got, AddCategory{Code: "20101", Parent: "201", Name: "又一类", LifeMonths: 12, EffectiveFrom: "2020-01-01"})
	wantReason(t, err, ReasonCategoryExists)
	_, err = DecideAddCategory(tree(), AddCategory{Code: "501", Parent: "5", Name: "电子图书", LifeMonths: 60, EffectiveFrom: "2020-01-01"})
	wantReason(t, err, ReasonCategoryParentNotDepreciated)
}

func TestSetCategoryLife(t *testing.T) {
	ev, err := DecideSetCategoryLife(tree(), SetCategoryLife{Code: "201", LifeMonths: 60, EffectiveFrom: "2026-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := tree(ev...).Get("201")
	for on, want := range map[string]int{"2010-01-01": 72, "2025-12-31": 72, "2026-01-01": 60, "2030-01-01": 60} {
		if m, _ := c.LifeAt(day(on)); m != want {
			t.Errorf("life of 201 on %s: %d, want %d", on, m, want)
		}
	}
	_, err = DecideSetCategoryLife(tree(ev...), SetCategoryLife{Code: "201", LifeMonths: 48, EffectiveFrom: "2026-01-01"})
	wantReason(t, err, ReasonLifeNotAfterLatest)
	_, err = DecideSetCategoryLife(tree(), SetCategoryLife{Code: "201", LifeMonths: 48, EffectiveFrom: "2016-12-31"})
	wantReason(t, err, ReasonLifeNotAfterLatest)
	_, err = DecideSetCategoryLife(tree(), SetCategoryLife{Code: "209", LifeMonths: 48, EffectiveFrom: "2026-01-01"})
	wantReason(t, err, ReasonCategoryUnknown)
	_, err = DecideSetCategoryLife(tree(), SetCategoryLife{Code: "5", LifeMonths: 48, EffectiveFrom: "2026-01-01"})
	wantReason(t, err, ReasonCategoryNotDepreciated)
	_, err = DecideSetCategoryLife(tree(), SetCategoryLife{Code: "", LifeMonths: 0, EffectiveFrom: "soon"})
	wantViolations(t, err, "code", "life_months", "effective_from")
}

func TestWriteOffTierByValue(t *testing.T) {
	p := DefaultPolicies.At(today)
	for v, want := range map[int64]string{1: "vice_principal", 2_000_000: "vice_principal", 2_000_001: "principal",
		5_000_000: "principal", 5_000_001: "office_meeting", 20_000_000: "office_meeting", 20_000_001: "bureau", 1 << 50: "bureau"} {
		if got := p.WriteOffTier(v).Tier; got != want {
			t.Errorf("%d fen: tier %s, want %s", v, got, want)
		}
	}
}
