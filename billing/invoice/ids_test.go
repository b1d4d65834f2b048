package invoice_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/invoice"
)

func TestLineID(t *testing.T) {
	t.Parallel()

	tests := []struct {
		model      string
		want       string
		wantPrefix string
	}{
		{model: "gpt-4o", want: "m-gpt-4o"},
		{model: "claude-3.5-sonnet", want: "m-claude-3.5-sonnet"},
		{model: "x-ai/grok-4", wantPrefix: "m-x-ai_grok-4-"},
		{model: "GPT-4o", wantPrefix: "m-___-4o-"},
		{model: "platform-fee", want: "m-platform-fee"},
	}
	for _, tt := range tests {
		got := invoice.LineID(tt.model)
		require.Equal(t, got, invoice.LineID(tt.model), "stable")
		if tt.want != "" {
			require.Equal(t, tt.want, got)
		} else {
			require.True(t, strings.HasPrefix(got, tt.wantPrefix), "%q has prefix %q", got, tt.wantPrefix)
			require.Len(t, got, len(tt.wantPrefix)+8)
		}
	}
	require.NotEqual(t, invoice.LineID("x-ai/grok-4"), invoice.LineID("x-ai_grok-4"))
	require.NotEqual(t, invoice.LineID("x-ai/grok-4"), invoice.LineID("x-ai:grok-4"))
	require.NotEqual(t, invoice.PlatformFeeLineID, invoice.LineID("platform-fee"))
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()

	long := strings.Repeat("t", 300)
	tests := []struct {
		name                       string
		tenant, period, line, step string
		want                       string
		wantHashed                 bool
	}{
		{name: "line item", tenant: "01jq8z", period: "2026-01", line: "m-gpt-4o", step: "item", want: "tg-inv-01jq8z-2026-01-m-gpt-4o-item"},
		{name: "invoice has no line", tenant: "01jq8z", period: "2026-01", step: "invoice", want: "tg-inv-01jq8z-2026-01-_-invoice"},
		{name: "customer has no period", tenant: "01jq8z", step: "customer", want: "tg-inv-01jq8z-_-_-customer"},
		{name: "hyphenated tenant is hashed", tenant: "0b1c-42", period: "2026-01", line: "m-a", step: "item", wantHashed: true},
		{name: "odd period is hashed", tenant: "t", period: "2026-1-", step: "invoice", wantHashed: true},
		{name: "too long is hashed", tenant: long, period: "2026-01", line: "m-a", step: "item", wantHashed: true},
		{name: "spaces are hashed", tenant: "a b", period: "2026-01", step: "invoice", wantHashed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got := invoice.IdempotencyKey(tt.tenant, tt.period, tt.line, tt.step)
			require.Equal(t, got, invoice.IdempotencyKey(tt.tenant, tt.period, tt.line, tt.step), "stable")
			require.LessOrEqual(t, len(got), invoice.MaxIdempotencyKeyLen)
			if tt.wantHashed {
				require.True(t, strings.HasPrefix(got, "tg-inv-h-"), got)
				require.Len(t, got, len("tg-inv-h-")+64)
			} else {
				require.Equal(t, tt.want, got)
			}
		})
	}

	// Every part matters.
	base := invoice.IdempotencyKey("t", "2026-01", "m-a", "item")
	for _, other := range []string{
		invoice.IdempotencyKey("u", "2026-01", "m-a", "item"),
		invoice.IdempotencyKey("t", "2026-02", "m-a", "item"),
		invoice.IdempotencyKey("t", "2026-01", "m-b", "item"),
		invoice.IdempotencyKey("t", "2026-01", "m-a", "finalize"),
	} {
		require.NotEqual(t, base, other)
	}
	require.NotEqual(t, invoice.IdempotencyKey("a-b", "", "", "x"), invoice.IdempotencyKey("a", "", "b", "x"))
}
