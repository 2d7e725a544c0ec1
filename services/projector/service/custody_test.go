package service_test

import (
	"fmt"
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

func TestCustodyCoverageOfATerm(t *testing.T) {
	e := start(t)
	e.publish("s1", 1, &eventsv1.SchoolRegistered{SchoolId: "s1", Name: "一小", Kind: "primary"}, uuid.New())
	for i, r := range []string{"301", "302", "303", "304"} {
		e.publish("s1", int64(i+2), &eventsv1.RoomAdded{Code: r, Name: "教学楼" + r, Building: "教学楼"}, uuid.New())
	}
	agree := func(id, term, unit string, signed bool) {
		e.publish("s1", 1, &eventsv1.CustodyAgreementDrawnUp{AgreementId: id, Term: term, UnitKind: "room", Unit: unit, Head: "班主任" + unit}, uuid.New())
		if signed {
			e.publish("s1", 2, &eventsv1.CustodyAgreementSigned{AgreementId: id, Term: term, Unit: unit, Phase: "start", SignedOn: "2025-09-01"}, uuid.New())
		}
	}
	// This term: 301 (by name) and 302 (by code) signed, 303 drawn up but not signed, 304 none.
	agree("a1", "2025-2026-1", "教学楼301", true)
	agree("a2", "2025-2026-1", "302", true)
	agree("a3", "2025-2026-1", "教学楼303", false)
	// Last term's agreement for 304 does not count.
	agree("a4", "2024-2025-2", "教学楼304", true)

	dir := testkit.Ctx(e.auth.Token(t, auth.RolePrincipal, "s1"))
	var r *reportsv1.GetCustodyCoverageResponse
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		var err error
		r, err = e.reports.GetCustodyCoverage(dir, &reportsv1.GetCustodyCoverageRequest{SchoolId: "s1", Term: "2025-2026-1"})
		return err == nil && r.AllRooms == 4 && r.SignedRooms == 2, fmt.Sprint(r, err)
	})
	var rows []string
	for _, x := range r.Rooms {
		rows = append(rows, fmt.Sprintf("%s:%v", x.Room, x.Signed))
	}
	if got := strings.Join(rows, " "); got != "303:false 304:false 301:true 302:true" || r.Coverage != 0.5 {
		t.Fatalf("rooms %s, coverage %v", got, r.Coverage)
	}
	if r.Rooms[1].Drill != nil || r.Rooms[0].Drill.GetKey() != "custody:a3" {
		t.Fatalf("drills %v", r.Rooms)
	}
	e.drillUntil(t, dir, r.Rooms[2].Drill, func(got string) bool {
		return strings.Count(got, ",") == 1 && strings.HasPrefix(strings.Split(got, ",")[1], "CustodyAgreementSigned@")
	})
	// Signed rooms: the agreements of 301 and 302; all rooms: one RoomAdded each.
	e.drillStreams(t, dir, r.SignedDrill, "custody:a1", "custody:a2")
	if rooms := e.drillStreams(t, dir, r.AllRoomsDrill, "asset:" /* the test publishes rooms there */); int64(len(rooms)) != r.AllRooms ||
		strings.Count(types(rooms), "RoomAdded") != 4 {
		t.Fatalf("all rooms drill: %s", types(rooms))
	}
	if _, err := e.reports.GetCustodyCoverage(dir, &reportsv1.GetCustodyCoverageRequest{SchoolId: "s1"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("no term: %v", err)
	}
}
