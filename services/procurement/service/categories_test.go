package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"houqin.dev/platform/auth"
	"houqin.dev/platform/bus"
	"houqin.dev/platform/event"
	"houqin.dev/platform/testkit"
	assetseventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
	procurementv1 "houqin.dev/proto/gen/houqin/procurement/v1"
)

// A class the bureau adds in the assets service (CategoryAdded on the assets stream, school
// id district) becomes a purchase category, as a fixed-asset category; the event delivered
// twice is learned once.
func TestDistrictCategoryFromAssets(t *testing.T) {
	e := start(t)
	if _, err := bus.EnsureStream(context.Background(), e.svc.JS, "assets", bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	line := e.line(t, "s1", "3100401", 1_500_000)
	teacher := e.as(t, auth.RoleTeacher, "s1")
	n := 0
	submit := func() (*procurementv1.SubmitPurchaseRequestResponse, error) {
		n++
		return e.client.SubmitPurchaseRequest(teacher, &procurementv1.SubmitPurchaseRequestRequest{RequestId: fmt.Sprintf("submit-cat-%d", n),
			SchoolId: "s1", Department: "教务处", BudgetLineId: line, Reason: "教室改造", Lines: []*procurementv1.RequestLine{
				{Name: "智慧黑板", Category: "2010199", Unit: "块", Quantity: 1, EstimatedUnitPriceFen: 40_000}}})
	}
	if _, err := submit(); status.Code(err) != codes.InvalidArgument || fmt.Sprint(fields(err)) != "[lines[0].category]" {
		t.Fatalf("an unknown class: %v", err)
	}
	m := &assetseventsv1.CategoryAdded{Code: "2010199", Parent: "20101", Name: "智慧黑板", LifeMonths: 72, EffectiveFrom: "2025-01-01"}
	b, err := event.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	ev := event.Event{ID: uuid.Must(uuid.NewV7()), StreamID: "category_tree:district", StreamType: "category_tree", Version: 1,
		SchoolID: "district", Type: event.TypeOf(m), Payload: b, OccurredAt: time.Now(), RecordedAt: time.Now()}
	for range 2 {
		if _, err := e.svc.JS.PublishMsg(context.Background(), bus.ToMsg("houqin.assets.district.category_tree.CategoryAdded", ev)); err != nil {
			t.Fatal(err)
		}
		ev.ID = uuid.Must(uuid.NewV7()) // a redelivery past the de-duplication window
	}
	var sub *procurementv1.SubmitPurchaseRequestResponse
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		sub, err = submit()
		return err == nil, fmt.Sprint(err)
	})
	if len(sub.Chain) == 0 {
		t.Fatalf("submitted %v", sub)
	}
	time.Sleep(200 * time.Millisecond)
	if learned := e.count(t, "houqin.procurement.events.v1.AssetCategoryLearned", func(any) bool { return true }); learned != 1 {
		t.Fatalf("learned %d times", learned)
	}
}
