package routing

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
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
	return &http.Client{Transport: traceTransport{next: newTransport()}}
}

func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&bodyDialer{net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Each connection keeps a read and a write buffer for its whole life,
		// and a stream holds its connection while it is in flight. A request
		// goes out in one write when its headers and body fit the write buffer,
		// else in two: the full buffer, then the rest of the body straight from
		// the request's bytes (bodyConn). Answers are read into a buffer of
		// their length and streams through their own SSE reader (reads at
		// least this large bypass the buffer), so larger buffers would only
		// hold memory: 1 and 1 KiB instead of 4 and 4.
		ReadBufferSize:  1 << 10,
		WriteBufferSize: 1 << 10,
	}
}

// bodyDialer dials TCP connections as bodyConns (for TLS the transport wraps
// the dialed conn, and writes through the TLS conn instead).
type bodyDialer struct{ net.Dialer }

func (d *bodyDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.Dialer.DialContext(ctx, network, addr)
	if tc, ok := c.(*net.TCPConn); ok && err == nil {
		return bodyConn{tc}, nil
	}
	return c, err
}

// bodyConn writes the part of a request body the transport's write buffer did
// not take straight from the body's bytes. The transport hands that rest to
// the connection's ReadFrom as an io.LimitedReader over the request's Body
// (io.NopCloser of the *bytes.Reader http.NewRequest was given), which
// TCPConn.ReadFrom copies through a new buffer the size of the rest (a 14 KB
// prompt: 14 KB allocated and copied per request); here it is one write of the
// bytes already in memory. The Body stays what http.NewRequest makes of a
// *bytes.Reader: a body of another type has the transport flush the headers
// in a write of their own.
type bodyConn struct{ *net.TCPConn }

// nopCloserWriterTo is the type of io.NopCloser(*bytes.Reader).
var nopCloserWriterTo = reflect.TypeOf(io.NopCloser(bytes.NewReader(nil)))

func (c bodyConn) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok && reflect.TypeOf(lr.R) == nopCloserWriterTo {
		// Its one field is the reader; net/http unwraps it the same way.
		if br, ok := reflect.ValueOf(lr.R).Field(0).Interface().(*bytes.Reader); ok && int64(br.Len()) <= lr.N {
			n, err := br.WriteTo(c.TCPConn)
			lr.N -= n
			return n, err
		}
	}
	return c.TCPConn.ReadFrom(r)
}

// send is client.Do(req) for a POST to an upstream, without what Do spends on
// every request for redirects that upstreams do not send: a copy of the
// request's headers and URL (six allocations). A redirect is followed by
// client.Do from the start, with the body again, so it ends as Do would have;
// a client with a timeout, cookie jar or redirect policy always goes through Do.
func send(client *http.Client, req *http.Request) (*http.Response, error) {
	if client.Transport == nil || client.Timeout != 0 || client.Jar != nil || client.CheckRedirect != nil {
		return client.Do(req)
	}
	resp, err := client.Transport.RoundTrip(req)
	if err != nil {
		return nil, &url.Error{Op: req.Method[:1] + strings.ToLower(req.Method[1:]), URL: stripPassword(req.URL), Err: err}
	}
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		if resp.Header.Get("Location") == "" || req.GetBody == nil {
			return resp, nil // Do returns these as they are too
		}
		_ = resp.Body.Close()
		again := req.Clone(req.Context())
		if again.Body, err = req.GetBody(); err != nil {
			return nil, &url.Error{Op: req.Method[:1] + strings.ToLower(req.Method[1:]), URL: stripPassword(req.URL), Err: err}
		}
		return client.Do(again)
	}
	return resp, nil
}

// stripPassword is how http.Client names a URL in its errors.
func stripPassword(u *url.URL) string {
	if _, set := u.User.Password(); set {
		return strings.Replace(u.String(), u.User.String()+"@", u.User.Username()+":***@", 1)
	}
	return u.String()
}

// traceTransport propagates the trace of a request's context (the gateway's
// upstream span) to the upstream as traceparent/tracestate. Without a valid span
// context (tracing off) it adds nothing and costs one context lookup.
type traceTransport struct{ next http.RoundTripper }

func (t traceTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header["Traceparent"] != nil { // set by its builder (setTraceHeaders)
		return t.next.RoundTrip(r)
	}
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

// setTraceHeaders writes the trace context of ctx's span (W3C traceparent and
// tracestate) into h, the headers of a request being built, so that the
// transport need not copy the request to add them. Without a valid span
// context (tracing off) it adds nothing.
func setTraceHeaders(ctx context.Context, h http.Header) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return
	}
	h["Traceparent"] = []string{traceparent(sc)}
	if ts := sc.TraceState(); ts.Len() > 0 {
		h["Tracestate"] = []string{ts.String()}
	}
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
