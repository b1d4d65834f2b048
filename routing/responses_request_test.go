package routing

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

func chatMessagesOf(t *testing.T, r *ChatRequest) []map[string]any {
	t.Helper()
	var body struct {
		Messages []map[string]any `json:"messages"`
	}
	require.NoError(t, json.Unmarshal(r.Raw, &body))
	return body.Messages
}

func TestParseResponsesRequestTranslatesItems(t *testing.T) {
	t.Parallel()
	rr, err := ParseResponsesRequest([]byte(`{"model":"gpt-4o","instructions":"Be brief.","max_output_tokens":64,"stream":true,
		"input":[
			{"role":"user","content":[{"type":"input_text","text":"weather?"},{"type":"input_image","image_url":"https://x/y.png"}]},
			{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Let me check."}]},
			{"type":"function_call","call_id":"c1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},
			{"type":"function_call","call_id":"c2","name":"get_time","arguments":"{}"},
			{"type":"function_call_output","call_id":"c1","output":"21C"},
			{"type":"function_call_output","call_id":"c2","output":[{"type":"input_text","text":"noon"}]}],
		"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"},"strict":true}],
		"tool_choice":{"type":"function","name":"get_weather"},
		"text":{"format":{"type":"json_schema","name":"w","schema":{"type":"object"},"strict":true}}}`))
	require.NoError(t, err)
	c := rr.Chat
	require.Equal(t, APIResponses, c.API)
	require.True(t, c.Stream)
	require.True(t, c.IncludeUsage, "a translated stream always asks for the usage chunk")
	require.Equal(t, 64, c.MaxTokens)
	require.Equal(t, "json_schema", c.ResponseFormat)
	require.True(t, c.HasTools())
	msgs := chatMessagesOf(t, c)
	require.Len(t, msgs, 5)
	require.Equal(t, map[string]any{"role": "system", "content": "Be brief."}, msgs[0])
	require.Equal(t, "user", msgs[1]["role"])
	require.True(t, c.Messages[1].HasImage)
	// The assistant's text and both calls of its turn are one message.
	require.Equal(t, "Let me check.", msgs[2]["content"])
	require.Len(t, msgs[2]["tool_calls"], 2)
	require.Equal(t, map[string]any{"role": "tool", "tool_call_id": "c1", "content": "21C"}, msgs[3])
	require.Equal(t, "noon", msgs[4]["content"])
	var choice map[string]any
	require.NoError(t, json.Unmarshal(c.ToolChoice, &choice))
	require.Equal(t, map[string]any{"type": "function", "function": map[string]any{"name": "get_weather"}}, choice)
}

func TestParseResponsesRequestRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, body, param string }{
		{"store true", `{"model":"m","input":"hi","store":true}`, "store"},
		{"previous response", `{"model":"m","input":"hi","previous_response_id":"resp_1"}`, "previous_response_id"},
		{"conversation", `{"model":"m","input":"hi","conversation":"conv_1"}`, "conversation"},
		{"unknown member", `{"model":"m","input":"hi","temprature":1}`, "temprature"},
		{"case variant", `{"model":"m","Input":"hi"}`, "Input"},
		{"duplicate", `{"model":"m","input":"hi","input":"ho"}`, "input"},
		{"built-in tool", `{"model":"m","input":"hi","tools":[{"type":"file_search"}]}`, "tools[0].type"},
		{"file input", `{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_id":"f"}]}]}`, "input[0].content[0].type"},
		{"image by file id", `{"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"f"}]}]}`, "input[0].content[0].image_url"},
		{"zero max_output_tokens", `{"model":"m","input":"hi","max_output_tokens":0}`, "max_output_tokens"},
		{"missing input", `{"model":"m"}`, "input"},
		{"truncation auto", `{"model":"m","input":"hi","truncation":"auto"}`, "truncation"},
		{"logprobs include", `{"model":"m","input":"hi","include":["message.output_text.logprobs"]}`, "include[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseResponsesRequest([]byte(tc.body))
			require.Error(t, err)
			require.Equal(t, errkind.Invalid, errkind.Of(err), "%v", err)
			require.Equal(t, tc.param, errkind.ParamOf(err), "%v", err)
		})
	}
	// store: false and the encrypted-reasoning include are served.
	_, err := ParseResponsesRequest([]byte(`{"model":"m","input":"hi","store":false,"include":["reasoning.encrypted_content"]}`))
	require.NoError(t, err)
}

func TestChatToResponseMapsOutputAndUsage(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"x","model":"m","choices":[{"index":0,"finish_reason":"length","message":{"role":"assistant","content":"Hi",
		"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}}]}}]}`)
	out, err := ChatToResponse(body, ResponseMeta{RequestID: "01ABC", CreatedAt: 7}, "gpt-4o", Usage{PromptTokens: 10, CachedTokens: 4, CompletionTokens: 3})
	require.NoError(t, err)
	var r map[string]any
	require.NoError(t, json.Unmarshal(out, &r))
	require.Equal(t, "resp_01abc", r["id"])
	require.Equal(t, "incomplete", r["status"])
	require.Equal(t, map[string]any{"reason": "max_output_tokens"}, r["incomplete_details"])
	require.Equal(t, false, r["store"])
	output := r["output"].([]any)
	require.Len(t, output, 2)
	require.Equal(t, "message", output[0].(map[string]any)["type"])
	require.Equal(t, "call_1", output[1].(map[string]any)["call_id"])
	u := r["usage"].(map[string]any)
	require.EqualValues(t, 10, u["input_tokens"])
	require.EqualValues(t, 4, u["input_tokens_details"].(map[string]any)["cached_tokens"])
	require.EqualValues(t, 13, u["total_tokens"])
}
