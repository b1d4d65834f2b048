package routing

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

func TestParseMessagesRequestTranslatesBlocks(t *testing.T) {
	t.Parallel()
	mr, err := ParseMessagesRequest([]byte(`{"model":"claude-haiku-4-5","max_tokens":100,"metadata":{"user_id":"u1"},
		"system":[{"type":"text","text":"Stable prompt.","cache_control":{"type":"ephemeral"}}],
		"messages":[
			{"role":"user","content":"weather?"},
			{"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"tu1","name":"get_weather","input":{"city": "Paris"}}]},
			{"role":"user","content":[
				{"type":"tool_result","tool_use_id":"tu1","content":[{"type":"text","text":"21C"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"AAA"}}]},
				{"type":"text","text":"thanks"}]}],
		"tools":[{"name":"get_weather","input_schema":{"type":"object"},"cache_control":{"type":"ephemeral"}}],
		"tool_choice":{"type":"any","disable_parallel_tool_use":true}}`))
	require.NoError(t, err)
	c := mr.Chat
	require.Equal(t, APIMessages, c.API)
	require.Equal(t, 100, c.MaxTokens)
	require.Equal(t, "u1", c.User)
	msgs := chatMessagesOf(t, c)
	require.Len(t, msgs, 5)
	require.Equal(t, "system", msgs[0]["role"])
	require.Equal(t, "Checking.", msgs[2]["content"])
	call := msgs[2]["tool_calls"].([]any)[0].(map[string]any)
	require.Equal(t, `{"city":"Paris"}`, call["function"].(map[string]any)["arguments"])
	// The tool result comes first (it answers the call), then the user's own parts.
	require.Equal(t, map[string]any{"role": "tool", "tool_call_id": "tu1", "content": "21C"}, msgs[3])
	parts := msgs[4]["content"].([]any)
	require.Equal(t, "data:image/png;base64,AAA", parts[0].(map[string]any)["image_url"].(map[string]any)["url"])
	require.Equal(t, "thanks", parts[1].(map[string]any)["text"])
	require.JSONEq(t, `"required"`, string(c.ToolChoice))
	require.Contains(t, string(c.Raw), `"parallel_tool_calls":false`)

	// cache_control stays in the body Anthropic gets and is gone from the one
	// OpenAI-compatible upstreams get.
	require.Contains(t, string(c.Raw), `"cache_control"`)
	require.NotContains(t, string(c.openAIBody()), "cache_control")
	body, err := toAnthropic(c, "claude-haiku-4-5-x", 4096, false)
	require.NoError(t, err)
	var a struct {
		System []map[string]any `json:"system"`
		Tools  []map[string]any `json:"tools"`
	}
	require.NoError(t, json.Unmarshal(body, &a))
	require.Equal(t, map[string]any{"type": "ephemeral"}, a.System[0]["cache_control"])
	require.Equal(t, map[string]any{"type": "ephemeral"}, a.Tools[0]["cache_control"])
}

func TestParseMessagesRequestTopLevelCacheControl(t *testing.T) {
	t.Parallel()
	mr, err := ParseMessagesRequest([]byte(`{"model":"m","max_tokens":5,"cache_control":{"type":"ephemeral"},
		"messages":[{"role":"user","content":"long prompt"}]}`))
	require.NoError(t, err)
	body, err := toAnthropic(mr.Chat, "m", 4096, false)
	require.NoError(t, err)
	require.Contains(t, string(body), `{"type":"text","text":"long prompt","cache_control":{"type":"ephemeral"}}`)
}

