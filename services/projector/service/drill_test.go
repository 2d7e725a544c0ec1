package service_test

import (
	"context"
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

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

func day(s string) time.Time {
	d, _ := time.ParseInLocation("2006-01-02", s, shanghai)
	return d
}

// types lists the short types and streams of a page.
func types(evs []*reportsv1.EventRecord) string {
	var b []string
	for _, e := range evs {
		b = append(b, e.Type+"@"+e.OccurredAt[:10])
	}
	return strings.Join(b, ",")
}

// drillUntil pages the events behind drill until ok accepts their types (see types) and
// returns them. The event index is a projection of its own, so it may still be catching up
// with the report the drill came from.
func (e *env) drillUntil(t *testing.T, ctx context.Context, drill *reportsv1.Drill, ok func(types string) bool) []*reportsv1.EventRecord {
	t.Helper()
	var evs []*reportsv1.EventRecord
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		res, err := e.reports.ListEvents(ctx, &reportsv1.ListEventsRequest{SchoolId: "s1", Drill: drill})
		if err != nil {
			return false, err.Error()
		}
		evs = res.Events
		return ok(types(evs)), "drill " + drill.GetReport() + " " + drill.GetKey() + ": " + types(evs)
	})
	return evs
}

// is accepts exactly want.
func is(want string) func(string) bool { return func(got string) bool { return got == want } }

