package domain

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"houqin.dev/platform/errs"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

var reportedAt = time.Date(2025, 3, 10, 8, 0, 0, 0, time.UTC)

func givenRepair(events ...proto.Message) Repair {
	r := Repair{ID: "r1"}
	for _, e := range events {
		r = EvolveRepair(r, e)
	}
	return r
}

func validReport(sev string) ReportRepair {
	return ReportRepair{RepairID: "r1", SchoolID: "s1", Location: "教学楼301", ClassName: "三年级2班",
		Description: "灯管不亮", Severity: sev, ReportedBy: "王老师"}
}

func report(t *testing.T, sev string) *eventsv1.RepairReported {
	t.Helper()
	ev, err := DecideReportRepair(Repair{ID: "r1"}, validReport(sev), nil, reportedAt, DefaultRepairPolicies.At(reportedAt))
	if err != nil {
		t.Fatal(err)
	}
	return ev[0].(*eventsv1.RepairReported)
}

func one[T proto.Message](t *testing.T, ev []proto.Message, err error) T {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 1 {
		t.Fatalf("want one event, got %v", ev)
	}
	e, ok := ev[0].(T)
	if !ok {
		t.Fatalf("got %T", ev[0])
	}
	return e
}

func TestReportRepairClocksFollowPolicy(t *testing.T) {
	for _, tc := range []struct {
		sev         string
		onSite, fix time.Duration
	}{{SeverityMinor, 0, 0}, {SeverityMajor, 0, 24 * time.Hour}, {SeverityEmergency, 30 * time.Minute, 24 * time.Hour}} {
		e := report(t, tc.sev)
		if got := ts(e.OnSiteDueAt); (tc.onSite == 0) != got.IsZero() || (tc.onSite > 0 && got.Sub(reportedAt) != tc.onSite) {
			t.Errorf("%s: on-site due %v", tc.sev, got)
		}
		if got := ts(e.FixDueAt); (tc.fix == 0) != got.IsZero() || (tc.fix > 0 && got.Sub(reportedAt) != tc.fix) {
			t.Errorf("%s: fix due %v", tc.sev, got)
		}
	}
	// Another district's policy: 12 h for major repairs.
	p := RepairPolicy{Version: "strict", Fix: map[string]time.Duration{SeverityMajor: 12 * time.Hour}}
	ev, err := DecideReportRepair(Repair{ID: "r1"}, validReport(SeverityMajor), nil, reportedAt, p)
	if e := one[*eventsv1.RepairReported](t, ev, err); ts(e.FixDueAt).Sub(reportedAt) != 12*time.Hour {
		t.Fatalf("fix due %v", ts(e.FixDueAt))
	}
}

func TestReportRepairOfAnAsset(t *testing.T) {
	c := validReport(SeverityMinor)
	c.Location, c.AssetID = "", "a1"
	ev, err := DecideReportRepair(Repair{ID: "r1"}, c, &AssetRef{ID: "a1", Tag: "ZC-1", Location: "图书馆"}, reportedAt, DefaultRepairPolicies.At(reportedAt))
	e := one[*eventsv1.RepairReported](t, ev, err)
	if e.AssetTag != "ZC-1" || e.Location != "图书馆" {
		t.Fatalf("event %v", e)
	}
	_, err = DecideReportRepair(Repair{ID: "r1"}, c, nil, reportedAt, DefaultRepairPolicies.At(reportedAt))
	wantReason(t, err, ReasonRepairAssetNotInLedger)
}

