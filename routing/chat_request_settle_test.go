package routing

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestForSettlementKeepsWhatSettlingReads: a stream holds ForSettlement's copy
// until it is billed, so the copy must read as the request does for the
// ledger (API, max tokens) and for NoteServed (prompt prefixes, system
// messages, cache marking), and hold none of the prompt.
func TestForSettlementKeepsWhatSettlingReads(t *testing.T) {
	r, err := ParseChatRequest([]byte(`{"model":"gpt-4o","stream":true,"max_tokens":9,"messages":[` +
		`{"role":"system","content":"be brief"},{"role":"developer","content":"no lists"},{"role":"user","content":"a long prompt"}]}`))
	require.NoError(t, err)
	NewEstimator(EstimatorConfig{}).Annotate("gpt-4o", r)
	r.API, r.CachePrefix = APIMessages, true
	require.NotEmpty(t, r.Prompt.Prefixes)

	s := r.ForSettlement()
	require.Equal(t, r.API, s.API)
	require.Equal(t, r.MaxTokens, s.MaxTokens)
	require.Equal(t, r.PromptTokens, s.PromptTokens)
	require.Equal(t, r.Prompt, s.Prompt)
	require.Equal(t, r.CachePrefix, s.CachePrefix)
	require.Equal(t, systemPrefixEnd(r), systemPrefixEnd(s))
	require.Equal(t, 2, systemPrefixEnd(s))
	require.Nil(t, s.Raw)
	require.Nil(t, s.openAIBody())
	for _, m := range s.Messages {
		require.Empty(t, m.Text)
		require.Empty(t, m.Content)
	}
}
