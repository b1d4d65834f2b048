package routing_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/providertest"
)

func TestOpenAIProviderPassesUnknownFieldsThrough(t *testing.T) {
	t.Parallel()
	up := providertest.NewOpenAIUpstream(t, "sk-test")
	p, err := routing.NewOpenAIProvider(routing.OpenAIConfig{BaseURL: up.URL + "/v1/", APIKey: "sk-test",
		Headers: map[string]string{"X-Title": "Tollgate"}}, nil, testLogger(t))
	require.NoError(t, err)
	tail := `"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}],"tool_choice":"auto","response_format":{"type":"json_object"},"temperature":0.7,"seed":42,"logit_bias":{"50256":-100}}`
	raw := []byte(`{"model":"auto","messages":[{"role":"user","content":"hi"}],` + tail)
	req, err := routing.ParseChatRequest(raw)
	require.NoError(t, err)
	require.True(t, req.HasTools())
	require.Equal(t, "json_object", req.ResponseFormat)

	resp, err := p.Chat(t.Context(), req, "gpt-4o-mini")
	require.NoError(t, err)
	require.Equal(t, 11, resp.Usage.PromptTokens)
	require.Equal(t, 2, resp.Usage.CachedTokens)

	got := up.LastRequest(t)
	require.Equal(t, "/v1/chat/completions", got.Path)
	require.Equal(t, "Tollgate", got.Header.Get("X-Title"))
	require.Equal(t, `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],`+tail, string(got.Body))
}

func TestOpenAIProviderStreamForcesUsageAndEstimatesWithoutIt(t *testing.T) {
	t.Parallel()
	up := providertest.NewOpenAIUpstream(t, "")
	est := routing.NewEstimator(routing.EstimatorConfig{})
	p, err := routing.NewOpenAIProvider(routing.OpenAIConfig{BaseURL: up.URL + "/v1"}, est, testLogger(t))
	require.NoError(t, err)
	req, err := routing.ParseChatRequest([]byte(`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	require.NoError(t, err)
	est.Annotate("gpt-4o-mini", req)

	up.Fail(providertest.Fault{NoUsage: true})
	s, err := p.ChatStream(t.Context(), req, "gpt-4o-mini")
	require.NoError(t, err)
	var out bytes.Buffer
	_, err = s.WriteTo(&out)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	var sent struct {
		StreamOptions struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	require.NoError(t, json.Unmarshal(up.LastRequest(t).Body, &sent))
	require.True(t, sent.StreamOptions.IncludeUsage, "usage is always requested upstream")
	u := s.Usage()
	require.True(t, u.Estimated)
	require.Equal(t, req.PromptTokens, u.PromptTokens)
	// "Hello from the fake upstream" is 5 tokens in o200k.
	require.Equal(t, 5, u.CompletionTokens)
}

func TestParseChatRequestCollectsProblems(t *testing.T) {
	t.Parallel()
	_, err := routing.ParseChatRequest([]byte(`{"messages":[{"content":"x"}],"max_tokens":-1}`))
	require.Error(t, err)
	require.Contains(t, err.Error(), "model is required")
	require.Contains(t, err.Error(), "max_tokens")
	require.Contains(t, err.Error(), "messages[0].role")

	req, err := routing.ParseChatRequest([]byte(`{"model":"m","max_tokens":9,"max_completion_tokens":7,"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"https://x/y.png"}},{"type":"text","text":"b"}]}]}`))
	require.NoError(t, err)
	require.Equal(t, 7, req.MaxTokens)
	require.Equal(t, "a\nb", req.Messages[0].Text)
	require.True(t, req.Messages[0].HasImage)
}
