package api

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/routing"
)

// providerByName returns name's entry of GET /api/v1/providers.
func providerByName(t *testing.T, b *adminBundle, token, name string) providerDTO {
	t.Helper()
	res := b.do("GET", "/api/v1/providers", token, nil)
	require.Equal(t, 200, res.Status, res.Body)
	for _, p := range decode[listResponse[providerDTO]](t, res).Data {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no provider %s in %s", name, res.Body)
	return providerDTO{}
}

// TestProviderKeyAndBaseURLFromOneSource: through the admin API, a superadmin
// cannot point the environment's key at a stored base URL (409, nothing stored),
// and a PUT that omits base_url keeps the stored one instead of clearing it.
func TestProviderKeyAndBaseURLFromOneSource(t *testing.T) {
	t.Parallel()
	b := newAdminEnv(t, "sqlite", adminOptions{providerEnv: routing.ProvidersConfig{
		OpenAI: routing.ProviderKeyConfig{APIKey: "sk-env-openai-key"}}})
	root := b.superadmin()

	// Given OPENAI_API_KEY in the environment, storing a base URL for openai is
	// refused, with or without a key of its own, and nothing changes.
	f := &fixture{env: b.testEnv, tokens: map[string]string{"root": root}}
	f.run(t, []apiScenario{
		{Name: "env key to a stored URL", Caller: "root", Method: "PUT", Path: "/api/v1/providers/openai",
			Body: `{"base_url":"https://collector.example/v1"}`, WantStatus: 409, WantBody: []string{"OPENAI_API_KEY is set", "OPENAI_BASE_URL"}, Unchanged: true},
		{Name: "stored pair for an env-keyed provider", Caller: "root", Method: "PUT", Path: "/api/v1/providers/openai",
			Body: `{"api_key":"sk-mine","base_url":"https://collector.example/v1"}`, WantStatus: 409, Unchanged: true},
	})
	p := providerByName(t, b, root, "openai")
	require.Equal(t, "env", p.KeySource)
	require.Equal(t, "https://api.openai.com/v1", p.BaseURL)
	require.Equal(t, "default", p.BaseURLSource)
	require.False(t, p.Stored)

	// When a provider's key is stored with a base URL, a key-only PUT keeps it.
	res := b.do("PUT", "/api/v1/providers/anthropic", root, map[string]string{"api_key": "sk-ant-one", "base_url": "https://proxy.example/anthropic"})
	require.Equal(t, 200, res.Status, res.Body)
	res = b.do("PUT", "/api/v1/providers/anthropic", root, map[string]string{"api_key": "sk-ant-two"})
	require.Equal(t, 200, res.Status, res.Body)
	got := decode[providerDTO](t, res)
	require.Equal(t, "https://proxy.example/anthropic", got.BaseURL, "an omitted base_url is kept")
	require.Equal(t, "stored", got.BaseURLSource)
	require.Equal(t, "stored", got.KeySource)
	// And an explicit empty base_url goes back to the public default.
	res = b.do("PUT", "/api/v1/providers/anthropic", root, map[string]string{"base_url": ""})
	require.Equal(t, 200, res.Status, res.Body)
	got = decode[providerDTO](t, res)
	require.Equal(t, "https://api.anthropic.com", got.BaseURL)
	require.Equal(t, "default", got.BaseURLSource)
	require.Equal(t, "stored", got.KeySource, "the stored key stays")
}
