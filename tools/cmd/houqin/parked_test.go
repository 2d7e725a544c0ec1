package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"houqin.dev/platform/reactor"
	"houqin.dev/platform/testkit"
)

func TestParkedListAndRetry(t *testing.T) {
	url := testkit.DatabaseURL(t)
	pool := testkit.PoolFor(t, url)
	ctx := context.Background()
	if err := reactor.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"procurement-register-assets", "procurement-receive-stock"} {
		if _, err := pool.Exec(ctx, `INSERT INTO parked_reactions (reactor, event_id, stream_id, event_type, school_id,
			bus_stream, bus_sequence, code, message) VALUES ($1, gen_random_uuid(), 'purchase_order:o1',
			'houqin.procurement.events.v1.GoodsAccepted', 's1', 'HOUQIN_PROCUREMENT', 7, 'FailedPrecondition', 'refused')`, r); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := parked([]string{"list", "--database-url", url}, &out); err != nil || !strings.Contains(out.String(), "2 parked reactions") ||
		!strings.Contains(out.String(), "FailedPrecondition") {
		t.Fatalf("list: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := parked([]string{"retry", "--database-url", url, "--reactor", "procurement-register-assets"}, &out); err != nil ||
		!strings.Contains(out.String(), "asked 1 parked reactions") {
		t.Fatalf("retry: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := parked([]string{"list", "--database-url", url, "--reactor", "procurement-register-assets"}, &out); err != nil ||
		!strings.Contains(out.String(), "retry requested") || !strings.Contains(out.String(), "1 parked reactions") {
		t.Fatalf("list after retry: %v\n%s", err, out.String())
	}
}
