package stripe_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/invoice"
	"github.com/tollgate-dev/tollgate/billing/stripe"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/teststripe"
)

var centsPattern = regexp.MustCompile(`^[0-9]+$`)

func TestEnsureCustomer(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		in          stripe.EnsureCustomerInput
		wantCreated bool
		wantID      string
		wantForm    map[string]string
		wantAbsent  []string
	}{
		{
			name:        "creates a customer with a key from the tenant",
			in:          stripe.EnsureCustomerInput{TenantID: "01jtenant", Name: "Acme", Email: "billing@acme.test"},
			wantCreated: true,
			wantForm:    map[string]string{"name": "Acme", "email": "billing@acme.test", "metadata[tenant_id]": "01jtenant"},
		},
		{
			name:        "optional fields stay out of the request",
			in:          stripe.EnsureCustomerInput{TenantID: "01jtenant"},
			wantCreated: true,
			wantForm:    map[string]string{"metadata[tenant_id]": "01jtenant"},
			wantAbsent:  []string{"name", "email"},
		},
		{
			name:   "an existing customer is returned without a call",
			in:     stripe.EnsureCustomerInput{TenantID: "01jtenant", ExistingCustomerID: "cus_existing"},
			wantID: "cus_existing",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, mockURL(t))

			got, err := b.client.EnsureCustomer(t.Context(), tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.wantCreated, got.Created)
			calls := b.rec.Calls()
			if !tt.wantCreated {
				require.Equal(t, tt.wantID, got.ID)
				require.Empty(t, calls)
				return
			}
			require.True(t, strings.HasPrefix(got.ID, "cus_"), got.ID)
			require.Len(t, calls, 1)
			c := calls[0]
			require.Equal(t, http.MethodPost, c.Method)
			require.Equal(t, "/v1/customers", c.Path)
			require.Equal(t, http.StatusOK, c.Status)
			require.Equal(t, "tg-inv-01jtenant-_-_-customer", c.IdempotencyKey)
			for k, v := range tt.wantForm {
				require.Equal(t, v, c.Form.Get(k), k)
			}
			for _, k := range tt.wantAbsent {
				require.NotContains(t, c.Form, k)
			}
		})
	}
}

func TestAddInvoiceItem(t *testing.T) {
	t.Parallel()
	b := setup(t, mockURL(t))

	got, err := b.client.AddInvoiceItem(t.Context(), stripe.AddInvoiceItemInput{
		TenantID: "01jtenant", Period: "2026-01", LineID: "m-gpt-4o", CustomerID: "cus_123",
		AmountCents: 1234, Description: "gpt-4o usage 2026-01",
	})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(got.ID, "ii_"), got.ID)

	calls := b.rec.Calls()
	require.Len(t, calls, 1)
	c := calls[0]
	require.Equal(t, http.MethodPost, c.Method)
	require.Equal(t, "/v1/invoiceitems", c.Path)
	require.Equal(t, http.StatusOK, c.Status)
	require.Equal(t, "tg-inv-01jtenant-2026-01-m-gpt-4o-item", c.IdempotencyKey)
	require.Equal(t, "1234", c.Form.Get("amount"))
	require.Regexp(t, centsPattern, c.Form.Get("amount"))
	require.Equal(t, map[string][]string{
		"amount":              {"1234"},
		"currency":            {"usd"},
		"customer":            {"cus_123"},
		"description":         {"gpt-4o usage 2026-01"},
		"metadata[tenant_id]": {"01jtenant"},
		"metadata[period]":    {"2026-01"},
		"metadata[line_id]":   {"m-gpt-4o"},
	}, map[string][]string(c.Form))
}

func TestAddInvoiceItemValidate(t *testing.T) {
	t.Parallel()
	b := setup(t, "http://127.0.0.1:1") // never reached

	_, err := b.client.AddInvoiceItem(t.Context(), stripe.AddInvoiceItemInput{Period: "2026-13", AmountCents: -1, Currency: "eur"})
	require.ErrorIs(t, err, errkind.Invalid)
	for _, want := range []string{"tenant_id: required", "period: want YYYY-MM", "line_id: required", "customer_id: required",
		"amount_cents: must be >= 0", `currency: only "usd"`} {
		require.ErrorContains(t, err, want)
	}
	require.Empty(t, b.rec.Calls())
}

