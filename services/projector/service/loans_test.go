package service_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/testkit"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	reportsv1 "houqin.dev/proto/gen/houqin/reports/v1"
)

func TestOpenAndOverdueLoansAsOfADate(t *testing.T) {
	e := start(t)
	e.publish("s1", 1, &eventsv1.SchoolRegistered{SchoolId: "s1", Name: "一小", Kind: "primary"}, uuid.New())
	a, b := uuid.NewString(), uuid.NewString()
	e.publishAt("s1", 1, asset(a, "s1", "2", 459900, 1, "2023-09-01"), uuid.New(), day("2023-09-01"))
	e.publishAt("s1", 1, asset(b, "s1", "2", 300000, 1, "2023-09-01"), uuid.New(), day("2023-09-01"))
	// a: lent 09-01 due 09-10, returned 09-15. b: lent 09-05 due 09-30, off campus, not returned.
	e.publishAt("s1", 2, &eventsv1.AssetLent{AssetId: a, LoanId: "l1", Borrower: "王老师", LentOn: "2024-09-01", DueOn: "2024-09-10",
		Tag: "ZC-1", Name: "投影仪"}, uuid.New(), day("2024-09-01"))
	e.publishAt("s1", 2, &eventsv1.AssetLent{AssetId: b, LoanId: "l2", Borrower: "李老师", LentOn: "2024-09-05", DueOn: "2024-09-30",
		OffCampus: true, Tag: "ZC-2", Name: "相机"}, uuid.New(), day("2024-09-05"))
	e.publishAt("s1", 3, &eventsv1.AssetReturned{AssetId: a, LoanId: "l1", ReturnedOn: "2024-09-15"}, uuid.New(), day("2024-09-15"))
	e.publishAt("s1", 3, &eventsv1.AssetReturned{AssetId: a, LoanId: "l1", ReturnedOn: "2024-09-15"}, uuid.New(), day("2024-09-15")) // again

	dir := testkit.Ctx(e.auth.Token(t, auth.RoleStorekeeper, "s1"))
	loans := func(asOf string) (*reportsv1.GetLoansReportResponse, string) {
		r, err := e.reports.GetLoansReport(dir, &reportsv1.GetLoansReportRequest{SchoolId: "s1", AsOf: asOf})
		if err != nil {
			return nil, err.Error()
		}
		var b []string
		for _, l := range r.Loans {
			b = append(b, fmt.Sprintf("%s:%s:%d", l.Tag, l.Borrower, l.DaysOverdue))
		}
		return r, strings.Join(b, " ")
	}
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		_, got := loans("2024-09-15")
		return got == "ZC-2:李老师:0", got
	})
	cases := []struct{ asOf, want string }{
		{"2024-08-31", ""},
		{"2024-09-05", "ZC-1:王老师:0 ZC-2:李老师:0"},
		{"2024-09-14", "ZC-1:王老师:4 ZC-2:李老师:0"}, // a due 09-10: 4 days overdue
		{"2024-10-03", "ZC-2:李老师:3"},
	}
	for _, c := range cases {
		if _, got := loans(c.asOf); got != c.want {
			t.Errorf("as of %s: %q, want %q", c.asOf, got, c.want)
		}
	}
	r, _ := loans("2024-09-14")
	if r.Open != 2 || r.Overdue != 1 || !r.Loans[1].OffCampus || r.Loans[0].Drill.GetKey() != "asset:"+a {
		t.Fatalf("reply %v", r)
	}
	e.drillUntil(t, dir, r.Loans[0].Drill, is("AssetRegistered@2023-09-01,AssetLent@2024-09-01"))
	// Open: both lent assets; overdue: a only.
	e.drillStreams(t, dir, r.OpenDrill, "asset:"+a, "asset:"+b)
	e.drillStreams(t, dir, r.OverdueDrill, "asset:"+a)
}
