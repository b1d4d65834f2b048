package telemetry

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// exporter sends span batches through an OTLP client (HTTP or gRPC, set up from
// the OTEL_EXPORTER_OTLP_* variables) as the SDK's otlptrace exporter does, but
// converts them into slabs it keeps from one batch to the next. The SDK's
// conversion allocates three objects per attribute (key-value, value, oneof
// wrapper) plus four per span: about a hundred per traced request, which at
// 1,000 req/s was most of what tracing cost the collector goroutine and the GC.
// Here a span allocates nothing once the slabs have grown to the largest batch.
// The output is the SDK exporter's (TestExporterMatchesSDK); the conversion
// follows its tracetransform package (Apache-2.0, The OpenTelemetry Authors).
type exporter struct {
	client otlptrace.Client

	// mu holds one batch at a time: the messages handed to the client point
	// into the slabs, which the next batch overwrites.
	mu       sync.Mutex
	slabs    slabs
	stopOnce sync.Once
}

var _ sdktrace.SpanExporter = (*exporter)(nil)

// newExporter starts client (the SDK clients connect lazily, so an unreachable
// collector does not fail this).
func newExporter(ctx context.Context, client otlptrace.Client) (*exporter, error) {
	if err := client.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting the OTLP client: %w", err)
	}
	return &exporter{client: client}, nil
}

// ExportSpans converts spans and uploads them; the client is done with the
// messages when it returns (it marshals them before sending or retrying).
func (e *exporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	rss := e.slabs.convert(spans)
	defer e.slabs.reset()
	if len(rss) == 0 {
		return nil
	}
	if err := e.client.UploadTraces(ctx, rss); err != nil {
		return fmt.Errorf("traces export: %w", err)
	}
	return nil
}

// Shutdown stops the client; the batch processor has flushed before.
func (e *exporter) Shutdown(ctx context.Context) error {
	var err error
	e.stopOnce.Do(func() { err = e.client.Stop(ctx) })
	return err
}

// slabs back the messages of one batch. Each slice's length is what the batch
// uses; its capacity stays for the next batch.
type slabs struct {
	spans    []tracepb.Span
	spanPtrs []*tracepb.Span
	statuses []tracepb.Status
	ids      []byte
	kvs      []commonpb.KeyValue
	kvPtrs   []*commonpb.KeyValue
	values   []commonpb.AnyValue
	strs     []commonpb.AnyValue_StringValue
	ints     []commonpb.AnyValue_IntValue
	doubles  []commonpb.AnyValue_DoubleValue
	bools    []commonpb.AnyValue_BoolValue
	groupOf  []int
}

// reset drops the batch's references (strings, slices of the SDK's spans) so
// the collector does not keep them alive, and keeps the capacity.
func (s *slabs) reset() {
	clear(s.spans)
	s.spans = s.spans[:0]
	clear(s.spanPtrs)
	s.spanPtrs = s.spanPtrs[:0]
	clear(s.statuses)
	s.statuses = s.statuses[:0]
	s.ids = s.ids[:0]
	clear(s.kvs)
	s.kvs = s.kvs[:0]
	clear(s.kvPtrs)
	s.kvPtrs = s.kvPtrs[:0]
	clear(s.values)
	s.values = s.values[:0]
	clear(s.strs)
	s.strs = s.strs[:0]
	s.ints = s.ints[:0]
	s.doubles = s.doubles[:0]
	s.bools = s.bools[:0]
	s.groupOf = s.groupOf[:0]
}

// take returns the next n elements of *s, growing it when full. After a
// growth, earlier elements handed out stay valid in the old array; the next
// batch uses the new one.
func take[T any](s *[]T, n int) []T {
	l := len(*s)
	if l+n > cap(*s) {
		*s = slices.Grow(*s, n)
	}
	*s = (*s)[:l+n]
	return (*s)[l : l+n : l+n]
}

// group is the spans of one resource and instrumentation scope.
type group struct {
	res   attribute.Distinct
	scope instrumentation.Scope
	n     int
	rs    *tracepb.ResourceSpans
	ss    *tracepb.ScopeSpans
}

