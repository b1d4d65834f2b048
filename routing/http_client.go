package routing

import (
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// NewHTTPClient returns the client providers share: one keep-alive transport
// with a large idle pool per host, because a gateway talks to few hosts at high
// concurrency and a fresh TLS handshake costs far more than the 0.3 ms budget.
// It sets no overall timeout: streams last minutes, so deadlines come from ctx
// (the Executor applies per-provider timeouts). Requests whose context holds a
// span carry its W3C traceparent upstream.
func NewHTTPClient() *http.Client {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Each connection keeps a read and a write buffer for its whole life,
		// and a stream holds its connection while it is in flight. Requests are
		// written by the buffer only up to their headers (a body goes to the
		// socket in one write); answers are read into a buffer of their length
		// and streams through their own SSE reader, so larger buffers would
		// only hold memory: 2 and 1 KiB instead of 4 and 4.
		ReadBufferSize:  2 << 10,
		WriteBufferSize: 1 << 10,
	}
	return &http.Client{Transport: traceTransport{next: t}}
}

// traceTransport propagates the trace of a request's context (the gateway's
// upstream span) to the upstream as traceparent/tracestate. Without a valid span
// context (tracing off) it adds nothing and costs one context lookup.
type traceTransport struct{ next http.RoundTripper }

func (t traceTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if trace.SpanContextFromContext(r.Context()).IsValid() {
		// A RoundTripper must not change the caller's request.
		r = r.Clone(r.Context())
		propagation.TraceContext{}.Inject(r.Context(), propagation.HeaderCarrier(r.Header))
	}
	return t.next.RoundTrip(r)
}
