package gateway

import (
	"context"
	"slices"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// requestSpanAttrs is how many attributes a request span holds back: the
// edge's four or five, the gateway's up to fifteen, with room for the content
// ones of a tenant that opted in.
const requestSpanAttrs = 24

// RequestSpan is the request span of an API request. It holds the attributes
// the edge and the gateway add (in three to five calls) and hands them to the
// SDK span in one call at End, so the span's attribute slice is allocated once
// at its final size instead of growing, and the callers in this package pass
// their attributes without a heap slice per call. Everything else goes to the
// SDK span at once.
type RequestSpan struct {
	trace.Span
	// mu guards what is held: the SDK span may be used from several
	// goroutines, so its wrapper may too.
	mu sync.Mutex
	n  int
	// attrs comes from heldAttrs (the SDK span copies what it is given, so
	// the array goes back at End): 1.5 KB a request otherwise. It is nil
	// when the span does not record (an unsampled request) and after End.
	attrs *[requestSpanAttrs]attribute.KeyValue
}

var heldAttrs = sync.Pool{New: func() any { return new([requestSpanAttrs]attribute.KeyValue) }}

var startServer = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindServer)}

// StartRequestSpan starts the server span of an API request as a child of
// ctx's span (the client's, from its traceparent, when it sent one); ctx
// carries the RequestSpan.
func StartRequestSpan(ctx context.Context, tracer trace.Tracer, name string) (context.Context, *RequestSpan) {
	_, span := tracer.Start(ctx, name, startServer...)
	rs := &RequestSpan{Span: span}
	if span.IsRecording() {
		rs.attrs = heldAttrs.Get().(*[requestSpanAttrs]attribute.KeyValue)
	}
	return trace.ContextWithSpan(ctx, rs), rs
}

// Add holds back one attribute. After End, or when the span does not record,
// it is dropped, as the SDK span drops it then.
func (s *RequestSpan) Add(kv attribute.KeyValue) {
	s.mu.Lock()
	s.add(kv)
	s.mu.Unlock()
}

func (s *RequestSpan) add(kv attribute.KeyValue) {
	if s.attrs == nil {
		return
	}
	if s.n == len(s.attrs) {
		s.flush()
	}
	s.attrs[s.n] = kv
	s.n++
}

// SetAttributes holds back kvs.
func (s *RequestSpan) SetAttributes(kvs ...attribute.KeyValue) {
	s.addAll(kvs)
}

func (s *RequestSpan) addAll(kvs []attribute.KeyValue) {
	s.mu.Lock()
	for _, kv := range kvs {
		s.add(kv)
	}
	s.mu.Unlock()
}

// End hands the held attributes to the SDK span and ends it.
func (s *RequestSpan) End(opts ...trace.SpanEndOption) {
	s.mu.Lock()
	held := s.attrs
	if held != nil {
		s.flush()
		s.attrs = nil
	}
	s.mu.Unlock()
	if held != nil {
		heldAttrs.Put(held)
	}
	s.Span.End(opts...)
}

func (s *RequestSpan) flush() {
	if s.n == 0 {
		return
	}
	s.Span.SetAttributes(s.attrs[:s.n]...)
	clear(s.attrs[:s.n])
	s.n = 0
}

// setAttrs adds attrs to span without a heap copy when span is a RequestSpan
// (the SDK span copies what it is given, but a slice passed to an interface
// method escapes; cloning in the other case keeps the caller's on its stack).
func setAttrs(span trace.Span, attrs []attribute.KeyValue) {
	if rs, ok := span.(*RequestSpan); ok {
		rs.addAll(attrs)
		return
	}
	span.SetAttributes(slices.Clone(attrs)...)
}
