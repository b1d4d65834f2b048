package invoicing_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/stripe"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/teststripe"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/tenants"
)

// sharedMockURL is one stripe-mock for the package's tests (two cores).
var sharedMockURL string

func TestMain(m *testing.M) {
	var mock *teststripe.Mock
	if u, ok := os.LookupEnv(teststripe.EnvTestStripeURL); ok && u != "" {
		sharedMockURL = u
	} else if bin, err := teststripe.FindMockBinary(os.LookupEnv); err == nil {
		if mock, err = teststripe.StartMock(context.Background(), bin); err == nil {
			sharedMockURL = mock.URL
		}
	}
	code := m.Run()
	if mock != nil {
		_ = mock.Close()
	}
	os.Exit(code)
}

func mockURL(t testing.TB) string {
	t.Helper()
	if sharedMockURL != "" {
		return sharedMockURL
	}
	return teststripe.TestURL(t, os.LookupEnv)
}

// call is one request the recorder forwarded to stripe-mock.
type call struct {
	Method, Path, IdempotencyKey string
	Status                       int
}

// recorder is the recording proxy in front of stripe-mock.
type recorder struct {
	mu    sync.Mutex
	calls []call
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	c := call{Method: req.Method, Path: req.URL.Path, IdempotencyKey: req.Header.Get("Idempotency-Key")}
	if resp != nil {
		c.Status = resp.StatusCode
	}
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	return resp, err
}

func (r *recorder) take() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// now is the test clock: February 2026, so January is the period to invoice.
var now = time.Date(2026, 2, 10, 12, 0, 0, 0, time.UTC)

const period = "2026-01"

type testBundle struct {
	registry *tenants.Registry
	svc      *invoicing.Service
	rec      *recorder
}

// setup builds a registry on dbURL (SQLite by default) and the service over a
// Stripe client whose requests pass through a recorder to stripe-mock.
func setup(t testing.TB, dbURL string) testBundle {
	t.Helper()
	ctx := context.Background()
	logger := logging.New(logging.TestWriter{T: t}, "warn", "text")
	db, err := database.Open(ctx, dbURL, database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, migrations.ControlUp(ctx, db.SQL, db.Dialect, logger))
	reg := tenants.NewRegistry(db, t.TempDir(), logger)
	t.Cleanup(reg.Close)
	rec := &recorder{}
	client, err := stripe.New(stripe.Config{APIKey: "sk_test_123", APIBase: mockURL(t),
		HTTPClient: &http.Client{Transport: rec}, MaxNetworkRetries: -1}, logger)
	require.NoError(t, err)
	return testBundle{registry: reg, svc: invoicing.NewService(reg, client, func() time.Time { return now }, logger), rec: rec}
}

// seedTenant creates a tenant with usage in January on two models.
func seedTenant(t testing.TB, b testBundle, name, plan string) tenants.Tenant {
	t.Helper()
	ctx := context.Background()
	tn, err := b.registry.Create(ctx, tenants.CreateInput{Name: name, BillingEmail: "billing@" + strings.ToLower(name) + ".test"})
	require.NoError(t, err)
	if plan != "" {
		require.NoError(t, b.registry.SetPlan(ctx, tn.ID, plan))
	}
	h, err := b.registry.Handle(tenants.SystemPrincipal(tn, "test"))
	require.NoError(t, err)
	var events []ledger.Event
	for i := range 10 {
		model := "sim-small"
		if i%2 == 1 {
			model = "sim-large"
		}
		events = append(events, ledger.Event{TenantID: string(tn.ID), RequestID: name + "-req-" + string(rune('a'+i)),
			CreatedAt: time.Date(2026, 1, 5+i, 10, 0, 0, 0, time.UTC), ModelUsed: model, InputTokens: 1000, OutputTokens: 200,
			Cost: billing.NanoUSD(12_345_678 * (i + 1)), Status: ledger.StatusOK})
	}
	// One event outside the period must not be billed.
	events = append(events, ledger.Event{TenantID: string(tn.ID), RequestID: name + "-feb", CreatedAt: now, ModelUsed: "sim-large",
		InputTokens: 1, Cost: billing.NanoPerUSD, Status: ledger.StatusOK})
	_, err = ledger.Insert(ctx, h, events)
	require.NoError(t, err)
	return tn
}

func handleOf(t testing.TB, b testBundle, tn tenants.Tenant) *tenants.Handle {
	t.Helper()
	h, err := b.registry.Handle(tenants.SystemPrincipal(tn, "test"))
	require.NoError(t, err)
	return h
}

func testLogger(t testing.TB) *slog.Logger {
	return logging.New(logging.TestWriter{T: t}, "warn", "text")
}
