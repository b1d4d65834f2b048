package routing_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing"
)

func TestBuiltinPrices(t *testing.T) {
	t.Parallel()
	c := routing.DefaultCatalog()
	for _, tc := range []struct {
		id          string
		in, out     billing.NanoUSD
		cached      billing.NanoUSD
		tier        routing.Tier
		provider    string
		hasUpstream bool
	}{
		{"gpt-4o", 2500, 10_000, 1250, routing.TierStandard, "openai", false},
		{"gpt-4o-mini", 150, 600, 75, routing.TierEconomy, "openai", false},
		{"sim-small", 150, 600, 75, routing.TierEconomy, "sim", false},
		{"sim-large", 2500, 10_000, 1250, routing.TierStandard, "sim", false},
		{"claude-opus-4-1", 15_000, 75_000, 1500, routing.TierPremium, "anthropic", true},
		{"grok-4", 3000, 15_000, 750, routing.TierPremium, "openrouter", true},
	} {
		m, ok := c.Lookup(tc.id)
		require.True(t, ok, tc.id)
		require.Equal(t, tc.in, m.InputPrice, tc.id)
		require.Equal(t, tc.out, m.OutputPrice, tc.id)
		require.Equal(t, tc.cached, m.CachedInputPrice, tc.id)
		require.Equal(t, tc.tier, m.Tier, tc.id)
		require.Equal(t, tc.provider, m.Provider, tc.id)
		require.Equal(t, tc.hasUpstream, m.Upstream() != m.ID, tc.id)
	}
}

func TestCost(t *testing.T) {
	t.Parallel()
	c := routing.DefaultCatalog()
	// The design's average request on gpt-4o: 3,387 in, 304 out.
	got, err := c.Cost("gpt-4o", 3387, 0, 304)
	require.NoError(t, err)
	require.Equal(t, billing.NanoUSD(3387*2500+304*10_000), got) // $0.0115075
	// 1,000 of the input tokens cached at half price.
	got, err = c.Cost("gpt-4o", 3387, 1000, 304)
	require.NoError(t, err)
	require.Equal(t, billing.NanoUSD(2387*2500+1000*1250+304*10_000), got)
	// No cached price: cached tokens pay the input price.
	got, err = c.Cost("llama-3.3-70b", 100, 50, 10)
	require.NoError(t, err)
	require.Equal(t, billing.NanoUSD(100*130+10*400), got)
	_, err = c.Cost("nope", 1, 0, 1)
	require.ErrorIs(t, err, errkind.NotFound)

	m, _ := c.Lookup("gpt-4o")
	require.Equal(t, 16_384, m.OutputCap(1000, 0), "no max_tokens: the model's max output")
	require.Equal(t, 100, m.OutputCap(1000, 100))
	require.Equal(t, 1000, m.OutputCap(127_000, 0), "never more than the context left")
	require.Equal(t, billing.NanoUSD(1000*2500+100*10_000), m.WorstCase(1000, 100, 1))
}

func TestCatalogOverrides(t *testing.T) {
	t.Parallel()
	base := routing.DefaultCatalog()
	price := billing.NanoUSD(2000)
	c, err := base.WithOverrides([]routing.ModelOverride{
		{ID: "gpt-4o", InputPrice: &price},
		{ID: "grok-4", Remove: true},
		{ID: "my-vllm", Provider: "vllm", UpstreamID: "Qwen/Qwen2.5-7B", Tier: routing.TierEconomy},
	})
	require.NoError(t, err)
	m, _ := c.Lookup("gpt-4o")
	require.Equal(t, billing.NanoUSD(2000), m.InputPrice)
	require.Equal(t, billing.NanoUSD(10_000), m.OutputPrice, "untouched fields keep the base value")
	_, ok := c.Lookup("grok-4")
	require.False(t, ok)
	m, ok = c.Lookup("my-vllm")
	require.True(t, ok)
	require.Equal(t, "Qwen/Qwen2.5-7B", m.Upstream())
	orig, _ := base.Lookup("gpt-4o")
	require.Equal(t, billing.NanoUSD(2500), orig.InputPrice, "the base catalog is unchanged")

	_, err = base.WithOverrides([]routing.ModelOverride{{ID: "half-made"}})
	require.ErrorIs(t, err, errkind.Invalid)
}

func TestParseUSDPerToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in    string
		want  billing.NanoUSD
		exact bool
		err   bool
	}{
		{"0.0000025", 2500, true, false},
		{"0.00000015", 150, true, false},
		{"0", 0, true, false},
		{"0.000000075", 75, true, false},
		{"0.0000000375", 38, false, false}, // 37.5 nano rounds up
		{"1.5", 1_500_000_000, true, false},
		{".000001", 1000, true, false},
		{"-1", 0, false, true},
		{"1e-6", 0, false, true},
		{"abc", 0, false, true},
		{"", 0, false, true},
	} {
		got, exact, err := routing.ParseUSDPerToken(tc.in)
		if tc.err {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
		require.Equal(t, tc.exact, exact, tc.in)
	}
}

