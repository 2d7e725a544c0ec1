package app

import (
	"cmp"
	"context"

	"google.golang.org/protobuf/proto"

	"houqin.dev/assets/domain"
	"houqin.dev/platform/errs"
	"houqin.dev/platform/es"
	"houqin.dev/platform/eventstore"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

// ClearanceAggregate is a leaving person's clearance (教职工调离).
var ClearanceAggregate = es.Aggregate[domain.Clearance]{Type: "clearance",
	Initial: func() domain.Clearance { return domain.Clearance{} }, Evolve: domain.EvolveClearance}

// StartClearance opens a clearance listing what the person holds now.
func (a *App) StartClearance(ctx context.Context, meta es.Meta, c domain.StartClearance) (string, int64, domain.Held, error) {
	c.ClearanceID = derivedID(meta)
	if err := meta.Validate(); err != nil {
		_, derr := domain.DecideStartClearance(domain.Clearance{}, c, domain.Campus{})
		return "", 0, nil, errs.Join(err, derr)
	}
	school, err := a.schoolWith(ctx, meta.SchoolID, "", []string{c.Department}, person{c.Person, c.StaffNo, ""})
	if err != nil {
		return "", 0, nil, err
	}
	// Resolved before the holdings are read: with a staff directory they are found by 工号.
	st, err := school.Campus.Person("person", "staff_no", c.Person, c.StaffNo, "")
	if err != nil {
		return "", 0, nil, err
	}
	c.StaffNo = st.No
	if c.Person != "" {
		held, err := a.holdings.PersonHeld(ctx, meta.SchoolID, c.Person, c.StaffNo)
		if err != nil {
			return "", 0, nil, err
		}
		c.Held = held
	}
	var decided []proto.Message
	res, err := a.clearances.Execute(ctx, meta, es.Command[domain.Clearance]{ID: c.ClearanceID,
		Decide: func(s domain.Clearance) (es.Decision, error) {
			s.ID = c.ClearanceID
			ev, err := domain.DecideStartClearance(s, c, school.Campus)
			decided = ev
			return es.Decision{Events: ev, UniqueKeys: []eventstore.UniqueKey{{Scope: "clearance",
				Key: domain.ClearanceKey(meta.SchoolID, cmp.Or(c.StaffNo, c.Person), c.LeavingOn), Reason: domain.ReasonClearanceExists,
				Message: "该教职工已有此日期的离校清查 / a clearance for the person and date exists"}}}, err
		}})
	if err != nil {
		return "", 0, nil, err
	}
	evs, err := a.appended(ctx, res.Outcome, res.Repeated, decided)
	if err != nil {
		return "", 0, nil, err
	}
	e, _ := first[*eventsv1.ClearanceStarted](evs)
	return c.ClearanceID, res.Version, e.GetHeld(), nil
}

// CompleteClearance records completion, refused while the person holds anything. The
// holdings model is read only once it holds every event committed before this call, and the
// completion claims the person's next holder version (read before that): a loan to the person
// committed after the read takes the key, so the completion decides again and sees it
// (asHolder). It also records the leaving date as cleared, which refuses later loans to the
// person until then.
func (a *App) CompleteClearance(ctx context.Context, meta es.Meta, id string) (int64, error) {
	if err := errs.Join(meta.Validate(), parseID("clearance_id", id)); err != nil {
		return 0, err
	}
	cl, _, err := a.clearances.Load(ctx, meta.SchoolID, id)
	if err != nil {
		return 0, err
	}
	var res es.Result[domain.Clearance]
	err = a.asHolder(ctx, meta.SchoolID, cmp.Or(cl.StaffNo, cl.Person), func(h holder) error {
		var held domain.Held
		if cl.CompletedOn == "" {
			if err := a.holdings.Current(ctx); err != nil {
				return err
			}
			var err error
			if held, err = a.holdings.PersonHeld(ctx, meta.SchoolID, cl.Person, cl.StaffNo); err != nil {
				return err
			}
		}
		var err error
		res, err = a.clearances.Execute(ctx, meta, es.Command[domain.Clearance]{ID: id,
			Decide: func(s domain.Clearance) (es.Decision, error) {
				s.ID = id
				ev, err := domain.DecideCompleteClearance(s, domain.CompleteClearance{Held: held, CompletedBy: meta.Actor}, a.today())
				return es.Decision{Events: ev, UniqueKeys: []eventstore.UniqueKey{h.next, {Scope: domain.ClearedScope(meta.SchoolID, cmp.Or(s.StaffNo, s.Person)),
					Key: s.LeavingOn, Reason: domain.ReasonClearanceExists, Message: "该教职工此离校日已完成清查 / the person was cleared for this leaving date"}}}, err
			}})
		return err
	})
	return res.Version, err
}

// GetClearance returns a clearance and what the person holds now.
func (a *App) GetClearance(ctx context.Context, school, id string) (domain.Clearance, domain.Held, int64, error) {
	if err := parseID("clearance_id", id); err != nil {
		return domain.Clearance{}, nil, 0, err
	}
	c, v, err := a.clearances.Load(ctx, school, id)
	if err != nil {
		return c, nil, 0, err
	}
	held, err := a.holdings.PersonHeld(ctx, school, c.Person, c.StaffNo)
	return c, held, v, err
}