func TestCreateInvoice(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name       string
		in         stripe.CreateInvoiceInput
		wantForm   map[string]string
		wantAbsent []string
	}{
		{
			name: "send_invoice defaults to 30 days",
			in:   stripe.CreateInvoiceInput{TenantID: "01jtenant", Period: "2026-01", CustomerID: "cus_123"},
			wantForm: map[string]string{"collection_method": "send_invoice", "days_until_due": "30",
				"pending_invoice_items_behavior": "include", "auto_advance": "false", "currency": "usd",
				"customer": "cus_123", "metadata[tenant_id]": "01jtenant", "metadata[period]": "2026-01"},
		},
		{
			name: "send_invoice with its own term and a memo",
			in: stripe.CreateInvoiceInput{TenantID: "01jtenant", Period: "2026-01", CustomerID: "cus_123",
				CollectionMethod: stripe.CollectionSendInvoice, DaysUntilDue: 14, Description: "Tollgate usage January 2026"},
			wantForm: map[string]string{"days_until_due": "14", "description": "Tollgate usage January 2026"},
		},
		{
			name: "charge_automatically sends no term",
			in: stripe.CreateInvoiceInput{TenantID: "01jtenant", Period: "2026-01", CustomerID: "cus_123",
				CollectionMethod: stripe.CollectionChargeAutomatically},
			wantForm:   map[string]string{"collection_method": "charge_automatically", "pending_invoice_items_behavior": "include"},
			wantAbsent: []string{"days_until_due", "description"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, mockURL(t))

			got, err := b.client.CreateInvoice(t.Context(), tt.in)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(got.ID, "in_"), got.ID)
			calls := b.rec.Calls()
			require.Len(t, calls, 1)
			c := calls[0]
			require.Equal(t, http.MethodPost, c.Method)
			require.Equal(t, "/v1/invoices", c.Path)
			require.Equal(t, http.StatusOK, c.Status)
			require.Equal(t, "tg-inv-01jtenant-2026-01-_-invoice", c.IdempotencyKey)
			for k, v := range tt.wantForm {
				require.Equal(t, v, c.Form.Get(k), k)
			}
			for _, k := range tt.wantAbsent {
				require.NotContains(t, c.Form, k)
			}
		})
	}
}

func TestCreateInvoiceValidate(t *testing.T) {
	t.Parallel()
	b := setup(t, "http://127.0.0.1:1")

	tests := []struct {
		in      stripe.CreateInvoiceInput
		wantErr []string
	}{
		{stripe.CreateInvoiceInput{}, []string{"tenant_id: required", "period: want YYYY-MM", "customer_id: required"}},
		{stripe.CreateInvoiceInput{TenantID: "t", Period: "2026-01", CustomerID: "c", CollectionMethod: "barter"}, []string{"collection_method"}},
		{stripe.CreateInvoiceInput{TenantID: "t", Period: "2026-01", CustomerID: "c", CollectionMethod: stripe.CollectionChargeAutomatically, DaysUntilDue: 3}, []string{"days_until_due: only for send_invoice"}},
		{stripe.CreateInvoiceInput{TenantID: "t", Period: "2026-01", CustomerID: "c", DaysUntilDue: -3}, []string{"days_until_due: must be >= 0"}},
	}
	for _, tt := range tests {
		_, err := b.client.CreateInvoice(t.Context(), tt.in)
		require.ErrorIs(t, err, errkind.Invalid)
		for _, w := range tt.wantErr {
			require.ErrorContains(t, err, w)
		}
	}
	_, err := b.client.FinalizeInvoice(t.Context(), "", "")
	require.ErrorIs(t, err, errkind.Invalid)
	require.ErrorContains(t, err, "invoice id: required")
	require.ErrorContains(t, err, "idempotency key: required")
	require.Empty(t, b.rec.Calls())
}

