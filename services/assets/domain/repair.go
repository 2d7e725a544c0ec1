package domain

import (
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Repair severities (报修等级).
const (
	SeverityMinor     = "minor"
	SeverityMajor     = "major"
	SeverityEmergency = "emergency"
)

// Repair statuses.
const (
	RepairReported   = "reported"
	RepairDispatched = "dispatched"
	RepairInProgress = "in_progress"
	RepairCompleted  = "completed"
)

// Repair deadlines (the two clocks).
const (
	DeadlineOnSite = "on_site"
	DeadlineFix    = "fix"
)

// Assignee kinds and delay reasons.
var (
	AssigneeKinds = map[string]string{"school_worker": "本校水电工", "outside_vendor": "外部维修单位"}
	DelayReasons  = map[string]string{"outside_vendor": "需外部单位维修", "waiting_for_parts": "等待配件", "other": "其他"}
	Severities    = map[string]string{SeverityMinor: "一般", SeverityMajor: "较重", SeverityEmergency: "紧急"}
)

// Reasons of repair refusals.
const (
	ReasonRepairExists           errs.Reason = "REPAIR_ALREADY_REPORTED"
	ReasonRepairCompleted        errs.Reason = "REPAIR_ALREADY_COMPLETED"
	ReasonRepairStarted          errs.Reason = "REPAIR_ALREADY_STARTED"
	ReasonRepairNotDispatched    errs.Reason = "REPAIR_NOT_DISPATCHED"
	ReasonRepairNotStarted       errs.Reason = "REPAIR_NOT_STARTED"
	ReasonRepairDelayRecorded    errs.Reason = "REPAIR_DELAY_REASON_ALREADY_RECORDED"
	ReasonRepairAssetNotInLedger errs.Reason = "REPAIR_ASSET_NOT_IN_LEDGER"
)

// MaxCostFen bounds a repair's cost (10 million yuan).
const MaxCostFen = 10_000_000_00

// Repair is one repair (报修单).
type Repair struct {
	ID, SchoolID, Location, AssetID, AssetTag, ClassName string
	Description, PhotoRef, Severity, ReportedBy          string
	Status                                               string
	ReportedAt, OnSiteDue, FixDue                        time.Time
	AssigneeKind, Assignee                               string
	StartedAt, CompletedAt                               time.Time
	WorkDone                                             string
	CostFen                                              int64
	DelayReason, DelayNote                               string
	DelayRecordedAt                                      time.Time
	// Breached holds the deadlines the repair clock recorded as missed.
	Breached []string
}

// Reported reports whether the repair exists.
func (r Repair) Reported() bool { return r.Status != "" }

// Due returns the deadline of kind (zero: no clock).
func (r Repair) Due(kind string) time.Time {
	if kind == DeadlineOnSite {
		return r.OnSiteDue
	}
	return r.FixDue
}

func (r Repair) breached(kind string) bool {
	for _, b := range r.Breached {
		if b == kind {
			return true
		}
	}
	return false
}

func ts(t *timestamppb.Timestamp) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.AsTime()
}

