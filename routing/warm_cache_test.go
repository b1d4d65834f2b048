package routing_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/routing"
)

// TestSelectionCountsAWarmPromptCache: among the models of the chosen tier, a
// model whose prompt cache is warm for this conversation's prefix is cheaper,
// and selection takes it over the policy's first (cold) choice; a cold cache,
// another tenant, an expired cache or a short prompt change nothing.
func TestSelectionCountsAWarmPromptCache(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	sel, err := routing.NewSelector(routing.SelectorConfig{Catalog: routing.DefaultCatalog(), Now: func() time.Time { return now }}, testLogger(t))
	require.NoError(t, err)
	policy := routing.DefaultPolicy()
	policy.SessionAffinity = false
	// Sonnet first (pricier: $3 in, $15 out, and its cache is off without the
	// policy option), gpt-4o second.
	policy.Tiers[routing.TierStandard] = []string{"claude-sonnet-4", "gpt-4o"}
	policy.SimpleTier = routing.TierStandard
	gpt4o, _ := routing.DefaultCatalog().Lookup("gpt-4o")

	history := strings.Repeat("We talked about the quarterly report and the migration plan in detail. ", 120)
	turn1 := chatReq(t, "auto", history)
	turn2 := chatReq(t, "auto", history, "Sure, here is the summary you asked for.", "thanks! one more thing")
	pick := func(tenant string, req *routing.ChatRequest) routing.Decision {
		d, err := sel.Select(t.Context(), routing.SelectInput{TenantID: tenant, Request: req, Policy: policy})
		require.NoError(t, err)
		return d
	}

	// Given nothing warm, the policy's first choice answers.
	require.Equal(t, "claude-sonnet-4", pick("t1", turn2).Model.ID)

	// When gpt-4o served the conversation's previous turn,
	sel.NoteServed("t1", gpt4o, turn1)
	// then its warm cache makes it the cheaper standard model for the next turn.
	d := pick("t1", turn2)
	require.Equal(t, "gpt-4o", d.Model.ID)
	require.Contains(t, d.Explanation, "gpt-4o prompt cache warm for")
	require.NotContains(t, modelIDs(d.Fallbacks), "gpt-4o")
	require.Contains(t, modelIDs(d.Fallbacks), "claude-sonnet-4")

	// Another tenant's conversation is not warm.
	require.Equal(t, "claude-sonnet-4", pick("t2", turn2).Model.ID)
	// A short prompt is never cached.
	short1, short2 := chatReq(t, "auto", "hi"), chatReq(t, "auto", "hi", "hello!", "how are you?")
	sel.NoteServed("t1", gpt4o, short1)
	require.Equal(t, "claude-sonnet-4", pick("t1", short2).Model.ID)
	// After the cache's lifetime it is cold again.
	now = now.Add(6 * time.Minute)
	require.Equal(t, "claude-sonnet-4", pick("t1", turn2).Model.ID)
}

// TestWarmCacheNeedsAnthropicMarking: an Anthropic model's cache counts only
// when the request marks its prefix (the policy's AnthropicCacheControl).
func TestWarmCacheNeedsAnthropicMarking(t *testing.T) {
	t.Parallel()
	sel, err := routing.NewSelector(routing.SelectorConfig{Catalog: routing.DefaultCatalog()}, testLogger(t))
	require.NoError(t, err)
	policy := routing.DefaultPolicy()
	policy.SessionAffinity = false
	policy.SimpleTier = routing.TierEconomy
	policy.Tiers[routing.TierEconomy] = []string{"gpt-4.1-mini", "claude-haiku-4-5"}
	haiku, _ := routing.DefaultCatalog().Lookup("claude-haiku-4-5")
	history := strings.Repeat("Notes from our call: the invoice run, the budget alerts and the ledger. ", 200)
	turn1 := chatReq(t, "auto", history)
	turn2 := chatReq(t, "auto", history, "Noted.", "ok")

	pick := func(req *routing.ChatRequest) string {
		d, err := sel.Select(t.Context(), routing.SelectInput{TenantID: "t1", Request: req, Policy: policy})
		require.NoError(t, err)
		return d.Model.ID
	}
	// A short answer: ~2.8k prompt tokens dominate the cost.
	turn2.MaxTokens = 10
	sel.NoteServed("t1", haiku, turn1) // unmarked: Anthropic did not cache it
	require.Equal(t, "gpt-4.1-mini", pick(turn2))

	turn1.CachePrefix, turn2.CachePrefix = true, true
	sel.NoteServed("t1", haiku, turn1)
	// Haiku warm (~2.8k at $0.10, 10 out at $5) beats 4.1-mini cold ($0.40 in).
	require.Equal(t, "claude-haiku-4-5", pick(turn2))

	// With a long answer expected (300 at $5 against $1.60), mini stays cheaper:
	// warmth counts as a price, not as a preference.
	turn2.MaxTokens = 0
	require.Equal(t, "gpt-4.1-mini", pick(turn2))
}

func modelIDs(ms []routing.Model) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}
