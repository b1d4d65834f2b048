package invoicing_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/invoice"
	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/tenants"
)

// TestCachedInputIsBilledOnceAtItsPrice: the ledger counts cache reads and
// writes inside input_tokens (OpenAI's convention); the invoice splits them out
// so each token is priced once, at its own price.
func TestCachedInputIsBilledOnceAtItsPrice(t *testing.T) {
	t.Parallel()
	for name, url := range map[string]func(testing.TB) string{"sqlite": testdb.SQLite, "postgres": testdb.Postgres} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			b := setup(t, url(t))
			// Given a plan with gpt-4o's and Sonnet's list prices, cached and cache-write ones included,
			tn, err := b.registry.Create(ctx, tenants.CreateInput{Name: "Cachey", BillingEmail: "billing@cachey.test"})
			require.NoError(t, err)
			require.NoError(t, b.registry.SetPlan(ctx, tn.ID, `{"model_prices":{
				"gpt-4o":{"input_per_million_nano":2500000000,"cached_input_per_million_nano":1250000000,"output_per_million_nano":10000000000},
				"claude-sonnet-4":{"input_per_million_nano":3000000000,"cached_input_per_million_nano":300000000,
					"cache_write_input_per_million_nano":3750000000,"output_per_million_nano":15000000000}}}`))
			h := handleOf(t, b, tn)
			day := time.Date(2026, 1, 12, 9, 0, 0, 0, time.UTC)
			// when the ledger holds an OpenAI request with 3,072 of 4,000 prompt tokens
			// cached and Anthropic requests that wrote and then read a 2,000-token prefix,
			_, err = ledger.Insert(ctx, h, []ledger.Event{
				{TenantID: string(tn.ID), RequestID: "oa-1", CreatedAt: day, ModelUsed: "gpt-4o", InputTokens: 4000, CachedTokens: 3072,
					OutputTokens: 100, Cost: 1, Status: ledger.StatusOK},
				{TenantID: string(tn.ID), RequestID: "an-1", CreatedAt: day, ModelUsed: "claude-sonnet-4", InputTokens: 2100,
					CacheWriteTokens: 2000, OutputTokens: 50, Cost: 1, Status: ledger.StatusOK},
				{TenantID: string(tn.ID), RequestID: "an-2", CreatedAt: day.Add(time.Minute), ModelUsed: "claude-sonnet-4", InputTokens: 2150,
					CachedTokens: 2000, OutputTokens: 50, Cost: 1, Status: ledger.StatusOK},
			})
			require.NoError(t, err)

			// then the invoice usage counts uncached input apart from reads and writes,
			usage, err := invoicing.Usage(ctx, h, period)
			require.NoError(t, err)
			require.ElementsMatch(t, []invoice.Usage{
				{Model: "claude-sonnet-4", Requests: 2, InputTokens: 250, CachedInputTokens: 2000, CacheWriteInputTokens: 2000, OutputTokens: 100, ProviderCost: 2},
				{Model: "gpt-4o", Requests: 1, InputTokens: 928, CachedInputTokens: 3072, OutputTokens: 100, ProviderCost: 1},
			}, usage)
			// and each line charges every token once at its price.
			pre, err := b.svc.Preview(ctx, invoicing.PreviewInput{TenantID: tn.ID, Period: period})
			require.NoError(t, err)
			charges := map[string]billing.NanoUSD{}
			for _, l := range pre.Invoice.Lines {
				charges[l.Model] = l.Charge
			}
			require.Equal(t, billing.NanoUSD(928*2500+3072*1250+100*10_000), charges["gpt-4o"])
			require.Equal(t, billing.NanoUSD(250*3000+2000*300+2000*3750+100*15_000), charges["claude-sonnet-4"])
		})
	}
}
