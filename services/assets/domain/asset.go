package domain

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Reasons of asset refusals. Stable: clients match on them.
const (
	// 资产编号已存在: another asset of the school carries the tag.
	ReasonTagTaken errs.Reason = "ASSET_TAG_TAKEN"
	// The asset was registered before (same id).
	ReasonAssetExists errs.Reason = "ASSET_ALREADY_REGISTERED"
	// The school is not registered in the district.
	ReasonSchoolUnknown errs.Reason = "SCHOOL_NOT_REGISTERED"
	// A transfer that moves nothing.
	ReasonTransferNoChange errs.Reason = "TRANSFER_CHANGES_NOTHING"
)

// Acquisition sources (取得方式).
var Sources = map[string]string{
	"purchase":      "购置",
	"donation":      "捐赠",
	"transfer_in":   "调入",
	"school_merger": "学校合并",
	// 盘盈: found at a stocktake, registered by an approved adjustment.
	SourceStocktakeSurplus: "盘盈",
}

// Asset is one ledger entry of a school.
type Asset struct {
	ID            string
	SchoolID      string
	Tag           string
	Name          string
	Category      string
	Model         string
	UnitPriceFen  int64
	Quantity      int64
	AcquiredOn    string
	Source        string
	FundingSource string
	Location      string
	Department    string
	Custodian     string
	// CustodianStaffNo is the custodian's 工号 ("" without a staff directory).
	CustodianStaffNo string
	FixedAsset       bool
	Registered       bool
	// Purchase registrations: the procurement acceptance line, order and supplier.
	SourceLineID string
	OrderID      string
	SupplierID   string
	// Loans and off-campus permits (lending.go).
	Lending Lending
	// Depreciation as judged at registration.
	ExpectedUseMonths  int
	DepreciationMonths int
	DepreciationStart  string
	// LocationKind: room | class, or empty for free text; Building of a room.
	LocationKind string
	Building     string
	// WriteOff in progress or done (writeoff.go); TransferredOut: the asset left for another
	// school (schooltransfer.go).
	WriteOff       *WriteOff
	TransferredOut bool
	// LifeVersion of the depreciation life; Reversed: the registration was cancelled
	// (correction.go).
	LifeVersion string
	Reversed    bool
	// SchoolTransfer pending with the bureau; origin of a transfer in (schooltransfer.go).
	SchoolTransfer *SchoolTransfer
	OriginSchoolID string
	OriginAssetID  string
	HeldFrom       string
}

// EvolveAsset folds one event into an asset.
func EvolveAsset(a Asset, m proto.Message) Asset {
	switch e := m.(type) {
	case *eventsv1.AssetRegistered:
		a = Asset{ID: e.AssetId, SchoolID: e.SchoolId, Tag: e.Tag, Name: e.Name, Category: e.Category, Model: e.Model,
			UnitPriceFen: e.UnitPriceFen, Quantity: e.Quantity, AcquiredOn: e.AcquiredOn, Source: e.Source,
			FundingSource: e.FundingSource, Location: e.Location, Department: e.Department, Custodian: e.Custodian, CustodianStaffNo: e.CustodianStaffNo,
			FixedAsset: e.FixedAsset, Registered: true, SourceLineID: e.SourceLineId, OrderID: e.OrderId, SupplierID: e.SupplierId,
			ExpectedUseMonths: int(e.ExpectedUseMonths), DepreciationMonths: int(e.DepreciationMonths),
			DepreciationStart: e.DepreciationStart, LocationKind: e.LocationKind, Building: e.Building,
			LifeVersion: e.LifeVersion, OriginSchoolID: e.OriginSchoolId, OriginAssetID: e.OriginAssetId, HeldFrom: e.HeldFrom}
	case *eventsv1.AssetTransferred:
		a.Location, a.Department, a.Custodian, a.CustodianStaffNo = e.ToLocation, e.ToDepartment, e.ToCustodian, e.ToCustodianStaffNo
		a.LocationKind, a.Building = e.ToLocationKind, e.ToBuilding
	case *eventsv1.AssetRemovedByStocktake:
		a.Lending.OffLedger = true // 盘亏核销: off the ledger like a write-off
	default:
		if w, ok := evolveWriteOff(a, m); ok {
			return w
		}
		if c, ok := evolveCorrection(a, m); ok {
			return c
		}
		if t, ok := evolveSchoolTransfer(a, m); ok {
			return t
		}
		a = evolveLending(a, m)
	}
	return a
}

