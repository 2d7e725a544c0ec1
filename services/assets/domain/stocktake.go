package domain

import (
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"houqin.dev/platform/dated"
	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Reasons of stocktake refusals.
const (
	ReasonStocktakeExists      errs.Reason = "STOCKTAKE_ALREADY_STARTED"
	ReasonStocktakeClosed      errs.Reason = "STOCKTAKE_CLOSED"
	ReasonStocktakeRoomOutside errs.Reason = "STOCKTAKE_ROOM_NOT_IN_SCOPE"
)

// Scan outcomes.
const (
	ScanCounted   = "counted"
	ScanWrongRoom = "wrong_room"
	ScanDuplicate = "duplicate"
	ScanUnknown   = "unknown"
)

// QRPrefix starts the payload of an asset's QR code label: "houqin:asset:<tag>".
const QRPrefix = "houqin:asset:"

// StocktakeItem is an item of a session's snapshot.
type StocktakeItem struct {
	AssetID, Tag, Name, Room string
}

// RoomDiff is one room's differences at closing.
type RoomDiff struct {
	Room      string
	Missing   []StocktakeItem
	Misplaced []StocktakeItem // with Room = where the ledger expects it
	Unknown   []string
}

// Stocktake is a stocktake session (清查/盘点). Its maps are updated in place by
// EvolveStocktake (the command handler caches sessions; see es.Handler.WithCache).
type Stocktake struct {
	ID, SchoolID        string
	Started, Closed     bool
	Scope               []string // rooms asked for; empty: all
	Rooms               []string // rooms of the snapshot, in order
	Note                string
	StartedAt, ClosedAt time.Time
	// Expected by tag (every room of the school), tags by asset id, and tags by counted room
	// and by room outside the scope (snapshot order).
	Expected  map[string]StocktakeItem
	ByAsset   map[string]string
	RoomItems map[string][]string
	Outside   map[string][]string
	// Scanned: tag (or unknown code) → room of its first scan.
	Scanned                                 map[string]string
	ExpectedCount                           int64
	Counted, WrongRoom, Duplicates, Unknown int64
	Diffs                                   []RoomDiff
	// Adjustments of the differences, by id, and their order.
	Adjustments     map[string]*Adjustment
	AdjustmentOrder []string
}

// EvolveStocktake folds one event into a session.
func EvolveStocktake(s Stocktake, m proto.Message) Stocktake {
	switch e := m.(type) {
	case *eventsv1.StocktakeStarted:
		s = Stocktake{ID: e.StocktakeId, SchoolID: e.SchoolId, Started: true, Scope: e.Rooms, Note: e.Note,
			StartedAt: ts(e.StartedAt), ExpectedCount: e.ExpectedItems,
			Expected: map[string]StocktakeItem{}, ByAsset: map[string]string{}, RoomItems: map[string][]string{},
			Outside: map[string][]string{}, Scanned: map[string]string{}}
	case *eventsv1.StocktakeRoomExpected:
		tags := make([]string, 0, len(e.Items))
		for _, it := range e.Items {
			s.Expected[it.Tag] = StocktakeItem{AssetID: it.AssetId, Tag: it.Tag, Name: it.Name, Room: e.Room}
			s.ByAsset[it.AssetId] = it.Tag
			tags = append(tags, it.Tag)
		}
		if e.OutsideScope {
			s.Outside[e.Room] = tags
			return s
		}
		s.Rooms = append(s.Rooms, e.Room)
		s.RoomItems[e.Room] = tags
	case *eventsv1.StocktakeItemScanned:
		key := e.Tag
		if key == "" {
			key = e.Code
		}
		switch e.Outcome {
		case ScanDuplicate:
			s.Duplicates++
			return s
		case ScanCounted:
			s.Counted++
		case ScanWrongRoom:
			s.WrongRoom++
		case ScanUnknown:
			s.Unknown++
		}
		s.Scanned[key] = e.Room
	case *eventsv1.StocktakeRoomReconciled:
		d := RoomDiff{Room: e.Room, Unknown: e.UnknownCodes}
		for _, it := range e.Missing {
			d.Missing = append(d.Missing, StocktakeItem{AssetID: it.AssetId, Tag: it.Tag, Name: it.Name, Room: e.Room})
		}
		for _, it := range e.Misplaced {
			d.Misplaced = append(d.Misplaced, StocktakeItem{AssetID: it.AssetId, Tag: it.Tag, Name: it.Name, Room: e.Room})
		}
		s.Diffs = append(s.Diffs, d)
	case *eventsv1.StocktakeClosed:
		s.Closed, s.ClosedAt = true, ts(e.ClosedAt)
	default:
		s = evolveAdjustment(s, m)
	}
	return s
}

// StartStocktake opens a session.
type StartStocktake struct {
	StocktakeID, SchoolID string
	Rooms                 []string
	Note                  string
}

// ValidateStartStocktake checks a start's own fields.
func ValidateStartStocktake(c StartStocktake) error {
	var v errs.Violations
	if len(c.Rooms) > 1000 {
		v.Add("rooms", "一次最多清查1000个房间 / at most 1,000 rooms per session")
	}
	seen := map[string]bool{}
	for _, r := range c.Rooms {
		if n := utf8.RuneCountInString(r); n < 1 || n > 100 {
			v.Add("rooms", "房间名须为1–100个字 / each room must be 1–100 characters")
			break
		}
		if seen[r] {
			v.Addf("rooms", "房间重复：%s / room listed twice: %s", r, r)
			break
		}
		seen[r] = true
	}
	maxLen(&v, "note", c.Note, 200)
	return v.Err()
}

// DecideStartStocktake decides a start at now over the assets the ledger holds (registered,
// not removed), whose locations are the rooms: the snapshot, one event per room.
func DecideStartStocktake(s Stocktake, c StartStocktake, ledger []Asset, now time.Time) ([]proto.Message, error) {
	if err := ValidateStartStocktake(c); err != nil {
		return nil, err
	}
	if s.Started {
		return nil, errs.Rule(ReasonStocktakeExists, "该清查已开始 / the stocktake has already started", "stocktake_id", s.ID)
	}
	scope := map[string]bool{}
	for _, r := range c.Rooms {
		scope[r] = true
	}
	byRoom := map[string][]*eventsv1.ExpectedItem{}
	for _, r := range c.Rooms {
		byRoom[r] = nil
	}
	var n int64
	for _, a := range ledger {
		if !a.InLedger() {
			continue
		}
		byRoom[a.Location] = append(byRoom[a.Location], &eventsv1.ExpectedItem{AssetId: a.ID, Tag: a.Tag, Name: a.Name})
		if len(scope) == 0 || scope[a.Location] {
			n++
		}
	}
	rooms := make([]string, 0, len(byRoom))
	counted := 0
	for r := range byRoom {
		rooms = append(rooms, r)
		if len(scope) == 0 || scope[r] {
			counted++
		}
	}
	sort.Strings(rooms)
	out := []proto.Message{&eventsv1.StocktakeStarted{StocktakeId: c.StocktakeID, SchoolId: c.SchoolID, Rooms: c.Rooms,
		Note: c.Note, StartedAt: timestamppb.New(now), ExpectedItems: n, RoomCount: int32(counted)}}
	for _, r := range rooms {
		items := byRoom[r]
		sort.Slice(items, func(i, j int) bool { return items[i].Tag < items[j].Tag })
		out = append(out, &eventsv1.StocktakeRoomExpected{StocktakeId: c.StocktakeID, Room: r, Items: items,
			OutsideScope: len(scope) > 0 && !scope[r]})
	}
	return out, nil
}

// InLedger reports whether the asset is on the school's books (a stocktake expects it):
// registered and not written off.
func (a Asset) InLedger() bool { return a.Registered && !a.Lending.OffLedger }

// ScanItem is one scan in a room.
type ScanItem struct {
	Room, Code string
}

// Resolve returns the snapshot's tag for a scanned code (tag, asset id or QR payload), or
// "" if the snapshot does not know it.
func (s Stocktake) Resolve(code string) string {
	code = strings.TrimPrefix(code, QRPrefix)
	if _, ok := s.Expected[code]; ok {
		return code
	}
	return s.ByAsset[code]
}

// DecideScanItem decides one scan at now.
func DecideScanItem(s Stocktake, c ScanItem, now time.Time) ([]proto.Message, error) {
	var v errs.Violations
	if n := utf8.RuneCountInString(c.Room); n < 1 || n > 100 {
		v.Add("room", "房间名须为1–100个字 / room must be 1–100 characters")
	}
	if n := utf8.RuneCountInString(c.Code); n < 1 || n > 200 {
		v.Add("code", "扫描内容须为1–200个字符 / code must be 1–200 characters")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !s.Started {
		return nil, errs.NotFound("stocktake", s.ID)
	}
	if s.Closed {
		return nil, errs.Rule(ReasonStocktakeClosed, "清查已结束 / the stocktake is closed", "stocktake_id", s.ID)
	}
	if len(s.Scope) > 0 {
		if _, ok := s.RoomItems[c.Room]; !ok {
			return nil, errs.Rule(ReasonStocktakeRoomOutside, "该房间不在本次清查范围内 / the room is not part of this stocktake", "room", c.Room)
		}
	}
	e := &eventsv1.StocktakeItemScanned{StocktakeId: s.ID, Room: c.Room, Code: c.Code, ScannedAt: timestamppb.New(now)}
	key := s.Resolve(c.Code)
	if key != "" {
		it := s.Expected[key]
		e.AssetId, e.Tag, e.ExpectedRoom = it.AssetID, it.Tag, it.Room
	} else {
		key = c.Code
	}
	switch _, seen := s.Scanned[key]; {
	case seen:
		e.Outcome = ScanDuplicate
	case e.Tag == "":
		e.Outcome = ScanUnknown
	case e.ExpectedRoom == c.Room:
		e.Outcome = ScanCounted
	default:
		e.Outcome = ScanWrongRoom
	}
	return []proto.Message{e}, nil
}

// DecideCloseStocktake closes a session at now: per room, what is missing, what was found
// elsewhere and what the snapshot did not know; then the totals.
func DecideCloseStocktake(s Stocktake, now time.Time) ([]proto.Message, error) {
	if !s.Started {
		return nil, errs.NotFound("stocktake", s.ID)
	}
	if s.Closed {
		return nil, errs.Rule(ReasonStocktakeClosed, "清查已结束 / the stocktake is closed", "stocktake_id", s.ID)
	}
	unknown := map[string][]string{}
	for key, room := range s.Scanned {
		if _, ok := s.Expected[key]; !ok {
			unknown[room] = append(unknown[room], key)
		}
	}
	rooms := append([]string(nil), s.Rooms...)
	for r := range unknown {
		if _, ok := s.RoomItems[r]; !ok {
			rooms = append(rooms, r)
		}
	}
	for r := range s.Outside {
		if _, ok := unknown[r]; !ok {
			rooms = append(rooms, r)
		}
	}
	sort.Strings(rooms)
	var out []proto.Message
	var missing int64
	for _, r := range rooms {
		e := &eventsv1.StocktakeRoomReconciled{StocktakeId: s.ID, Room: r, UnknownCodes: unknown[r]}
		sort.Strings(e.UnknownCodes)
		_, outside := s.Outside[r]
		for _, tag := range append(s.RoomItems[r], s.Outside[r]...) {
			it := s.Expected[tag]
			item := &eventsv1.ExpectedItem{AssetId: it.AssetID, Tag: it.Tag, Name: it.Name}
			switch at, seen := s.Scanned[tag]; {
			case !seen && outside: // not counted in this session
			case !seen:
				e.Missing = append(e.Missing, item)
				missing++
			case at != r:
				e.Misplaced = append(e.Misplaced, item)
			}
		}
		if len(e.Missing)+len(e.Misplaced)+len(e.UnknownCodes) > 0 {
			out = append(out, e)
		}
	}
	return append(out, &eventsv1.StocktakeClosed{StocktakeId: s.ID, ClosedAt: timestamppb.New(now),
		ExpectedItems: s.ExpectedCount, Counted: s.Counted, WrongRoom: s.WrongRoom, Duplicates: s.Duplicates,
		Unknown: s.Unknown, Missing: missing}), nil
}

// Reasons of adjustment refusals.
const (
	ReasonStocktakeOpen         errs.Reason = "STOCKTAKE_NOT_CLOSED"
	ReasonNotADifference        errs.Reason = "STOCKTAKE_NOT_A_DIFFERENCE"
	ReasonAdjustmentExists      errs.Reason = "STOCKTAKE_ADJUSTMENT_EXISTS"
	ReasonAdjustmentApproved    errs.Reason = "STOCKTAKE_ADJUSTMENT_ALREADY_APPROVED"
	ReasonAdjustmentNeedsHigher errs.Reason = "STOCKTAKE_ADJUSTMENT_NEEDS_PRINCIPAL"
	AdjustmentShortage                      = "shortage"
	AdjustmentSurplus                       = "surplus"
	ApproverLogisticsDirector               = "logistics_director"
	ApproverPrincipal                       = "principal"
	SourceStocktakeSurplus                  = "stocktake_surplus"
)

// StocktakePolicy is who approves stocktake adjustments, from a date.
type StocktakePolicy struct {
	Version       string
	EffectiveFrom time.Time
	// DirectorLimitFen: the logistics director approves adjustments of items up to this
	// value; above it, the principal.
	DirectorLimitFen int64
}

// StocktakePolicies is a stocktake policy history.
type StocktakePolicies []StocktakePolicy

// DefaultStocktakePolicies: the logistics director settles low-value items (below the
// fixed-asset threshold), the principal fixed assets.
var DefaultStocktakePolicies = StocktakePolicies{
	{Version: "stocktake-2015", EffectiveFrom: date(2015, 1, 1), DirectorLimitFen: 99999},
}

// At returns the policy in force at t (the earliest one for times before all of them).
func (ps StocktakePolicies) At(t time.Time) StocktakePolicy {
	return dated.At(ps, func(p StocktakePolicy) time.Time { return p.EffectiveFrom }, t)
}

// Adjustment is a proposed resolution of a difference.
type Adjustment struct {
	ID, Kind, AssetID, Tag, Code, Room string
	Name, Category, Custodian, Reason  string
	UnitPriceFen, ValueFen             int64
	Approved                           bool
	ApprovedBy                         string
}

// ProposeAdjustment proposes to resolve one difference. Shortage: AssetID; surplus: Code
// and what the item is.
type ProposeAdjustment struct {
	Kind, AssetID, Code, Name, Category, Custodian, Reason string
	UnitPriceFen                                           int64
}

// AdjustmentID names the adjustment of one difference (one per difference).
func AdjustmentID(kind, item string) string { return kind + ":" + item }

// DecideProposeAdjustment decides a proposal on a closed session. assetPrices gives the unit
// price of a missing asset (from the ledger), the value judged for approval.
func DecideProposeAdjustment(s Stocktake, c ProposeAdjustment, unitPriceFen int64) ([]proto.Message, error) {
	var v errs.Violations
	switch c.Kind {
	case AdjustmentShortage:
		if c.AssetID == "" {
			v.Add("asset_id", "盘亏须指明资产 / a shortage names the missing asset")
		}
	case AdjustmentSurplus:
		if n := utf8.RuneCountInString(c.Code); n < 1 || n > 40 || strings.ContainsAny(c.Code, " \t") {
			v.Add("code", "盘盈须给出扫描到的编号（1–40个字符，无空格）/ a surplus names the code scanned (1–40 characters, no spaces)")
		}
		if n := utf8.RuneCountInString(c.Name); n < 1 || n > 100 {
			v.Add("name", "资产名称须为1–100个字 / name must be 1–100 characters")
		}
		if c.Category == "" {
			v.Add("category", "必填 / required")
		}
		if c.UnitPriceFen <= 0 || c.UnitPriceFen > MaxUnitPriceFen {
			v.Add("unit_price_fen", "单价须大于0且不超过1亿元 / unit price must be above 0 and at most 100,000,000 yuan")
		}
		if n := utf8.RuneCountInString(c.Custodian); n < 1 || n > 60 {
			v.Add("custodian", "保管人须为1–60个字 / custodian must be 1–60 characters")
		}
	default:
		v.Add("kind", "请选择盘亏或盘盈 / kind is required")
	}
	if n := utf8.RuneCountInString(c.Reason); n < 2 || n > 200 {
		v.Add("reason", "原因须为2–200个字 / reason must be 2–200 characters")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !s.Started {
		return nil, errs.NotFound("stocktake", s.ID)
	}
	if !s.Closed {
		return nil, errs.Rule(ReasonStocktakeOpen, "清查结束后才能调整 / adjust only after the stocktake is closed", "stocktake_id", s.ID)
	}
	e := &eventsv1.StocktakeAdjustmentProposed{StocktakeId: s.ID, Kind: c.Kind, Reason: c.Reason}
	found := false
	for _, d := range s.Diffs {
		if c.Kind == AdjustmentShortage {
			for _, it := range d.Missing {
				if it.AssetID == c.AssetID {
					found, e.AssetId, e.Tag, e.Name, e.Room = true, it.AssetID, it.Tag, it.Name, d.Room
				}
			}
			continue
		}
		for _, code := range d.Unknown {
			if code == c.Code {
				found, e.Code, e.Tag, e.Room = true, code, strings.TrimPrefix(code, QRPrefix), d.Room
			}
		}
	}
	if !found {
		return nil, errs.Rule(ReasonNotADifference, "该项不在本次清查的差异中 / not a difference of this stocktake")
	}
	if c.Kind == AdjustmentShortage {
		e.AdjustmentId, e.UnitPriceFen = AdjustmentID(c.Kind, e.AssetId), unitPriceFen
	} else {
		e.AdjustmentId, e.Name, e.Category, e.UnitPriceFen, e.Custodian = AdjustmentID(c.Kind, e.Code), c.Name, c.Category, c.UnitPriceFen, c.Custodian
	}
	e.ValueFen = e.UnitPriceFen
	if _, ok := s.Adjustments[e.AdjustmentId]; ok {
		return nil, errs.Rule(ReasonAdjustmentExists, "该差异已有调整 / this difference already has an adjustment", "adjustment_id", e.AdjustmentId)
	}
	return []proto.Message{e}, nil
}

// DecideApproveAdjustment decides an approval by approver (its Houqin user) acting as role
// (ApproverLogisticsDirector or ApproverPrincipal), judged by policy p.
func DecideApproveAdjustment(s Stocktake, id, approver, role string, p StocktakePolicy) ([]proto.Message, error) {
	if !s.Started {
		return nil, errs.NotFound("stocktake", s.ID)
	}
	a, ok := s.Adjustments[id]
	if !ok {
		return nil, errs.NotFound("stocktake adjustment", id)
	}
	if a.Approved {
		return nil, errs.Rule(ReasonAdjustmentApproved, "该调整已批准 / the adjustment is already approved", "adjustment_id", id)
	}
	if role != ApproverPrincipal && (role != ApproverLogisticsDirector || a.ValueFen > p.DirectorLimitFen) {
		return nil, errs.Rule(ReasonAdjustmentNeedsHigher, "金额超出总务主任审批权限，须校长审批 / above the logistics director's limit: the principal approves",
			"adjustment_id", id)
	}
	return []proto.Message{&eventsv1.StocktakeAdjustmentApproved{StocktakeId: s.ID, AdjustmentId: id, ApprovedBy: approver, ApproverRole: role}}, nil
}

func evolveAdjustment(s Stocktake, m proto.Message) Stocktake {
	switch e := m.(type) {
	case *eventsv1.StocktakeAdjustmentProposed:
		if s.Adjustments == nil {
			s.Adjustments = map[string]*Adjustment{}
		}
		s.Adjustments[e.AdjustmentId] = &Adjustment{ID: e.AdjustmentId, Kind: e.Kind, AssetID: e.AssetId, Tag: e.Tag, Code: e.Code,
			Room: e.Room, Name: e.Name, Category: e.Category, Custodian: e.Custodian, Reason: e.Reason,
			UnitPriceFen: e.UnitPriceFen, ValueFen: e.ValueFen}
		s.AdjustmentOrder = append(s.AdjustmentOrder, e.AdjustmentId)
	case *eventsv1.StocktakeAdjustmentApproved:
		if a := s.Adjustments[e.AdjustmentId]; a != nil {
			a.Approved, a.ApprovedBy = true, e.ApprovedBy
		}
	}
	return s
}
