package service_test

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"houqin.dev/platform/auth"
)

// A command's trace runs from the gRPC call through its PostgreSQL queries into the stored
// event, whose trace parent the relay carries on the bus to the projector.
func TestCommandTraceReachesTheEvent(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTracerProvider(prevTP); otel.SetTextMapPropagator(prevProp) })

	e := start(t)
	e.school(t, "s1")
	res, err := e.client.RegisterAsset(e.as(t, auth.RoleLogisticsDirector, "s1"), registerReq("s1", "req-trace-0001", "ZC-T1"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.svc.Store().Load(context.Background(), "asset:"+res.AssetId)
	if err != nil || len(st.Events) != 1 {
		t.Fatalf("load: %v", err)
	}
	tp0 := st.Events[0].TraceParent
	var rpc sdktrace.ReadOnlySpan
	queries := 0
	for _, s := range rec.Ended() {
		if s.Name() == "houqin.assets.v1.AssetsService/RegisterAsset" {
			rpc = s
		}
	}
	if rpc == nil {
		t.Fatal("no server span for RegisterAsset")
	}
	for _, s := range rec.Ended() {
		if s.SpanContext().TraceID() == rpc.SpanContext().TraceID() && s.SpanContext().SpanID() != rpc.SpanContext().SpanID() {
			queries++
		}
	}
	if !strings.Contains(tp0, rpc.SpanContext().TraceID().String()) {
		t.Fatalf("event trace parent %q is not in the call's trace %s", tp0, rpc.SpanContext().TraceID())
	}
	if queries == 0 {
		t.Fatal("no PostgreSQL spans in the call's trace")
	}
}
