package service_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"houqin.dev/platform/bus"
	"houqin.dev/platform/reactor"
	"houqin.dev/platform/testkit"
	"houqin.dev/procurement/app"
)

// A reaction procurement refuses (an asset registered from a line of an order it does not
// know) is parked in its database, not dropped.
func TestRefusedReactionIsParked(t *testing.T) {
	e := start(t)
	if _, err := bus.EnsureStream(context.Background(), e.svc.JS, "assets", bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	publishAssetRegistered(t, e, "s1", uuid.NewString(), uuid.NewString(), uuid.NewString())
	parking := reactor.NewParking(e.svc.Pool)
	testkit.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
		ps, err := parking.List(context.Background(), reactor.Filter{})
		if err != nil {
			return false, err.Error()
		}
		return len(ps) == 1 && ps[0].Reactor == app.ReactorLinesRegistered && ps[0].Code == "NotFound" && ps[0].SchoolID == "s1",
			fmt.Sprintf("%+v", ps)
	})
	n, err := parking.Open(context.Background())
	if err != nil || n[app.ReactorLinesRegistered] != 1 {
		t.Fatalf("open parked: %v, %v", n, err)
	}
}
