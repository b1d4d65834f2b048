package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// scriptedSource yields fixed chunk payloads, then err (io.EOF for a clean end).
type scriptedSource struct {
	chunks []string
	err    error
}

func (s *scriptedSource) next() ([]byte, error) {
	if len(s.chunks) == 0 {
		return nil, s.err
	}
	c := s.chunks[0]
	s.chunks = s.chunks[1:]
	return []byte(c), nil
}

// textThenTool is a chat stream with text, then a tool call in two argument
// pieces, then finish_reason tool_calls and the usage chunk.
var textThenTool = []string{
	`{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`,
	`{"choices":[{"index":0,"delta":{"content":"Let me "}}]}`,
	`{"choices":[{"index":0,"delta":{"content":"check."}}]}`,
	`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]}}]}`,
	`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}}]}`,
	`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}}]}`,
	`{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
	`{"choices":[],"usage":{"prompt_tokens":20,"completion_tokens":9,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":4}}}`,
}

func scripted(chunks []string, err error) *Stream {
	return newStream(streamConfig{src: &scriptedSource{chunks: append([]string(nil), chunks...), err: err},
		req: &ChatRequest{IncludeUsage: true}})
}

type namedEvent struct {
	name string
	data map[string]any
}

func readEvents(t *testing.T, body string) []namedEvent {
	t.Helper()
	var out []namedEvent
	for _, block := range strings.Split(strings.TrimSpace(body), "\n\n") {
		lines := strings.Split(block, "\n")
		require.Len(t, lines, 2, block)
		name := strings.TrimPrefix(lines[0], "event: ")
		var data map[string]any
		require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(lines[1], "data: ")), &data))
		require.Equal(t, name, data["type"])
		out = append(out, namedEvent{name, data})
	}
	return out
}

func names(evs []namedEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.name
	}
	return out
}

func TestWriteMessagesTranslatesTextAndToolBlocks(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, scripted(textThenTool, io.EOF).WriteMessages(&buf, MessageMeta{RequestID: "R1", Model: "gpt-4o", PromptTokens: 18}))
	evs := readEvents(t, buf.String())
	require.Equal(t, []string{"message_start", "ping",
		"content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
		"content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
		"message_delta", "message_stop"}, names(evs))
	require.EqualValues(t, 18, evs[0].data["message"].(map[string]any)["usage"].(map[string]any)["input_tokens"])
	require.EqualValues(t, 1, evs[6].data["index"])
	require.Equal(t, map[string]any{"type": "tool_use", "id": "call_1", "name": "get_weather", "input": map[string]any{}}, evs[6].data["content_block"])
	delta := evs[10].data
	require.Equal(t, "tool_use", delta["delta"].(map[string]any)["stop_reason"])
	require.Equal(t, map[string]any{"input_tokens": 16.0, "cache_read_input_tokens": 4.0, "cache_creation_input_tokens": 0.0, "output_tokens": 9.0}, delta["usage"])
}

func TestWriteResponsesTranslatesTextAndFunctionCall(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, scripted(textThenTool, io.EOF).WriteResponses(&buf, ResponseMeta{RequestID: "R1", CreatedAt: 1}, "gpt-4o"))
	evs := readEvents(t, buf.String())
	require.Equal(t, []string{"response.created", "response.in_progress",
		"response.output_item.added", "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
		"response.output_text.done", "response.content_part.done", "response.output_item.done",
		"response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.delta",
		"response.function_call_arguments.done", "response.output_item.done", "response.completed"}, names(evs))
	for i, e := range evs {
		require.EqualValues(t, i, e.data["sequence_number"])
	}
	require.Equal(t, "Let me check.", evs[6].data["text"])
	require.Equal(t, `{"city":"Paris"}`, evs[12].data["arguments"])
	final := evs[14].data["response"].(map[string]any)
	require.Equal(t, "completed", final["status"])
	require.Len(t, final["output"], 2)
	require.EqualValues(t, 20, final["usage"].(map[string]any)["input_tokens"])
}

func TestTranslatedStreamsReportABrokenUpstream(t *testing.T) {
	t.Parallel()
	broken := errors.New("connection reset")
	var buf bytes.Buffer
	err := scripted(textThenTool[:3], broken).WriteResponses(&buf, ResponseMeta{RequestID: "R1"}, "gpt-4o")
	require.ErrorIs(t, err, broken)
	evs := readEvents(t, buf.String())
	last := evs[len(evs)-1]
	require.Equal(t, "response.failed", last.name)
	require.Equal(t, "failed", last.data["response"].(map[string]any)["status"])

	buf.Reset()
	err = scripted(textThenTool[:3], broken).WriteMessages(&buf, MessageMeta{RequestID: "R1"})
	require.ErrorIs(t, err, broken)
	evs = readEvents(t, buf.String())
	last = evs[len(evs)-1]
	require.Equal(t, "error", last.name)
	require.Equal(t, "api_error", last.data["error"].(map[string]any)["type"])
}
