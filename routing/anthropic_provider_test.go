package routing_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/providertest"
)

func newAnthropic(t *testing.T) (*routing.AnthropicProvider, *providertest.Upstream) {
	up := providertest.NewAnthropicUpstream(t, "sk-ant-test")
	p, err := routing.NewAnthropicProvider(routing.AnthropicConfig{BaseURL: up.URL, APIKey: "sk-ant-test"}, nil, testLogger(t))
	require.NoError(t, err)
	return p, up
}

func TestAnthropicProviderConformance(t *testing.T) {
	t.Parallel()
	providertest.RunConformance(t, func(t *testing.T) providertest.Harness {
		p, up := newAnthropic(t)
		return providertest.Harness{Provider: p, Model: "claude-sonnet-4-20250514", Upstream: up}
	})
}

const toolConversation = `{"model":"auto","user":"u-1","max_tokens":100,"temperature":0.5,"stop":"END",
 "messages":[
  {"role":"system","content":"You are terse."},
  {"role":"user","content":[{"type":"text","text":"Weather in Paris?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0K"}}]},
  {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
  {"role":"tool","tool_call_id":"call_1","content":"18C"},
  {"role":"user","content":"And tomorrow?"}],
 "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
 "tool_choice":"required"}`

func TestAnthropicTranslatesRequest(t *testing.T) {
	t.Parallel()
	p, up := newAnthropic(t)
	req, err := routing.ParseChatRequest([]byte(toolConversation))
	require.NoError(t, err)
	resp, err := p.Chat(t.Context(), req, "claude-sonnet-4-20250514")
	require.NoError(t, err)

	var sent map[string]any
	require.NoError(t, json.Unmarshal(up.LastRequest(t).Body, &sent))
	require.Equal(t, "You are terse.", sent["system"])
	require.EqualValues(t, 100, sent["max_tokens"])
	require.Equal(t, []any{"END"}, sent["stop_sequences"])
	require.Equal(t, map[string]any{"type": "any"}, sent["tool_choice"])
	require.Equal(t, map[string]any{"user_id": "u-1"}, sent["metadata"])
	msgs := sent["messages"].([]any)
	require.Len(t, msgs, 3, "tool result and the next user turn merge into one user message")
	user0 := msgs[0].(map[string]any)["content"].([]any)
	require.Equal(t, "image", user0[1].(map[string]any)["type"])
	require.Equal(t, map[string]any{"type": "base64", "media_type": "image/png", "data": "iVBORw0K"}, user0[1].(map[string]any)["source"])
	toolUse := msgs[1].(map[string]any)["content"].([]any)[0].(map[string]any)
	require.Equal(t, "tool_use", toolUse["type"])
	require.Equal(t, map[string]any{"city": "Paris"}, toolUse["input"])
	last := msgs[2].(map[string]any)["content"].([]any)
	require.Equal(t, "tool_result", last[0].(map[string]any)["type"])
	require.Equal(t, "And tomorrow?", last[1].(map[string]any)["text"])
	tools := sent["tools"].([]any)
	require.Equal(t, "get_weather", tools[0].(map[string]any)["name"])
	require.NotNil(t, tools[0].(map[string]any)["input_schema"])

	var body struct {
		Choices []struct {
			Message struct {
				ToolCalls []struct {
					ID       string `json:"id"`
					Function struct {
						Name      string `json:"name"`
						Arguments string `json:"arguments"`
					} `json:"function"`
				} `json:"tool_calls"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
			Details      struct {
				CachedTokens int `json:"cached_tokens"`
			} `json:"prompt_tokens_details"`
		} `json:"usage"`
	}
	require.NoError(t, json.Unmarshal(resp.Body, &body))
	require.Equal(t, "tool_calls", body.Choices[0].FinishReason)
	require.Equal(t, "get_weather", body.Choices[0].Message.ToolCalls[0].Function.Name)
	require.JSONEq(t, `{"city":"Paris"}`, body.Choices[0].Message.ToolCalls[0].Function.Arguments)
	// input 10+3 messages, plus 3 cache reads: OpenAI counts cached tokens in prompt_tokens.
	require.Equal(t, routing.Usage{PromptTokens: 16, CachedTokens: 3, CompletionTokens: 4}, resp.Usage)
	require.Equal(t, 16, body.Usage.PromptTokens)
	require.Equal(t, 3, body.Usage.Details.CachedTokens)
}

func TestAnthropicStreamTranslatesToolCalls(t *testing.T) {
	t.Parallel()
	p, _ := newAnthropic(t)
	raw := strings.Replace(toolConversation, `"max_tokens":100`, `"max_tokens":100,"stream":true,"stream_options":{"include_usage":true}`, 1)
	req, err := routing.ParseChatRequest([]byte(raw))
	require.NoError(t, err)
	s, err := p.ChatStream(t.Context(), req, "claude-sonnet-4-20250514")
	require.NoError(t, err)
	defer s.Close()
	var out bytes.Buffer
	_, err = s.WriteTo(&out)
	require.NoError(t, err)
	var args strings.Builder
	var finish string
	for ev := range strings.SplitSeq(strings.TrimSpace(out.String()), "\n\n") {
		payload := strings.TrimPrefix(ev, "data: ")
		if payload == "[DONE]" {
			continue
		}
		var c struct {
			Choices []struct {
				Delta struct {
					ToolCalls []struct {
						Index    int `json:"index"`
						Function struct {
							Name      string `json:"name"`
							Arguments string `json:"arguments"`
						} `json:"function"`
					} `json:"tool_calls"`
				} `json:"delta"`
				FinishReason *string `json:"finish_reason"`
			} `json:"choices"`
		}
		require.NoError(t, json.Unmarshal([]byte(payload), &c))
		for _, ch := range c.Choices {
			for _, tc := range ch.Delta.ToolCalls {
				require.Zero(t, tc.Index)
				args.WriteString(tc.Function.Arguments)
			}
			if ch.FinishReason != nil {
				finish = *ch.FinishReason
			}
		}
	}
	require.JSONEq(t, `{"city":"Paris"}`, args.String())
	require.Equal(t, "tool_calls", finish)
	require.Equal(t, routing.Usage{PromptTokens: 16, CachedTokens: 3, CompletionTokens: 4}, s.Usage())
}

func TestAnthropicEarlyCloseUsesMessageStartUsage(t *testing.T) {
	t.Parallel()
	p, up := newAnthropic(t)
	up.Fail(providertest.Fault{Hang: true})
	req, err := routing.ParseChatRequest([]byte(`{"model":"auto","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	require.NoError(t, err)
	s, err := p.ChatStream(t.Context(), req, "claude-haiku-4-5")
	require.NoError(t, err)
	for range 2 { // role chunk, then "Hello"
		_, err = s.Next()
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	u := s.Usage()
	require.True(t, u.Estimated)
	require.Equal(t, 14, u.PromptTokens, "input from message_start: 11 + 3 cache reads")
	require.Equal(t, 2, u.CompletionTokens, `"Hello" bounded from its length (no estimator: ceil(5/2.5))`)
}

func TestAnthropicMarksStablePrefixForPromptCache(t *testing.T) {
	t.Parallel()
	p, up := newAnthropic(t)
	conv := `{"model":"auto","max_tokens":50,"messages":[
	  {"role":"system","content":"You are a companion with a long persona."},
	  {"role":"user","content":"Hi!"},
	  {"role":"assistant","content":"Hello, how was your day?"},
	  {"role":"user","content":"Long. Tell me a joke."}]}`
	req, err := routing.ParseChatRequest([]byte(conv))
	require.NoError(t, err)
	sonnet, _ := routing.DefaultCatalog().Lookup("claude-sonnet-4")

	// Without the policy option nothing is marked and the system stays a string.
	_, err = p.Chat(t.Context(), req, sonnet.Upstream())
	require.NoError(t, err)
	var sent map[string]any
	require.NoError(t, json.Unmarshal(up.LastRequest(t).Body, &sent))
	require.Equal(t, "You are a companion with a long persona.", sent["system"])
	require.NotContains(t, string(up.LastRequest(t).Body), "cache_control")

	// Given the option, when the first turn goes out, then the system prompt and
	// the history end carry breakpoints, and the cache write is billed at 1.25x.
	req.CachePrefix = true
	resp, err := p.Chat(t.Context(), req, sonnet.Upstream())
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(up.LastRequest(t).Body, &sent))
	system := sent["system"].([]any)[0].(map[string]any)
	require.Equal(t, map[string]any{"type": "ephemeral"}, system["cache_control"])
	msgs := sent["messages"].([]any)
	require.Len(t, msgs, 3)
	assistant := msgs[1].(map[string]any)["content"].([]any)[0].(map[string]any)
	require.Equal(t, map[string]any{"type": "ephemeral"}, assistant["cache_control"])
	require.NotContains(t, msgs[2].(map[string]any)["content"].([]any)[0], "cache_control", "the new turn is not part of the stable prefix")
	w := providertest.FakeCachePrefixTokens // per breakpoint: two here
	require.Equal(t, routing.Usage{PromptTokens: 13 + 2*w, CacheWriteTokens: 2 * w, CompletionTokens: 3}, resp.Usage)
	writeCost := sonnet.UsageCost(resp.Usage)
	require.Equal(t, 13*sonnet.InputPrice+billing.NanoUSD(2*w)*sonnet.CacheWritePrice+3*sonnet.OutputPrice, writeCost)
	require.Equal(t, sonnet.InputPrice*5/4, sonnet.CacheWritePrice)
	require.Negative(t, sonnet.CacheSaving(resp.Usage), "a write costs more than it saves on its own")

	stream := func(req *routing.ChatRequest) routing.Usage {
		req.Stream, req.IncludeUsage = true, true
		s, err := p.ChatStream(t.Context(), req, sonnet.Upstream())
		require.NoError(t, err)
		for {
			if _, err := s.Next(); err != nil {
				break
			}
		}
		require.NoError(t, s.Close())
		return s.Usage()
	}
	// Another conversation of the persona reads the system prompt and writes its
	// own history; a streamed write keeps its count through the OpenAI shape.
	other, err := routing.ParseChatRequest([]byte(strings.Replace(conv, "Hi!", "Hey!", 1)))
	require.NoError(t, err)
	other.CachePrefix = true
	require.Equal(t, routing.Usage{PromptTokens: 13 + 2*w, CachedTokens: w, CacheWriteTokens: w, CompletionTokens: 3}, stream(other))

	// When the same prefix goes out again (streaming this time), it is read at 0.1x.
	u := stream(req)
	require.Equal(t, routing.Usage{PromptTokens: 13 + 2*w, CachedTokens: 2 * w, CompletionTokens: 3}, u)
	require.Equal(t, 13*sonnet.InputPrice+billing.NanoUSD(2*w)*sonnet.CachedInputPrice+3*sonnet.OutputPrice, sonnet.UsageCost(u))
	require.Equal(t, billing.NanoUSD(2*w)*(sonnet.InputPrice-sonnet.CachedInputPrice), sonnet.CacheSaving(u))
}
