package domain

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/district"
	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

var today = time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)

// rulesAt judges a registration acquired on day (today's date stays the test's today).
func rulesAt(day time.Time) RegisterRules {
	return RegisterRules{Today: today, Policy: DefaultPolicies.At(day), Categories: DefaultCategoryTree()}
}

func given(events ...proto.Message) Asset {
	a := Asset{ID: "a1"}
	for _, e := range events {
		a = EvolveAsset(a, e)
	}
	return a
}

func validRegister() RegisterAsset {
	return RegisterAsset{AssetID: "a1", SchoolID: "shipai-zx", Tag: "ZC-2024-0001", Name: "台式计算机", Category: "2",
		Model: "联想启天M435", UnitPriceFen: 459900, Quantity: 1, AcquiredOn: "2024-09-01", Source: "purchase",
		FundingSource: "财政拨款", Location: "教学楼301", Department: "教务处", Custodian: "王老师"}
}

func registered() *eventsv1.AssetRegistered {
	ev, _ := DecideRegisterAsset(Asset{ID: "a1"}, validRegister(), rulesAt(today))
	return ev[0].(*eventsv1.AssetRegistered)
}

func wantViolations(t *testing.T, err error, fields ...string) {
	t.Helper()
	inv, ok := errs.As[*errs.InvalidError](err)
	if !ok {
		t.Fatalf("want field violations %v, got %v", fields, err)
	}
	got := map[string]bool{}
	for _, v := range inv.Violations {
		got[v.Field] = true
	}
	for _, f := range fields {
		if !got[f] {
			t.Errorf("no violation for %s in %v", f, inv.Violations)
		}
	}
	if len(got) != len(fields) {
		t.Errorf("violations %v, want exactly %v", inv.Violations, fields)
	}
}

func wantReason(t *testing.T, err error, reason errs.Reason) {
	t.Helper()
	re, ok := errs.As[*errs.RuleError](err)
	if !ok || re.Reason != reason {
		t.Fatalf("want %s, got %v", reason, err)
	}
}

func TestRegisterAsset(t *testing.T) {
	ev, err := DecideRegisterAsset(given(), validRegister(), rulesAt(today))
	if err != nil {
		t.Fatal(err)
	}
	r := ev[0].(*eventsv1.AssetRegistered)
	if r.Tag != "ZC-2024-0001" || r.UnitPriceFen != 459900 || r.AcquiredOn != "2024-09-01" || !r.FixedAsset {
		t.Fatalf("event %v", r)
	}
}

func TestCapitalisationThresholdFollowsPolicyInForce(t *testing.T) {
	c := validRegister()
	c.UnitPriceFen = 80000 // 800 yuan
	for _, tc := range []struct {
		on    string
		fixed bool
	}{{"2010-05-01", true}, {"2024-09-01", false}} {
		c.AcquiredOn = tc.on
		d, _ := time.Parse(DateLayout, tc.on)
		ev, err := DecideRegisterAsset(given(), c, rulesAt(d))
		if err != nil {
			t.Fatal(err)
		}
		if got := ev[0].(*eventsv1.AssetRegistered).FixedAsset; got != tc.fixed {
			t.Errorf("800 yuan bought %s: fixed asset %v, want %v", tc.on, got, tc.fixed)
		}
	}
	c.UnitPriceFen = 100000 // exactly 1,000 yuan is capitalised
	c.AcquiredOn = "2024-09-01"
	ev, _ := DecideRegisterAsset(given(), c, rulesAt(today))
	if !ev[0].(*eventsv1.AssetRegistered).FixedAsset {
		t.Error("1,000 yuan must be a fixed asset")
	}
}