func pts(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// EvolveRepair folds one event into a repair.
func EvolveRepair(r Repair, m proto.Message) Repair {
	switch e := m.(type) {
	case *eventsv1.RepairReported:
		r = Repair{ID: e.RepairId, SchoolID: e.SchoolId, Location: e.Location, AssetID: e.AssetId, AssetTag: e.AssetTag,
			ClassName: e.ClassName, Description: e.Description, PhotoRef: e.PhotoRef, Severity: e.Severity,
			ReportedBy: e.ReportedBy, Status: RepairReported, ReportedAt: ts(e.ReportedAt),
			OnSiteDue: ts(e.OnSiteDueAt), FixDue: ts(e.FixDueAt)}
	case *eventsv1.RepairDispatched:
		r.Status, r.AssigneeKind, r.Assignee = RepairDispatched, e.AssigneeKind, e.Assignee
	case *eventsv1.RepairStarted:
		r.Status, r.StartedAt = RepairInProgress, ts(e.StartedAt)
	case *eventsv1.RepairDelayReasonRecorded:
		r.DelayReason, r.DelayNote, r.DelayRecordedAt = e.Reason, e.Note, ts(e.RecordedAt)
	case *eventsv1.RepairCompleted:
		r.Status, r.CompletedAt, r.WorkDone, r.CostFen = RepairCompleted, ts(e.CompletedAt), e.WorkDone, e.CostFen
	case *eventsv1.RepairDeadlineBreached:
		r.Breached = append(append([]string(nil), r.Breached...), e.Deadline)
	}
	return r
}

// AssetRef is what a repair report needs of the faulty asset (found by the app).
type AssetRef struct {
	ID, Tag, Location string
}

// ReportRepair 报修.
type ReportRepair struct {
	RepairID, SchoolID string
	Location           string
	AssetID            string
	ClassName          string
	Description        string
	PhotoRef           string
	Severity           string
	ReportedBy         string
}

func maxLen(v *errs.Violations, field, value string, max int) {
	if utf8.RuneCountInString(value) > max {
		v.Addf(field, "不超过%d个字 / at most %d characters", max, max)
	}
}

// ValidateReportRepair checks a report's own fields.
func ValidateReportRepair(c ReportRepair) error {
	var v errs.Violations
	if c.Location == "" && c.AssetID == "" {
		v.Add("location", "请填写地点或选择资产 / a location or an asset is required")
	}
	maxLen(&v, "location", c.Location, 100)
	maxLen(&v, "class_name", c.ClassName, 40)
	if n := utf8.RuneCountInString(c.Description); n < 2 || n > 500 {
		v.Add("description", "故障描述须为2–500个字 / description must be 2–500 characters")
	}
	maxLen(&v, "photo_ref", c.PhotoRef, 300)
	if _, ok := Severities[c.Severity]; !ok {
		v.Add("severity", "请选择紧急程度 / severity is required")
	}
	return v.Err()
}

// DecideReportRepair decides a report made at now, judged by policy p. asset is the faulty
// asset when the report names one (found in the school's ledger by the app).
func DecideReportRepair(r Repair, c ReportRepair, asset *AssetRef, now time.Time, p RepairPolicy) ([]proto.Message, error) {
	if err := ValidateReportRepair(c); err != nil {
		return nil, err
	}
	if r.Reported() {
		return nil, errs.Rule(ReasonRepairExists, "该报修单已存在 / the repair already exists", "repair_id", r.ID)
	}
	e := &eventsv1.RepairReported{RepairId: c.RepairID, SchoolId: c.SchoolID, Location: c.Location, ClassName: c.ClassName,
		Description: c.Description, PhotoRef: c.PhotoRef, Severity: c.Severity, ReportedBy: c.ReportedBy,
		ReportedAt: timestamppb.New(now)}
	if c.AssetID != "" {
		if asset == nil {
			return nil, errs.Rule(ReasonRepairAssetNotInLedger, "台账中没有该资产 / the asset is not in the school's ledger", "asset_id", c.AssetID)
		}
		e.AssetId, e.AssetTag = asset.ID, asset.Tag
		if e.Location == "" {
			e.Location = asset.Location
		}
	}
	if d := p.OnSite[c.Severity]; d > 0 {
		e.OnSiteDueAt = timestamppb.New(now.Add(d))
	}
	if d := p.Fix[c.Severity]; d > 0 {
		e.FixDueAt = timestamppb.New(now.Add(d))
	}
	return []proto.Message{e}, nil
}

func notDone(r Repair) error {
	if !r.Reported() {
		return errs.NotFound("repair", r.ID)
	}
	if r.Status == RepairCompleted {
		return errs.Rule(ReasonRepairCompleted, "该报修已完成 / the repair is already completed", "repair_id", r.ID)
	}
	return nil
}

// DispatchRepair 派工.
type DispatchRepair struct {
	AssigneeKind, Assignee, Note string
}

// DecideDispatchRepair decides a dispatch (or a re-dispatch before work starts).
func DecideDispatchRepair(r Repair, c DispatchRepair, now time.Time) ([]proto.Message, error) {
	var v errs.Violations
	if _, ok := AssigneeKinds[c.AssigneeKind]; !ok {
		v.Add("assignee_kind", "请选择维修方 / assignee kind is required")
	}
	if n := utf8.RuneCountInString(c.Assignee); n < 1 || n > 60 {
		v.Add("assignee", "维修人或单位须为1–60个字 / assignee must be 1–60 characters")
	}
	maxLen(&v, "note", c.Note, 200)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := notDone(r); err != nil {
		return nil, err
	}
	if r.Status == RepairInProgress {
		return nil, errs.Rule(ReasonRepairStarted, "维修已开始，不能改派 / work has started; it cannot be re-dispatched", "repair_id", r.ID)
	}
	return []proto.Message{&eventsv1.RepairDispatched{RepairId: r.ID, AssigneeKind: c.AssigneeKind, Assignee: c.Assignee,
		Note: c.Note, DispatchedAt: timestamppb.New(now)}}, nil
}

// DecideStartRepair decides that the worker is on site at now.
func DecideStartRepair(r Repair, now time.Time) ([]proto.Message, error) {
	if err := notDone(r); err != nil {
		return nil, err
	}
	switch r.Status {
	case RepairReported:
		return nil, errs.Rule(ReasonRepairNotDispatched, "尚未派工 / the repair has not been dispatched", "repair_id", r.ID)
	case RepairInProgress:
		return nil, errs.Rule(ReasonRepairStarted, "维修已开始 / work has already started", "repair_id", r.ID)
	}
	return []proto.Message{&eventsv1.RepairStarted{RepairId: r.ID, StartedAt: timestamppb.New(now),
		OnSiteWithinTarget: r.OnSiteDue.IsZero() || !now.After(r.OnSiteDue)}}, nil
}

// RecordDelayReason records why a repair takes longer.
type RecordDelayReason struct {
	Reason, Note string
}

// DecideRecordDelayReason decides a delay reason recorded at now. Recorded after the
// deadline it is kept, but it no longer excuses the breach.
func DecideRecordDelayReason(r Repair, c RecordDelayReason, now time.Time) ([]proto.Message, error) {
	var v errs.Violations
	if _, ok := DelayReasons[c.Reason]; !ok {
		v.Add("reason", "请选择延期原因 / reason is required")
	}
	if c.Reason == "other" && utf8.RuneCountInString(c.Note) < 2 {
		v.Add("note", "其他原因须说明 / explain the other reason")
	}
	maxLen(&v, "note", c.Note, 200)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := notDone(r); err != nil {
		return nil, err
	}
	if !r.DelayRecordedAt.IsZero() {
		return nil, errs.Rule(ReasonRepairDelayRecorded, "已记录延期原因 / a delay reason is already recorded", "repair_id", r.ID)
	}
	return []proto.Message{&eventsv1.RepairDelayReasonRecorded{RepairId: r.ID, Reason: c.Reason, Note: c.Note,
		RecordedAt: timestamppb.New(now), BeforeDeadline: r.FixDue.IsZero() || !now.After(r.FixDue)}}, nil
}

// CompleteRepair 维修完成.
type CompleteRepair struct {
	WorkDone string
	CostFen  int64
}

// DecideCompleteRepair decides a completion at now.
func DecideCompleteRepair(r Repair, c CompleteRepair, now time.Time) ([]proto.Message, error) {
	var v errs.Violations
	if n := utf8.RuneCountInString(c.WorkDone); n < 2 || n > 500 {
		v.Add("work_done", "维修内容须为2–500个字 / work done must be 2–500 characters")
	}
	if c.CostFen < 0 || c.CostFen > MaxCostFen {
		v.Add("cost_fen", "费用须为0–1000万元 / cost must be 0–10,000,000 yuan")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := notDone(r); err != nil {
		return nil, err
	}
	if r.Status != RepairInProgress {
		return nil, errs.Rule(ReasonRepairNotStarted, "维修尚未开始 / work has not started", "repair_id", r.ID)
	}
	return []proto.Message{&eventsv1.RepairCompleted{RepairId: r.ID, WorkDone: c.WorkDone, CostFen: c.CostFen,
		CompletedAt: timestamppb.New(now), ReportedAt: pts(r.ReportedAt), Severity: r.Severity, ClassName: r.ClassName,
		AssetId: r.AssetID, Location: r.Location, HadFixClock: !r.FixDue.IsZero(),
		FixedWithinTarget: r.FixDue.IsZero() || !now.After(r.FixDue),
		MinutesTaken:      int64(now.Sub(r.ReportedAt) / time.Minute)}}, nil
}

// DeadlineMissed reports whether the repair's deadline of kind has run out by now with no
// excuse: the clock exists, it is past, the work it measures (on site, completed) did not
// happen by it, and no delay reason was recorded by it.
func DeadlineMissed(r Repair, kind string, now time.Time) bool {
	due := r.Due(kind)
	if due.IsZero() || !now.After(due) {
		return false
	}
	met := r.StartedAt
	if kind == DeadlineFix {
		met = r.CompletedAt
	}
	if !met.IsZero() && !met.After(due) {
		return false
	}
	return r.DelayRecordedAt.IsZero() || r.DelayRecordedAt.After(due)
}

// DecideRecordBreach decides the repair clock's check of one deadline at now: a breach event
// when the deadline was missed and not yet recorded, nothing otherwise (the clock may look
// again, or two clocks may look at once).
func DecideRecordBreach(r Repair, kind string, now time.Time) ([]proto.Message, error) {
	if kind != DeadlineOnSite && kind != DeadlineFix {
		return nil, errs.Invalid("deadline", "未知时限 / unknown deadline")
	}
	if !r.Reported() {
		return nil, errs.NotFound("repair", r.ID)
	}
	if r.breached(kind) || !DeadlineMissed(r, kind, now) {
		return nil, nil
	}
	return []proto.Message{&eventsv1.RepairDeadlineBreached{RepairId: r.ID, Deadline: kind, DueAt: pts(r.Due(kind)),
		Severity: r.Severity, ClassName: r.ClassName, AssetId: r.AssetID, Location: r.Location,
		DetectedAt: timestamppb.New(now)}}, nil
}