func TestReportRepairRefusals(t *testing.T) {
	p := DefaultRepairPolicies.At(reportedAt)
	for _, tc := range []struct {
		name   string
		edit   func(*ReportRepair)
		fields []string
	}{
		{"no location nor asset", func(c *ReportRepair) { c.Location = "" }, []string{"location"}},
		{"no description", func(c *ReportRepair) { c.Description = "" }, []string{"description"}},
		{"no severity", func(c *ReportRepair) { c.Severity = "" }, []string{"severity"}},
		{"long class", func(c *ReportRepair) { c.ClassName = string(make([]rune, 41)) }, []string{"class_name"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validReport(SeverityMajor)
			tc.edit(&c)
			_, err := DecideReportRepair(Repair{ID: "r1"}, c, nil, reportedAt, p)
			wantViolations(t, err, tc.fields...)
		})
	}
	_, err := DecideReportRepair(givenRepair(report(t, SeverityMinor)), validReport(SeverityMinor), nil, reportedAt, p)
	wantReason(t, err, ReasonRepairExists)
}

func TestRepairLifecycle(t *testing.T) {
	r := givenRepair(report(t, SeverityMajor))
	_, err := DecideStartRepair(r, reportedAt.Add(time.Hour))
	wantReason(t, err, ReasonRepairNotDispatched)
	_, err = DecideCompleteRepair(r, CompleteRepair{WorkDone: "更换灯管"}, reportedAt.Add(time.Hour))
	wantReason(t, err, ReasonRepairNotStarted)

	d := one[*eventsv1.RepairDispatched](dispatchAt(t, r, DispatchRepair{AssigneeKind: "school_worker", Assignee: "张师傅"}))
	r = EvolveRepair(r, d)
	// Re-dispatch before work starts is allowed.
	d = one[*eventsv1.RepairDispatched](dispatchAt(t, r, DispatchRepair{AssigneeKind: "outside_vendor", Assignee: "城东电器维修部"}))
	r = EvolveRepair(r, d)
	if r.Status != RepairDispatched || r.AssigneeKind != "outside_vendor" {
		t.Fatalf("%+v", r)
	}
	ev, err := DecideStartRepair(r, reportedAt.Add(2*time.Hour))
	r = EvolveRepair(r, one[*eventsv1.RepairStarted](t, ev, err))
	_, err = DecideStartRepair(r, reportedAt.Add(2*time.Hour))
	wantReason(t, err, ReasonRepairStarted)
	_, err = DecideDispatchRepair(r, DispatchRepair{AssigneeKind: "school_worker", Assignee: "张师傅"}, reportedAt)
	wantReason(t, err, ReasonRepairStarted)

	ev, err = DecideCompleteRepair(r, CompleteRepair{WorkDone: "更换灯管两支", CostFen: 4500}, reportedAt.Add(5*time.Hour))
	c := one[*eventsv1.RepairCompleted](t, ev, err)
	if !c.HadFixClock || !c.FixedWithinTarget || c.MinutesTaken != 300 || c.ClassName != "三年级2班" || c.Severity != SeverityMajor {
		t.Fatalf("completed %v", c)
	}
	r = EvolveRepair(r, c)
	_, err = DecideCompleteRepair(r, CompleteRepair{WorkDone: "再修"}, reportedAt.Add(6*time.Hour))
	wantReason(t, err, ReasonRepairCompleted)
	_, err = DecideRecordDelayReason(r, RecordDelayReason{Reason: "waiting_for_parts"}, reportedAt.Add(6*time.Hour))
	wantReason(t, err, ReasonRepairCompleted)
	_, err = DecideDispatchRepair(r, DispatchRepair{AssigneeKind: "school_worker", Assignee: "张师傅"}, reportedAt)
	wantReason(t, err, ReasonRepairCompleted)

	_, err = DecideStartRepair(givenRepair(), reportedAt)
	if _, ok := errs.As[*errs.NotFoundError](err); !ok {
		t.Fatalf("start of no repair: %v", err)
	}
}

func dispatchAt(t *testing.T, r Repair, c DispatchRepair) (*testing.T, []proto.Message, error) {
	ev, err := DecideDispatchRepair(r, c, reportedAt.Add(10*time.Minute))
	return t, ev, err
}

