package domain

import (
	"slices"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// Reasons of write-off refusals (报废/报损).
const (
	// A write-off of the asset is waiting for approval already.
	ReasonWriteOffPending errs.Reason = "WRITE_OFF_PENDING"
	// No pending write-off with this id.
	ReasonWriteOffNotPending errs.Reason = "WRITE_OFF_NOT_PENDING"
	// The caller does not hold the role the current step needs.
	ReasonApproverRoleRequired errs.Reason = "APPROVER_ROLE_REQUIRED"
	// The requester, or someone who approved an earlier step, cannot approve again.
	ReasonApproverNotIndependent errs.Reason = "APPROVER_NOT_INDEPENDENT"
	// The disposal of a write-off is recorded once, after the write-off.
	ReasonDisposalNotAllowed errs.Reason = "DISPOSAL_NOT_ALLOWED"
	// The asset left the school for another (transfer out).
	ReasonAssetTransferredOut errs.Reason = "ASSET_TRANSFERRED_OUT"
)

// WriteOffKinds: 报废 and 报损.
var WriteOffKinds = map[string]string{"scrap": "报废", "loss": "报损"}

// DisposalMethods: 处置方式.
var DisposalMethods = map[string]string{"auction": "拍卖/出售", "recycle": "回收", "destroy": "销毁", "donate": "捐赠", "other": "其他"}

// WriteOff is an asset's write-off in progress or done.
type WriteOff struct {
	ID            string
	Kind          string
	Reason        string
	ValueFen      int64
	ResidualFen   int64
	Tier          string
	Steps         []string
	StepRoles     []string
	PolicyVersion string
	Requester     string
	// Approvers of the steps done so far, in order.
	Approvers []string
	Done      bool
	Disposed  bool
}

// CurrentStep is the index of the step waiting for approval.
func (w *WriteOff) CurrentStep() int { return len(w.Approvers) }

// evolveWriteOff folds the write-off events into an asset.
func evolveWriteOff(a Asset, m proto.Message) (Asset, bool) {
	switch e := m.(type) {
	case *eventsv1.WriteOffRequested:
		a.WriteOff = &WriteOff{ID: e.WriteOffId, Kind: e.Kind, Reason: e.Reason, ValueFen: e.ValueFen,
			ResidualFen: e.ResidualValueFen, Tier: e.Tier, Steps: e.Steps, StepRoles: e.StepRoles,
			PolicyVersion: e.PolicyVersion, Requester: e.Requester}
	case *eventsv1.WriteOffStepApproved:
		if w := a.WriteOff; w != nil {
			c := *w
			c.Approvers = append(slices.Clip(c.Approvers), e.Approver)
			a.WriteOff = &c
		}
	case *eventsv1.WriteOffRejected:
		a.WriteOff = nil
	case *eventsv1.AssetWrittenOff:
		if w := a.WriteOff; w != nil {
			c := *w
			c.Done = true
			a.WriteOff = &c
		}
		a.Lending.OffLedger = true // out of the ledger: no loans, transfers, stocktakes
	case *eventsv1.WriteOffDisposed:
		if w := a.WriteOff; w != nil {
			c := *w
			c.Disposed = true
			a.WriteOff = &c
		}
	default:
		return a, false
	}
	return a, true
}

// CostFen is the asset's original value (原值).
func (a Asset) CostFen() int64 { return a.UnitPriceFen * a.Quantity }

// inLedgerOrRefuse refuses commands on an asset that left the ledger.
func inLedgerOrRefuse(a Asset) error {
	if !a.Registered {
		return errs.NotFound("asset", a.ID)
	}
	if a.Reversed {
		return errs.Rule(ReasonRegistrationReversed, "该登记已冲销 / the registration was reversed", "asset_id", a.ID)
	}
	if a.TransferredOut {
		return errs.Rule(ReasonAssetTransferredOut, "资产已调出本校 / the asset was transferred to another school", "asset_id", a.ID)
	}
	if a.Lending.OffLedger {
		return errs.Rule(ReasonAssetWrittenOff, "资产已报废 / the asset is written off", "asset_id", a.ID)
	}
	return nil
}

// RequestWriteOff 报废申请.
type RequestWriteOff struct {
	WriteOffID  string
	Kind        string
	Reason      string
	ResidualFen int64
	Requester   string
}

// DecideRequestWriteOff decides RequestWriteOff on day under p (the policy in force that day).
func DecideRequestWriteOff(a Asset, c RequestWriteOff, day time.Time, p Policy) ([]proto.Message, error) {
	var v errs.Violations
	if _, ok := WriteOffKinds[c.Kind]; !ok {
		v.Add("kind", "请选择报废或报损 / kind is required (scrap or loss)")
	}
	if n := utf8.RuneCountInString(c.Reason); n < 2 || n > 200 {
		v.Add("reason", "原因须为2–200个字 / reason must be 2–200 characters")
	}
	if c.ResidualFen < 0 || (a.Registered && c.ResidualFen > a.CostFen()) {
		v.Add("residual_value_fen", "残值须为0至原值 / residual value must be 0 to the asset's value")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := inLedgerOrRefuse(a); err != nil {
		return nil, err
	}
	if a.WriteOff != nil && !a.WriteOff.Done {
		return nil, errs.Rule(ReasonWriteOffPending, "该资产已有待审批的报废申请 / a write-off of the asset is pending",
			"write_off_id", a.WriteOff.ID)
	}
	if a.SchoolTransfer != nil {
		return nil, errs.Rule(ReasonSchoolTransferPending, "该资产已有待审批的校际调拨 / a transfer to another school is pending",
			"transfer_id", a.SchoolTransfer.ID)
	}
	t := p.WriteOffTier(a.CostFen())
	e := &eventsv1.WriteOffRequested{WriteOffId: c.WriteOffID, AssetId: a.ID, Kind: c.Kind, Reason: c.Reason,
		ResidualValueFen: c.ResidualFen, ValueFen: a.CostFen(), Tier: t.Tier, PolicyVersion: p.Version,
		RequestedOn: day.Format(DateLayout), Requester: c.Requester}
	for _, s := range t.Steps {
		e.Steps, e.StepRoles = append(e.Steps, s.Step), append(e.StepRoles, s.Role)
	}
	return []proto.Message{e}, nil
}

// Approver is who approves or rejects a step: the token's subject and roles.
type Approver struct {
	Subject string
	Roles   []string
}

// pendingStep checks that id is the pending write-off and that approver may act on its
// current step; it returns the step's index.
func pendingStep(a Asset, id string, who Approver) (*WriteOff, int, error) {
	if err := inLedgerOrRefuse(a); err != nil {
		return nil, 0, err
	}
	w := a.WriteOff
	if w == nil || w.Done || w.ID != id {
		return nil, 0, errs.Rule(ReasonWriteOffNotPending, "没有待审批的该报废申请 / no such pending write-off", "write_off_id", id)
	}
	i := w.CurrentStep()
	if !slices.Contains(who.Roles, w.StepRoles[i]) {
		return nil, 0, errs.Rule(ReasonApproverRoleRequired, "当前审批环节须由相应角色审批 / the current step needs another role",
			"step", w.Steps[i], "role", w.StepRoles[i], "tier", w.Tier, "policy_version", w.PolicyVersion)
	}
	if who.Subject == w.Requester || slices.Contains(w.Approvers, who.Subject) {
		return nil, 0, errs.Rule(ReasonApproverNotIndependent, "申请人或已审批者不能再审批 / the requester or an earlier approver cannot approve",
			"step", w.Steps[i])
	}
	return w, i, nil
}

// DecideApproveWriteOff approves the current step; after the last one the asset is written
// off on day.
func DecideApproveWriteOff(a Asset, id string, who Approver, comment string, day time.Time) ([]proto.Message, error) {
	if utf8.RuneCountInString(comment) > 200 {
		return nil, errs.Invalid("comment", "不超过200个字 / at most 200 characters")
	}
	w, i, err := pendingStep(a, id, who)
	if err != nil {
		return nil, err
	}
	out := []proto.Message{&eventsv1.WriteOffStepApproved{WriteOffId: id, Step: w.Steps[i], Role: w.StepRoles[i],
		Approver: who.Subject, Comment: comment, Tier: w.Tier, PolicyVersion: w.PolicyVersion}}
	if i == len(w.Steps)-1 {
		out = append(out, &eventsv1.AssetWrittenOff{WriteOffId: id, AssetId: a.ID, Kind: w.Kind, Reason: w.Reason,
			ValueFen: w.ValueFen, ResidualValueFen: w.ResidualFen, Tier: w.Tier, PolicyVersion: w.PolicyVersion,
			WrittenOffOn: day.Format(DateLayout)})
	}
	return out, nil
}

// DecideRejectWriteOff refuses the write-off at its current step.
func DecideRejectWriteOff(a Asset, id string, who Approver, reason string) ([]proto.Message, error) {
	if n := utf8.RuneCountInString(reason); n < 2 || n > 200 {
		return nil, errs.Invalid("reason", "原因须为2–200个字 / reason must be 2–200 characters")
	}
	w, i, err := pendingStep(a, id, who)
	if err != nil {
		return nil, err
	}
	return []proto.Message{&eventsv1.WriteOffRejected{WriteOffId: id, Step: w.Steps[i], Role: w.StepRoles[i],
		Approver: who.Subject, Reason: reason}}, nil
}

// RecordDisposal 处置登记.
type RecordDisposal struct {
	WriteOffID  string
	Method      string
	ProceedsFen int64
	DisposedOn  string
	Note        string
}

// DecideRecordDisposal decides RecordDisposal; today is the district's date.
func DecideRecordDisposal(a Asset, c RecordDisposal, today time.Time) ([]proto.Message, error) {
	var v errs.Violations
	if _, ok := DisposalMethods[c.Method]; !ok {
		v.Add("method", "请选择处置方式 / method is required")
	}
	if c.ProceedsFen < 0 || c.ProceedsFen > MaxUnitPriceFen*1_000_000 {
		v.Add("proceeds_fen", "处置收入不能为负 / proceeds must not be negative")
	}
	if d, err := time.Parse(DateLayout, c.DisposedOn); err != nil {
		v.Add("disposed_on", "日期格式须为YYYY-MM-DD / date must be YYYY-MM-DD")
	} else if d.After(today) {
		v.Add("disposed_on", "处置日期不能晚于今天 / disposal date cannot be in the future")
	}
	if utf8.RuneCountInString(c.Note) > 200 {
		v.Add("note", "不超过200个字 / at most 200 characters")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !a.Registered {
		return nil, errs.NotFound("asset", a.ID)
	}
	if w := a.WriteOff; w == nil || !w.Done || w.ID != c.WriteOffID || w.Disposed {
		return nil, errs.Rule(ReasonDisposalNotAllowed, "只能对已报废且未处置的资产登记处置 / only a written-off asset not yet disposed of",
			"write_off_id", c.WriteOffID)
	}
	return []proto.Message{&eventsv1.WriteOffDisposed{WriteOffId: c.WriteOffID, Method: c.Method, ProceedsFen: c.ProceedsFen,
		DisposedOn: c.DisposedOn, Note: c.Note}}, nil
}