func TestFinalizeInvoice(t *testing.T) {
	t.Parallel()
	b := setup(t, mockURL(t))

	key := stripe.FinalizeKey("01jtenant", "2026-01")
	got, err := b.client.FinalizeInvoice(t.Context(), "in_1MtHbELkdIwHu7ixl4OzzPMv", key)
	require.NoError(t, err)
	require.NotEmpty(t, got.ID) // stripe-mock is stateless: the status it echoes means nothing
	calls := b.rec.Calls()
	require.Len(t, calls, 1)
	require.Equal(t, http.MethodPost, calls[0].Method)
	require.Equal(t, "/v1/invoices/in_1MtHbELkdIwHu7ixl4OzzPMv/finalize", calls[0].Path)
	require.Equal(t, "tg-inv-01jtenant-2026-01-_-finalize", calls[0].IdempotencyKey)
	require.Equal(t, "true", calls[0].Form.Get("auto_advance"))
	require.Equal(t, http.StatusOK, calls[0].Status)
}

// TestInvoiceRun pushes a built invoice through the whole sequence, twice, as a
// crashed-and-rerun invoice run would.
func TestInvoiceRun(t *testing.T) {
	t.Parallel()
	b := setup(t, mockURL(t))
	ctx := t.Context()

	// Given a tenant's January invoice with three usage lines and a platform fee.
	inv, err := invoice.Build(invoice.BuildInput{
		TenantID: "01jtenant", Period: "2026-01",
		Usage: []invoice.Usage{
			{Model: "gpt-4o", Requests: 2400, ProviderCost: 13_440_000_000},
			{Model: "x-ai/grok-4", Requests: 440, ProviderCost: 37_400_000_000},
			{Model: "gpt-4o-mini", Requests: 116, ProviderCost: 34_800_005},
		},
		Plan: invoice.Plan{MarkupBasisPoints: 2000, PlatformFee: 29_000_000_000},
	})
	require.NoError(t, err)
	require.Len(t, inv.Lines, 4)

	run := func(existingCustomerID string) ([]call, string) {
		b.rec.mu.Lock()
		b.rec.calls = nil
		b.rec.mu.Unlock()
		cus, err := b.client.EnsureCustomer(ctx, stripe.EnsureCustomerInput{TenantID: inv.TenantID, Name: "Acme", ExistingCustomerID: existingCustomerID})
		require.NoError(t, err)
		for _, line := range inv.Lines {
			_, err := b.client.AddInvoiceItem(ctx, stripe.ItemInput(inv, line, cus.ID))
			require.NoError(t, err)
		}
		created, err := b.client.CreateInvoice(ctx, stripe.CreateInvoiceInput{TenantID: inv.TenantID, Period: inv.Period, CustomerID: cus.ID})
		require.NoError(t, err)
		_, err = b.client.FinalizeInvoice(ctx, created.ID, stripe.FinalizeKey(inv.TenantID, inv.Period))
		require.NoError(t, err)
		return b.rec.Calls(), cus.ID
	}

	// When the run goes through.
	first, customerID := run("")

	// Then every call is a successful POST with its own key, and the items add up
	// to the invoice total in whole cents.
	require.Len(t, first, 7)
	keys := map[string]bool{}
	var sum int64
	for _, c := range first {
		require.Equal(t, http.MethodPost, c.Method)
		require.Equal(t, http.StatusOK, c.Status, c.Path)
		require.NotEmpty(t, c.IdempotencyKey)
		require.False(t, keys[c.IdempotencyKey], "key %s reused", c.IdempotencyKey)
		keys[c.IdempotencyKey] = true
		if c.Path == "/v1/invoiceitems" {
			require.Regexp(t, centsPattern, c.Form.Get("amount"))
			var cents int64
			_, err := fmt.Sscan(c.Form.Get("amount"), &cents)
			require.NoError(t, err)
			sum += cents
		}
	}
	require.Equal(t, inv.TotalCents, sum)

	// When the run is repeated after a crash (the customer id was stored), then
	// it sends the same items and invoice with the same keys, which Stripe would
	// answer from its idempotency cache. stripe-mock keeps no cache and makes up
	// a new invoice id each time, so only the requests are compared.
	second, _ := run(customerID)
	require.Len(t, second, len(first)-1)
	for i, c := range second {
		want := first[i+1]
		require.Equal(t, want.IdempotencyKey, c.IdempotencyKey)
		if !strings.HasSuffix(c.Path, "/finalize") {
			require.Equal(t, want.Path, c.Path)
			require.Equal(t, want.Form, c.Form)
		}
	}
}

