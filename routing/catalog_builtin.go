package routing

import "github.com/tollgate-dev/tollgate/billing"

// perM converts a list price in micro-USD per 1M tokens (the form providers
// publish: $2.50/M = 2_500_000) to nano-USD per token. Every built-in price is
// a whole number of nano-USD per token, so the division is exact.
func perM(microUSDPerMillion int64) billing.NanoUSD {
	return billing.NanoUSD(microUSDPerMillion * 1000 / 1_000_000)
}

var (
	capAll      = Capabilities{Tools: true, Vision: true, JSON: true}
	capTextTool = Capabilities{Tools: true, JSON: true}
)

// BuiltinModels is the default catalog: public list prices as of mid-2025 (USD
// per 1M tokens in the comments). Prices drift; tenants override them and
// OpenRouter sync refreshes the openrouter entries.
func BuiltinModels() []Model {
	m := func(id, provider, upstream string, tier Tier, in, cached, out int64, ctx, maxOut int, caps Capabilities) Model {
		return Model{ID: id, Provider: provider, UpstreamID: upstream, Tier: tier,
			InputPrice: perM(in), CachedInputPrice: perM(cached), OutputPrice: perM(out),
			ContextWindow: ctx, MaxOutputTokens: maxOut, Capabilities: caps}
	}
	w := func(m Model, cacheWrite int64) Model {
		m.CacheWritePrice = perM(cacheWrite)
		return m
	}
	return []Model{
		// OpenAI.
		m("gpt-4o", "openai", "", TierStandard, 2_500_000, 1_250_000, 10_000_000, 128_000, 16_384, capAll),                                      // $2.50 / $1.25 / $10
		m("gpt-4o-mini", "openai", "", TierEconomy, 150_000, 75_000, 600_000, 128_000, 16_384, capAll),                                          // $0.15 / $0.075 / $0.60
		m("gpt-4.1", "openai", "", TierStandard, 2_000_000, 500_000, 8_000_000, 1_047_576, 32_768, capAll),                                      // $2 / $0.50 / $8
		m("gpt-4.1-mini", "openai", "", TierEconomy, 400_000, 100_000, 1_600_000, 1_047_576, 32_768, capAll),                                    // $0.40 / $0.10 / $1.60
		m("gpt-4.1-nano", "openai", "", TierEconomy, 100_000, 25_000, 400_000, 1_047_576, 32_768, capAll),                                       // $0.10 / $0.025 / $0.40
		m("o3", "openai", "", TierPremium, 2_000_000, 500_000, 8_000_000, 200_000, 100_000, capAll),                                             // $2 / $0.50 / $8
		m("o4-mini", "openai", "", TierStandard, 1_100_000, 275_000, 4_400_000, 200_000, 100_000, capAll),                                       // $1.10 / $0.275 / $4.40
		{ID: "text-embedding-3-small", Provider: "openai", Tier: TierEconomy, InputPrice: perM(20_000), ContextWindow: 8191, Embedding: true},   // $0.02
		{ID: "text-embedding-3-large", Provider: "openai", Tier: TierStandard, InputPrice: perM(130_000), ContextWindow: 8191, Embedding: true}, // $0.13
		// Anthropic: cache reads at 0.1× input, cache writes (5-minute TTL) at 1.25× input.
		w(m("claude-opus-4-1", "anthropic", "claude-opus-4-1-20250805", TierPremium, 15_000_000, 1_500_000, 75_000_000, 200_000, 32_000, capAll), 18_750_000), // $15 / $1.50 / $75, write $18.75
		w(m("claude-sonnet-4", "anthropic", "claude-sonnet-4-20250514", TierStandard, 3_000_000, 300_000, 15_000_000, 200_000, 64_000, capAll), 3_750_000),    // $3 / $0.30 / $15, write $3.75
		w(m("claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5", TierStandard, 3_000_000, 300_000, 15_000_000, 200_000, 64_000, capAll), 3_750_000),         // $3 / $0.30 / $15, write $3.75
		w(m("claude-haiku-4-5", "anthropic", "claude-haiku-4-5", TierEconomy, 1_000_000, 100_000, 5_000_000, 200_000, 64_000, capAll), 1_250_000),             // $1 / $0.10 / $5, write $1.25
		w(m("claude-3-5-haiku", "anthropic", "claude-3-5-haiku-20241022", TierEconomy, 800_000, 80_000, 4_000_000, 200_000, 8_192, capAll), 1_000_000),        // $0.80 / $0.08 / $4, write $1
		// Google and xAI through OpenRouter (OpenAI-compatible).
		m("gemini-2.0-flash", "openrouter", "google/gemini-2.0-flash-001", TierEconomy, 100_000, 25_000, 400_000, 1_048_576, 8_192, capAll),   // $0.10 / $0.025 / $0.40
		m("gemini-2.5-flash", "openrouter", "google/gemini-2.5-flash", TierEconomy, 300_000, 75_000, 2_500_000, 1_048_576, 65_535, capAll),    // $0.30 / $0.075 / $2.50
		m("gemini-2.5-pro", "openrouter", "google/gemini-2.5-pro", TierStandard, 1_250_000, 310_000, 10_000_000, 1_048_576, 65_536, capAll),   // $1.25 / $0.31 / $10 (≤200k prompt)
		m("grok-4", "openrouter", "x-ai/grok-4", TierPremium, 3_000_000, 750_000, 15_000_000, 256_000, 64_000, capAll),                        // $3 / $0.75 / $15
		m("llama-3.3-70b", "openrouter", "meta-llama/llama-3.3-70b-instruct", TierEconomy, 130_000, 0, 400_000, 131_072, 16_384, capTextTool), // ~$0.13 / $0.40
		m("llama-3.1-8b", "openrouter", "meta-llama/llama-3.1-8b-instruct", TierEconomy, 20_000, 0, 50_000, 131_072, 16_384, capTextTool),     // ~$0.02 / $0.05
		// Simulated, priced like gpt-4o-mini and gpt-4o so test costs are realistic.
		m("sim-small", SimProviderName, "", TierEconomy, 150_000, 75_000, 600_000, 128_000, SimMaxOutputTokens, capAll),          // $0.15 / $0.075 / $0.60
		m("sim-large", SimProviderName, "", TierStandard, 2_500_000, 1_250_000, 10_000_000, 128_000, SimMaxOutputTokens, capAll), // $2.50 / $1.25 / $10
		{ID: "sim-embed", Provider: SimProviderName, Tier: TierEconomy, InputPrice: perM(20_000), ContextWindow: 8191, Embedding: true},
	}
}

// DefaultCatalog returns the built-in catalog.
func DefaultCatalog() *Catalog {
	c, err := NewCatalog(BuiltinModels())
	if err != nil {
		panic("routing: built-in catalog is invalid: " + err.Error()) // a programming error caught by tests
	}
	return c
}
