package gateway_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/routing/providertest"
)

// conversation is a request of a companion chat with a long system prompt and
// the given turns (user, assistant, user, ...).
func conversation(t *testing.T, model string, turns ...string) *routing.ChatRequest {
	t.Helper()
	msgs := []map[string]string{{"role": "system", "content": strings.Repeat("You are Mia, a warm companion who remembers the user's week. ", 100)}}
	for i, s := range turns {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		msgs = append(msgs, map[string]string{"role": role, "content": s})
	}
	body, err := json.Marshal(map[string]any{"model": model, "max_tokens": 50, "messages": msgs})
	require.NoError(t, err)
	req, err := routing.ParseChatRequest(body)
	require.NoError(t, err)
	return req
}

// TestCachedPrefixIsBilledAtTheCachedPrice: the second turn of a long
// conversation reads its prefix from the (simulated) provider's prompt cache;
// the meter and the ledger bill it at the cached price and record the saving,
// and the reservation still covered the whole prompt at the input price.
func TestCachedPrefixIsBilledAtTheCachedPrice(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	bud := b.setBudget(t, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: billing.NanoPerUSD, Hard: true})
	m, _ := b.catalog.Lookup("sim-large")

	// Given a first turn (nothing cached yet),
	first, err := b.svc.Chat(t.Context(), b.caller, ids(), conversation(t, "sim-large", "Hi Mia, long day."))
	require.NoError(t, err)
	// when the conversation goes on within minutes,
	req := conversation(t, "sim-large", "Hi Mia, long day.", "Oh no, tell me about it.", "My train was late again.")
	second, err := b.svc.Chat(t.Context(), b.caller, ids(), req)
	require.NoError(t, err)

	// then the second request's repeated prefix is billed at the cached price.
	require.NoError(t, b.ledger.Flush(t.Context()))
	evs, err := ledger.Recent(t.Context(), b.h, time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, evs, 2)
	ev, ev1 := evs[0], evs[1]
	require.Zero(t, ev1.CachedTokens)
	require.Zero(t, ev1.CacheSaved)
	require.Equal(t, first.Cost, ev1.Cost)
	require.GreaterOrEqual(t, ev.CachedTokens, int64(routing.PromptCacheMinTokens))
	require.Zero(t, ev.CachedTokens%routing.PromptCacheStep)
	u := routing.Usage{PromptTokens: int(ev.InputTokens), CachedTokens: int(ev.CachedTokens), CompletionTokens: int(ev.OutputTokens)}
	require.Equal(t, m.UsageCost(u), ev.Cost)
	require.Equal(t, second.Cost, ev.Cost)
	require.Equal(t, billing.NanoUSD(ev.CachedTokens)*(m.InputPrice-m.CachedInputPrice), ev.CacheSaved)
	require.Equal(t, m.Cost(int(ev.InputTokens), 0, int(ev.OutputTokens))-ev.Cost, ev.CacheSaved)

	// The meter settled to the billed costs; the routing count was the true one
	// and the reservation's bound covered it.
	require.Equal(t, first.Cost+second.Cost, b.usage(t, bud).Spent)
	require.InDelta(t, ev.InputTokens, req.PromptTokens, float64(ev.InputTokens)/20, "routing read (close to) the true count")
	require.GreaterOrEqual(t, req.ReserveTokens(m), req.PromptTokens)
}

// TestPolicyMarksAnthropicPrefixAndBillsCacheWrites: with the policy's
// anthropic_cache_control, a conversation sent to an Anthropic model carries
// cache breakpoints upstream; its first turn is billed the cache write at
// 1.25x input and the next turn the cache read at 0.1x, and the ledger says so.
func TestPolicyMarksAnthropicPrefixAndBillsCacheWrites(t *testing.T) {
	t.Parallel()
	up := providertest.NewAnthropicUpstream(t, "sk-ant-test")
	logger := slog.New(slog.NewTextHandler(logging.TestWriter{T: t}, nil))
	anthropic, err := routing.NewAnthropicProvider(routing.AnthropicConfig{BaseURL: up.URL, APIKey: "sk-ant-test"}, nil, logger)
	require.NoError(t, err)
	b := setupWith(t, 0, routing.DefaultCatalog(), anthropic)
	policy := routing.DefaultPolicy()
	policy.AnthropicCacheControl = true
	require.NoError(t, gateway.SavePolicy(t.Context(), b.h, policy, b.catalog))
	sonnet, _ := b.catalog.Lookup("claude-sonnet-4")

	// Given the option, when two turns of a conversation name Sonnet,
	_, err = b.svc.Chat(t.Context(), b.caller, ids(), conversation(t, "claude-sonnet-4", "Hi Mia."))
	require.NoError(t, err)
	_, err = b.svc.Chat(t.Context(), b.caller, ids(), conversation(t, "claude-sonnet-4", "Hi Mia.", "Hello!", "How are you?"))
	require.NoError(t, err)

	// then both went out with breakpoints,
	for _, r := range up.Requests() {
		require.Contains(t, string(r.Body), `"cache_control":{"type":"ephemeral"}`)
	}
	// and the ledger billed the first turn's write (the system prompt), then the
	// second turn's read of it and write of its history, at their prices.
	require.NoError(t, b.ledger.Flush(t.Context()))
	evs, err := ledger.Recent(t.Context(), b.h, time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, evs, 2)
	second, first := evs[0], evs[1]
	w := int64(providertest.FakeCachePrefixTokens)
	require.Equal(t, [2]int64{0, w}, [2]int64{first.CachedTokens, first.CacheWriteTokens})
	require.Equal(t, sonnet.UsageCost(routing.Usage{PromptTokens: int(first.InputTokens), CacheWriteTokens: int(w), CompletionTokens: int(first.OutputTokens)}), first.Cost)
	require.Equal(t, -billing.NanoUSD(w)*(sonnet.CacheWritePrice-sonnet.InputPrice), first.CacheSaved)
	require.Equal(t, [2]int64{w, w}, [2]int64{second.CachedTokens, second.CacheWriteTokens})
	require.Equal(t, billing.NanoUSD(w)*(sonnet.InputPrice-sonnet.CachedInputPrice)-billing.NanoUSD(w)*(sonnet.CacheWritePrice-sonnet.InputPrice),
		second.CacheSaved)
}