func TestRepairFieldRefusals(t *testing.T) {
	r := givenRepair(report(t, SeverityMajor))
	_, err := DecideDispatchRepair(r, DispatchRepair{}, reportedAt)
	wantViolations(t, err, "assignee_kind", "assignee")
	_, err = DecideRecordDelayReason(r, RecordDelayReason{Reason: "other"}, reportedAt)
	wantViolations(t, err, "note")
	_, err = DecideRecordDelayReason(r, RecordDelayReason{}, reportedAt)
	wantViolations(t, err, "reason")
	_, err = DecideCompleteRepair(r, CompleteRepair{WorkDone: "", CostFen: -1}, reportedAt)
	wantViolations(t, err, "work_done", "cost_fen")
}

func TestCompletedLateMissesTarget(t *testing.T) {
	r := givenRepair(report(t, SeverityMajor),
		&eventsv1.RepairDispatched{RepairId: "r1", AssigneeKind: "school_worker", Assignee: "张师傅"},
		&eventsv1.RepairStarted{RepairId: "r1", StartedAt: pts(reportedAt.Add(time.Hour))})
	ev, err := DecideCompleteRepair(r, CompleteRepair{WorkDone: "更换水管"}, reportedAt.Add(25*time.Hour))
	if c := one[*eventsv1.RepairCompleted](t, ev, err); c.FixedWithinTarget || !c.HadFixClock {
		t.Fatalf("late completion %v", c)
	}
	minor := givenRepair(report(t, SeverityMinor),
		&eventsv1.RepairDispatched{RepairId: "r1", AssigneeKind: "school_worker", Assignee: "张师傅"},
		&eventsv1.RepairStarted{RepairId: "r1", StartedAt: pts(reportedAt.Add(time.Hour))})
	ev, err = DecideCompleteRepair(minor, CompleteRepair{WorkDone: "更换门锁"}, reportedAt.Add(100*time.Hour))
	if c := one[*eventsv1.RepairCompleted](t, ev, err); !c.FixedWithinTarget || c.HadFixClock {
		t.Fatalf("minor repair without a clock %v", c)
	}
}

func TestRepairClockBreach(t *testing.T) {
	major := report(t, SeverityMajor)
	due := reportedAt.Add(24 * time.Hour)
	dispatched := &eventsv1.RepairDispatched{RepairId: "r1", AssigneeKind: "school_worker", Assignee: "张师傅"}
	started := &eventsv1.RepairStarted{RepairId: "r1", StartedAt: pts(reportedAt.Add(time.Hour))}
	cases := []struct {
		name   string
		given  []proto.Message
		now    time.Time
		breach bool
	}{
		{"before the deadline", []proto.Message{major}, due.Add(-time.Minute), false},
		{"at the deadline", []proto.Message{major}, due, false},
		{"past the deadline", []proto.Message{major}, due.Add(time.Second), true},
		{"past, work started but not done", []proto.Message{major, dispatched, started}, due.Add(time.Hour), true},
		{"completed in time", []proto.Message{major, dispatched, started,
			&eventsv1.RepairCompleted{RepairId: "r1", CompletedAt: pts(due.Add(-time.Hour))}}, due.Add(time.Hour), false},
		{"completed late, before the clock looked", []proto.Message{major, dispatched, started,
			&eventsv1.RepairCompleted{RepairId: "r1", CompletedAt: pts(due.Add(time.Minute))}}, due.Add(time.Hour), true},
		{"reason recorded before the deadline", []proto.Message{major,
			&eventsv1.RepairDelayReasonRecorded{RepairId: "r1", Reason: "outside_vendor", RecordedAt: pts(due.Add(-time.Hour))}}, due.Add(time.Hour), false},
		{"reason recorded after the deadline", []proto.Message{major,
			&eventsv1.RepairDelayReasonRecorded{RepairId: "r1", Reason: "outside_vendor", RecordedAt: pts(due.Add(time.Minute))}}, due.Add(time.Hour), true},
		{"already recorded", []proto.Message{major, &eventsv1.RepairDeadlineBreached{RepairId: "r1", Deadline: DeadlineFix}}, due.Add(time.Hour), false},
		{"minor: no clock", []proto.Message{report(t, SeverityMinor)}, due.Add(1000 * time.Hour), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := DecideRecordBreach(givenRepair(tc.given...), DeadlineFix, tc.now)
			if err != nil {
				t.Fatal(err)
			}
			if (len(ev) == 1) != tc.breach {
				t.Fatalf("events %v, want breach %v", ev, tc.breach)
			}
			if tc.breach {
				b := ev[0].(*eventsv1.RepairDeadlineBreached)
				if b.Deadline != DeadlineFix || !ts(b.DueAt).Equal(due) || b.ClassName != "三年级2班" {
					t.Fatalf("breach %v", b)
				}
			}
		})
	}
	_, err := DecideRecordBreach(givenRepair(), DeadlineFix, due)
	if _, ok := errs.As[*errs.NotFoundError](err); !ok {
		t.Fatalf("breach of no repair: %v", err)
	}
}

