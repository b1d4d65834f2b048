package routing

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRewriteBody(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
		force          bool
	}{
		{"replace model only", `{"model":"auto","messages":[],"tools":[{"type":"function"}],"temperature":0.2}`,
			`{"model":"gpt-4o","messages":[],"tools":[{"type":"function"}],"temperature":0.2}`, false},
		{"whitespace and nested model keys kept", `{ "messages" : [{"model":"x"}], "model" : "auto" }`,
			`{ "messages" : [{"model":"x"}], "model" : "gpt-4o" }`, false},
		{"add stream options", `{"model":"a","stream":true}`,
			`{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true}}`, true},
		{"merge stream options", `{"stream_options":{"include_usage":false,"x":1},"model":"a"}`,
			`{"stream_options":{"include_usage":true,"x":1},"model":"gpt-4o"}`, true},
		{"missing model", `{"messages":[]}`, `{"messages":[],"model":"gpt-4o"}`, false},
		{"both limits: the larger lowered to the smaller", `{"model":"a","max_tokens":999999,"max_completion_tokens":7}`,
			`{"model":"gpt-4o","max_tokens":7,"max_completion_tokens":7}`, false},
		{"both limits, other order", `{"max_completion_tokens":16384,"model":"a","max_tokens":5}`,
			`{"max_completion_tokens":5,"model":"gpt-4o","max_tokens":5}`, false},
		{"escaped strings", `{"messages":[{"content":"a \"}\" b"}],"model":"m"}`,
			`{"messages":[{"content":"a \"}\" b"}],"model":"gpt-4o"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := rewriteBody([]byte(tc.in), "gpt-4o", tc.force)
			require.NoError(t, err)
			require.Equal(t, tc.want, string(out))
			require.True(t, json.Valid(out))
		})
	}
	out, err := rewriteBody([]byte(`{"mod\u0065l":"a","x":1}`), "gpt-4o", true)
	require.NoError(t, err)
	require.JSONEq(t, `{"model":"gpt-4o","x":1,"stream_options":{"include_usage":true}}`, string(out))
	_, err = rewriteBody([]byte(`[1,2]`), "m", false)
	require.Error(t, err)
}

// TestSkipStringEscapes checks the quote-to-quote skip against the byte-by-byte
// definition: a backslash escapes the next byte, an unescaped quote ends the string.
func TestSkipStringEscapes(t *testing.T) {
	t.Parallel()
	reference := func(b []byte) (int, bool) {
		for j := 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1, true
			}
		}
		return 0, false
	}
	alphabet := []byte{'"', '\\', 'a', 'n'}
	var cases [][]byte
	var gen func(prefix []byte, n int)
	gen = func(prefix []byte, n int) {
		cases = append(cases, append([]byte{'"'}, prefix...))
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			gen(append(append([]byte{}, prefix...), c), n-1)
		}
	}
	gen(nil, 7)
	for _, b := range cases {
		want, ok := reference(b)
		got, err := skipString(b, 0)
		require.Equal(t, ok, err == nil, "%q", b)
		if ok {
			require.Equal(t, want, got, "%q", b)
		}
	}
}

// TestRewriteChatBodyCap holds a key's output cap to the upstream body: each
// limit above it is lowered, one at or below it is kept, and a body with none
// gets max_tokens, so the upstream cannot write more than was reserved.
func TestRewriteChatBodyCap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"none set: added", `{"model":"a","messages":[]}`, `{"model":"gpt-4o","messages":[],"max_tokens":300}`},
		{"above: lowered", `{"model":"a","max_tokens":4096}`, `{"model":"gpt-4o","max_tokens":300}`},
		{"below: kept", `{"model":"a","max_completion_tokens":50}`, `{"model":"gpt-4o","max_completion_tokens":50}`},
		{"both: each capped", `{"max_tokens":9000,"model":"a","max_completion_tokens":100}`,
			`{"max_tokens":300,"model":"gpt-4o","max_completion_tokens":100}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := rewriteChatBody([]byte(tc.in), "gpt-4o", false, 300)
			require.NoError(t, err)
			require.Equal(t, tc.want, string(out))
		})
	}
}
