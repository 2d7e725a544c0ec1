package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"houqin.dev/platform/eventstore"
	"houqin.dev/platform/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func TestVerifyReportsTampering(t *testing.T) {
	url := testkit.DatabaseURL(t)
	pool := testkit.PoolFor(t, url)
	ctx := context.Background()
	if err := eventstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(pool, "assets")
	for _, id := range []string{"asset:a", "asset:b"} {
		if _, err := store.Append(ctx, eventstore.Append{StreamType: "asset", StreamID: id, SchoolID: "s1",
			Events: []eventstore.NewEvent{{Type: "houqin.assets.events.v1.AssetRegistered", Payload: []byte(id)}}}); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := verify([]string{"--database-url", url}, &out); err != nil || !strings.Contains(out.String(), "checked 2 streams, 0 broken") {
		t.Fatalf("clean store: %v\n%s", err, out.String())
	}
	if _, err := pool.Exec(ctx, `ALTER TABLE events DISABLE TRIGGER events_immutable_rows;
		UPDATE events SET payload = 'forged' WHERE stream_id = 'asset:b';
		ALTER TABLE events ENABLE TRIGGER events_immutable_rows`); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err := verify([]string{"--database-url", url}, &out)
	if !errors.Is(err, errTampered) || !strings.Contains(out.String(), "asset:b") || !strings.Contains(out.String(), "1 broken") {
		t.Fatalf("tampered store: %v\n%s", err, out.String())
	}
}
