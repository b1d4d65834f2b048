package routing_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/routing"
)

// TestProviderKeyConfigRedacts: a provider's config logs and prints without its key.
func TestProviderKeyConfigRedacts(t *testing.T) {
	t.Parallel()
	cfg := routing.ProviderKeyConfig{APIKey: seal.Secret("sk-live-123")}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "cfg", cfg)
	require.NotContains(t, buf.String(), "sk-live")
	require.NotContains(t, fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg), "sk-live")
}

func TestRegistryFromConfig(t *testing.T) {
	t.Parallel()
	reg, err := routing.NewRegistryFromConfig(routing.ProvidersConfig{
		OpenAI: routing.ProviderKeyConfig{APIKey: "x", BaseURL: "http://127.0.0.1:9000/v1"},
		Sim:    true,
	}, nil, testLogger(t))
	require.NoError(t, err)
	require.Equal(t, []string{"openai", "sim"}, reg.Names())
	c := routing.DefaultCatalog()
	mini, _ := c.Lookup("gpt-4o-mini")
	opus, _ := c.Lookup("claude-opus-4-1")
	require.True(t, reg.Available(mini))
	require.False(t, reg.Available(opus))

	_, err = routing.NewRegistryFromConfig(routing.ProvidersConfig{OpenAI: routing.ProviderKeyConfig{APIKey: "x", BaseURL: "ftp://nope"}}, nil, testLogger(t))
	require.Error(t, err)
}
