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