func TestRegisterAssetRefusals(t *testing.T) {
	p := rulesAt(today)
	cases := []struct {
		name   string
		edit   func(*RegisterAsset)
		fields []string
	}{
		{"empty tag", func(c *RegisterAsset) { c.Tag = "" }, []string{"tag"}},
		{"tag with space", func(c *RegisterAsset) { c.Tag = "ZC 1" }, []string{"tag"}},
		{"no name", func(c *RegisterAsset) { c.Name = "" }, []string{"name"}},
		{"unknown category", func(c *RegisterAsset) { c.Category = "99" }, []string{"category"}},
		{"zero price", func(c *RegisterAsset) { c.UnitPriceFen = 0 }, []string{"unit_price_fen"}},
		{"negative price", func(c *RegisterAsset) { c.UnitPriceFen = -5 }, []string{"unit_price_fen"}},
		{"zero quantity", func(c *RegisterAsset) { c.Quantity = 0 }, []string{"quantity"}},
		{"bad date", func(c *RegisterAsset) { c.AcquiredOn = "2024/09/01" }, []string{"acquired_on"}},
		{"future date", func(c *RegisterAsset) { c.AcquiredOn = "2025-03-11" }, []string{"acquired_on"}},
		{"no source", func(c *RegisterAsset) { c.Source = "" }, []string{"source"}},
		{"no location", func(c *RegisterAsset) { c.Location = "" }, []string{"location"}},
		{"no custodian", func(c *RegisterAsset) { c.Custodian = "" }, []string{"custodian"}},
		{"several at once", func(c *RegisterAsset) { c.Tag, c.Quantity, c.Custodian = "", -1, "" },
			[]string{"tag", "quantity", "custodian"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := validRegister()
			tc.edit(&c)
			_, err := DecideRegisterAsset(given(), c, p)
			wantViolations(t, err, tc.fields...)
		})
	}
	_, err := DecideRegisterAsset(given(registered()), validRegister(), p)
	wantReason(t, err, ReasonAssetExists)
}

func TestTransferAsset(t *testing.T) {
	a := given(registered())
	ev, err := DecideTransferAsset(a, TransferAsset{ToLocation: "图书馆", Reason: "教室调整"}, Campus{}, today)
	if err != nil {
		t.Fatal(err)
	}
	tr := ev[0].(*eventsv1.AssetTransferred)
	if tr.FromLocation != "教学楼301" || tr.ToLocation != "图书馆" || tr.ToCustodian != "王老师" {
		t.Fatalf("event %v", tr)
	}
	if got := EvolveAsset(a, tr); got.Location != "图书馆" || got.Custodian != "王老师" {
		t.Fatalf("evolved %+v", got)
	}
	_, err = DecideTransferAsset(a, TransferAsset{ToLocation: "教学楼301"}, Campus{}, today)
	wantReason(t, err, ReasonTransferNoChange)
	_, err = DecideTransferAsset(given(), TransferAsset{ToLocation: "图书馆"}, Campus{}, today)
	if _, ok := errs.As[*errs.NotFoundError](err); !ok {
		t.Fatalf("transfer of an unregistered asset: %v", err)
	}
}

func TestRegisterSchool(t *testing.T) {
	ev, err := DecideRegisterSchool(School{}, RegisterSchool{SchoolID: "s1", Name: "石牌中心小学", Kind: "primary"})
	if err != nil || len(ev) != 1 {
		t.Fatalf("%v %v", ev, err)
	}
	s := EvolveSchool(School{}, ev[0])
	_, err = DecideRegisterSchool(s, RegisterSchool{SchoolID: "s1", Name: "石牌中心小学", Kind: "primary"})
	wantReason(t, err, ReasonSchoolExists)
	_, err = DecideRegisterSchool(School{}, RegisterSchool{SchoolID: "s1", Name: "石", Kind: "college"})
	wantViolations(t, err, "name", "kind")
	_, err = DecideRegisterSchool(School{}, RegisterSchool{SchoolID: district.SchoolID, Name: "全区", Kind: "primary"})
	wantViolations(t, err, "school_id")
}

func TestPolicyAt(t *testing.T) {
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{date(1990, 1, 1), "cap-1997"}, {date(2012, 3, 31), "cap-1997"}, {date(2012, 4, 1), "cap-2012"},
		{date(2022, 3, 1), "cap-2022"}, {date(2030, 1, 1), "cap-2022"},
	} {
		if got := DefaultPolicies.At(tc.at).Version; got != tc.want {
			t.Errorf("policy at %v: %s, want %s", tc.at, got, tc.want)
		}
	}
}

