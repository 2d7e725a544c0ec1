package service_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/testkit"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

func at(s string) time.Time {
	t, _ := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	return t
}

func TestRepairsOpenedClosedWithin24hAndDamageByClass(t *testing.T) {
	e := start(t)
	e.publish("s1", 1, &eventsv1.SchoolRegistered{SchoolId: "s1", Name: "石牌中心小学", Kind: "primary"}, uuid.New())
	report := func(id, class, when string) {
		e.publishAt("s1", 1, &eventsv1.RepairReported{RepairId: id, SchoolId: "s1", ClassName: class, Location: "教学楼", Severity: "major",
			ReportedAt: timestamppb.New(at(when))}, uuid.New(), at(when))
	}
	complete := func(id string, v int64, reported, done string, within bool) {
		e.publishAt("s1", v, &eventsv1.RepairCompleted{RepairId: id, ReportedAt: timestamppb.New(at(reported)),
			CompletedAt: timestamppb.New(at(done)), HadFixClock: true, FixedWithinTarget: within}, uuid.New(), at(done))
	}
	// September: four repairs. r1 fixed in 3 h, r2 in 2 days (late, breached), r3 on time,
	// r4 still open; r0 was reported in August and closed in September.
	report("r0", "一年级1班", "2024-08-30 09:00")
	report("r1", "三年级2班", "2024-09-02 08:00")
	report("r2", "三年级2班", "2024-09-03 10:00")
	report("r3", "一年级1班", "2024-09-05 14:00")
	report("r4", "五年级1班", "2024-09-20 16:00")
	complete("r0", 2, "2024-08-30 09:00", "2024-09-01 10:00", false)
	complete("r1", 2, "2024-09-02 08:00", "2024-09-02 11:00", true)
	e.publishAt("s1", 2, &eventsv1.RepairDeadlineBreached{RepairId: "r2", Deadline: "fix"}, uuid.New(), at("2024-09-04 10:00"))
	e.publishAt("s1", 2, &eventsv1.RepairDeadlineBreached{RepairId: "r2", Deadline: "fix"}, uuid.New(), at("2024-09-04 10:00")) // again
	complete("r2", 3, "2024-09-03 10:00", "2024-09-05 10:00", false)
	complete("r3", 2, "2024-09-05 14:00", "2024-09-06 09:00", true)
	// Damage charged to classes: 五年级1班 twice, 三年级2班 once.
	charge := func(id, class string, fen int64, on string) {
		e.publishAt("s1", 1, &eventsv1.DamageCharged{ChargeId: id, ClassName: class, Liable: class, LiableKind: "class", AmountFen: fen,
			DamagedOn: on, Intentional: true}, uuid.New(), day(on))
	}
	charge("c1", "五年级1班", 12000, "2024-09-10")
	charge("c2", "五年级1班", 3000, "2024-09-21")
	charge("c3", "三年级2班", 50000, "2024-09-12")
	charge("c4", "一年级1班", 9900, "2024-10-02") // after the window

	dir := testkit.Ctx(e.auth.Token(t, auth.RoleLogisticsDirector, "s1"))
	var r *reportsv1.GetRepairsReportResponse
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		var err error
		r, err = e.reports.GetRepairsReport(dir, &reportsv1.GetRepairsReportRequest{SchoolId: "s1", From: "2024-09-01", To: "2024-09-30"})
		return err == nil && r.Closed == 4 && len(r.Classes) == 3 && r.Breaches == 1, fmt.Sprint(r, err)
	})
	// Opened in September: r1–r4; closed: r0–r3; within the clock: r1, r3 of 4 → 50 %.
	if r.Opened != 4 || r.ClosedWithClock != 4 || r.WithinTarget != 2 || r.ShareWithinTarget != 0.5 || r.OpenAtEnd != 1 {
		t.Fatalf("summary %v", r)
	}
	var rows []string
	for _, c := range r.Classes {
		rows = append(rows, fmt.Sprintf("%s:%d:%d:%d", c.ClassName, c.Repairs, c.DamageCharges, c.DamageFen))
	}
	// Most damage first: 三年级2班 2 repairs + 1 charge (500.00) before 五年级1班 1 + 2 (150.00).
	if got := strings.Join(rows, " "); got != "三年级2班:2:1:50000 五年级1班:1:2:15000 一年级1班:1:0:0" {
		t.Fatalf("by class: %s", got)
	}
	// Drill: the events behind 三年级2班's row and behind "closed".
	e.drillUntil(t, dir, r.Classes[0].Drill, is("RepairReported@2024-09-02,RepairCompleted@2024-09-02,RepairReported@2024-09-03,RepairDeadlineBreached@2024-09-04,RepairCompleted@2024-09-05,DamageCharged@2024-09-12"))
	e.drillUntil(t, dir, r.ClosedDrill, func(got string) bool { return strings.Count(got, "RepairCompleted") == 4 })
	// Every number of the summary drills to the repairs it counts, one stream each.
	e.drillStreams(t, dir, r.OpenedDrill, "repair:r1", "repair:r2", "repair:r3", "repair:r4")
	e.drillStreams(t, dir, r.ClosedWithClockDrill, "repair:r0", "repair:r1", "repair:r2", "repair:r3")
	e.drillStreams(t, dir, r.WithinTargetDrill, "repair:r1", "repair:r3")
	e.drillStreams(t, dir, r.OpenAtEndDrill, "repair:r4")
	// Breaches: the breach events themselves, r2's once though delivered twice.
	if b := e.drillStreams(t, dir, r.BreachesDrill, "repair:r2"); int64(len(b)) != r.Breaches || b[0].Type != "RepairDeadlineBreached" {
		t.Fatalf("breaches drill: %s", types(b))
	}
	// Rebuilt from the log: the same numbers.
	if _, err := e.svc.Rebuild(t.Context(), "repairs"); err != nil {
		t.Fatal(err)
	}
	again, err := e.reports.GetRepairsReport(dir, &reportsv1.GetRepairsReportRequest{SchoolId: "s1", From: "2024-09-01", To: "2024-09-30"})
	if err != nil || again.Opened != 4 || again.Closed != 4 || again.WithinTarget != 2 || again.Breaches != 1 || len(again.Classes) != 3 {
		t.Fatalf("after rebuild %v %v", again, err)
	}
}