func TestParseMessagesRequestRefusals(t *testing.T) {
	t.Parallel()
	msgs := `"messages":[{"role":"user","content":"hi"}]`
	for _, tc := range []struct{ name, body, param string }{
		{"no max_tokens", `{"model":"m",` + msgs + `}`, "max_tokens"},
		{"thinking", `{"model":"m","max_tokens":5,"thinking":{"type":"enabled","budget_tokens":1024},` + msgs + `}`, "thinking"},
		{"top_k", `{"model":"m","max_tokens":5,"top_k":3,` + msgs + `}`, "top_k"},
		{"mcp servers", `{"model":"m","max_tokens":5,"mcp_servers":[],` + msgs + `}`, "mcp_servers"},
		{"unknown member", `{"model":"m","max_tokens":5,"temprature":1,` + msgs + `}`, "temprature"},
		{"case variant", `{"model":"m","max_tokens":5,"System":"x",` + msgs + `}`, "System"},
		{"duplicate in a block", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"text","text":"a","text":"b"}]}]}`, "messages[0].content[0].text"},
		{"server tool", `{"model":"m","max_tokens":5,"tools":[{"type":"bash_20250124","name":"bash"}],` + msgs + `}`, "tools[0].type"},
		{"document block", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":[{"type":"document","source":{}}]}]}`, "messages[0].content[0].type"},
		{"thinking block", `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"a"},{"role":"assistant","content":[{"type":"thinking","thinking":"x"}]}]}`, "messages[1].content[0].type"},
		{"bad role", `{"model":"m","max_tokens":5,"messages":[{"role":"system","content":"a"}]}`, "messages[0].role"},
		{"no messages", `{"model":"m","max_tokens":5,"messages":[]}`, "messages"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseMessagesRequest([]byte(tc.body))
			require.Error(t, err)
			require.Equal(t, errkind.Invalid, errkind.Of(err), "%v", err)
			require.Equal(t, tc.param, errkind.ParamOf(err), "%v", err)
		})
	}
	// thinking disabled is served; count_tokens needs no max_tokens.
	_, err := ParseMessagesRequest([]byte(`{"model":"m","max_tokens":5,"thinking":{"type":"disabled"},` + msgs + `}`))
	require.NoError(t, err)
	_, err = ParseCountTokensRequest([]byte(`{"model":"m",` + msgs + `}`))
	require.NoError(t, err)
	_, err = ParseCountTokensRequest([]byte(`{"model":"m","max_tokens":5,` + msgs + `}`))
	require.Error(t, err, "count_tokens takes no max_tokens")
}

func TestChatToMessageSplitsCachedUsage(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"x","model":"m","choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":null,
		"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}}]}`)
	out, err := ChatToMessage(body, MessageMeta{RequestID: "01X", Model: "claude-haiku-4-5"},
		Usage{PromptTokens: 100, CachedTokens: 30, CacheWriteTokens: 50, CompletionTokens: 7})
	require.NoError(t, err)
	require.JSONEq(t, `{"id":"msg_01x","type":"message","role":"assistant","model":"claude-haiku-4-5",
		"content":[{"type":"tool_use","id":"call_1","name":"f","input":{"a":1}}],"stop_reason":"tool_use","stop_sequence":null,
		"usage":{"input_tokens":20,"cache_creation_input_tokens":50,"cache_read_input_tokens":30,"output_tokens":7}}`, string(out))
}

func TestToolResultCacheControlReachesAnthropic(t *testing.T) {
	t.Parallel()
	mr, err := ParseMessagesRequest([]byte(`{"model":"m","max_tokens":5,"messages":[
		{"role":"user","content":"weather?"},
		{"role":"assistant","content":[{"type":"tool_use","id":"tu1","name":"w","input":{}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"tu1","is_error":true,
			"content":[{"type":"text","text":"boom","cache_control":{"type":"ephemeral"}}]}]}]}`))
	require.NoError(t, err)
	body, err := toAnthropic(mr.Chat, "m", 4096, false)
	require.NoError(t, err)
	require.Contains(t, string(body), `{"type":"tool_result","tool_use_id":"tu1","content":"Error: boom","cache_control":{"type":"ephemeral"}}`)
	require.NotContains(t, string(mr.Chat.openAIBody()), "cache_control")
}