// RegisterAsset 登记入账.
type RegisterAsset struct {
	AssetID       string
	SchoolID      string
	Tag           string
	Name          string
	Category      string
	Model         string
	UnitPriceFen  int64
	Quantity      int64
	AcquiredOn    string // YYYY-MM-DD
	Source        string
	FundingSource string
	Location      string
	Department    string
	Custodian     string
	// CustodianStaffNo is the custodian's 工号 (optional; see Campus.Person).
	CustodianStaffNo string
	// ExpectedUseMonths 预计使用月数; 0 = not stated.
	ExpectedUseMonths int
	// Set by RegisterFromPurchaseLine only.
	SourceLineID string
	OrderID      string
	SupplierID   string
}

// DateLayout is the layout of business dates in commands and events.
const DateLayout = "2006-01-02"

// MaxUnitPriceFen bounds a unit price (100 million yuan) so sums cannot overflow.
const MaxUnitPriceFen = 100_000_000_00

// RegisterRules is what a registration is judged against: the district's date, the policy in
// force on the acquisition date and the district's category tree.
type RegisterRules struct {
	Today      time.Time
	Policy     Policy
	Categories CategoryTree
	// Campus of the school: once it has rooms or classes, the location must be one of them.
	Campus Campus
}

// DecideRegisterAsset decides RegisterAsset. It judges whether the item is a fixed asset and,
// if so, its depreciation life (the category's life in force on the acquisition date) and start
// rule, and records them on the event.
func DecideRegisterAsset(a Asset, c RegisterAsset, r RegisterRules) ([]proto.Message, error) {
	today, p := r.Today, r.Policy
	var v errs.Violations
	text := func(field, value string, min, max int, what string) {
		if n := utf8.RuneCountInString(value); n < min || n > max {
			if min > 0 && n == 0 {
				v.Addf(field, "必填 / %s is required", what)
			} else {
				v.Addf(field, "长度须为%d–%d个字 / %s must be %d–%d characters", min, max, what, min, max)
			}
		}
	}
	text("tag", c.Tag, 1, 40, "tag")
	if strings.IndexFunc(c.Tag, unicode.IsSpace) >= 0 {
		v.Add("tag", "资产编号不能含空格 / tag must not contain spaces")
	}
	text("name", c.Name, 1, 100, "name")
	cat, known := r.Categories.Get(c.Category)
	if !known {
		v.Add("category", "未知的资产分类 / unknown category")
	}
	text("model", c.Model, 0, 100, "model")
	if c.UnitPriceFen <= 0 || c.UnitPriceFen > MaxUnitPriceFen {
		v.Add("unit_price_fen", "单价须大于0且不超过1亿元 / unit price must be above 0 and at most 100,000,000 yuan")
	}
	if c.Quantity <= 0 || c.Quantity > 1_000_000 {
		v.Add("quantity", "数量须为1–1000000 / quantity must be 1–1,000,000")
	}
	acquired, err := time.Parse(DateLayout, c.AcquiredOn)
	if d := acquired; err != nil {
		v.Add("acquired_on", "日期格式须为YYYY-MM-DD / date must be YYYY-MM-DD")
	} else if d.After(time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)) {
		v.Add("acquired_on", "购置日期不能晚于今天 / acquisition date cannot be in the future")
	} else if d.Year() < 1949 {
		v.Add("acquired_on", "购置日期过早 / acquisition date too early")
	}
	if _, ok := Sources[c.Source]; !ok {
		v.Add("source", "请选择取得方式 / source is required")
	}
	text("funding_source", c.FundingSource, 0, 60, "funding source")
	text("location", c.Location, 1, 100, "location")
	text("department", c.Department, 0, 60, "department")
	text("custodian", c.Custodian, 1, 60, "custodian")
	if c.ExpectedUseMonths < 0 || c.ExpectedUseMonths > MaxLifeMonths {
		v.Addf("expected_use_months", "须为0–%d / must be 0–%d", MaxLifeMonths, MaxLifeMonths)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if a.Registered {
		return nil, errs.Rule(ReasonAssetExists, "该资产已登记 / the asset is already registered", "asset_id", a.ID)
	}
	kind, building, ok := r.Campus.Place(c.Location)
	if !ok {
		return nil, unknownLocation(c.Location)
	}
	if err := checkDepartment(r.Campus, "department", c.Department); err != nil {
		return nil, err
	}
	custodian, err := r.Campus.Person("custodian", "custodian_staff_no", c.Custodian, c.CustodianStaffNo, today.Format(DateLayout))
	if err != nil {
		return nil, err
	}
	fixed := p.FixedAsset(c.Category, c.UnitPriceFen, c.ExpectedUseMonths)
	life, lifeVersion := 0, ""
	if fixed { // low-value items are expensed, not depreciated
		life, lifeVersion = cat.LifeAt(acquired)
	}
	return []proto.Message{&eventsv1.AssetRegistered{
		AssetId: c.AssetID, SchoolId: c.SchoolID, Tag: c.Tag, Name: c.Name, Category: c.Category, Model: c.Model,
		UnitPriceFen: c.UnitPriceFen, Quantity: c.Quantity, AcquiredOn: c.AcquiredOn, Source: c.Source,
		FundingSource: c.FundingSource, Location: c.Location, Department: c.Department, Custodian: c.Custodian,
		FixedAsset:   fixed,
		SourceLineId: c.SourceLineID, OrderId: c.OrderID, SupplierId: c.SupplierID,
		ExpectedUseMonths: int32(c.ExpectedUseMonths), DepreciationMonths: int32(life),
		DepreciationStart: p.DepreciationStart, LifeVersion: lifeVersion,
		LocationKind: kind, Building: building, CustodianStaffNo: custodian.No,
	}}, nil
}

