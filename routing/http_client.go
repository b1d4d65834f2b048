package routing

import (
	"encoding/hex"
	"net"
	"net/http"
	"time"

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
		// and streams through their own SSE reader (reads at least this large
		// bypass the buffer), so larger buffers would only hold memory: 1 and
		// 1 KiB instead of 4 and 4.
		ReadBufferSize:  1 << 10,
		WriteBufferSize: 1 << 10,
	}
	return &http.Client{Transport: traceTransport{next: t}}
}

// traceTransport propagates the trace of a request's context (the gateway's
// upstream span) to the upstream as traceparent/tracestate. Without a valid span
// context (tracing off) it adds nothing and costs one context lookup.
type traceTransport struct{ next http.RoundTripper }

func (t traceTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	sc := trace.SpanContextFromContext(r.Context())
	if !sc.IsValid() {
		return t.next.RoundTrip(r)
	}
	// A RoundTripper must not change the caller's request: a shallow copy (as
	// Request.WithContext makes) with its own header map. The values are
	// shared, as only keys are added. Cheaper than Request.Clone and the
	// propagator's Inject, which a traced request paid a dozen allocations for.
	h := make(http.Header, len(r.Header)+2)
	for k, v := range r.Header {
		h[k] = v
	}
	h["Traceparent"] = []string{traceparent(sc)}
	if ts := sc.TraceState(); ts.Len() > 0 {
		h["Tracestate"] = []string{ts.String()}
	}
	r2 := *r
	r2.Header = h
	return t.next.RoundTrip(&r2)
}

// traceparent is sc's W3C traceparent header, as the TraceContext propagator
// writes it: version 00, the ids and the flags the spec defines (sampled,
// random).
func traceparent(sc trace.SpanContext) string {
	var b [55]byte
	tid, sid := sc.TraceID(), sc.SpanID()
	copy(b[:3], "00-")
	hex.Encode(b[3:35], tid[:])
	b[35] = '-'
	hex.Encode(b[36:52], sid[:])
	b[52] = '-'
	flags := [1]byte{byte(sc.TraceFlags() & (trace.FlagsSampled | trace.FlagsRandom))}
	hex.Encode(b[53:], flags[:])
	return string(b[:])
}
