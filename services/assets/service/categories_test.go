package service_test

import (
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/auth"
	assetsv1 "houqin.dev/proto/gen/houqin/assets/v1"
)

func TestCategoriesAndDepreciationLives(t *testing.T) {
	e := start(t)
	e.school(t, "s1")
	ledger := assetsv1.NewLedgerServiceClient(e.conn)
	bureau := e.as(t, auth.RoleBureauAdmin, "")

	// The shipped tree: GB/T 14885 top levels, lives from the national guide, never-depreciated
	// classes marked.
	list, err := ledger.ListCategories(e.as(t, auth.RoleTeacher, "s1"), &assetsv1.ListCategoriesRequest{SchoolId: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	byCode := map[string]*assetsv1.Category{}
	for _, c := range list.Categories {
		byCode[c.Code] = c
	}
	if c := byCode["201"]; c == nil || c.Parent != "2" || len(c.Lives) != 1 || c.Lives[0].Months != 72 || c.Lives[0].Version != "201@2017-01-01" {
		t.Fatalf("201: %v", c)
	}
	if c := byCode["5"]; c == nil || !c.NeverDepreciated || len(c.Lives) != 0 {
		t.Fatalf("5: %v", c)
	}

	if _, err := ledger.AddCategory(bureau, &assetsv1.AddCategoryRequest{RequestId: "cat-00000001", Code: "20101", Parent: "201",
		Name: "便携式计算机", LifeMonths: 48, EffectiveFrom: "2020-01-01"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.SetCategoryLife(bureau, &assetsv1.SetCategoryLifeRequest{RequestId: "cat-00000002", Code: "20101",
		LifeMonths: 36, EffectiveFrom: "2024-09-01"}); err != nil {
		t.Fatal(err)
	}
	// Registrations take the life in force on their acquisition date.
	ctx := e.as(t, auth.RoleLogisticsDirector, "s1")
	for i, tc := range []struct {
		on     string
		months int32
	}{{"2024-08-31", 48}, {"2024-09-01", 36}} {
		req := registerReq("s1", fmt.Sprintf("lap-%08d", i), fmt.Sprintf("LAP-%d", i))
		req.Category, req.AcquiredOn, req.UnitPriceFen = "20101", tc.on, 650000
		res, err := e.client.RegisterAsset(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.client.GetAsset(ctx, &assetsv1.GetAssetRequest{SchoolId: "s1", AssetId: res.AssetId})
		if err != nil {
			t.Fatal(err)
		}
		if !got.Asset.FixedAsset || got.Asset.DepreciationMonths != tc.months || got.Asset.DepreciationStart != "same_month" {
			t.Errorf("laptop bought %s: %v, want %d months", tc.on, got.Asset, tc.months)
		}
	}
	// Expected use of a year or less: a low-value item whatever the price, not depreciated.
	req := registerReq("s1", "short-life-01", "SHORT-1")
	req.ExpectedUseMonths = 12
	res, err := e.client.RegisterAsset(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := e.client.GetAsset(ctx, &assetsv1.GetAssetRequest{SchoolId: "s1", AssetId: res.AssetId})
	if got.GetAsset().GetFixedAsset() || got.GetAsset().GetDepreciationMonths() != 0 || got.GetAsset().GetExpectedUseMonths() != 12 {
		t.Fatalf("short-lived item %v", got.GetAsset())
	}

	// Refusals.
	_, err = ledger.AddCategory(bureau, &assetsv1.AddCategoryRequest{RequestId: "cat-00000003", Code: "20101", Parent: "201",
		Name: "又一类", LifeMonths: 48, EffectiveFrom: "2020-01-01"})
	if reason(err) != "CATEGORY_ALREADY_EXISTS" {
		t.Fatalf("duplicate class: %v", err)
	}
	_, err = ledger.AddCategory(bureau, &assetsv1.AddCategoryRequest{RequestId: "cat-00000004", Code: "501", Parent: "5",
		Name: "电子图书", LifeMonths: 60, EffectiveFrom: "2020-01-01"})
	if reason(err) != "CATEGORY_PARENT_NOT_DEPRECIATED" {
		t.Fatalf("depreciated class under books: %v", err)
	}
	_, err = ledger.SetCategoryLife(bureau, &assetsv1.SetCategoryLifeRequest{RequestId: "cat-00000005", Code: "20101",
		LifeMonths: 24, EffectiveFrom: "2024-09-01"})
	if reason(err) != "LIFE_NOT_AFTER_LATEST" {
		t.Fatalf("life not after the latest: %v", err)
	}
	_, err = ledger.AddCategory(bureau, &assetsv1.AddCategoryRequest{RequestId: "short", Code: "x", Parent: "201"})
	if status.Code(err) != codes.InvalidArgument || fmt.Sprint(fields(err)) != "[code effective_from life_months name request_id]" {
		t.Fatalf("invalid class: %v", err)
	}
	// Nobody but the bureau administrator changes the tree.
	_, err = ledger.AddCategory(e.as(t, auth.RolePrincipal, "s1"), &assetsv1.AddCategoryRequest{RequestId: "cat-00000006",
		Code: "20102", Parent: "201", Name: "平板电脑", LifeMonths: 36, EffectiveFrom: "2020-01-01"})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("principal adding a class: %v", err)
	}
	// A school cannot be registered under the district's id.
	_, err = e.client.RegisterSchool(bureau, &assetsv1.RegisterSchoolRequest{RequestId: "school-district", SchoolId: "district",
		Name: "全区学校", Kind: assetsv1.SchoolKind_SCHOOL_KIND_PRIMARY})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("school named district: %v", err)
	}
}
