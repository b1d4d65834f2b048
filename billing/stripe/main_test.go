package stripe_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/stripe"
	"github.com/tollgate-dev/tollgate/internal/teststripe"
)

// sharedMockURL is the stripe-mock every test of this package talks to; TestMain
// starts one (unless TOLLGATE_TEST_STRIPE_URL names a running one) so parallel
// tests do not each start their own on two cores.
var sharedMockURL string

func TestMain(m *testing.M) {
	var mock *teststripe.Mock
	if u, ok := os.LookupEnv(teststripe.EnvTestStripeURL); ok && u != "" {
		sharedMockURL = u
	} else if bin, err := teststripe.FindMockBinary(os.LookupEnv); err == nil {
		// StartMock's ctx only bounds the start; TestMain has no testing.T.
		if mock, err = teststripe.StartMock(testMainContext(), bin); err == nil {
			sharedMockURL = mock.URL
		}
	}
	code := m.Run()
	if mock != nil {
		_ = mock.Close()
	}
	os.Exit(code)
}

// mockURL returns the shared stripe-mock's URL, or falls back to TestURL, which
// skips (fails under CI=true) when none can be started.
func mockURL(t *testing.T) string {
	t.Helper()
	if sharedMockURL != "" {
		return sharedMockURL
	}
	return teststripe.TestURL(t, os.LookupEnv)
}

// call is one HTTP exchange the recorder saw.
type call struct {
	Method         string
	Path           string
	IdempotencyKey string
	Form           url.Values
	Status         int
}

// recorder is an http.RoundTripper that records every request it forwards.
type recorder struct {
	mu    sync.Mutex
	calls []call
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	if req.URL.RawQuery != "" {
		form = req.URL.Query()
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	c := call{Method: req.Method, Path: req.URL.Path, IdempotencyKey: req.Header.Get("Idempotency-Key"), Form: form}
	if resp != nil {
		c.Status = resp.StatusCode
	}
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	return resp, err
}

func (r *recorder) Calls() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

// testLogger logs through t, at debug level, so stripe-go's lines show with -v.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

type testBundle struct {
	client *stripe.Client
	rec    *recorder
}

// setup returns a client for base (stripe-mock by default) whose requests the
// bundle's recorder sees. Retries are off so each call is one request.
func setup(t testing.TB, base string) testBundle {
	t.Helper()
	rec := &recorder{}
	c, err := stripe.New(stripe.Config{
		APIKey:            "sk_test_123",
		APIBase:           base,
		HTTPClient:        &http.Client{Transport: rec},
		MaxNetworkRetries: -1,
	}, testLogger(t))
	require.NoError(t, err)
	return testBundle{client: c, rec: rec}
}

// lookupEnv is os.LookupEnv, named so tests can wrap it.
func lookupEnv(k string) (string, bool) { return os.LookupEnv(k) }
