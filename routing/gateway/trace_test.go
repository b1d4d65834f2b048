package gateway

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/routing"
)

func recorder(t *testing.T) (*tracetest.SpanRecorder, trace.Tracer) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	return rec, tp.Tracer("test")
}

func attrOf(s sdktrace.ReadOnlySpan, key string) (string, bool) {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value.Emit(), true
		}
	}
	return "", false
}

// Child spans exist only under a recording request span: with tracing off (or
// an unsampled request) the gateway records nothing.
func TestChildSpansOnlyUnderARecordingSpan(t *testing.T) {
	t.Parallel()
	rec, tracer := recorder(t)
	s := &Service{d: Deps{Tracer: tracer}}

	_, span := s.startChild(t.Context(), spanReserve, trace.SpanKindInternal)
	require.False(t, span.IsRecording())
	span.End()
	require.Empty(t, rec.Ended())

	ctx, root := tracer.Start(t.Context(), "POST /v1/chat/completions")
	_, child := s.startUpstream(ctx, operationChat, routing.Model{ID: "gpt-4o-mini", Provider: "openai"})
	child.End()
	root.End()
	ended := rec.Ended()
	require.Len(t, ended, 2)
	require.Equal(t, spanUpstream, ended[0].Name())
	require.Equal(t, root.SpanContext().SpanID(), ended[0].Parent().SpanID())
	require.Equal(t, trace.SpanKindClient, ended[0].SpanKind())
	provider, _ := attrOf(ended[0], "gen_ai.provider.name")
	require.Equal(t, "openai", provider)
}

// Opted-in content follows the GenAI conventions' message shape: typed parts for
// text, tool calls and tool results; choices with their finish reason.
func TestTraceContentShapes(t *testing.T) {
	t.Parallel()
	rec, tracer := recorder(t)
	req, err := routing.ParseChatRequest([]byte(`{"model":"auto","messages":[
		{"role":"system","content":"be brief"},
		{"role":"user","content":[{"type":"text","text":"weather in"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
		{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
		{"role":"tool","tool_call_id":"call_1","content":"sunny"}]}`))
	require.NoError(t, err)
	ctx, span := tracer.Start(t.Context(), "chat auto")
	traceInput(ctx, req)
	traceOutputBody(ctx, []byte(`{"choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":null,
		"tool_calls":[{"id":"call_2","type":"function","function":{"name":"get_time","arguments":"not json"}}]}}]}`))
	span.End()

	in, ok := attrOf(rec.Ended()[0], "gen_ai.input.messages")
	require.True(t, ok)
	require.JSONEq(t, `[
		{"role":"system","parts":[{"type":"text","content":"be brief"}]},
		{"role":"user","parts":[{"type":"text","content":"weather in"}]},
		{"role":"assistant","parts":[{"type":"tool_call","id":"call_1","name":"get_weather","arguments":{"city":"Paris"}}]},
		{"role":"tool","parts":[{"type":"tool_call_response","id":"call_1","response":"sunny"}]}]`, in)
	require.NotContains(t, in, "AAAA", "image data stays out")
	out, ok := attrOf(rec.Ended()[0], "gen_ai.output.messages")
	require.True(t, ok)
	require.JSONEq(t, `[{"role":"assistant","finish_reason":"tool_calls",
		"parts":[{"type":"tool_call","id":"call_2","name":"get_time","arguments":"not json"}]}]`, out)
}

// The request span holds its attributes until End and then has every one,
// however many were added and through whichever call; what comes after End is
// dropped, and child spans hang under it.
func TestRequestSpanHoldsAttributesUntilEnd(t *testing.T) {
	t.Parallel()
	rec, tracer := recorder(t)
	s := &Service{d: Deps{Tracer: tracer}}
	ctx, span := StartRequestSpan(t.Context(), tracer, "POST /v1/chat/completions")
	require.Same(t, span, trace.SpanFromContext(ctx))
	traceSpan := trace.SpanFromContext(ctx)
	traceSpan.SetName("chat auto")
	setAttrs(traceSpan, []attribute.KeyValue{attrKeyID.String("key_1"), attrClientRequestID.String("c-1")})
	traceRefusal(ctx, meter.Decision{Reason: "budget_exceeded"})
	_, child := s.startChild(ctx, spanSettle, trace.SpanKindInternal)
	child.End()
	for i := range requestSpanAttrs + 5 {
		span.Add(attribute.Int("n"+strconv.Itoa(i), i))
	}
	span.SetAttributes(attribute.String("late.but.before.end", "yes"))
	span.End()
	span.Add(attribute.String("after.end", "no"))
	span.End()

	ended := rec.Ended()
	require.Len(t, ended, 2)
	require.Equal(t, ended[1].SpanContext().SpanID(), ended[0].Parent().SpanID(), "the settle span's parent")
	root := ended[1]
	require.Equal(t, trace.SpanKindServer, root.SpanKind())
	require.Equal(t, "chat auto", root.Name())
	for key, want := range map[string]string{"tollgate.api_key.id": "key_1", "tollgate.request.client_id": "c-1",
		"tollgate.reserve.decision": "budget_exceeded", "n0": "0", "n28": "28", "late.but.before.end": "yes"} {
		got, ok := attrOf(root, key)
		require.True(t, ok, key)
		require.Equal(t, want, got, key)
	}
	_, ok := attrOf(root, "after.end")
	require.False(t, ok)
}

// With tracing off (no recording span in the context) the hooks of the
// request path allocate nothing.
func TestTraceHooksAllocateNothingWhenOff(t *testing.T) {
	ctx := t.Context()
	s := &Service{d: Deps{Tracer: noop.NewTracerProvider().Tracer("")}}
	p := &plan{}
	allocs := testing.AllocsPerRun(100, func() {
		traceRequest(ctx, operationChat, Caller{KeyID: "key_1"}, RequestIDs{Client: "c"}, "auto", 16)
		traceRefusal(ctx, meter.Decision{Reason: "budget_exceeded"})
		_, child := s.startChild(ctx, spanReserve, trace.SpanKindInternal)
		child.End()
		_, up := s.startUpstream(ctx, operationChat, routing.Model{ID: "gpt-4o-mini", Provider: "openai"})
		endUpstream(up, routing.Outcome{}, "gpt-4o-mini", nil)
		traceUsage(ctx, p, routing.Outcome{}, routing.Usage{PromptTokens: 1}, 5, "ok")
		failSpan(up, nil, "")
	})
	require.Zero(t, allocs)
}