// TestErrorKinds maps Stripe's error answers (served by a fake, since
// stripe-mock answers every valid request with success) to our kinds.
func TestErrorKinds(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		status   int
		body     string
		wantKind *errkind.Kind
		wantMsg  string
	}{
		{"bad API key", 401, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_***"}}`, errkind.Unavailable, "check STRIPE_API_KEY"},
		{"restricted key", 403, `{"error":{"type":"invalid_request_error","message":"The provided key does not have access"}}`, errkind.Unavailable, "check STRIPE_API_KEY"},
		{"rate limited", 429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests"}}`, errkind.Unavailable, "rate limited"},
		{"bad parameter", 400, `{"error":{"type":"invalid_request_error","param":"amount","message":"Invalid integer: 1.5"}}`, errkind.Invalid, "Invalid integer"},
		{"card declined", 402, `{"error":{"type":"card_error","code":"card_declined","message":"Your card was declined."}}`, errkind.Invalid, "declined"},
		{"customer gone", 404, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such customer: 'cus_x'"}}`, errkind.NotFound, "No such customer"},
		{"idempotency key reused", 400, `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters"}}`, errkind.Conflict, "idempotency key reused"},
		{"api error", 500, `{"error":{"type":"api_error","message":"Something went wrong"}}`, errkind.Unavailable, "Stripe unavailable (HTTP 500)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			b := setup(t, srv.URL)

			_, err := b.client.EnsureCustomer(t.Context(), stripe.EnsureCustomerInput{TenantID: "t"})
			require.ErrorIs(t, err, tt.wantKind)
			require.Contains(t, errkind.PublicMessage(err), tt.wantMsg)
			require.Len(t, b.rec.Calls(), 1, "no retries")
		})
	}

	t.Run("network failure", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		base := srv.URL
		srv.Close()
		b := setup(t, base)
		_, err := b.client.CreateInvoice(t.Context(), stripe.CreateInvoiceInput{TenantID: "t", Period: "2026-01", CustomerID: "c"})
		require.ErrorIs(t, err, errkind.Unavailable)
	})
}

func TestNew(t *testing.T) {
	t.Parallel()

	logger := testLogger(t)
	tests := []struct {
		name    string
		cfg     stripe.Config
		logger  *slog.Logger
		wantErr []string
	}{
		{"ok with defaults", stripe.Config{APIKey: "sk_test_123"}, logger, nil},
		{"nil logger", stripe.Config{APIKey: "sk_test_123"}, nil, []string{"logger is required"}},
		{"everything wrong", stripe.Config{APIBase: "ftp://x"}, logger, []string{"STRIPE_API_KEY: required", "STRIPE_API_BASE"}},
		{"base without host", stripe.Config{APIKey: "k", APIBase: "http://"}, logger, []string{"STRIPE_API_BASE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := stripe.New(tt.cfg, tt.logger)
			if tt.wantErr == nil {
				require.NoError(t, err)
				require.NotNil(t, c)
				return
			}
			require.ErrorIs(t, err, errkind.Invalid)
			for _, w := range tt.wantErr {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

func TestConfigLogValueRedactsKey(t *testing.T) {
	t.Parallel()

	var buf strings.Builder
	l := slog.New(slog.NewTextHandler(&buf, nil))
	l.InfoContext(t.Context(), "stripe", "config", stripe.Config{APIKey: "sk_live_supersecretvalue", APIBase: "https://api.stripe.com"})
	require.NotContains(t, buf.String(), "supersecret")
	require.Contains(t, buf.String(), "config.api_key=[redacted]")
}

// TestTestURL starts a stripe-mock of its own through the exported helper, as
// tests of other packages do.
func TestTestURL(t *testing.T) {
	t.Parallel()

	noURL := func(k string) (string, bool) {
		if k == teststripe.EnvTestStripeURL {
			return "", false
		}
		return lookupEnv(k)
	}
	base := teststripe.TestURL(t, noURL)
	b := setup(t, base)
	_, err := b.client.EnsureCustomer(t.Context(), stripe.EnsureCustomerInput{TenantID: "t"})
	require.NoError(t, err)

	require.Equal(t, "http://example.test:1", teststripe.TestURL(t, func(k string) (string, bool) {
		return "http://example.test:1/", k == teststripe.EnvTestStripeURL
	}))
}
