package routing

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
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

// Bodies of every size reach the upstream whole through the shared client:
// within the transport's write buffer, past it (the rest written by bodyConn
// from the request's bytes), and again after a redirect, which send leaves to
// client.Do; a transport error reads as Do's.
func TestHTTPClientSendsWholeBodies(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/v1/chat/completions", http.StatusTemporaryRedirect)
			return
		}
		b, _ := io.ReadAll(r.Body)
		require.Equal(t, int64(len(b)), r.ContentLength)
		_, _ = w.Write(b)
	}))
	defer srv.Close()
	client := NewHTTPClient()
	for _, path := range []string{"/v1/chat/completions", "/moved"} {
		for _, n := range []int{1, 700, 1 << 10, 5000, 64 << 10} {
			body := []byte(strings.Repeat("x", n-1) + "}")
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+path, bytes.NewReader(body))
			require.NoError(t, err)
			resp, err := send(client, req)
			require.NoError(t, err)
			got, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.True(t, bytes.Equal(body, got), "%s: %d bytes sent, %d echoed", path, n, len(got))
		}
	}
	srv.Close()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/v1/chat/completions", bytes.NewReader([]byte("{}")))
	require.NoError(t, err)
	_, err = send(NewHTTPClient(), req) // a fresh dial, as the default client's
	want, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader("{}"))
	_, wantErr := http.DefaultClient.Do(want)
	require.Error(t, wantErr)
	require.EqualError(t, err, wantErr.Error())
}

// writeCounter counts the writes the transport makes on a bodyConn.
type writeCounter struct {
	bodyConn
	writes *atomic.Int64
}

func (c writeCounter) Write(p []byte) (int, error) { c.writes.Add(1); return c.bodyConn.Write(p) }

func (c writeCounter) ReadFrom(r io.Reader) (int64, error) {
	c.writes.Add(1)
	return c.bodyConn.ReadFrom(r)
}

// A request whose headers and body fit the transport's write buffer goes out in
// one write; a larger one in two (the full buffer, then the rest of the body
// from its own bytes). A body type net/http does not know to be in memory
// would have the headers flushed first: two writes for every request.
func TestUpstreamRequestWrites(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	var writes atomic.Int64
	tr := newTransport()
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		bc, ok := c.(bodyConn)
		require.True(t, ok, "the transport dials bodyConns")
		return writeCounter{bc, &writes}, nil
	}
	client := &http.Client{Transport: tr}
	for _, tc := range []struct {
		size   int
		writes int64
	}{{100, 1}, {600, 1}, {5000, 2}, {64 << 10, 2}} {
		writes.Store(0)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/v1/chat/completions", bytes.NewReader(make([]byte, tc.size)))
		require.NoError(t, err)
		resp, err := send(client, req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, tc.writes, writes.Load(), "%d-byte body", tc.size)
	}
}