func TestDrillDownListsTheEventsBehindARow(t *testing.T) {
	e := start(t)
	e.publish("s1", 1, &eventsv1.SchoolRegistered{SchoolId: "s1", Name: "石牌中心小学", Kind: "primary"}, uuid.New())
	e.publish("s2", 1, &eventsv1.SchoolRegistered{SchoolId: "s2", Name: "城关幼儿园", Kind: "kindergarten"}, uuid.New())
	a, b, c, d := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	e.publishAt("s1", 1, asset(a, "s1", "2", 459900, 10, "2023-09-01"), uuid.New(), day("2023-09-01"))
	e.publishAt("s1", 1, asset(b, "s1", "6", 38000, 45, "2024-02-20"), uuid.New(), day("2024-02-20"))
	e.publishAt("s1", 2, &eventsv1.AssetTransferred{AssetId: a, FromLocation: "仓库", ToLocation: "计算机教室"}, uuid.New(), day("2024-03-01"))
	e.publishAt("s1", 1, asset(c, "s1", "2", 1280000, 2, "2024-08-20"), uuid.New(), day("2024-08-20"))
	// Published again under another id: indexed once.
	e.publishAt("s1", 1, asset(c, "s1", "2", 1280000, 2, "2024-08-20"), uuid.New(), day("2024-08-20"))
	e.publishAt("s2", 1, asset(d, "s2", "2", 2500, 1000, "2022-05-01"), uuid.New(), day("2022-05-01"))

	dir := testkit.Ctx(e.auth.Token(t, auth.RoleLogisticsDirector, "s1"))
	var led *reportsv1.GetAssetLedgerResponse
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		var err error
		all, err := e.reports.GetAssetLedger(dir, &reportsv1.GetAssetLedgerRequest{SchoolId: "s1", AsOf: "2024-08-20"})
		if err != nil || all.Entries != 3 {
			return false, "ledger not caught up"
		}
		led, err = e.reports.GetAssetLedger(dir, &reportsv1.GetAssetLedgerRequest{SchoolId: "s1", AsOf: "2024-08-19"})
		n, _ := e.svc.Pool.Query(context.Background(), "SELECT 1 FROM eventlog.events")
		rows := 0
		for n.Next() {
			rows++
		}
		n.Close()
		return err == nil && led.Entries == 2 && rows == 7, "not caught up"
	})
	// The category row carries its drill: category 2 as of 2024-08-19.
	row := led.Categories[0]
	if row.Category != "2" || row.Drill.GetReport() != "ledger_category" || row.Drill.GetKey() != "2" || row.Drill.GetTo() != "2024-08-19" {
		t.Fatalf("row %v", row)
	}
	list := func(req *reportsv1.ListEventsRequest) *reportsv1.ListEventsResponse {
		t.Helper()
		res, err := e.reports.ListEvents(dir, req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// Asset a's registration and transfer; c was acquired the day after.
	res := list(&reportsv1.ListEventsRequest{SchoolId: "s1", Drill: row.Drill})
	if got := types(res.Events); got != "AssetRegistered@2023-09-01,AssetTransferred@2024-03-01" || res.NextPageToken != "" {
		t.Fatalf("drill as of 2024-08-19: %s", got)
	}
	first := res.Events[0]
	if first.StreamId != "asset:"+a || first.Version != 1 || first.TypeName != "资产登记入账" || first.Actor != "test" ||
		first.PolicyVersion != "cap-2022" || !strings.Contains(first.PayloadJson, `"unit_price_fen":"459900"`) || first.SchoolId != "s1" {
		t.Fatalf("event %v", first)
	}
	// A day later, c is behind the row too; page by page gives the same order.
	var got []*reportsv1.EventRecord
	token := ""
	for pages := 0; ; pages++ {
		res := list(&reportsv1.ListEventsRequest{SchoolId: "s1", Drill: &reportsv1.Drill{Report: "ledger_category", Key: "2", To: "2024-08-20"},
			PageSize: 1, PageToken: token})
		got = append(got, res.Events...)
		if token = res.NextPageToken; token == "" {
			if pages != 2 {
				t.Fatalf("%d pages", pages+1)
			}
			break
		}
	}
	if types(got) != "AssetRegistered@2023-09-01,AssetTransferred@2024-03-01,AssetRegistered@2024-08-20" {
		t.Fatalf("paged: %s", types(got))
	}
	// The whole ledger, from a date; one asset's own history.
	res = list(&reportsv1.ListEventsRequest{SchoolId: "s1", Drill: &reportsv1.Drill{Report: "ledger", From: "2024-02-20"}})
	if types(res.Events) != "AssetRegistered@2024-02-20,AssetTransferred@2024-03-01,AssetRegistered@2024-08-20" {
		t.Fatalf("ledger from 2024-02-20: %s", types(res.Events))
	}
	res = list(&reportsv1.ListEventsRequest{SchoolId: "s1", Drill: &reportsv1.Drill{Report: "stream", Key: "asset:" + a}})
	if len(res.Events) != 2 {
		t.Fatalf("stream: %s", types(res.Events))
	}
	// Another school's stream named under one's own school: nothing.
	res = list(&reportsv1.ListEventsRequest{SchoolId: "s1", Drill: &reportsv1.Drill{Report: "stream", Key: "asset:" + d}})
	if len(res.Events) != 0 {
		t.Fatalf("s2's asset under s1: %s", types(res.Events))
	}

	// Bad input: every field at once.
	_, err := e.reports.ListEvents(dir, &reportsv1.ListEventsRequest{SchoolId: "s1", Drill: &reportsv1.Drill{Report: "stream", From: "2024-1-1", To: "x"},
		PageSize: 501, PageToken: "@@"})
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || len(st.Details()) != 1 ||
		!strings.Contains(st.String(), "drill.from") || !strings.Contains(st.String(), "page_token") || !strings.Contains(st.String(), "drill.key") {
		t.Fatalf("bad input: %v", err)
	}
	if _, err := e.reports.ListEvents(dir, &reportsv1.ListEventsRequest{SchoolId: "s1", Drill: &reportsv1.Drill{Report: "nope"}}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("unknown report: %v", err)
	}

	// Rebuilt from the log: the same list.
	if _, err := e.svc.Rebuild(context.Background(), "eventlog"); err != nil {
		t.Fatal(err)
	}
	res = list(&reportsv1.ListEventsRequest{SchoolId: "s1", Drill: &reportsv1.Drill{Report: "ledger"}})
	if types(res.Events) != "AssetRegistered@2023-09-01,AssetRegistered@2024-02-20,AssetTransferred@2024-03-01,AssetRegistered@2024-08-20" {
		t.Fatalf("after rebuild: %s", types(res.Events))
	}
}

// drillStreams waits until the events behind drill come from exactly want streams (sorted,
// comma separated), paging through all of them, and returns the events. It is how a test
// checks that a number's drill-down lists the events of exactly the things it counts.
func (e *env) drillStreams(t *testing.T, ctx context.Context, drill *reportsv1.Drill, want ...string) []*reportsv1.EventRecord {
	t.Helper()
	sort.Strings(want)
	var evs []*reportsv1.EventRecord
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		evs = nil
		token := ""
		for {
			res, err := e.reports.ListEvents(ctx, &reportsv1.ListEventsRequest{SchoolId: "s1", Drill: drill, PageToken: token})
			if err != nil {
				return false, err.Error()
			}
			evs = append(evs, res.Events...)
			if token = res.NextPageToken; token == "" {
				break
			}
		}
		got := streamsOf(evs)
		return got == strings.Join(want, ","), "drill " + drill.GetReport() + " " + drill.GetKey() + ": " + got
	})
	return evs
}

// streamsOf lists the distinct streams of events, sorted, comma separated.
func streamsOf(evs []*reportsv1.EventRecord) string {
	seen := map[string]bool{}
	var out []string
	for _, e := range evs {
		if !seen[e.StreamId] {
			seen[e.StreamId] = true
			out = append(out, e.StreamId)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}
