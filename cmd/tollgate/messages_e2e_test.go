package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	anthropicopt "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/providertest"
)

// TestMessagesAPIWithAnthropicClient drives POST /v1/messages with the official
// anthropic-sdk-go client (key in x-api-key, as it sends it): plain, streaming,
// tools and cache_control, answered by the simulated provider and by loopback
// Anthropic and OpenAI upstreams, each request in the ledger once at its
// catalog price.
func TestMessagesAPIWithAnthropicClient(t *testing.T) {
	t.Parallel()
	b := setupInterop(t)
	client := anthropic.NewClient(anthropicopt.WithBaseURL(b.stack.baseURL), anthropicopt.WithAPIKey(b.key), anthropicopt.WithMaxRetries(0))
	ctx := t.Context()
	user := func(s string) []anthropic.MessageParam {
		return []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(s))}
	}
	weather := anthropic.ToolUnionParam{OfTool: &anthropic.ToolParam{Name: "get_weather", Description: anthropic.String("Weather in a city"),
		InputSchema: anthropic.ToolInputSchemaParam{Properties: map[string]any{"city": map[string]any{"type": "string"}}, Required: []string{"city"}}}}

	t.Run("the key in x-api-key, as Anthropic's clients and agents send it", func(t *testing.T) {
		// This SDK version sends WithAPIKey as a bearer token (also accepted);
		// agents such as Claude Code send x-api-key.
		xkey := anthropic.NewClient(anthropicopt.WithBaseURL(b.stack.baseURL), anthropicopt.WithHeader("x-api-key", b.key),
			anthropicopt.WithMaxRetries(0))
		var raw *http.Response
		_, err := xkey.Messages.New(ctx, anthropic.MessageNewParams{Model: "sim-small", MaxTokens: 4, Messages: user("hi")},
			anthropicopt.WithResponseInto(&raw))
		require.NoError(t, err)
		require.Empty(t, raw.Request.Header.Get("Authorization"))
		require.Equal(t, b.key, raw.Request.Header.Get("x-api-key"))
		require.Equal(t, raw.Header.Get("x-tollgate-request-id"), raw.Header.Get("request-id"))
	})

	t.Run("plain on the simulated provider", func(t *testing.T) {
		var raw *http.Response
		msg, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: "sim-small", MaxTokens: 12, Messages: user("hello there"),
			System: []anthropic.TextBlockParam{{Text: "You are terse."}}}, anthropicopt.WithResponseInto(&raw))
		require.NoError(t, err)
		require.Equal(t, "message", string(msg.Type))
		require.Equal(t, "assistant", string(msg.Role))
		require.Equal(t, anthropic.StopReasonMaxTokens, msg.StopReason)
		require.Len(t, msg.Content, 1)
		require.NotEmpty(t, msg.Content[0].AsText().Text)
		require.EqualValues(t, 12, msg.Usage.OutputTokens)
		require.Equal(t, "sim-small", string(msg.Model))
		b.ledgerEvent(t, raw.Header.Get("x-tollgate-request-id"), routing.APIMessages,
			routing.Usage{PromptTokens: int(msg.Usage.InputTokens), CompletionTokens: 12})
	})

	t.Run("on an Anthropic upstream: cache_control and headers end to end, cache reads and writes billed", func(t *testing.T) {
		cache := anthropic.NewCacheControlEphemeralParam()
		send := func() (*anthropic.Message, *http.Response) {
			var raw *http.Response
			msg, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: "claude-haiku-4-5", MaxTokens: 40,
				System:   []anthropic.TextBlockParam{{Text: "A long, stable system prompt.", CacheControl: cache}},
				Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.ContentBlockParamUnion{OfText: &anthropic.TextBlockParam{Text: "hello", CacheControl: cache}})},
			}, anthropicopt.WithResponseInto(&raw), anthropicopt.WithHeader("anthropic-beta", "prompt-caching-2024-07-31"))
			require.NoError(t, err)
			require.Equal(t, strings.Join(providertest.FakeAnthropicWords, ""), msg.Content[0].AsText().Text)
			require.Equal(t, anthropic.StopReasonEndTurn, msg.StopReason)
			return msg, raw
		}
		// The fake counts FakeCachePrefixTokens per breakpoint (two here): written
		// by the first request, read by the second; 11 input and 3 output tokens.
		const prefix = 2 * providertest.FakeCachePrefixTokens
		msg, raw := send()
		require.EqualValues(t, 11, msg.Usage.InputTokens)
		require.EqualValues(t, 0, msg.Usage.CacheReadInputTokens)
		require.EqualValues(t, prefix, msg.Usage.CacheCreationInputTokens)
		require.EqualValues(t, 3, msg.Usage.OutputTokens)

		reqs := b.anthropic.Requests()
		last := reqs[len(reqs)-1]
		require.Equal(t, "prompt-caching-2024-07-31", last.Header.Get("anthropic-beta"))
		require.Equal(t, raw.Request.Header.Get("anthropic-version"), last.Header.Get("anthropic-version"))
		up := lastBody(t, b.anthropic)
		require.Equal(t, []any{map[string]any{"type": "text", "text": "A long, stable system prompt.", "cache_control": map[string]any{"type": "ephemeral"}}}, up["system"])
		block := up["messages"].([]any)[0].(map[string]any)["content"].([]any)[0]
		require.Equal(t, map[string]any{"type": "text", "text": "hello", "cache_control": map[string]any{"type": "ephemeral"}}, block)
		b.ledgerEvent(t, raw.Header.Get("x-tollgate-request-id"), routing.APIMessages,
			routing.Usage{PromptTokens: 11 + prefix, CacheWriteTokens: prefix, CompletionTokens: 3})

		msg, raw = send()
		require.EqualValues(t, prefix, msg.Usage.CacheReadInputTokens)
		require.EqualValues(t, 0, msg.Usage.CacheCreationInputTokens)
		b.ledgerEvent(t, raw.Header.Get("x-tollgate-request-id"), routing.APIMessages,
			routing.Usage{PromptTokens: 11 + prefix, CachedTokens: prefix, CompletionTokens: 3})
	})

	t.Run("on an OpenAI upstream: translated, cache_control left out", func(t *testing.T) {
		var raw *http.Response
		cache := anthropic.NewCacheControlEphemeralParam()
		msg, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: "gpt-4o-mini", MaxTokens: 40,
			System:   []anthropic.TextBlockParam{{Text: "Be brief.", CacheControl: cache}},
			Messages: user("hello")}, anthropicopt.WithResponseInto(&raw))
		require.NoError(t, err)
		require.Equal(t, strings.Join(providertest.FakeOpenAIWords, ""), msg.Content[0].AsText().Text)
		require.EqualValues(t, 10, msg.Usage.InputTokens) // 12 prompt tokens, 2 of them cached
		require.EqualValues(t, 2, msg.Usage.CacheReadInputTokens)
		reqs := b.openai.Requests()
		require.NotContains(t, string(reqs[len(reqs)-1].Body), "cache_control")
		require.Equal(t, "Bearer openai-test-key", reqs[len(reqs)-1].Header.Get("Authorization"))
		up := lastBody(t, b.openai)
		require.EqualValues(t, 40, up["max_completion_tokens"])
		b.ledgerEvent(t, raw.Header.Get("x-tollgate-request-id"), routing.APIMessages,
			routing.Usage{PromptTokens: 12, CachedTokens: 2, CompletionTokens: 5})
	})

	t.Run("auto routing", func(t *testing.T) {
		var raw *http.Response
		msg, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: "auto", MaxTokens: 5, Messages: user("hi!")},
			anthropicopt.WithResponseInto(&raw))
		require.NoError(t, err)
		require.Equal(t, raw.Header.Get("x-tollgate-model"), string(msg.Model))
		e := b.ledgerEvent(t, raw.Header.Get("x-tollgate-request-id"), routing.APIMessages, routing.Usage{
			PromptTokens:     int(msg.Usage.InputTokens + msg.Usage.CacheReadInputTokens + msg.Usage.CacheCreationInputTokens),
			CachedTokens:     int(msg.Usage.CacheReadInputTokens),
			CacheWriteTokens: int(msg.Usage.CacheCreationInputTokens), CompletionTokens: int(msg.Usage.OutputTokens)})
		require.Equal(t, "auto", e.ModelRequested)
	})

	for _, tc := range []struct {
		model, text string
		cached      int64
	}{
		{"sim-small", "", 0}, {"gpt-4o-mini", strings.Join(providertest.FakeOpenAIWords, ""), 2},
		{"claude-haiku-4-5", strings.Join(providertest.FakeAnthropicWords, ""), 3},
	} {
		t.Run("streaming on "+tc.model, func(t *testing.T) {
			var raw *http.Response
			stream := client.Messages.NewStreaming(ctx, anthropic.MessageNewParams{Model: anthropic.Model(tc.model), MaxTokens: 6,
				Messages: user("stream please")}, anthropicopt.WithResponseInto(&raw))
			var msg anthropic.Message
			var types []string
			var deltas strings.Builder
			for stream.Next() {
				ev := stream.Current()
				types = append(types, ev.Type)
				require.NoError(t, msg.Accumulate(ev))
				if ev.Type == "content_block_delta" {
					deltas.WriteString(ev.Delta.Text)
				}
			}
			require.NoError(t, stream.Err())
			require.Equal(t, []string{"message_start", "content_block_start"}, types[:2]) // the SDK drops pings
			n := len(types)
			require.Equal(t, []string{"content_block_stop", "message_delta", "message_stop"}, types[n-3:])
			if tc.text != "" {
				require.Equal(t, tc.text, deltas.String())
			}
			require.Equal(t, deltas.String(), msg.Content[0].AsText().Text)
			require.Positive(t, msg.Usage.OutputTokens)
			require.Equal(t, tc.cached, msg.Usage.CacheReadInputTokens)
			b.ledgerEvent(t, raw.Header.Get("x-tollgate-request-id"), routing.APIMessages, routing.Usage{
				PromptTokens: int(msg.Usage.InputTokens + msg.Usage.CacheReadInputTokens), CachedTokens: int(tc.cached),
				CompletionTokens: int(msg.Usage.OutputTokens)})
		})
	}

	t.Run("tools: tool_use, then tool_result, on an OpenAI upstream", func(t *testing.T) {
		var raw *http.Response
		msgs := user("weather in Paris?")
		msg, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: "gpt-4o-mini", MaxTokens: 50, Messages: msgs,
			Tools: []anthropic.ToolUnionParam{weather}}, anthropicopt.WithResponseInto(&raw))
		require.NoError(t, err)
		require.Equal(t, anthropic.StopReasonToolUse, msg.StopReason)
		require.Len(t, msg.Content, 1)
		use := msg.Content[0].AsToolUse()
		require.Equal(t, "call_fake", use.ID)
		require.Equal(t, "get_weather", use.Name)
		require.JSONEq(t, `{"city":"Paris"}`, string(use.Input))
		b.ledgerEvent(t, raw.Header.Get("x-tollgate-request-id"), routing.APIMessages, routing.Usage{PromptTokens: 11, CachedTokens: 2, CompletionTokens: 5})

		msgs = append(msgs, msg.ToParam(), anthropic.NewUserMessage(anthropic.NewToolResultBlock(use.ID, "21°C and sunny", false)))
		msg, err = client.Messages.New(ctx, anthropic.MessageNewParams{Model: "gpt-4o-mini", MaxTokens: 50, Messages: msgs,
			Tools: []anthropic.ToolUnionParam{weather}}, anthropicopt.WithResponseInto(&raw))
		require.NoError(t, err)
		require.Equal(t, strings.Join(providertest.FakeOpenAIWords, ""), msg.Content[0].AsText().Text)
		up := lastBody(t, b.openai)["messages"].([]any)
		require.Len(t, up, 3)
		tc := up[1].(map[string]any)["tool_calls"].([]any)[0].(map[string]any)
		require.Equal(t, "call_fake", tc["id"])
		require.JSONEq(t, `{"city":"Paris"}`, tc["function"].(map[string]any)["arguments"].(string))
		require.Equal(t, map[string]any{"role": "tool", "tool_call_id": "call_fake", "content": "21°C and sunny"}, up[2])
		b.ledgerEvent(t, raw.Header.Get("x-tollgate-request-id"), routing.APIMessages, routing.Usage{PromptTokens: 13, CachedTokens: 2, CompletionTokens: 5})
	})

	t.Run("tools streamed from an Anthropic upstream", func(t *testing.T) {
		stream := client.Messages.NewStreaming(ctx, anthropic.MessageNewParams{Model: "claude-haiku-4-5", MaxTokens: 50,
			Messages: user("weather in Paris?"), Tools: []anthropic.ToolUnionParam{weather}})
		var msg anthropic.Message
		for stream.Next() {
			require.NoError(t, msg.Accumulate(stream.Current()))
		}
		require.NoError(t, stream.Err())
		require.Equal(t, anthropic.StopReasonToolUse, msg.StopReason)
		require.Len(t, msg.Content, 2)
		require.Equal(t, strings.Join(providertest.FakeAnthropicWords, ""), msg.Content[0].AsText().Text)
		use := msg.Content[1].AsToolUse()
		require.Equal(t, "toolu_fake", use.ID)
		require.JSONEq(t, `{"city":"Paris"}`, string(use.Input))
		tools := lastBody(t, b.anthropic)["tools"].([]any)
		require.Equal(t, "get_weather", tools[0].(map[string]any)["name"])
	})

	t.Run("images", func(t *testing.T) {
		_, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: "claude-haiku-4-5", MaxTokens: 20,
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewImageBlockBase64("image/png", "iVBORw0KGgo="),
				anthropic.NewTextBlock("what is this?"))}})
		require.NoError(t, err)
		block := lastBody(t, b.anthropic)["messages"].([]any)[0].(map[string]any)["content"].([]any)[0]
		require.Equal(t, map[string]any{"type": "image", "source": map[string]any{"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}, block)
	})

	t.Run("count_tokens", func(t *testing.T) {
		before := len(b.anthropic.Requests())
		n, err := client.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: "claude-haiku-4-5",
			Messages: user("hello there, how many tokens is this?")})
		require.NoError(t, err)
		require.Positive(t, n.InputTokens)
		more, err := client.Messages.CountTokens(ctx, anthropic.MessageCountTokensParams{Model: "claude-haiku-4-5",
			Messages: user(strings.Repeat("hello there, how many tokens is this? ", 10))})
		require.NoError(t, err)
		require.Greater(t, more.InputTokens, n.InputTokens)
		require.Equal(t, before, len(b.anthropic.Requests()), "counting calls no upstream")
	})

	t.Run("refusals in Anthropic's error shape", func(t *testing.T) {
		key := map[string]string{"x-api-key": b.key, "anthropic-version": "2023-06-01"}
		for _, tc := range []struct {
			headers       map[string]string
			body          string
			status        int
			typ, contains string
		}{
			{key, `{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_request_error", "max_tokens"},
			{key, `{"model":"claude-haiku-4-5","max_tokens":10,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"hi"}]}`,
				400, "invalid_request_error", "thinking"},
			{key, `{"model":"claude-haiku-4-5","max_tokens":10,"top_k":5,"messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_request_error", "top_k"},
			{key, `{"model":"claude-haiku-4-5","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]}`,
				400, "invalid_request_error", "custom tools"},
			{key, `{"model":"claude-haiku-4-5","max_tokens":10,"Max_Tokens":10,"messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_request_error", "case-sensitive"},
			{key, `{"model":"no-such-model","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`, 404, "not_found_error", "no-such-model"},
			{map[string]string{"x-api-key": "tg_wrong"}, `{"model":"claude-haiku-4-5","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`,
				401, "authentication_error", ""},
			{map[string]string{"x-api-key": b.key, "Authorization": "Bearer tg_other"}, `{"model":"claude-haiku-4-5","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}`,
				401, "authentication_error", "different keys"},
		} {
			status, _, body := rawPost(t, b.stack.baseURL+"/v1/messages", tc.headers, tc.body)
			require.Equal(t, tc.status, status, body)
			var e struct {
				Type  string `json:"type"`
				Error struct {
					Type    string `json:"type"`
					Message string `json:"message"`
				} `json:"error"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &e), body)
			require.Equal(t, "error", e.Type, body)
			require.Equal(t, tc.typ, e.Error.Type, body)
			require.Contains(t, e.Error.Message, tc.contains)
		}
	})

	t.Run("an upstream's own error comes back in Anthropic's shape", func(t *testing.T) {
		b.openai.Fail(providertest.Fault{Status: http.StatusBadRequest,
			Body: `{"error":{"message":"Invalid schema for function 'get_weather'","type":"invalid_request_error","param":"tools[0]","code":null}}`})
		_, err := client.Messages.New(ctx, anthropic.MessageNewParams{Model: "gpt-4o-mini", MaxTokens: 10, Messages: user("hi")})
		apiErr, ok := isAPIError[*anthropic.Error](err)
		require.True(t, ok, "%v", err)
		require.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
		require.Equal(t, "invalid_request_error", string(apiErr.Type()))
		require.Contains(t, apiErr.Message, "Invalid schema")
	})

	t.Run("the raw stream names every event", func(t *testing.T) {
		status, hdr, body := rawPost(t, b.stack.baseURL+"/v1/messages", map[string]string{"x-api-key": b.key},
			`{"model":"gpt-4o-mini","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}`)
		require.Equal(t, http.StatusOK, status, body)
		require.Equal(t, "text/event-stream", hdr.Get("Content-Type"))
		var names []string
		for _, ev := range sseEvents(t, body) {
			names = append(names, ev[0])
		}
		require.Equal(t, []string{"message_start", "ping", "content_block_start"}, names[:3])
		require.Equal(t, []string{"content_block_stop", "message_delta", "message_stop"}, names[len(names)-3:])
	})
}
