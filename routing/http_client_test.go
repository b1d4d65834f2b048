package routing

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

type recordingTransport struct{ got *http.Request }

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.got = r
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
}

// The upstream gets the headers the W3C propagator would write for the
// request's span; the caller's request keeps its own headers; without a span
// nothing is added.
func TestTraceTransportWritesW3CHeaders(t *testing.T) {
	t.Parallel()
	ts, err := trace.ParseTraceState("vendor=abc,other=1")
	require.NoError(t, err)
	for _, sc := range []trace.SpanContext{
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{0x4b, 0xf9, 0xff, 1}, SpanID: trace.SpanID{0, 0xf0, 0x67, 0xaa}, TraceFlags: trace.FlagsSampled}),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: 0xff, TraceState: ts}),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}}),
	} {
		ctx := trace.ContextWithSpanContext(context.Background(), sc)
		want := http.Header{}
		propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(want))

		rt := &recordingTransport{}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://upstream.test/v1/chat/completions", http.NoBody)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer k")
		_, err = traceTransport{next: rt}.RoundTrip(req)
		require.NoError(t, err)
		require.Equal(t, want.Values("Traceparent"), rt.got.Header.Values("Traceparent"))
		require.Equal(t, want.Values("Tracestate"), rt.got.Header.Values("Tracestate"))
		require.Equal(t, "Bearer k", rt.got.Header.Get("Authorization"))
		require.Equal(t, http.Header{"Authorization": {"Bearer k"}}, req.Header, "the caller's request is unchanged")

		// A provider writes them as it builds the request; the transport
		// then sends it as it is.
		h := http.Header{}
		setTraceHeaders(ctx, h)
		require.Equal(t, want, h)
		req.Header = h
		_, err = traceTransport{next: rt}.RoundTrip(req)
		require.NoError(t, err)
		require.Same(t, req, rt.got)
	}

	rt := &recordingTransport{}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://upstream.test/", http.NoBody)
	require.NoError(t, err)
	_, err = traceTransport{next: rt}.RoundTrip(req)
	require.NoError(t, err)
	require.Same(t, req, rt.got)
	require.Empty(t, rt.got.Header.Get("Traceparent"))
	setTraceHeaders(context.Background(), req.Header)
	require.Empty(t, req.Header)
}
