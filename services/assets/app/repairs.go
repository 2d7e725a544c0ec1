package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	"houqin.dev/assets/domain"
	"houqin.dev/assets/readmodel"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	"houqin.dev/platform/eventstore"
)

// RepairAggregate is a repair (报修单): stream "repair:<id>".
var RepairAggregate = es.Aggregate[domain.Repair]{Type: "repair", Initial: func() domain.Repair { return domain.Repair{} },
	Evolve: domain.EvolveRepair}

// Repairs runs the repair use cases (报修/维修) and the repair clock.
type Repairs struct {
	app      *App
	repairs  *es.Handler[domain.Repair]
	policies domain.RepairPolicies
	queries  readmodel.RepairQueries
}

// NewRepairs returns the repair use cases of a; policies default to the national defaults.
func NewRepairs(a *App, store *eventstore.Store, q readmodel.RepairQueries, policies domain.RepairPolicies) *Repairs {
	if policies == nil {
		policies = domain.DefaultRepairPolicies
	}
	return &Repairs{app: a, repairs: es.NewHandler(store, RepairAggregate, 3, a.now), policies: policies, queries: q}
}

func validID(field, id string) error {
	if _, err := uuid.Parse(id); err != nil {
		return errs.Invalid(field, "ID格式有误 / "+field+" must be a UUID")
	}
	return nil
}

// Report 报修: anyone of the school reports a fault.
func (r *Repairs) Report(ctx context.Context, meta es.Meta, c domain.ReportRepair) (string, int64, error) {
	c.RepairID = uuid.Must(uuid.NewV7()).String()
	c.SchoolID, c.ReportedBy = meta.SchoolID, meta.Actor
	var idErr error
	if c.AssetID != "" {
		idErr = validID("asset_id", c.AssetID)
	}
	if err := errs.Join(meta.Validate(), idErr, domain.ValidateReportRepair(c)); err != nil {
		return "", 0, err
	}
	if err := r.app.requireSchool(ctx, meta.SchoolID); err != nil {
		return "", 0, err
	}
	var asset *domain.AssetRef
	if c.AssetID != "" {
		a, _, err := r.app.GetAsset(ctx, meta.SchoolID, c.AssetID)
		if _, missing := errs.As[*errs.NotFoundError](err); err != nil && !missing {
			return "", 0, err
		}
		if err == nil && a.Registered {
			asset = &domain.AssetRef{ID: a.ID, Tag: a.Tag, Location: a.Location}
		}
	}
	now := r.app.now()
	policy := r.policies.At(now)
	res, err := r.repairs.Execute(ctx, meta, es.Command[domain.Repair]{ID: c.RepairID, New: true,
		Decide: func(s domain.Repair) (es.Decision, error) {
			ev, err := domain.DecideReportRepair(s, c, asset, now, policy)
			return es.Decision{Events: ev, OccurredAt: now, PolicyVersion: policy.Version}, err
		}})
	if err != nil {
		return "", 0, err
	}
	return strings.TrimPrefix(res.StreamID, RepairAggregate.Type+":"), res.Version, nil
}

// run executes decide on an existing repair at the current time.
func (r *Repairs) run(ctx context.Context, meta es.Meta, id string, expected int64,
	decide func(domain.Repair, time.Time) ([]proto.Message, error)) (es.Result[domain.Repair], error) {
	if err := errs.Join(validID("repair_id", id), expectedOK(expected)); err != nil {
		return es.Result[domain.Repair]{}, err
	}
	return r.repairs.Execute(ctx, meta, es.Command[domain.Repair]{ID: id, Expected: expected,
		Decide: func(s domain.Repair) (es.Decision, error) {
			if !s.Reported() {
				return es.Decision{}, errs.NotFound("repair", id)
			}
			now := r.app.now()
			ev, err := decide(s, now)
			return es.Decision{Events: ev, OccurredAt: now}, err
		}})
}

func expectedOK(v int64) error {
	if v < 0 {
		return errs.Invalid("expected_version", "不能为负数 / must not be negative")
	}
	return nil
}

// Dispatch 派工.
func (r *Repairs) Dispatch(ctx context.Context, meta es.Meta, id string, expected int64, c domain.DispatchRepair) (int64, error) {
	res, err := r.run(ctx, meta, id, expected, func(s domain.Repair, now time.Time) ([]proto.Message, error) {
		return domain.DecideDispatchRepair(s, c, now)
	})
	return res.Version, err
}

