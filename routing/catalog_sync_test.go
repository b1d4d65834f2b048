package routing_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/routing"
)

// openRouterModelsDoc is a trimmed /api/v1/models answer in OpenRouter's shape:
// a built-in model (grok-4) at a new price, a new model, a per-route priced one
// ("-1", skipped), and a hostile entry that collides with an OpenAI model id.
const openRouterModelsDoc = `{"data":[
 {"id":"x-ai/grok-4","name":"xAI: Grok 4","context_length":256000,
  "pricing":{"prompt":"0.000002","completion":"0.000012","input_cache_read":"0.0000005"},
  "top_provider":{"max_completion_tokens":32000},
  "architecture":{"input_modalities":["text","image"]},"supported_parameters":["tools","response_format"]},
 {"id":"mistralai/mistral-small-3.2","context_length":131072,
  "pricing":{"prompt":"0.00000005","completion":"0.0000001"},
  "top_provider":{"max_completion_tokens":null},
  "architecture":{"input_modalities":["text"]},"supported_parameters":["tools"]},
 {"id":"openrouter/auto","context_length":2000000,"pricing":{"prompt":"-1","completion":"-1"}},
 {"id":"gpt-4o","context_length":128000,"pricing":{"prompt":"0","completion":"0"}}
]}`

func openRouterServer(t *testing.T, status *atomic.Int32) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/api/v1/models" {
			http.NotFound(w, r)
			return
		}
		if s := status.Load(); s != 0 {
			w.WriteHeader(int(s))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, openRouterModelsDoc)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestOpenRouterSyncLayersPricesOntoBuiltin(t *testing.T) {
	t.Parallel()
	var status atomic.Int32
	srv, hits := openRouterServer(t, &status)
	base := routing.DefaultCatalog()
	var mu sync.Mutex
	var applied *routing.Catalog
	enabled := atomic.Bool{}
	s, err := routing.NewOpenRouterSync(routing.OpenRouterSyncConfig{Base: base,
		Apply:   func(c *routing.Catalog) { mu.Lock(); applied = c; mu.Unlock() },
		Enabled: enabled.Load,
		BaseURL: func(context.Context) string { return srv.URL + "/api/v1" },
	}, testLogger(t))
	require.NoError(t, err)

	// Given OpenRouter is not configured, nothing is fetched.
	n, err := s.SyncOnce(t.Context())
	require.NoError(t, err)
	require.Zero(t, n)
	require.Zero(t, hits.Load())

	// When it is, the list is fetched and layered onto the built-in catalog.
	enabled.Store(true)
	n, err = s.SyncOnce(t.Context())
	require.NoError(t, err)
	require.Equal(t, 2, n, "grok-4 and the new model; per-route pricing and the gpt-4o collision are dropped")
	mu.Lock()
	cat := applied
	mu.Unlock()
	require.NotNil(t, cat)

	grok, ok := cat.Lookup("grok-4")
	require.True(t, ok, "the built-in id keeps its name")
	require.Equal(t, billing.NanoUSD(2000), grok.InputPrice)
	require.Equal(t, billing.NanoUSD(500), grok.CachedInputPrice)
	require.Equal(t, billing.NanoUSD(12000), grok.OutputPrice)
	require.Equal(t, routing.TierPremium, grok.Tier, "a built-in keeps its tier")
	require.Equal(t, 32000, grok.MaxOutputTokens)

	mistral, ok := cat.Lookup("mistralai/mistral-small-3.2")
	require.True(t, ok, "a new model becomes available")
	require.Equal(t, routing.OpenRouterProviderName, mistral.Provider)
	require.Equal(t, billing.NanoUSD(50), mistral.InputPrice)
	require.Equal(t, billing.NanoUSD(100), mistral.OutputPrice)
	require.Equal(t, routing.TierEconomy, mistral.Tier)
	require.Equal(t, 131072, mistral.MaxOutputTokens)

	gpt, ok := cat.Lookup("gpt-4o")
	require.True(t, ok)
	require.Equal(t, "openai", gpt.Provider, "a sync never reprices another provider's model")
	require.Equal(t, billing.NanoUSD(2500), gpt.InputPrice)
	_, ok = cat.Lookup("openrouter/auto")
	require.False(t, ok)
	baseGrok, _ := base.Lookup("grok-4")
	require.Equal(t, billing.NanoUSD(3000), baseGrok.InputPrice, "the base catalog is not mutated")

	// A failing OpenRouter is an error for the caller to log; the catalog in force stays.
	status.Store(http.StatusBadGateway)
	_, err = s.SyncOnce(t.Context())
	require.Error(t, err)
	mu.Lock()
	require.Same(t, cat, applied)
	mu.Unlock()
}
