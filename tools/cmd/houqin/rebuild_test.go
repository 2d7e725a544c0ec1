package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"houqin.dev/platform/bus"
	"houqin.dev/platform/event"
	"houqin.dev/platform/testkit"
	eventsv1 "houqin.dev/proto/gen/houqin/assets/events/v1"
)

func TestRebuildCommand(t *testing.T) {
	ctx := context.Background()
	ns := testkit.NATS(t)
	_, js := testkit.JetStream(t, ns)
	if _, err := bus.EnsureStream(ctx, js, "assets", bus.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	for i, m := range []*eventsv1.AssetRegistered{
		{AssetId: uuid.NewString(), SchoolId: "s1", Tag: "A", Name: "钢琴", Category: "3", UnitPriceFen: 1800000, Quantity: 1, AcquiredOn: "2020-01-01"},
		{AssetId: uuid.NewString(), SchoolId: "s1", Tag: "B", Name: "课桌椅", Category: "6", UnitPriceFen: 38000, Quantity: 45, AcquiredOn: "2021-01-01"},
	} {
		payload, _ := event.Marshal(m)
		e := event.Event{ID: uuid.New(), StreamID: "asset:" + m.AssetId, StreamType: "asset", Version: 1, SchoolID: "s1",
			Type: event.TypeOf(m), Payload: payload, OccurredAt: time.Now(), RecordedAt: time.Now()}
		subj, _ := event.Subject("assets", "s1", "asset", e.Type)
		if _, err := js.PublishMsg(ctx, bus.ToMsg(subj, e)); err != nil {
			t.Fatal(i, err)
		}
	}
	url := testkit.DatabaseURL(t)
	var out bytes.Buffer
	if err := rebuild([]string{"--database-url", url, "--nats-url", ns.ClientURL()}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "rebuilt ledger: 2 events") {
		t.Fatalf("output %q", out.String())
	}
	var n, value int64
	if err := testkit.PoolFor(t, url).QueryRow(ctx, `SELECT count(*), sum(value_fen) FROM ledger.assets`).Scan(&n, &value); err != nil {
		t.Fatal(err)
	}
	if n != 2 || value != 1800000+38000*45 {
		t.Fatalf("ledger: %d rows, value %d", n, value)
	}
	if err := rebuild([]string{"--database-url", url, "--nats-url", ns.ClientURL(), "--projection", "nope"}, &out); err == nil ||
		!strings.Contains(err.Error(), "assets_holdings") {
		t.Fatalf("unknown projection: %v", err)
	}
	// The assets service's own read models are in the same registry (in its database).
	out.Reset()
	if err := rebuild([]string{"--database-url", url, "--nats-url", ns.ClientURL(), "--projection", "assets/assets_holdings"}, &out); err != nil ||
		!strings.Contains(out.String(), "rebuilt assets_holdings: 2 events") {
		t.Fatalf("holdings: %v %q", err, out.String())
	}
	if err := testkit.PoolFor(t, url).QueryRow(ctx, `SELECT count(*) FROM assets_holdings.assets`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("holdings: %d assets, %v", n, err)
	}
}
