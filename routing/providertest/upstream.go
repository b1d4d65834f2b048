// Package providertest holds the conformance suite every routing.Provider runs
// and fake upstreams that speak the real OpenAI and Anthropic wire formats
// (JSON and SSE) on an httptest server. Other packages' tests (api) can use the
// fakes to exercise the gateway end to end without network access.
package providertest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Fault makes the next request to a fake upstream misbehave.
type Fault struct {
	// Status, when non-zero, answers with this HTTP status and Body.
	Status int
	// Body is the error body sent with Status; a provider-shaped default when empty.
	Body string
	// Hang streams the first chunk, then blocks until the request context is done
	// and signals Cancelled. Non-streaming requests block before answering.
	Hang bool
	// NoUsage streams without a usage chunk even when asked (some OpenAI-compatible
	// servers never send one).
	NoUsage bool
}

// Upstream is a fake provider endpoint. Configure faults with Fail and Hang
// before the request; inspect what the provider sent with Requests.
type Upstream struct {
	// URL is the server's root; OpenAI fakes serve under /v1.
	URL string
	// APIKey is the key the fake expects; requests with another key get 401.
	APIKey string

	srv       *httptest.Server
	mu        sync.Mutex
	faults    []Fault
	requests  []Request
	cancelled chan struct{}
	cancelOne sync.Once
	// cached holds the prompt prefixes written to the fake's prompt cache.
	cached map[string]bool
}

// Request is one request the fake received.
type Request struct {
	Path   string
	Header http.Header
	Body   []byte
}

func newUpstream(t testing.TB, key string, h func(u *Upstream, w http.ResponseWriter, r *http.Request, body []byte, f Fault)) *Upstream {
	u := &Upstream{APIKey: key, cancelled: make(chan struct{})}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.requests = append(u.requests, Request{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		var f Fault
		if len(u.faults) > 0 {
			f, u.faults = u.faults[0], u.faults[1:]
		}
		u.mu.Unlock()
		h(u, w, r, body, f)
	}))
	u.URL = u.srv.URL
	t.Cleanup(u.srv.Close)
	return u
}

// Fail queues a fault for the next request; faults apply in order.
func (u *Upstream) Fail(f Fault) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.faults = append(u.faults, f)
}

// Requests returns a copy of every request received so far.
func (u *Upstream) Requests() []Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]Request(nil), u.requests...)
}

// LastRequest returns the most recent request; it fails the test when there is none.
func (u *Upstream) LastRequest(t testing.TB) Request {
	t.Helper()
	reqs := u.Requests()
	if len(reqs) == 0 {
		t.Fatal("providertest: upstream received no request")
	}
	return reqs[len(reqs)-1]
}

// Cancelled is closed once a hanging request saw its context done, which proves
// the provider cancelled the upstream call.
func (u *Upstream) Cancelled() <-chan struct{} { return u.cancelled }

func (u *Upstream) hang(r *http.Request) {
	<-r.Context().Done()
	u.cancelOne.Do(func() { close(u.cancelled) })
}

func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}
