package telemetry

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// captureClient keeps every upload as a collector receives it: the request's
// wire form (the exporter reuses its buffer for the next batch), and that
// parsed.
type captureClient struct {
	uploads [][]*tracepb.ResourceSpans
	raw     [][]byte
	err     error
}

func (c *captureClient) Start(context.Context) error { return nil }
func (c *captureClient) Stop(context.Context) error  { return nil }
func (c *captureClient) UploadTraces(_ context.Context, rss []*tracepb.ResourceSpans) error {
	raw, err := proto.Marshal(&coltracepb.ExportTraceServiceRequest{ResourceSpans: rss})
	if err != nil {
		return err
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(raw, &req); err != nil {
		return err
	}
	c.raw = append(c.raw, raw)
	c.uploads = append(c.uploads, req.ResourceSpans)
	return c.err
}

var _ otlptrace.Client = (*captureClient)(nil)

// testSpans is a batch with every feature a span can carry: remote and local
// parents, a trace state, each attribute type, events, links, a status, two
// scopes. Spans of one scope interleave with the other's.
func testSpans(t *testing.T, n int) []sdktrace.ReadOnlySpan {
	t.Helper()
	ts, err := trace.ParseTraceState("vendor=abc")
	require.NoError(t, err)
	res := resource.NewSchemaless(attribute.String("service.name", "tollgate"), attribute.StringSlice("tags", []string{"a", "b"}))
	scopes := []instrumentation.Scope{
		{Name: "github.com/tollgate-dev/tollgate", Version: "1.2.3"},
		{Name: "other", SchemaURL: "https://opentelemetry.io/schemas/1.26.0", Attributes: attribute.NewSet(attribute.Bool("x", true))},
	}
	start := time.Unix(1_700_000_000, 123)
	var out []sdktrace.ReadOnlySpan
	for i := range n {
		sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, byte(i)}, SpanID: trace.SpanID{2, byte(i)},
			TraceFlags: trace.FlagsSampled, TraceState: ts})
		parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: sc.TraceID(), SpanID: trace.SpanID{3, byte(i)}, Remote: i%2 == 0})
		stub := tracetest.SpanStub{
			Name: "chat gpt-4o-mini", SpanContext: sc, Parent: parent, SpanKind: trace.SpanKind(i % 6),
			StartTime: start, EndTime: start.Add(time.Duration(i) * time.Millisecond),
			Attributes: []attribute.KeyValue{
				attribute.String("gen_ai.request.model", "gpt-4o-mini"), attribute.Int64("gen_ai.usage.input_tokens", int64(i)),
				attribute.Float64("f", 0.5), attribute.Bool("b", i%2 == 1), attribute.Int64Slice("is", []int64{1, 2}),
				attribute.StringSlice("ss", []string{"x"}), attribute.BoolSlice("bs", []bool{true}), attribute.Float64Slice("fs", []float64{1.5}),
			},
			DroppedAttributes: 1, DroppedEvents: 2, DroppedLinks: 3,
			Resource: res, InstrumentationScope: scopes[i%2],
		}
		if i%3 == 0 {
			stub.Status = sdktrace.Status{Code: codes.Error, Description: "upstream call failed"}
			stub.Events = []sdktrace.Event{{Name: "exception", Time: start, Attributes: []attribute.KeyValue{attribute.String("exception.message", "boom")}}}
			stub.Links = []sdktrace.Link{{SpanContext: parent.WithTraceState(ts), Attributes: []attribute.KeyValue{attribute.Int("n", i)}, DroppedAttributeCount: 1}}
		}
		if i == 1 {
			stub.Parent = trace.SpanContext{}
		}
		out = append(out, stub.Snapshot())
	}
	return out
}

// exporterPair is the SDK's otlptrace exporter and ours, each uploading to a
// client that keeps what it is given.
func exporterPair(t *testing.T) (want, got *captureClient, sdkExp *otlptrace.Exporter, exp *exporter) {
	t.Helper()
	want, got = &captureClient{}, &captureClient{}
	sdkExp, err := otlptrace.New(t.Context(), want)
	require.NoError(t, err)
	exp, err = newExporter(t.Context(), got)
	require.NoError(t, err)
	return want, got, sdkExp, exp
}

// Given the same batches, the exporter uploads what the SDK's otlptrace exporter
// uploads, also on later batches that reuse (and shrink within) its slabs.
func TestExporterMatchesSDK(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	want, got, sdkExp, exp := exporterPair(t)
	for _, n := range []int{7, 3, 12, 1} {
		batch := testSpans(t, n)
		require.NoError(t, sdkExp.ExportSpans(ctx, batch))
		require.NoError(t, exp.ExportSpans(ctx, batch))
	}
	require.Len(t, got.uploads, len(want.uploads))
	for i := range want.uploads {
		require.Len(t, got.uploads[i], 1, "one resource")
		require.Len(t, want.uploads[i], 1)
		w, g := want.uploads[i][0], got.uploads[i][0]
		// The SDK omits a link's trace state; the OTLP message has the field.
		for _, ss := range g.ScopeSpans {
			for _, sp := range ss.Spans {
				for _, l := range sp.Links {
					require.Equal(t, "vendor=abc", l.TraceState)
					l.TraceState = ""
				}
			}
		}
		require.True(t, proto.Equal(w, g), "batch %d:\nsdk: %s\nours: %s", i, prototext.Format(w), prototext.Format(g))
	}
	require.NoError(t, exp.Shutdown(ctx))
}

