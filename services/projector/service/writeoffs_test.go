package service_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/testkit"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

func TestWriteOffsByTierInAWindow(t *testing.T) {
	e := start(t)
	e.publish("s1", 1, &eventsv1.SchoolRegistered{SchoolId: "s1", Name: "一小", Kind: "primary"}, uuid.New())
	a, b, c, d := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	for _, id := range []string{a, b, c, d} {
		e.publishAt("s1", 1, asset(id, "s1", "2", 100000, 1, "2020-09-01"), uuid.New(), day("2020-09-01"))
	}
	req := func(id, wo, tier string, value, residual int64, on string) *eventsv1.WriteOffRequested {
		return &eventsv1.WriteOffRequested{WriteOffId: wo, AssetId: id, Kind: "scrap", Reason: "损坏", ValueFen: value,
			ResidualValueFen: residual, Tier: tier, Steps: []string{tier}, StepRoles: []string{tier}, PolicyVersion: "cap-2022",
			RequestedOn: on, Requester: "storekeeper"}
	}
	// a: vice_principal, requested 10-08, written off 10-10.
	e.publishAt("s1", 2, req(a, "w-a", "vice_principal", 459900, 20000, "2024-10-08"), uuid.New(), day("2024-10-08"))
	e.publishAt("s1", 1, &eventsv1.WriteOffStepApproved{WriteOffId: "w-a", Step: "vice_principal", Role: "vice_principal",
		Approver: "vp", Tier: "vice_principal", PolicyVersion: "cap-2022"}, uuid.New(), day("2024-10-10"))
	written := &eventsv1.AssetWrittenOff{WriteOffId: "w-a", AssetId: a, Kind: "scrap", ValueFen: 459900, ResidualValueFen: 20000,
		Tier: "vice_principal", PolicyVersion: "cap-2022", WrittenOffOn: "2024-10-10"}
	e.publishAt("s1", 3, written, uuid.New(), day("2024-10-10"))
	// b: vice_principal, requested 10-09, rejected 10-12; its request delivered twice.
	e.publishAt("s1", 2, req(b, "w-b", "vice_principal", 300000, 10000, "2024-10-09"), uuid.New(), day("2024-10-09"))
	e.publishAt("s1", 2, req(b, "w-b", "vice_principal", 300000, 10000, "2024-10-09"), uuid.New(), day("2024-10-09")) // again
	e.publishAt("s1", 2, &eventsv1.WriteOffRejected{WriteOffId: "w-b", Step: "vice_principal", Role: "vice_principal",
		Approver: "vp", Reason: "仍可修复"}, uuid.New(), day("2024-10-12"))
	// c: principal, requested 10-15, written off 11-03.
	e.publishAt("s1", 2, req(c, "w-c", "principal", 3000000, 100000, "2024-10-15"), uuid.New(), day("2024-10-15"))
	e.publishAt("s1", 3, &eventsv1.AssetWrittenOff{WriteOffId: "w-c", AssetId: c, Kind: "scrap", ValueFen: 3000000,
		ResidualValueFen: 100000, Tier: "principal", PolicyVersion: "cap-2022", WrittenOffOn: "2024-11-03"}, uuid.New(), day("2024-11-03"))
	// d: requested 09-20, before every window below.
	e.publishAt("s1", 2, req(d, "w-d", "vice_principal", 100000, 0, "2024-09-20"), uuid.New(), day("2024-09-20"))
	// a's write-off delivered again, after everything else.
	e.publishAt("s1", 3, written, uuid.New(), day("2024-10-10"))

	dir := testkit.Ctx(e.auth.Token(t, auth.RoleStorekeeper, "s1"))
	report := func(from, to string) (*reportsv1.GetWriteOffsReportResponse, string) {
		r, err := e.reports.GetWriteOffsReport(dir, &reportsv1.GetWriteOffsReportRequest{SchoolId: "s1", From: from, To: to})
		if err != nil {
			return nil, err.Error()
		}
		var rows []string
		for _, x := range r.Tiers {
			rows = append(rows, fmt.Sprintf("%s:%d/%d/%d/%d:%d:%d", x.Tier, x.Requests, x.WrittenOff, x.Rejected, x.Pending,
				x.ValueFen, x.ResidualValueFen))
		}
		return r, strings.Join(rows, " ")
	}
	// tier:requests/written off/rejected/pending:value:residual
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		_, got := report("2024-10-01", "2024-11-05")
		return got == "principal:1/1/0/0:3000000:100000 vice_principal:2/1/1/0:759900:30000", got
	})
	cases := []struct{ from, to, want string }{
		{"2024-10-01", "2024-10-31", "principal:1/0/0/1:3000000:100000 vice_principal:2/1/1/0:759900:30000"},
		{"2024-10-01", "2024-10-11", "vice_principal:2/1/0/1:759900:30000"}, // b rejected on 10-12
		{"2024-10-01", "2024-10-09", "vice_principal:2/0/0/2:759900:30000"}, // a written off on 10-10
		{"2024-09-01", "2024-09-30", "vice_principal:1/0/0/1:100000:0"},
		{"2024-12-01", "2024-12-31", ""},
	}
	for _, c := range cases {
		if _, got := report(c.from, c.to); got != c.want {
			t.Errorf("%s..%s: %q, want %q", c.from, c.to, got, c.want)
		}
	}
	r, _ := report("2024-10-01", "2024-10-31")
	if r.Requests != 3 || r.WrittenOff != 1 || r.Rejected != 1 || r.Pending != 1 || r.ValueFen != 3759900 || r.ResidualValueFen != 130000 {
		t.Fatalf("totals %v", r)
	}
	vp := r.Tiers[1].Drill
	if vp.GetReport() != "writeoffs_tier" || vp.GetKey() != "vice_principal" || vp.GetFrom() != "2024-10-01" || vp.GetTo() != "2024-10-31" {
		t.Fatalf("drill %v", vp)
	}
	e.drillUntil(t, dir, vp, func(got string) bool {
		s := strings.Split(got, ",")
		sort.Strings(s)
		return strings.Join(s, ",") == "AssetWrittenOff@2024-10-10,WriteOffRequested@2024-10-08,WriteOffRequested@2024-10-09"
	})

	// Written off, rejected, pending, per tier and in all: the assets of exactly those requests.
	e.drillStreams(t, dir, r.Tiers[1].WrittenOffDrill, "asset:"+a)
	e.drillStreams(t, dir, r.Tiers[1].RejectedDrill, "asset:"+b)
	e.drillStreams(t, dir, r.Tiers[0].PendingDrill, "asset:"+c)
	e.drillStreams(t, dir, r.Drill, "asset:"+a, "asset:"+b, "asset:"+c)
	e.drillStreams(t, dir, r.PendingDrill, "asset:"+c)
	e.drillStreams(t, dir, r.WrittenOffDrill, "asset:"+a)

	for _, bad := range []struct{ from, to string }{{"2024-13-01", ""}, {"", "10/31/2024"}, {"2024-10-31", "2024-10-01"}} {
		_, err := e.reports.GetWriteOffsReport(dir, &reportsv1.GetWriteOffsReportRequest{SchoolId: "s1", From: bad.from, To: bad.to})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("from %q to %q: %v, want InvalidArgument", bad.from, bad.to, err)
		}
	}
}
