package telemetry

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// exporter sends span batches through an OTLP client (HTTP or gRPC, set up from
// the OTEL_EXPORTER_OTLP_* variables) as the SDK's otlptrace exporter does, but
// writes each resource's spans in the protobuf wire format itself, into a
// buffer it keeps from one batch to the next, and hands the client
// ResourceSpans messages whose only content is those bytes (as unknown
// fields, which the client's marshal copies verbatim). The SDK's conversion
// allocates three objects per attribute and four per span, and the generic
// marshal then walks them twice through reflection and a map lookup per
// oneof: at 1,000 req/s that was most of what tracing cost in the background.
// (OTLP/HTTP with JSON bodies would drop unknown fields; config refuses it.)
// The bytes are the SDK exporter's (TestExporterMatchesSDK); the conversion
// follows its tracetransform package (Apache-2.0, The OpenTelemetry Authors).
type exporter struct {
	client otlptrace.Client

	// mu holds one batch at a time: the messages handed to the client point
	// into buf, which the next batch overwrites.
	mu       sync.Mutex
	buf      []byte
	groupOf  []int
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
	rss := e.convert(spans)
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

// group is the spans of one resource and instrumentation scope.
type group struct {
	res   attribute.Distinct
	scope instrumentation.Scope
	// first is the index of the group's first span.
	first int
}

// convert turns spans into OTLP ResourceSpans: one per resource, each with one
// ScopeSpans per instrumentation scope in order of first appearance.
func (e *exporter) convert(spans []sdktrace.ReadOnlySpan) []*tracepb.ResourceSpans {
	// A process has one resource and few scopes: a linear search beats a map.
	var groups []group
	e.groupOf = slices.Grow(e.groupOf[:0], len(spans))[:len(spans)]
	for i, sd := range spans {
		e.groupOf[i] = -1
		if sd == nil {
			continue
		}
		res, scope := sd.Resource().Equivalent(), sd.InstrumentationScope()
		g := slices.IndexFunc(groups, func(g group) bool { return g.res == res && g.scope == scope })
		if g < 0 {
			g = len(groups)
			groups = append(groups, group{res: res, scope: scope, first: i})
		}
		e.groupOf[i] = g
	}
	if len(groups) == 0 {
		return nil
	}
	// On the stack while it is written: appending to a field of the heap
	// exporter cost a write barrier per append while the GC runs.
	enc := &encoder{b: e.buf[:0]}
	defer func() { e.buf = enc.b }()
	var ends []int // where each resource's bytes end in enc.b
	for i, g := range groups {
		if slices.ContainsFunc(groups[:i], func(o group) bool { return o.res == g.res }) {
			continue // written with the resource's first scope
		}
		r := spans[g.first].Resource()
		if r != nil {
			m := enc.open(1)
			enc.keyValues(1, r.Attributes())
			enc.close(m)
		}
		for j := i; j < len(groups); j++ {
			if groups[j].res != g.res {
				continue
			}
			sc := groups[j].scope
			m := enc.open(2)
			if sc != (instrumentation.Scope{}) {
				s := enc.open(1)
				enc.string(1, sc.Name)
				enc.string(2, sc.Version)
				enc.keyValues(3, sc.Attributes.ToSlice())
				enc.close(s)
			}
			for k, gi := range e.groupOf {
				if gi == j {
					enc.span(spans[k])
				}
			}
			enc.string(3, sc.SchemaURL)
			enc.close(m)
		}
		if r != nil {
			enc.string(3, r.SchemaURL())
		}
		ends = append(ends, len(enc.b))
	}
	rss := make([]*tracepb.ResourceSpans, len(ends))
	from := 0
	for i, to := range ends {
		rss[i] = &tracepb.ResourceSpans{}
		rss[i].ProtoReflect().SetUnknown(protoreflect.RawFields(enc.b[from:to:to]))
		from = to
	}
	return rss
}

// encoder appends protobuf messages to b. A nested message is written after a
// one-byte length, moved up when its length needs more.
type encoder struct {
	b []byte
}

// open starts field num's message; close(open(num)) ends it.
func (e *encoder) open(num protowire.Number) int {
	e.b = protowire.AppendTag(e.b, num, protowire.BytesType)
	e.b = append(e.b, 0)
	return len(e.b)
}

func (e *encoder) close(start int) {
	n := len(e.b) - start
	if n < 0x80 {
		e.b[start-1] = byte(n)
		return
	}
	extra := protowire.SizeVarint(uint64(n)) - 1
	e.b = slices.Grow(e.b, extra)[:len(e.b)+extra]
	copy(e.b[start+extra:], e.b[start:start+n])
	protowire.AppendVarint(e.b[:start-1], uint64(n))
}

// string writes a string field unless empty (proto3). Invalid UTF-8, which
// the SDK's marshal refuses (failing the whole batch), is replaced.
func (e *encoder) string(num protowire.Number, s string) {
	if s == "" {
		return
	}
	e.stringAlways(num, s)
}

func (e *encoder) stringAlways(num protowire.Number, s string) {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	e.b = protowire.AppendTag(e.b, num, protowire.BytesType)
	e.b = protowire.AppendString(e.b, s)
}

func (e *encoder) bytes(num protowire.Number, v []byte) {
	if len(v) == 0 {
		return
	}
	e.b = protowire.AppendTag(e.b, num, protowire.BytesType)
	e.b = protowire.AppendBytes(e.b, v)
}

func (e *encoder) varint(num protowire.Number, v uint64) {
	if v == 0 {
		return
	}
	e.b = protowire.AppendTag(e.b, num, protowire.VarintType)
	e.b = protowire.AppendVarint(e.b, v)
}

func (e *encoder) fixed64(num protowire.Number, v uint64) {
	if v == 0 {
		return
	}
	e.b = protowire.AppendTag(e.b, num, protowire.Fixed64Type)
	e.b = protowire.AppendFixed64(e.b, v)
}

func (e *encoder) fixed32(num protowire.Number, v uint32) {
	if v == 0 {
		return
	}
	e.b = protowire.AppendTag(e.b, num, protowire.Fixed32Type)
	e.b = protowire.AppendFixed32(e.b, v)
}

// span writes field 2 of ScopeSpans, a Span.
func (e *encoder) span(sd sdktrace.ReadOnlySpan) {
	m := e.open(2)
	sc := sd.SpanContext()
	tid, sid := sc.TraceID(), sc.SpanID()
	e.bytes(1, tid[:])
	e.bytes(2, sid[:])
	if ts := sc.TraceState(); ts.Len() > 0 {
		e.string(3, ts.String())
	}
	if psid := sd.Parent().SpanID(); psid.IsValid() {
		e.bytes(4, psid[:])
	}
	e.string(5, sd.Name())
	e.varint(6, uint64(spanKind(sd.SpanKind())))
	e.fixed64(7, unixNano(sd.StartTime().UnixNano()))
	e.fixed64(8, unixNano(sd.EndTime().UnixNano()))
	e.keyValues(9, sd.Attributes())
	e.varint(10, uint64(clampUint32(sd.DroppedAttributes())))
	for _, ev := range sd.Events() {
		m := e.open(11)
		e.fixed64(1, unixNano(ev.Time.UnixNano()))
		e.string(2, ev.Name)
		e.keyValues(3, ev.Attributes)
		e.varint(4, uint64(clampUint32(ev.DroppedAttributeCount)))
		e.close(m)
	}
	e.varint(12, uint64(clampUint32(sd.DroppedEvents())))
	for _, l := range sd.Links() {
		m := e.open(13)
		ltid, lsid := l.SpanContext.TraceID(), l.SpanContext.SpanID()
		e.bytes(1, ltid[:])
		e.bytes(2, lsid[:])
		e.string(3, l.SpanContext.TraceState().String())
		e.keyValues(4, l.Attributes)
		e.varint(5, uint64(clampUint32(l.DroppedAttributeCount)))
		e.fixed32(6, spanFlags(l.SpanContext.TraceFlags(), l.SpanContext))
		e.close(m)
	}
	e.varint(14, uint64(clampUint32(sd.DroppedLinks())))
	st := sd.Status()
	s := e.open(15) // always present, as the SDK sets it
	e.string(2, st.Description)
	e.varint(3, uint64(statusCode(st.Code)))
	e.close(s)
	e.fixed32(16, spanFlags(sc.TraceFlags(), sd.Parent()))
	e.close(m)
}

// keyValues writes attrs as repeated KeyValue field num.
func (e *encoder) keyValues(num protowire.Number, attrs []attribute.KeyValue) {
	for _, a := range attrs {
		m := e.open(num)
		e.string(1, string(a.Key))
		v := e.open(2) // the value is always present, if empty
		e.anyValue(a.Value)
		e.close(v)
		e.close(m)
	}
}

// anyValue writes v's fields (the oneof: present even when zero).
func (e *encoder) anyValue(v attribute.Value) {
	switch v.Type() {
	case attribute.BOOL:
		e.b = protowire.AppendTag(e.b, 2, protowire.VarintType)
		e.b = protowire.AppendVarint(e.b, protowire.EncodeBool(v.AsBool()))
	case attribute.INT64:
		e.b = protowire.AppendTag(e.b, 3, protowire.VarintType)
		e.b = protowire.AppendVarint(e.b, uint64(v.AsInt64())) //nolint:gosec // two's complement, as protobuf's int64
	case attribute.FLOAT64:
		e.b = protowire.AppendTag(e.b, 4, protowire.Fixed64Type)
		e.b = protowire.AppendFixed64(e.b, math.Float64bits(v.AsFloat64()))
	case attribute.STRING:
		e.stringAlways(1, v.AsString())
	case attribute.BYTESLICE:
		e.b = protowire.AppendTag(e.b, 7, protowire.BytesType)
		e.b = protowire.AppendBytes(e.b, v.AsByteSlice())
	case attribute.BOOLSLICE:
		arrayOf(e, v.AsBoolSlice(), attribute.BoolValue)
	case attribute.INT64SLICE:
		arrayOf(e, v.AsInt64Slice(), attribute.Int64Value)
	case attribute.FLOAT64SLICE:
		arrayOf(e, v.AsFloat64Slice(), attribute.Float64Value)
	case attribute.STRINGSLICE:
		arrayOf(e, v.AsStringSlice(), attribute.StringValue)
	case attribute.SLICE:
		arrayOf(e, v.AsSlice(), func(e attribute.Value) attribute.Value { return e })
	case attribute.MAP:
		m := e.open(6)
		e.keyValues(1, v.AsMap())
		e.close(m)
	case attribute.EMPTY:
	default:
		e.stringAlways(1, "INVALID")
	}
}

// arrayOf writes vs as AnyValue's array_value.
func arrayOf[T any](e *encoder, vs []T, conv func(T) attribute.Value) {
	m := e.open(5)
	for _, x := range vs {
		v := e.open(1)
		e.anyValue(conv(x))
		e.close(v)
	}
	e.close(m)
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