// Without links (whose trace state the SDK leaves out), the request the
// collector receives is byte for byte the SDK exporter's, also with spans of
// two resources interleaved (the SDK orders resources at random: each
// ResourceSpans is compared).
func TestExporterBytesMatchSDK(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	want, got, sdkExp, exp := exporterPair(t)
	other := resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0", attribute.String("service.name", "other"))
	for _, n := range []int{9, 2, 30} {
		batch := testSpans(t, n)
		for i, s := range batch {
			stub := tracetest.SpanStubFromReadOnlySpan(s)
			stub.Links = nil
			if i%4 == 1 {
				stub.Resource = other
			}
			batch[i] = stub.Snapshot()
		}
		require.NoError(t, sdkExp.ExportSpans(ctx, batch))
		require.NoError(t, exp.ExportSpans(ctx, batch))
	}
	require.Len(t, got.raw, len(want.raw))
	for i := range want.raw {
		w, g := resourceSpansBytes(t, want.raw[i]), resourceSpansBytes(t, got.raw[i])
		require.Len(t, g, 2, "two resources")
		require.Equal(t, w, g, "batch %d", i)
	}
}

// resourceSpansBytes splits an ExportTraceServiceRequest's wire form into its
// ResourceSpans' (field 1), sorted.
func resourceSpansBytes(t *testing.T, raw []byte) []string {
	t.Helper()
	var out []string
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		require.GreaterOrEqual(t, n, 0)
		require.Equal(t, protowire.Number(1), num)
		require.Equal(t, protowire.BytesType, typ)
		v, m := protowire.ConsumeBytes(raw[n:])
		require.GreaterOrEqual(t, m, 0)
		out = append(out, string(v))
		raw = raw[n+m:]
	}
	slices.Sort(out)
	return out
}

// A string that is not UTF-8, which protobuf's marshal refuses (the SDK
// exporter loses the batch), is sent with the invalid bytes replaced.
func TestExporterReplacesInvalidUTF8(t *testing.T) {
	t.Parallel()
	c := &captureClient{}
	exp, err := newExporter(t.Context(), c)
	require.NoError(t, err)
	stub := tracetest.SpanStubFromReadOnlySpan(testSpans(t, 1)[0])
	stub.Name = "chat \xffmodel"
	stub.Attributes = []attribute.KeyValue{attribute.String("tollgate.request.client_id", "a\xc3b")}
	require.NoError(t, exp.ExportSpans(t.Context(), []sdktrace.ReadOnlySpan{stub.Snapshot()}))
	sp := c.uploads[0][0].ScopeSpans[0].Spans[0]
	require.Equal(t, "chat \uFFFDmodel", sp.Name)
	require.Equal(t, "a\uFFFDb", sp.Attributes[0].Value.GetStringValue())
}

// Once its buffer has grown, a batch costs the same few allocations whatever
// its size (the groups and the ResourceSpans messages), not several per span.
func TestExporterAllocatesPerBatchNotPerSpan(t *testing.T) {
	ctx := t.Context()
	exp, err := newExporter(ctx, discardClient{})
	require.NoError(t, err)
	small, large := testSpans(t, 4), testSpans(t, 200)
	// Events, links and a trace state allocate by design; keep them out.
	strip := func(spans []sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
		out := make([]sdktrace.ReadOnlySpan, len(spans))
		for i, s := range spans {
			stub := tracetest.SpanStubFromReadOnlySpan(s)
			stub.Events, stub.Links = nil, nil
			stub.SpanContext = stub.SpanContext.WithTraceState(trace.TraceState{}) // its text is built per span
			stub.Attributes = stub.Attributes[:4]                                  // the scalar kinds
			out[i] = stub.Snapshot()
		}
		return out
	}
	small, large = strip(small), strip(large)
	require.NoError(t, exp.ExportSpans(ctx, large))
	perSmall := testing.AllocsPerRun(20, func() { _ = exp.ExportSpans(ctx, small) })
	perLarge := testing.AllocsPerRun(20, func() { _ = exp.ExportSpans(ctx, large) })
	require.Equal(t, perSmall, perLarge, "allocations of a 4-span and a 200-span batch")
	require.Less(t, perLarge, 40.0)
}

type discardClient struct{}

func (discardClient) Start(context.Context) error                                  { return nil }
func (discardClient) Stop(context.Context) error                                   { return nil }
func (discardClient) UploadTraces(context.Context, []*tracepb.ResourceSpans) error { return nil }

// An upload error reaches the batch processor (which reports it), and the
// slabs are usable for the next batch.
func TestExporterReportsUploadErrors(t *testing.T) {
	t.Parallel()
	c := &captureClient{err: errors.New("collector unavailable")}
	exp, err := newExporter(t.Context(), c)
	require.NoError(t, err)
	require.ErrorContains(t, exp.ExportSpans(t.Context(), testSpans(t, 2)), "collector unavailable")
	c.err = nil
	require.NoError(t, exp.ExportSpans(t.Context(), testSpans(t, 2)))
	require.Len(t, c.uploads[1][0].ScopeSpans[0].Spans, 1)
}