// convert turns spans into OTLP ResourceSpans: one per resource, each with one
// ScopeSpans per instrumentation scope in order of first appearance.
func (s *slabs) convert(spans []sdktrace.ReadOnlySpan) []*tracepb.ResourceSpans {
	// A process has one resource and few scopes: a linear search beats a map.
	var groups []group
	groupOf := take(&s.groupOf, len(spans))
	for i, sd := range spans {
		groupOf[i] = -1
		if sd == nil {
			continue
		}
		res, scope := sd.Resource().Equivalent(), sd.InstrumentationScope()
		g := slices.IndexFunc(groups, func(g group) bool { return g.res == res && g.scope == scope })
		if g < 0 {
			g = len(groups)
			groups = append(groups, group{res: res, scope: scope})
		}
		groups[g].n++
		groupOf[i] = g
	}
	if len(groups) == 0 {
		return nil
	}
	var rss []*tracepb.ResourceSpans
	for i := range groups {
		g := &groups[i]
		g.ss = &tracepb.ScopeSpans{Scope: scopeProto(g.scope), SchemaUrl: g.scope.SchemaURL, Spans: take(&s.spanPtrs, g.n)[:0]}
		owner := slices.IndexFunc(groups[:i], func(o group) bool { return o.res == g.res })
		if owner >= 0 {
			groups[owner].rs.ScopeSpans = append(groups[owner].rs.ScopeSpans, g.ss)
			continue
		}
		var sd sdktrace.ReadOnlySpan
		for j, gi := range groupOf {
			if gi == i {
				sd = spans[j]
				break
			}
		}
		g.rs = &tracepb.ResourceSpans{Resource: s.resource(sd.Resource()), SchemaUrl: sd.Resource().SchemaURL(),
			ScopeSpans: []*tracepb.ScopeSpans{g.ss}}
		rss = append(rss, g.rs)
	}
	for i, sd := range spans {
		if gi := groupOf[i]; gi >= 0 {
			groups[gi].ss.Spans = append(groups[gi].ss.Spans, s.span(sd))
		}
	}
	return rss
}

func (s *slabs) resource(r *resource.Resource) *resourcepb.Resource {
	if r == nil {
		return nil
	}
	return &resourcepb.Resource{Attributes: s.keyValues(r.Attributes())}
}

func scopeProto(sc instrumentation.Scope) *commonpb.InstrumentationScope {
	if sc == (instrumentation.Scope{}) {
		return nil
	}
	return &commonpb.InstrumentationScope{Name: sc.Name, Version: sc.Version, Attributes: keyValuesAlloc(sc.Attributes.ToSlice())}
}

func (s *slabs) span(sd sdktrace.ReadOnlySpan) *tracepb.Span {
	sc := sd.SpanContext()
	ids := take(&s.ids, 16+8+8)
	tid, sid := sc.TraceID(), sc.SpanID()
	copy(ids[:16], tid[:])
	copy(ids[16:24], sid[:])
	st := sd.Status()
	status := &take(&s.statuses, 1)[0]
	*status = tracepb.Status{Code: statusCode(st.Code), Message: st.Description}
	var traceState string
	if ts := sc.TraceState(); ts.Len() > 0 {
		traceState = ts.String()
	}
	p := &take(&s.spans, 1)[0]
	*p = tracepb.Span{
		TraceId:                ids[:16:16],
		SpanId:                 ids[16:24:24],
		TraceState:             traceState,
		Status:                 status,
		StartTimeUnixNano:      unixNano(sd.StartTime().UnixNano()),
		EndTimeUnixNano:        unixNano(sd.EndTime().UnixNano()),
		Links:                  s.links(sd.Links()),
		Kind:                   spanKind(sd.SpanKind()),
		Name:                   sd.Name(),
		Attributes:             s.keyValues(sd.Attributes()),
		Events:                 s.events(sd.Events()),
		DroppedAttributesCount: clampUint32(sd.DroppedAttributes()),
		DroppedEventsCount:     clampUint32(sd.DroppedEvents()),
		DroppedLinksCount:      clampUint32(sd.DroppedLinks()),
		Flags:                  spanFlags(sc.TraceFlags(), sd.Parent()),
	}
	if psid := sd.Parent().SpanID(); psid.IsValid() {
		copy(ids[24:], psid[:])
		p.ParentSpanId = ids[24:32:32]
	}
	return p
}

// Events (errors) and links are rare on Tollgate's spans: they allocate.
func (s *slabs) events(es []sdktrace.Event) []*tracepb.Span_Event {
	if len(es) == 0 {
		return nil
	}
	out := make([]*tracepb.Span_Event, len(es))
	for i, e := range es {
		out[i] = &tracepb.Span_Event{Name: e.Name, TimeUnixNano: unixNano(e.Time.UnixNano()),
			Attributes: s.keyValues(e.Attributes), DroppedAttributesCount: clampUint32(e.DroppedAttributeCount)}
	}
	return out
}

func (s *slabs) links(ls []sdktrace.Link) []*tracepb.Span_Link {
	if len(ls) == 0 {
		return nil
	}
	out := make([]*tracepb.Span_Link, len(ls))
	for i, l := range ls {
		tid, sid := l.SpanContext.TraceID(), l.SpanContext.SpanID()
		out[i] = &tracepb.Span_Link{TraceId: tid[:], SpanId: sid[:], TraceState: l.SpanContext.TraceState().String(),
			Attributes: s.keyValues(l.Attributes), DroppedAttributesCount: clampUint32(l.DroppedAttributeCount),
			Flags: spanFlags(l.SpanContext.TraceFlags(), l.SpanContext)}
	}
	return out
}

func (s *slabs) keyValues(attrs []attribute.KeyValue) []*commonpb.KeyValue {
	if len(attrs) == 0 {
		return nil
	}
	ptrs := take(&s.kvPtrs, len(attrs))
	kvs := take(&s.kvs, len(attrs))
	vals := take(&s.values, len(attrs))
	for i, a := range attrs {
		s.value(&vals[i], a.Value)
		kvs[i] = commonpb.KeyValue{Key: string(a.Key), Value: &vals[i]}
		ptrs[i] = &kvs[i]
	}
	return ptrs
}

