package routing

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// chunkViewReference is how chunks were read before readChunk: json.Unmarshal
// into nested structs. readChunk must read the same from any chunk an upstream
// writes.
type chunkViewReference struct {
	Choices []struct {
		Delta struct {
			Content   string `json:"content"`
			ToolCalls []struct {
				Function struct {
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
	} `json:"choices"`
	Usage *usageWire `json:"usage"`
}

func TestReadChunkMatchesUnmarshal(t *testing.T) {
	chunks := []string{
		`{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"ok"},"finish_reason":null}]}`,
		`{"choices":[{"delta":{"content":"a \"quoted\" \\ line\nnext \u00e9 \ud83d\ude00 \/"}}]}`,
		`{"choices":[{"delta":{"content":""}},{"delta":{"content":"second"}}]}`,
		`{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"t","function":{"name":"f","arguments":"{\"a\":"}},{"function":{"arguments":"1}"}}]}}]}`,
		`{"choices":[{"delta":{"content":"x","tool_calls":[{"function":{"arguments":"y"}}]}}]}`,
		`{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":1,"total_tokens":13}}`,
		`{"choices":[{"delta":{"content":null}}],"usage":null}`,
		`{"usage":{"prompt_tokens":3,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":2}}, "choices" : [ { "delta" : { "content" : "spaced" } } ] }`,
		`{"choices":[{"delta":{}}],"choices":[{"delta":{"content":"last wins"}}]}`,
		`{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1},"usage":{"prompt_tokens":900,"completion_tokens":70}}`,
		`{"choices":[{"delta":{"content":"nested {\"not\":[\"json\"]}"},"logprobs":{"content":[{"token":"t","bytes":[1,2]}]}}]}`,
		`{"error":{"message":"overloaded"}}`,
		`{"choices":[{"delta":{"content":"cut`,
		`not json`,
		``,
	}
	for _, c := range chunks {
		var ref chunkViewReference
		refErr := json.Unmarshal([]byte(c), &ref)
		var got strings.Builder
		n, usage, ok := readChunk([]byte(c), &got)
		require.Equal(t, refErr == nil, ok, c)
		if !ok {
			require.Zero(t, got.Len(), c)
			continue
		}
		var want strings.Builder
		for _, ch := range ref.Choices {
			want.WriteString(ch.Delta.Content)
			for _, tc := range ch.Delta.ToolCalls {
				want.WriteString(tc.Function.Arguments)
			}
		}
		require.Equal(t, want.String(), got.String(), c)
		require.Equal(t, len(ref.Choices), n, c)
		require.Equal(t, ref.Usage != nil, usage != nil, c)
		if usage != nil {
			var w usageWire
			require.NoError(t, json.Unmarshal(usage, &w), c)
			require.Equal(t, *ref.Usage, w, c)
		}
	}
}

// A usage object that does not decode (a count written as 1e3, a string) is not
// the stream's usage: it settles on its estimate, with the streamed content
// counted, and a later well-formed usage chunk is taken.
func TestStreamIgnoresUsageThatDoesNotDecode(t *testing.T) {
	for _, bad := range []string{
		`{"choices":[{"delta":{"content":"abc"}}],"usage":{"prompt_tokens":1e3,"completion_tokens":1}}`,
		`{"choices":[{"delta":{"content":"abc"}}],"usage":{"prompt_tokens":"900","completion_tokens":1}}`,
	} {
		s := scripted([]string{bad}, io.EOF)
		for {
			if _, err := s.Next(); err != nil {
				break
			}
		}
		u := s.Usage()
		require.True(t, u.Estimated, bad)
		require.Positive(t, u.CompletionTokens, bad)

		s = scripted([]string{bad, `{"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}}`}, io.EOF)
		for {
			if _, err := s.Next(); err != nil {
				break
			}
		}
		u = s.Usage()
		require.False(t, u.Estimated, bad)
		require.Equal(t, 7, u.PromptTokens, bad)
		require.Equal(t, 3, u.CompletionTokens, bad)
	}
}