func TestEmergencyOnSiteClock(t *testing.T) {
	em := report(t, SeverityEmergency)
	due := reportedAt.Add(30 * time.Minute)
	dispatched := &eventsv1.RepairDispatched{RepairId: "r1", AssigneeKind: "school_worker", Assignee: "张师傅"}
	ev, err := DecideRecordBreach(givenRepair(em), DeadlineOnSite, due.Add(time.Minute))
	if b := one[*eventsv1.RepairDeadlineBreached](t, ev, err); b.Deadline != DeadlineOnSite {
		t.Fatalf("breach %v", b)
	}
	ev, err = DecideRecordBreach(givenRepair(em, dispatched, &eventsv1.RepairStarted{RepairId: "r1", StartedAt: pts(due.Add(-time.Minute))}),
		DeadlineOnSite, due.Add(time.Hour))
	if err != nil || len(ev) != 0 {
		t.Fatalf("on site in time: %v %v", ev, err)
	}
	r := givenRepair(em, dispatched)
	ev, err = DecideStartRepair(r, due.Add(time.Minute))
	if s := one[*eventsv1.RepairStarted](t, ev, err); s.OnSiteWithinTarget {
		t.Fatal("late on site marked within target")
	}
	// A major repair has no on-site clock.
	ev, err = DecideRecordBreach(givenRepair(report(t, SeverityMajor)), DeadlineOnSite, due.Add(1000*time.Hour))
	if err != nil || len(ev) != 0 {
		t.Fatalf("major on-site: %v %v", ev, err)
	}
}

func TestDelayReason(t *testing.T) {
	r := givenRepair(report(t, SeverityMajor))
	ev, err := DecideRecordDelayReason(r, RecordDelayReason{Reason: "outside_vendor", Note: "需厂家上门"}, reportedAt.Add(time.Hour))
	d := one[*eventsv1.RepairDelayReasonRecorded](t, ev, err)
	if !d.BeforeDeadline {
		t.Fatal("recorded in time but not before the deadline")
	}
	_, err = DecideRecordDelayReason(EvolveRepair(r, d), RecordDelayReason{Reason: "waiting_for_parts"}, reportedAt.Add(2*time.Hour))
	wantReason(t, err, ReasonRepairDelayRecorded)
	ev, err = DecideRecordDelayReason(r, RecordDelayReason{Reason: "waiting_for_parts"}, reportedAt.Add(25*time.Hour))
	if d := one[*eventsv1.RepairDelayReasonRecorded](t, ev, err); d.BeforeDeadline {
		t.Fatal("late reason marked before the deadline")
	}
}

func TestRepairPolicyAt(t *testing.T) {
	ps := RepairPolicies{DefaultRepairPolicies[0], {Version: "repair-12h-2026", EffectiveFrom: date(2026, 1, 1)}}
	if got := ps.At(reportedAt).Version; got != "repair-24h-2015" {
		t.Errorf("2025: %s", got)
	}
	if got := ps.At(date(2026, 6, 1)).Version; got != "repair-12h-2026" {
		t.Errorf("2026: %s", got)
	}
}
