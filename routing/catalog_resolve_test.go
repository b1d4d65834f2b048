package routing

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCatalogResolveOtherGatewaysNames(t *testing.T) {
	t.Parallel()
	c := DefaultCatalog()
	for name, want := range map[string]string{
		"gpt-4o":                                 "gpt-4o",
		"openai/gpt-4o":                          "gpt-4o",
		"openai/gpt-4o-2024-08-06":               "gpt-4o",
		"gpt-4o-mini-2024-07-18":                 "gpt-4o-mini",
		"OpenAI/GPT-4o-Mini":                     "gpt-4o-mini",
		"google/gemini-2.5-flash":                "gemini-2.5-flash",
		"x-ai/grok-4":                            "grok-4",
		"meta-llama/llama-3.1-8b-instruct":       "llama-3.1-8b",
		"claude-sonnet-4-20250514":               "claude-sonnet-4",
		"anthropic/claude-sonnet-4.5":            "claude-sonnet-4-5",
		"meta-llama/llama-3.3-70b-instruct:free": "llama-3.3-70b",
	} {
		m, ok := c.Resolve(name)
		require.True(t, ok, name)
		require.Equal(t, want, m.ID, name)
	}
	for _, name := range []string{"", "acme/unknown", "gpt-5-ultra"} {
		_, ok := c.Resolve(name)
		require.False(t, ok, name)
	}
}
