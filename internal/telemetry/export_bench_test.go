package telemetry

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// requestSpans is n spans shaped as a traced chat request's four: the server
// span with the edge's and the gateway's attributes, then reserve, upstream
// and settle.
func requestSpans(n int) []sdktrace.ReadOnlySpan {
	res := resource.NewSchemaless(attribute.String("service.name", "tollgate"), attribute.String("service.version", "1.0.0"),
		attribute.String("telemetry.sdk.language", "go"), attribute.String("telemetry.sdk.name", "opentelemetry"),
		attribute.String("telemetry.sdk.version", "1.47.0"))
	scope := instrumentation.Scope{Name: InstrumentationName}
	start := time.Unix(1_700_000_000, 0)
	out := make([]sdktrace.ReadOnlySpan, 0, n)
	for i := 0; len(out) < n; i++ {
		tid := trace.TraceID{1, byte(i), byte(i >> 8)}
		root := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{2, byte(i), byte(i >> 8)}, TraceFlags: trace.FlagsSampled})
		stubs := []tracetest.SpanStub{{
			Name: "chat gpt-4o-mini", SpanContext: root, SpanKind: trace.SpanKindServer,
			Attributes: []attribute.KeyValue{
				attribute.String("http.request.method", "POST"), attribute.String("http.route", "/v1/chat/completions"),
				attribute.String("tollgate.request.id", "0193a1b2c3d4-5e6f7a8b9c0d1e2f"),
				attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.request.model", "gpt-4o-mini"),
				attribute.String("tollgate.tenant.id", "7c9e6679-7425-40de-944b-e07fc1f90ae7"),
				attribute.String("tollgate.api_key.id", "0f8fad5b-d9cb-469f-a165-70867728950e"),
				attribute.Int("gen_ai.request.max_tokens", 1), attribute.String("gen_ai.response.model", "gpt-4o-mini"),
				attribute.String("gen_ai.provider.name", "openai"), attribute.Int("gen_ai.usage.input_tokens", 12),
				attribute.Int("gen_ai.usage.output_tokens", 1), attribute.String("tollgate.route.reason", "requested"),
				attribute.Int64("tollgate.cost.nano_usd", 2400), attribute.String("tollgate.status", "ok"),
				attribute.Int("http.response.status_code", 200),
			},
		}}
		for j, name := range []string{"tollgate.reserve", "tollgate.upstream", "tollgate.settle"} {
			kind := trace.SpanKindInternal
			attrs := []attribute.KeyValue{attribute.Int64("tollgate.reserved.nano_usd", 480000), attribute.String("tollgate.reserve.decision", "allow")}
			if j == 1 {
				kind = trace.SpanKindClient
				attrs = []attribute.KeyValue{attribute.String("gen_ai.operation.name", "chat"), attribute.String("gen_ai.provider.name", "openai"),
					attribute.String("gen_ai.request.model", "gpt-4o-mini"), attribute.String("gen_ai.response.model", "gpt-4o-mini-2024-07-18")}
			}
			stubs = append(stubs, tracetest.SpanStub{Name: name, SpanKind: kind, Parent: root, Attributes: attrs,
				SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{3, byte(j), byte(i), byte(i >> 8)}, TraceFlags: trace.FlagsSampled})})
		}
		for k := range stubs {
			stubs[k].StartTime, stubs[k].EndTime = start, start.Add(time.Millisecond)
			stubs[k].Resource, stubs[k].InstrumentationScope = res, scope
			if len(out) < n {
				out = append(out, stubs[k].Snapshot())
			}
		}
	}
	return out
}

// BenchmarkExport is the background half of tracing: batches of request-shaped
// spans (the batch processor's default 512) converted, marshalled and posted
// over OTLP/HTTP to a loopback collector that discards them ("http"), or only
// converted ("convert"). Per span figures are ns/span, allocs/span and B/span.
func BenchmarkExport(b *testing.B) {
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	b.Run("http", func(b *testing.B) {
		benchmarkExport(b, otlptracehttp.NewClient(otlptracehttp.WithEndpointURL(collector.URL+"/v1/traces")))
	})
	b.Run("convert", func(b *testing.B) { benchmarkExport(b, discardClient{}) })
}

func benchmarkExport(b *testing.B, client otlptrace.Client) {
	ctx := b.Context()
	exp, err := newExporter(ctx, client)
	require.NoError(b, err)
	defer func() { _ = exp.Shutdown(ctx) }()
	const batch = sdktrace.DefaultMaxExportBatchSize
	spans := requestSpans(batch)
	require.NoError(b, exp.ExportSpans(ctx, spans))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		if err := exp.ExportSpans(ctx, spans); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	n := float64(b.N * batch)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/span")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/span")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/span")
}
