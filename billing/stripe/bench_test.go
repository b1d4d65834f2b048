package stripe_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/stripe"
	"github.com/tollgate-dev/tollgate/internal/teststripe"
)

// BenchmarkTenantInvoiceRun measures one tenant's full invoice run against
// stripe-mock: create customer, 3 invoice items, create invoice, finalize (6
// requests). ns/op × 1,000 estimates a sequential run over 1,000 tenants; against
// real Stripe the network round trips (and its rate limits, 100 writes/s live)
// dominate instead.
func BenchmarkTenantInvoiceRun(b *testing.B) {
	base := sharedMockURL
	if base == "" {
		base = teststripe.TestURL(b, lookupEnv)
	}
	c, err := stripe.New(stripe.Config{
		APIKey: "sk_test_123", APIBase: base, HTTPClient: &http.Client{}, MaxNetworkRetries: -1,
	}, slog.New(slog.DiscardHandler))
	require.NoError(b, err)
	ctx := b.Context()

	i := 0
	for b.Loop() {
		i++
		tenant := fmt.Sprintf("bench%06d", i)
		cus, err := c.EnsureCustomer(ctx, stripe.EnsureCustomerInput{TenantID: tenant, Name: "Tenant " + tenant})
		if err != nil {
			b.Fatal(err)
		}
		for _, line := range []string{"m-gpt-4o", "m-gpt-4o-mini", "platform-fee"} {
			if _, err := c.AddInvoiceItem(ctx, stripe.AddInvoiceItemInput{
				TenantID: tenant, Period: "2026-01", LineID: line, CustomerID: cus.ID, AmountCents: 1234, Description: line,
			}); err != nil {
				b.Fatal(err)
			}
		}
		inv, err := c.CreateInvoice(ctx, stripe.CreateInvoiceInput{TenantID: tenant, Period: "2026-01", CustomerID: cus.ID})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.FinalizeInvoice(ctx, inv.ID, stripe.FinalizeKey(tenant, "2026-01")); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%d runs; about %s for 1,000 tenants one after another", b.N, b.Elapsed()/time.Duration(b.N)*1000)
}