const openRouterDoc = `{"data":[
 {"id":"openai/gpt-4o","name":"OpenAI: GPT-4o","context_length":128000,
  "architecture":{"modality":"text+image->text","input_modalities":["text","image","file"],"output_modalities":["text"]},
  "pricing":{"prompt":"0.0000025","completion":"0.00001","request":"0","image":"0.003613","input_cache_read":"0.00000125"},
  "top_provider":{"context_length":128000,"max_completion_tokens":16384,"is_moderated":true},
  "supported_parameters":["max_tokens","temperature","tools","tool_choice","response_format"]},
 {"id":"x-ai/grok-4","context_length":256000,"pricing":{"prompt":"0.000003","completion":"0.000015"},
  "top_provider":{"max_completion_tokens":null},"supported_parameters":["tools"]},
 {"id":"anthropic/claude-opus-4.1","context_length":200000,"pricing":{"prompt":"0.000015","completion":"0.000075"},"top_provider":{}},
 {"id":"openrouter/auto","context_length":2000000,"pricing":{"prompt":"-1","completion":"-1"}}
]}`

func TestFetchOpenRouterModels(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "/api/v1/models", r.URL.Path)
		_, _ = w.Write([]byte(openRouterDoc))
	}))
	t.Cleanup(srv.Close)
	models, skipped, err := routing.FetchOpenRouterModels(t.Context(), srv.Client(), srv.URL+"/api/v1")
	require.NoError(t, err)
	require.Equal(t, []string{"openrouter/auto"}, skipped)
	require.Len(t, models, 3)
	require.Equal(t, routing.Model{ID: "openai/gpt-4o", Provider: "openrouter", UpstreamID: "openai/gpt-4o", Tier: routing.TierStandard,
		InputPrice: 2500, CachedInputPrice: 1250, OutputPrice: 10_000, ContextWindow: 128_000, MaxOutputTokens: 16_384,
		Capabilities: routing.Capabilities{Tools: true, Vision: true, JSON: true}}, models[0])
	require.Equal(t, 256_000, models[1].MaxOutputTokens, "no max: the context length")
	require.Equal(t, routing.TierPremium, models[2].Tier)

	base := routing.DefaultCatalog()
	c, err := base.WithOverrides(routing.OverridesFromModels(base, models))
	require.NoError(t, err)
	grok, _ := c.Lookup("grok-4")
	require.Equal(t, 256_000, grok.MaxOutputTokens, "the built-in grok-4 entry is refreshed, not duplicated")
	_, ok := c.Lookup("openai/gpt-4o")
	require.True(t, ok)
}

// TestEveryChatModelDeclaresItsOutputLimit: the limit max_tokens is checked
// against and the worst case reserved when a request sets none.
func TestEveryChatModelDeclaresItsOutputLimit(t *testing.T) {
	t.Parallel()
	for _, m := range routing.BuiltinModels() {
		if m.Embedding {
			require.Zero(t, m.OutputCap(10, 0), m.ID)
			continue
		}
		require.Positive(t, m.MaxOutputTokens, m.ID)
		require.LessOrEqual(t, m.MaxOutputTokens, m.ContextWindow, m.ID)
	}
}

// TestWorstCaseCountsChoicesAndLimits: n choices each may produce the output
// limit; max_tokens above the model's limit is refused naming the field the
// client sent; a model with no declared limits still reserves output.
func TestWorstCaseCountsChoicesAndLimits(t *testing.T) {
	t.Parallel()
	m, _ := routing.DefaultCatalog().Lookup("sim-small")
	require.Equal(t, billing.NanoUSD(10*150+8*100*600), m.WorstCase(10, 100, 8))
	require.Equal(t, billing.NanoUSD(10*150+16_384*600), m.WorstCase(10, 0, 1), "no max_tokens: the model's limit")

	req, err := routing.ParseChatRequest([]byte(`{"model":"sim-small","max_completion_tokens":999999,"messages":[{"role":"user","content":"x"}]}`))
	require.NoError(t, err)
	err = m.CheckMaxTokens(req)
	require.ErrorIs(t, err, errkind.Invalid)
	require.Equal(t, "max_completion_tokens", errkind.ParamOf(err))
	require.Contains(t, errkind.PublicMessage(err), "at most 16384")
	req.MaxTokens = 16_384
	require.NoError(t, m.CheckMaxTokens(req))

	custom := routing.Model{ID: "my-vllm", Provider: "vllm", Tier: routing.TierEconomy, OutputPrice: 1}
	require.Positive(t, custom.OutputCap(10, 0), "an undeclared limit never reserves nothing")
	custom.ContextWindow = 4096
	require.Equal(t, 4086, custom.OutputCap(10, 0), "a context window alone bounds the output")
}
