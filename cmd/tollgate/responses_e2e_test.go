package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/providertest"
)

// TestResponsesAPIWithOpenAIClient drives POST /v1/responses with the official
// openai-go client: plain, streaming, tools and JSON schema, answered by the
// simulated provider and by loopback OpenAI and Anthropic upstreams, each
// request in the ledger once at its catalog price.
func TestResponsesAPIWithOpenAIClient(t *testing.T) {
	t.Parallel()
	b := setupInterop(t)
	client := openai.NewClient(option.WithBaseURL(b.stack.baseURL+"/v1/"), option.WithAPIKey(b.key), option.WithMaxRetries(0))
	ctx := t.Context()
	weather := responses.ToolParamOfFunction("get_weather", map[string]any{
		"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"},
		"additionalProperties": false}, true)

	t.Run("plain on the simulated provider", func(t *testing.T) {
		var raw *http.Response
		resp, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "sim-small", MaxOutputTokens: openai.Int(12),
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hello there")}}, option.WithResponseInto(&raw))
		require.NoError(t, err)
		require.Equal(t, "response", string(resp.Object))
		require.Equal(t, responses.ResponseStatusIncomplete, resp.Status, "the sim stops at max_output_tokens")
		require.Equal(t, "max_output_tokens", string(resp.IncompleteDetails.Reason))
		require.NotEmpty(t, resp.OutputText())
		require.EqualValues(t, 12, resp.Usage.OutputTokens)
		require.Equal(t, resp.Usage.InputTokens+resp.Usage.OutputTokens, resp.Usage.TotalTokens)
		require.EqualValues(t, 12, resp.MaxOutputTokens)
		require.Equal(t, "sim-small", raw.Header.Get("x-tollgate-model"))
		b.ledgerEvent(t, raw.Header.Get("x-tollgate-request-id"), routing.APIResponses,
			routing.Usage{PromptTokens: int(resp.Usage.InputTokens), CompletionTokens: 12})
	})

	t.Run("plain on an OpenAI upstream, instructions as the system message", func(t *testing.T) {
		var raw *http.Response
		resp, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4o-mini", MaxOutputTokens: openai.Int(50),
			Instructions: openai.String("Be brief."),
			Input:        responses.ResponseNewParamsInputUnion{OfString: openai.String("hello")}}, option.WithResponseInto(&raw))
		require.NoError(t, err)
		require.Equal(t, responses.ResponseStatusCompleted, resp.Status)
		require.Equal(t, strings.Join(providertest.FakeOpenAIWords, ""), resp.OutputText())
		require.Equal(t, "Be brief.", resp.Instructions.OfString)
		require.EqualValues(t, 12, resp.Usage.InputTokens)
		require.EqualValues(t, 2, resp.Usage.InputTokensDetails.CachedTokens)
		up := lastBody(t, b.openai)
		require.Equal(t, []any{map[string]any{"role": "system", "content": "Be brief."}, map[string]any{"role": "user", "content": "hello"}}, up["messages"])
		require.EqualValues(t, 50, up["max_completion_tokens"])
		b.ledgerEvent(t, raw.Header.Get("x-tollgate-request-id"), routing.APIResponses,
			routing.Usage{PromptTokens: 12, CachedTokens: 2, CompletionTokens: 5})
	})

	t.Run("plain on an Anthropic upstream", func(t *testing.T) {
		var raw *http.Response
		resp, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "claude-haiku-4-5", MaxOutputTokens: openai.Int(30),
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hello")}}, option.WithResponseInto(&raw))
		require.NoError(t, err)
		require.Equal(t, strings.Join(providertest.FakeAnthropicWords, ""), resp.OutputText())
		up := lastBody(t, b.anthropic)
		require.EqualValues(t, 30, up["max_tokens"])
		// Anthropic's 11 input + 3 cache reads, in OpenAI's convention.
		require.EqualValues(t, 14, resp.Usage.InputTokens)
		b.ledgerEvent(t, raw.Header.Get("x-tollgate-request-id"), routing.APIResponses,
			routing.Usage{PromptTokens: 14, CachedTokens: 3, CompletionTokens: 3})
	})

	t.Run("auto routing", func(t *testing.T) {
		var raw *http.Response
		resp, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "auto", MaxOutputTokens: openai.Int(5),
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi!")}}, option.WithResponseInto(&raw))
		require.NoError(t, err)
		model := raw.Header.Get("x-tollgate-model")
		require.NotEmpty(t, model)
		require.Equal(t, model, resp.Model)
		require.Contains(t, raw.Header.Get("x-tollgate-route-reason"), "auto")
		e := b.ledgerEvent(t, raw.Header.Get("x-tollgate-request-id"), routing.APIResponses, routing.Usage{
			PromptTokens: int(resp.Usage.InputTokens), CachedTokens: int(resp.Usage.InputTokensDetails.CachedTokens),
			CompletionTokens: int(resp.Usage.OutputTokens)})
		require.Equal(t, "auto", e.ModelRequested)
	})

	for _, tc := range []struct{ model, text string }{
		{"sim-small", ""}, {"gpt-4o-mini", strings.Join(providertest.FakeOpenAIWords, "")}, {"claude-haiku-4-5", strings.Join(providertest.FakeAnthropicWords, "")},
	} {
		t.Run("streaming on "+tc.model, func(t *testing.T) {
			var raw *http.Response
			stream := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: tc.model, MaxOutputTokens: openai.Int(6),
				Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("stream please")}}, option.WithResponseInto(&raw))
			var types []string
			var deltas strings.Builder
			var final responses.Response
			seq := int64(0)
			for stream.Next() {
				ev := stream.Current()
				require.Equal(t, seq, ev.SequenceNumber)
				seq++
				types = append(types, ev.Type)
				switch ev.Type {
				case "response.output_text.delta":
					deltas.WriteString(ev.Delta)
				case "response.completed", "response.incomplete":
					final = ev.Response
				}
			}
			require.NoError(t, stream.Err())
			require.Equal(t, []string{"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"}, types[:4])
			n := len(types)
			require.Equal(t, []string{"response.output_text.done", "response.content_part.done", "response.output_item.done"}, types[n-4:n-1])
			require.Contains(t, []string{"response.completed", "response.incomplete"}, types[n-1])
			if tc.text != "" {
				require.Equal(t, tc.text, deltas.String())
			}
			require.Equal(t, deltas.String(), final.OutputText())
			require.Positive(t, final.Usage.OutputTokens)
			b.ledgerEvent(t, raw.Header.Get("x-tollgate-request-id"), routing.APIResponses, routing.Usage{
				PromptTokens: int(final.Usage.InputTokens), CachedTokens: int(final.Usage.InputTokensDetails.CachedTokens),
				CompletionTokens: int(final.Usage.OutputTokens)})
		})
	}

	t.Run("tools: a function call, then its output", func(t *testing.T) {
		var raw *http.Response
		resp, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4o-mini",
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("weather in Paris?")},
			Tools: []responses.ToolUnionParam{weather}}, option.WithResponseInto(&raw))
		require.NoError(t, err)
		require.Len(t, resp.Output, 1)
		call := resp.Output[0].AsFunctionCall()
		require.Equal(t, "function_call", resp.Output[0].Type)
		require.Equal(t, "call_fake", call.CallID)
		require.Equal(t, "get_weather", call.Name)
		require.JSONEq(t, `{"city":"Paris"}`, call.Arguments)
		up := lastBody(t, b.openai)
		tools := up["tools"].([]any)
		require.Equal(t, "get_weather", tools[0].(map[string]any)["function"].(map[string]any)["name"])
		b.ledgerEvent(t, raw.Header.Get("x-tollgate-request-id"), routing.APIResponses, routing.Usage{PromptTokens: 11, CachedTokens: 2, CompletionTokens: 5})

		// The client sends the call back with its output.
		out := responses.ResponseInputItemParamOfFunctionCallOutput("21°C and sunny")
		out.OfFunctionCallOutput.CallID = openai.String(call.CallID)
		resp, err = client.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4o-mini", Tools: []responses.ToolUnionParam{weather},
			Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
				responses.ResponseInputItemParamOfMessage("weather in Paris?", responses.EasyInputMessageRoleUser),
				{OfFunctionCall: new(call.ToParam())},
				out,
			}}}, option.WithResponseInto(&raw))
		require.NoError(t, err)
		require.Equal(t, strings.Join(providertest.FakeOpenAIWords, ""), resp.OutputText())
		msgs := lastBody(t, b.openai)["messages"].([]any)
		require.Len(t, msgs, 3)
		require.Equal(t, "assistant", msgs[1].(map[string]any)["role"])
		tc := msgs[1].(map[string]any)["tool_calls"].([]any)[0].(map[string]any)
		require.Equal(t, "call_fake", tc["id"])
		require.Equal(t, map[string]any{"role": "tool", "tool_call_id": "call_fake", "content": "21°C and sunny"}, msgs[2])
		b.ledgerEvent(t, raw.Header.Get("x-tollgate-request-id"), routing.APIResponses, routing.Usage{PromptTokens: 13, CachedTokens: 2, CompletionTokens: 5})
	})

	t.Run("tools streamed", func(t *testing.T) {
		stream := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: "gpt-4o-mini",
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("weather in Paris?")},
			Tools: []responses.ToolUnionParam{weather}})
		var args strings.Builder
		var types []string
		var final responses.Response
		for stream.Next() {
			ev := stream.Current()
			types = append(types, ev.Type)
			switch ev.Type {
			case "response.function_call_arguments.delta":
				args.WriteString(ev.Delta)
			case "response.completed":
				final = ev.Response
			}
		}
		require.NoError(t, stream.Err())
		require.Contains(t, types, "response.function_call_arguments.done")
		require.JSONEq(t, `{"city":"Paris"}`, args.String())
		require.Len(t, final.Output, 1)
		require.Equal(t, "call_fake", final.Output[0].AsFunctionCall().CallID)
		require.Equal(t, args.String(), final.Output[0].AsFunctionCall().Arguments)
	})

	t.Run("JSON schema", func(t *testing.T) {
		schema := map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"},
			"temperature_c": map[string]any{"type": "number"}}, "required": []string{"city", "temperature_c"}, "additionalProperties": false}
		resp, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4o-mini",
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("weather in Paris as JSON")},
			Text:  responses.ResponseTextConfigParam{Format: responses.ResponseFormatTextConfigParamOfJSONSchema("weather", schema)}})
		require.NoError(t, err)
		var got struct {
			City string  `json:"city"`
			Temp float64 `json:"temperature_c"`
		}
		require.NoError(t, json.Unmarshal([]byte(resp.OutputText()), &got))
		require.Equal(t, "Paris", got.City)
		require.Equal(t, "json_schema", resp.Text.Format.Type)
		rf := lastBody(t, b.openai)["response_format"].(map[string]any)
		require.Equal(t, "json_schema", rf["type"])
		js := rf["json_schema"].(map[string]any)
		require.Equal(t, "weather", js["name"])
		require.Equal(t, []any{"city", "temperature_c"}, js["schema"].(map[string]any)["required"])
	})

	t.Run("stored state is refused, never ignored", func(t *testing.T) {
		before := len(b.openai.Requests())
		_, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4o-mini", Store: openai.Bool(true),
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hello")}})
		apiErr, ok := isAPIError[*openai.Error](err)
		require.True(t, ok, "%v", err)
		require.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
		require.Equal(t, "store", apiErr.Param)
		require.Contains(t, apiErr.Message, "does not store responses")

		_, err = client.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4o-mini", PreviousResponseID: openai.String("resp_123"),
			Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hello")}})
		apiErr, ok = isAPIError[*openai.Error](err)
		require.True(t, ok, "%v", err)
		require.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
		require.Equal(t, "previous_response_id", apiErr.Param)
		require.Equal(t, before, len(b.openai.Requests()), "nothing reached the upstream")
	})

	t.Run("unknown, built-in and ambiguous members are clear 400s", func(t *testing.T) {
		auth := map[string]string{"Authorization": "Bearer " + b.key}
		for _, tc := range []struct{ body, param, says string }{
			{`{"model":"gpt-4o-mini","input":"hi","frobnicate":1}`, "frobnicate", "unknown member"},
			{`{"model":"gpt-4o-mini","input":"hi","tools":[{"type":"web_search"}]}`, "tools[0].type", "function tools"},
			{`{"model":"gpt-4o-mini","input":"hi","Max_Output_Tokens":5}`, "Max_Output_Tokens", "case-sensitive"},
			{`{"model":"gpt-4o-mini","input":"hi","max_output_tokens":5,"max_output_tokens":9000}`, "max_output_tokens", "twice"},
			{`{"model":"gpt-4o-mini","input":[{"type":"item_reference","id":"msg_1"}]}`, "input[0].type", "does not store"},
			{`{"model":"gpt-4o-mini","input":"hi","background":true}`, "background", "stores no responses"},
		} {
			status, _, body := rawPost(t, b.stack.baseURL+"/v1/responses", auth, tc.body)
			require.Equal(t, http.StatusBadRequest, status, body)
			var e struct {
				Error struct {
					Message, Type string
					Param         *string
				}
			}
			require.NoError(t, json.Unmarshal([]byte(body), &e), body)
			require.Equal(t, "invalid_request_error", e.Error.Type)
			require.NotNil(t, e.Error.Param, body)
			require.Equal(t, tc.param, *e.Error.Param)
			require.Contains(t, e.Error.Message, tc.says)
		}
	})
}