// Start records the worker on site.
func (r *Repairs) Start(ctx context.Context, meta es.Meta, id string, expected int64) (int64, error) {
	res, err := r.run(ctx, meta, id, expected, func(s domain.Repair, now time.Time) ([]proto.Message, error) {
		return domain.DecideStartRepair(s, now)
	})
	return res.Version, err
}

// RecordDelayReason records why a repair takes longer.
func (r *Repairs) RecordDelayReason(ctx context.Context, meta es.Meta, id string, expected int64, c domain.RecordDelayReason) (int64, error) {
	res, err := r.run(ctx, meta, id, expected, func(s domain.Repair, now time.Time) ([]proto.Message, error) {
		return domain.DecideRecordDelayReason(s, c, now)
	})
	return res.Version, err
}

// Complete 维修完成; it returns the new version and whether the fix clock was met.
func (r *Repairs) Complete(ctx context.Context, meta es.Meta, id string, expected int64, c domain.CompleteRepair) (int64, bool, error) {
	res, err := r.run(ctx, meta, id, expected, func(s domain.Repair, now time.Time) ([]proto.Message, error) {
		return domain.DecideCompleteRepair(s, c, now)
	})
	if err != nil {
		return 0, false, err
	}
	s, _, err := r.repairs.Load(ctx, meta.SchoolID, id)
	if err != nil {
		return 0, false, err
	}
	return res.Version, s.FixDue.IsZero() || !s.CompletedAt.After(s.FixDue), nil
}

// Get returns a repair of school and its version.
func (r *Repairs) Get(ctx context.Context, school, id string) (domain.Repair, int64, error) {
	if err := validID("repair_id", id); err != nil {
		return domain.Repair{}, 0, err
	}
	return r.repairs.Load(ctx, school, id)
}

// List returns a school's repair history, per asset or class (read model).
func (r *Repairs) List(ctx context.Context, school string, f readmodel.RepairFilter) ([]domain.Repair, []int64, error) {
	var v errs.Violations
	if f.AssetID != "" {
		if _, err := uuid.Parse(f.AssetID); err != nil {
			v.Add("asset_id", "资产ID格式有误 / asset_id must be a UUID")
		}
	}
	if f.Limit < 0 || f.Limit > 500 {
		v.Add("limit", "须为0–500 / must be 0–500")
	}
	if school == "" {
		v.Add("school_id", "必填 / required")
	}
	if err := v.Err(); err != nil {
		return nil, nil, err
	}
	if f.Limit == 0 {
		f.Limit = 500
	}
	return r.queries.List(ctx, school, f)
}

// ClockActor is the actor of the events the repair clock records.
const ClockActor = "system:repair-clock"

// BreachRequestID is the request id of the breach of one repair's deadline: derived from the
// repair, so two service instances, or one restarted, record it once.
func BreachRequestID(repairID, kind string) string { return "breach-" + kind + "-" + repairID }

// RecordBreach lets the repair clock check one deadline through the normal command path. It
// reports whether a breach was recorded now.
func (r *Repairs) RecordBreach(ctx context.Context, school, id, kind string) (bool, error) {
	meta := es.Meta{RequestID: BreachRequestID(id, kind), SchoolID: school, Actor: ClockActor,
		CorrelationID: "repair-clock", Fingerprint: []byte(BreachRequestID(id, kind))}
	res, err := r.repairs.Execute(ctx, meta, es.Command[domain.Repair]{ID: id,
		Decide: func(s domain.Repair) (es.Decision, error) {
			now := r.app.now()
			ev, err := domain.DecideRecordBreach(s, kind, now)
			return es.Decision{Events: ev, OccurredAt: now}, err
		}})
	return err == nil && !res.Repeated && len(res.EventIDs) > 0, err
}

// RunClock is the repair clock: every interval it finds repair deadlines past due in the read
// model and records their breaches (the decider checks each against the repair's events, so
// a lagging read model delays a breach but never invents one). It runs in every instance;
// the request ids keep the breaches single.
func (r *Repairs) RunClock(ctx context.Context, every time.Duration, log *slog.Logger) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := r.Tick(ctx); err != nil && ctx.Err() == nil {
			log.Error("repair clock", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick checks the deadlines due now once and returns how many breaches it recorded.
func (r *Repairs) Tick(ctx context.Context) (int, error) {
	due, err := r.queries.Due(ctx, r.app.now(), 500)
	if err != nil {
		return 0, err
	}
	n := 0
	var all error
	for _, d := range due {
		recorded, err := r.RecordBreach(ctx, d.SchoolID, d.RepairID, d.Kind)
		if recorded {
			n++
		}
		all = errors.Join(all, err)
	}
	return n, all
}