// value sets *av to v; the scalar kinds (all Tollgate's spans use) come from
// the slabs.
func (s *slabs) value(av *commonpb.AnyValue, v attribute.Value) {
	*av = commonpb.AnyValue{}
	switch v.Type() {
	case attribute.STRING:
		w := &take(&s.strs, 1)[0]
		w.StringValue = v.AsString()
		av.Value = w
	case attribute.INT64:
		w := &take(&s.ints, 1)[0]
		w.IntValue = v.AsInt64()
		av.Value = w
	case attribute.FLOAT64:
		w := &take(&s.doubles, 1)[0]
		w.DoubleValue = v.AsFloat64()
		av.Value = w
	case attribute.BOOL:
		w := &take(&s.bools, 1)[0]
		w.BoolValue = v.AsBool()
		av.Value = w
	default:
		av.Value = valueAlloc(v).Value
	}
}

func keyValuesAlloc(attrs []attribute.KeyValue) []*commonpb.KeyValue {
	if len(attrs) == 0 {
		return nil
	}
	out := make([]*commonpb.KeyValue, len(attrs))
	for i, a := range attrs {
		out[i] = &commonpb.KeyValue{Key: string(a.Key), Value: valueAlloc(a.Value)}
	}
	return out
}

func valueAlloc(v attribute.Value) *commonpb.AnyValue {
	av := new(commonpb.AnyValue)
	switch v.Type() {
	case attribute.BOOL:
		av.Value = &commonpb.AnyValue_BoolValue{BoolValue: v.AsBool()}
	case attribute.INT64:
		av.Value = &commonpb.AnyValue_IntValue{IntValue: v.AsInt64()}
	case attribute.FLOAT64:
		av.Value = &commonpb.AnyValue_DoubleValue{DoubleValue: v.AsFloat64()}
	case attribute.STRING:
		av.Value = &commonpb.AnyValue_StringValue{StringValue: v.AsString()}
	case attribute.BYTESLICE:
		av.Value = &commonpb.AnyValue_BytesValue{BytesValue: v.AsByteSlice()}
	case attribute.BOOLSLICE:
		av.Value = arrayOf(v.AsBoolSlice(), attribute.BoolValue)
	case attribute.INT64SLICE:
		av.Value = arrayOf(v.AsInt64Slice(), attribute.Int64Value)
	case attribute.FLOAT64SLICE:
		av.Value = arrayOf(v.AsFloat64Slice(), attribute.Float64Value)
	case attribute.STRINGSLICE:
		av.Value = arrayOf(v.AsStringSlice(), attribute.StringValue)
	case attribute.SLICE:
		av.Value = arrayOf(v.AsSlice(), func(e attribute.Value) attribute.Value { return e })
	case attribute.MAP:
		av.Value = &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: keyValuesAlloc(v.AsMap())}}
	case attribute.EMPTY:
	default:
		av.Value = &commonpb.AnyValue_StringValue{StringValue: "INVALID"}
	}
	return av
}

func arrayOf[T any](vs []T, conv func(T) attribute.Value) *commonpb.AnyValue_ArrayValue {
	out := make([]*commonpb.AnyValue, len(vs))
	for i, e := range vs {
		out[i] = valueAlloc(conv(e))
	}
	return &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: out}}
}

func statusCode(c codes.Code) tracepb.Status_StatusCode {
	switch c {
	case codes.Ok:
		return tracepb.Status_STATUS_CODE_OK
	case codes.Error:
		return tracepb.Status_STATUS_CODE_ERROR
	default:
		return tracepb.Status_STATUS_CODE_UNSET
	}
}

func spanKind(k trace.SpanKind) tracepb.Span_SpanKind {
	switch k {
	case trace.SpanKindInternal:
		return tracepb.Span_SPAN_KIND_INTERNAL
	case trace.SpanKindClient:
		return tracepb.Span_SPAN_KIND_CLIENT
	case trace.SpanKindServer:
		return tracepb.Span_SPAN_KIND_SERVER
	case trace.SpanKindProducer:
		return tracepb.Span_SPAN_KIND_PRODUCER
	case trace.SpanKindConsumer:
		return tracepb.Span_SPAN_KIND_CONSUMER
	default:
		return tracepb.Span_SPAN_KIND_UNSPECIFIED
	}
}

// spanFlags is the W3C trace flags plus whether the parent is remote (always
// stated, as the SDK exporter does).
func spanFlags(tf trace.TraceFlags, parent trace.SpanContext) uint32 {
	flags := uint32(tf) | uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK)
	if parent.IsRemote() {
		flags |= uint32(tracepb.SpanFlags_SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK)
	}
	return flags
}

func unixNano(ns int64) uint64 { return uint64(max(0, ns)) } //nolint:gosec // clamped at 0

func clampUint32(v int) uint32 {
	return uint32(min(max(v, 0), math.MaxUint32)) //nolint:gosec // clamped
}