// DecideRegisterFromPurchaseLine decides the registration of an accepted purchase line
// (验收入账). The asset's id and tag derive from the line, so a: is the line's asset: when it
// is registered already, the decision is to write nothing.
func DecideRegisterFromPurchaseLine(a Asset, c RegisterAsset, r RegisterRules) ([]proto.Message, error) {
	var v errs.Violations
	if !IsUUID(c.SourceLineID) {
		v.Add("source_line_id", "须为UUID / source_line_id must be a UUID")
	}
	if !IsUUID(c.OrderID) {
		v.Add("order_id", "须为UUID / order_id must be a UUID")
	}
	if utf8.RuneCountInString(c.SupplierID) > 64 {
		v.Add("supplier_id", "不超过64个字符 / at most 64 characters")
	}
	c.Source, c.Tag = "purchase", PurchaseTag(c.SourceLineID)
	ev, err := DecideRegisterAsset(Asset{}, c, r)
	if inv, ok := errs.As[*errs.InvalidError](err); ok {
		for _, x := range inv.Violations {
			if x.Field == "acquired_on" { // the request's name for it
				x.Field = "accepted_on"
			}
			v = append(v, x)
		}
		err = nil
	}
	if err = errs.Join(v.Err(), err); err != nil {
		return nil, err
	}
	if a.Registered {
		if a.SourceLineID == c.SourceLineID {
			return nil, nil // registered before: same asset, nothing new
		}
		return nil, errs.Rule(ReasonAssetExists, "该资产已登记 / the asset is already registered", "asset_id", a.ID)
	}
	return ev, nil
}

// PurchaseTag is the tag of the asset of a purchase line: deterministic from the line id, so a
// repeated registration cannot mint a second tag.
func PurchaseTag(lineID string) string {
	if !IsUUID(lineID) {
		return "CG-"
	}
	return "CG-" + strings.ToUpper(strings.ReplaceAll(lineID, "-", ""))
}

// IsUUID reports whether s is a UUID in its canonical text form.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}