func validPurchaseLine() RegisterAsset {
	return RegisterAsset{AssetID: "a1", SchoolID: "shipai-zx", SourceLineID: "0190a5a2-7c1e-7b3a-9f00-1234567890ab",
		OrderID: "0190a5a2-7c1e-7b3a-9f00-0000000000ff", SupplierID: "sup-1", Name: "实验室通风橱", Category: "3",
		Model: "TF-1500", UnitPriceFen: 1250000, Quantity: 2, AcquiredOn: "2025-03-01", FundingSource: "财政拨款",
		Location: "实验楼102", Department: "理化生组", Custodian: "赵老师"}
}

func TestRegisterFromPurchaseLine(t *testing.T) {
	p := rulesAt(today)
	ev, err := DecideRegisterFromPurchaseLine(given(), validPurchaseLine(), p)
	if err != nil {
		t.Fatal(err)
	}
	r := ev[0].(*eventsv1.AssetRegistered)
	if r.Source != "purchase" || r.SourceLineId != "0190a5a2-7c1e-7b3a-9f00-1234567890ab" ||
		r.OrderId != "0190a5a2-7c1e-7b3a-9f00-0000000000ff" || r.SupplierId != "sup-1" ||
		r.Tag != "CG-0190A5A27C1E7B3A9F001234567890AB" || r.AcquiredOn != "2025-03-01" || !r.FixedAsset {
		t.Fatalf("event %v", r)
	}
	// The same line again: nothing new.
	again, err := DecideRegisterFromPurchaseLine(given(r), validPurchaseLine(), p)
	if err != nil || len(again) != 0 {
		t.Fatalf("second registration of the line: %v %v", again, err)
	}
	// Another line can never land on this asset, but if it did it is refused.
	other := validPurchaseLine()
	other.SourceLineID = "0190a5a2-7c1e-7b3a-9f00-1234567890ac"
	_, err = DecideRegisterFromPurchaseLine(given(r), other, p)
	wantReason(t, err, ReasonAssetExists)
}

func TestRegisterFromPurchaseLineRefusals(t *testing.T) {
	p := rulesAt(today)
	for _, tc := range []struct {
		name   string
		edit   func(*RegisterAsset)
		fields []string
	}{
		{"line id not a UUID", func(c *RegisterAsset) { c.SourceLineID = "line-1" }, []string{"source_line_id"}},
		{"no order", func(c *RegisterAsset) { c.OrderID = "" }, []string{"order_id"}},
		{"long supplier", func(c *RegisterAsset) { c.SupplierID = strings.Repeat("s", 65) }, []string{"supplier_id"}},
		{"future acceptance", func(c *RegisterAsset) { c.AcquiredOn = "2025-03-11" }, []string{"accepted_on"}},
		{"bad acceptance date", func(c *RegisterAsset) { c.AcquiredOn = "1.3.2025" }, []string{"accepted_on"}},
		{"no price, no custodian", func(c *RegisterAsset) { c.UnitPriceFen, c.Custodian = 0, "" },
			[]string{"unit_price_fen", "custodian"}},
		{"unknown category", func(c *RegisterAsset) { c.Category = "" }, []string{"category"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validPurchaseLine()
			tc.edit(&c)
			_, err := DecideRegisterFromPurchaseLine(given(), c, p)
			wantViolations(t, err, tc.fields...)
		})
	}
}

func TestIsUUID(t *testing.T) {
	for s, want := range map[string]bool{
		"0190a5a2-7c1e-7b3a-9f00-1234567890ab": true, "0190A5A2-7C1E-7B3A-9F00-1234567890AB": true,
		"0190a5a2x7c1e-7b3a-9f00-1234567890ab": false, "0190a5a2-7c1e-7b3a-9f00-1234567890ag": false,
		"": false, "0190a5a27c1e7b3a9f001234567890ab": false,
	} {
		if IsUUID(s) != want {
			t.Errorf("IsUUID(%q) = %v", s, !want)
		}
	}
}
