package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func TestRecordsCarryTraceIDs(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, "info", "assets")
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	log.With("k", "v").InfoContext(ctx, "hello")
	log.DebugContext(ctx, "hidden")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("one JSON record expected: %v: %s", err, buf.String())
	}
	if rec["trace_id"] != tid.String() || rec["span_id"] != sid.String() || rec["service"] != "assets" || rec["k"] != "v" {
		t.Fatalf("record %v", rec)
	}
}