// TagKey is the unique key that keeps tags unique within a school.
func TagKey(school, tag string) string { return school + "/" + tag }

// TransferAsset 校内调拨.
type TransferAsset struct {
	ToLocation   string
	ToDepartment string
	ToCustodian  string
	// ToCustodianStaffNo is the new custodian's 工号 (optional; see Campus.Person).
	ToCustodianStaffNo string
	// ToCustodianCleared: the leaving dates of the new custodian's completed clearances (from
	// the event store: ClearedScope).
	ToCustodianCleared []string
	Reason             string
}

func unknownLocation(code string) error {
	return errs.Rule(ReasonLocationUnknown, "存放地点须为本校的房间或班级编号 / the location must be a room or class code of the school",
		"location", code)
}

// DecideTransferAsset decides TransferAsset made today within the school of campus (its
// places and departments judge a new location and department). Empty target fields keep the
// current value. A person cleared for leaving takes no asset into custody before leaving.
func DecideTransferAsset(a Asset, c TransferAsset, campus Campus, today Day) ([]proto.Message, error) {
	var v errs.Violations
	if utf8.RuneCountInString(c.ToLocation) > 100 {
		v.Add("to_location", "不超过100个字 / at most 100 characters")
	}
	if utf8.RuneCountInString(c.ToDepartment) > 60 {
		v.Add("to_department", "不超过60个字 / at most 60 characters")
	}
	if utf8.RuneCountInString(c.ToCustodian) > 60 {
		v.Add("to_custodian", "不超过60个字 / at most 60 characters")
	}
	if utf8.RuneCountInString(c.Reason) > 200 {
		v.Add("reason", "不超过200个字 / at most 200 characters")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := inLedgerOrRefuse(a); err != nil {
		return nil, err
	}
	e := &eventsv1.AssetTransferred{AssetId: a.ID,
		FromLocation: a.Location, ToLocation: or(c.ToLocation, a.Location),
		FromDepartment: a.Department, ToDepartment: or(c.ToDepartment, a.Department),
		FromCustodian: a.Custodian, ToCustodian: or(c.ToCustodian, a.Custodian),
		Reason: c.Reason, ToLocationKind: a.LocationKind, ToBuilding: a.Building,
		FromCustodianStaffNo: a.CustodianStaffNo, ToCustodianStaffNo: a.CustodianStaffNo}
	if c.ToCustodian != "" || c.ToCustodianStaffNo != "" {
		// A new custodian named: one of the staff once the school has a directory.
		st, err := campus.Person("to_custodian", "to_custodian_staff_no", c.ToCustodian, c.ToCustodianStaffNo, FormatDay(today))
		if err != nil && (c.ToCustodian != a.Custodian || c.ToCustodianStaffNo != a.CustodianStaffNo) {
			return nil, err
		}
		if err == nil {
			e.ToCustodian, e.ToCustodianStaffNo = or(st.Name, a.Custodian), st.No
		}
	}
	if e.FromLocation == e.ToLocation && e.FromDepartment == e.ToDepartment && e.FromCustodian == e.ToCustodian &&
		e.FromCustodianStaffNo == e.ToCustodianStaffNo {
		return nil, errs.Rule(ReasonTransferNoChange, "调拨前后地点、部门和保管人均未变化 / the transfer changes nothing")
	}
	if c.ToLocation != "" && c.ToLocation != a.Location {
		kind, building, ok := campus.Place(c.ToLocation)
		if !ok {
			return nil, unknownLocation(c.ToLocation)
		}
		e.ToLocationKind, e.ToBuilding = kind, building
	}
	if c.ToDepartment != "" && c.ToDepartment != a.Department {
		if err := checkDepartment(campus, "to_department", c.ToDepartment); err != nil {
			return nil, err
		}
	}
	if e.ToCustodian != a.Custodian || e.ToCustodianStaffNo != a.CustodianStaffNo {
		if err := notCleared(c.ToCustodianCleared, today, "to_custodian", e.ToCustodian); err != nil {
			return nil, err
		}
	}
	return []proto.Message{e}, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
