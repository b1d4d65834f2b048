package routing_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing"
)

const msgs = `"messages":[{"role":"user","content":"hi"}]`

// TestParseChatRequestRefusesAmbiguousJSON: a body two JSON parsers could read
// differently is refused with a 400 naming the member, so that the reservation
// and the upstream can never see different limits (encoding/json matches names
// case-insensitively, OpenAI takes the last duplicate and exact-case names).
func TestParseChatRequestRefusesAmbiguousJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, param, msg string
	}{
		{"issue body", `{"model":"sim-small","max_tokens":16384,"Max_Tokens":1,"\u0078":1,` + msgs + `}`, "Max_Tokens", "case-sensitive"},
		{"duplicate top-level", `{"model":"m","max_tokens":1,` + msgs + `,"max_tokens":16384}`, "max_tokens", "twice"},
		{"duplicate after unescaping", `{"model":"m","max_tokens":1,"max\u005ftokens":16384,` + msgs + `}`, "max_tokens", "twice"},
		{"escaped case variant", `{"model":"m","M\u0041X_TOKENS":9,` + msgs + `}`, "MAX_TOKENS", "did you mean \"max_tokens\""},
		{"Unicode case variant (Kelvin sign)", `{"model":"m","max_to\u212aens":16384,` + msgs + `}`, "max_to\u212aens", "did you mean \"max_tokens\""},
		{"model case variant", `{"MODEL":"sim-large","model":"sim-small",` + msgs + `}`, "MODEL", "case-sensitive"},
		{"n case variant", `{"model":"m","N":8,` + msgs + `}`, "N", "case-sensitive"},
		{"duplicate n", `{"model":"m","n":1,"n":8,` + msgs + `}`, "n", "twice"},
		{"duplicate in message", `{"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":"b","content":"c"}]}`, "messages[1].content", "twice"},
		{"case variant in message", `{"model":"m","messages":[{"role":"user","Content":"a"}]}`, "messages[0].Content", "case-sensitive"},
		{"duplicate in stream_options", `{"model":"m","stream":true,"stream_options":{"include_usage":false,"include_usage":true},` + msgs + `}`, "stream_options.include_usage", "twice"},
		{"case variant in stream_options", `{"model":"m","stream":true,"stream_options":{"Include_Usage":true},` + msgs + `}`, "stream_options.Include_Usage", "case-sensitive"},
		{"duplicate in response_format", `{"model":"m","response_format":{"type":"text","type":"json_object"},` + msgs + `}`, "response_format.type", "twice"},
		{"duplicate at any depth", `{"model":"m","tools":[{"type":"function","function":{"name":"f","parameters":{"a":1,"a":2}}}],` + msgs + `}`, "tools[0].function.parameters.a", "twice"},
		{"n above 128", `{"model":"m","n":129,` + msgs + `}`, "n", "1 to 128"},
		{"n zero", `{"model":"m","n":0,` + msgs + `}`, "n", "1 to 128"},
		{"n fraction", `{"model":"m","n":1.5,` + msgs + `}`, "n", "integer"},
		{"max_tokens string", `{"model":"m","max_tokens":"16",` + msgs + `}`, "max_tokens", "integer"},
		{"max_tokens exponent", `{"model":"m","max_tokens":1e9,` + msgs + `}`, "max_tokens", "integer"},
		{"max_tokens beyond int32", `{"model":"m","max_tokens":2147483648,` + msgs + `}`, "max_tokens", "output limit"},
		{"max_tokens beyond int64", `{"model":"m","max_tokens":99999999999999999999999,` + msgs + `}`, "max_tokens", "integer"},
		{"max_completion_tokens zero", `{"model":"m","max_completion_tokens":0,` + msgs + `}`, "max_completion_tokens", "from 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := routing.ParseChatRequest([]byte(tc.body))
			require.ErrorIs(t, err, errkind.Invalid)
			require.Equal(t, tc.param, errkind.ParamOf(err))
			require.Contains(t, errkind.PublicMessage(err), tc.msg)
		})
	}
}

// TestParseChatRequestRefusesMalformedBodies: what encoding/json's fallback used
// to accept or a lenient upstream might read differently gets a clear 400.
func TestParseChatRequestRefusesMalformedBodies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, body, msg string }{
		{"trailing object", `{"model":"m",` + msgs + `}{"max_tokens":16384}`, "after its JSON object"},
		{"trailing garbage", `{"model":"m",` + msgs + `} x`, "after its JSON object"},
		{"invalid UTF-8 in a key", "{\"model\":\"m\",\"max_tokens\xff\":1," + msgs + "}", "UTF-8"},
		{"invalid UTF-8 in content", "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\xc3\x28\"}]}", "UTF-8"},
		{"bad escape", `{"model":"m\q",` + msgs + `}`, "not valid JSON"},
		{"bad literal", `{"model":"m","stream":tru,` + msgs + `}`, "not valid JSON"},
		{"bad number", `{"model":"m","temperature":01,` + msgs + `}`, "not valid JSON"},
		{"unterminated", `{"model":"m",` + msgs, "not valid JSON"},
		{"not an object", `[` + msgs + `]`, "JSON object"},
		{"too deep", `{"model":"m","x":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `,` + msgs + `}`, "nests deeper"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := routing.ParseChatRequest([]byte(tc.body))
			require.ErrorIs(t, err, errkind.Invalid)
			require.Contains(t, errkind.PublicMessage(err), tc.msg)
		})
	}
	// A hostile object with very many members is checked in linear time.
	var b strings.Builder
	b.WriteString(`{"model":"m",` + msgs)
	for i := range 50_000 {
		b.WriteString(`,"k` + strconv.Itoa(i) + `":1`)
	}
	b.WriteString(`,"k_dup":1,"k_dup":2}`)
	_, err := routing.ParseChatRequest([]byte(b.String()))
	require.Equal(t, "k_dup", errkind.ParamOf(err))
}

// TestParseChatRequestLimits: max_completion_tokens counts like max_tokens, the
// smaller of the two wins, n multiplies the choices, escaped names are read as
// every parser reads them.
func TestParseChatRequestLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		body  string
		max   int
		param string
		n     int
	}{
		{`{"model":"m",` + msgs + `}`, 0, "", 1},
		{`{"model":"m","max_tokens":300,` + msgs + `}`, 300, "max_tokens", 1},
		{`{"model":"m","max_completion_tokens":300,` + msgs + `}`, 300, "max_completion_tokens", 1},
		{`{"model":"m","max_tokens":9,"max_completion_tokens":300,` + msgs + `}`, 9, "max_tokens", 1},
		{`{"model":"m","max_tokens":999999,"max_completion_tokens":7,` + msgs + `}`, 7, "max_completion_tokens", 1},
		{`{"model":"m","max\u005ftokens":42,"\u006e":8,` + msgs + `}`, 42, "max_tokens", 8},
		{`{"model":"m","n":null,"max_tokens":null,` + msgs + `}`, 0, "", 1},
		{`{"model":"m","unknown":{"Max_Tokens":5},` + msgs + `}`, 0, "", 1}, // names Tollgate does not read may vary in case
	} {
		req, err := routing.ParseChatRequest([]byte(tc.body))
		require.NoError(t, err, tc.body)
		require.Equal(t, tc.max, req.MaxTokens, tc.body)
		require.Equal(t, tc.param, req.MaxTokensParam, tc.body)
		require.Equal(t, tc.n, req.N, tc.body)
	}
}

// TestParseEmbeddingRequestStrict: embeddings bodies get the same strict reading,
// and encoding_format is float or base64.
func TestParseEmbeddingRequestStrict(t *testing.T) {
	t.Parallel()
	req, err := routing.ParseEmbeddingRequest([]byte(`{"model":"sim-embed","input":["a","b"]}`))
	require.NoError(t, err)
	require.Equal(t, routing.EncodingFloat, req.EncodingFormat)
	req, err = routing.ParseEmbeddingRequest([]byte(`{"model":"sim-embed","input":"a","encoding_format":"base64"}`))
	require.NoError(t, err)
	require.Equal(t, routing.EncodingBase64, req.EncodingFormat)
	for body, param := range map[string]string{
		`{"model":"sim-embed","input":"a","encoding_format":"int8"}`:         "encoding_format",
		`{"model":"sim-embed","input":"a","encoding_format":1}`:              "encoding_format",
		`{"model":"sim-embed","input":"a","Model":"text-embedding-3-large"}`: "Model",
		`{"model":"sim-embed","input":"a","input":["b","c","d"]}`:            "input",
		`{"model":"sim-embed","input":[{"x":1}]}`:                            "input[0]",
	} {
		_, err := routing.ParseEmbeddingRequest([]byte(body))
		require.ErrorIs(t, err, errkind.Invalid, body)
		require.Equal(t, param, errkind.ParamOf(err), body)
	}
}

// FuzzOneReading: whatever body ParseChatRequest accepts, a reader that works
// like OpenAI's (exact-case names, the last duplicate wins) finds the same
// model, limits and choices in it, so the reservation and the upstream agree.
func FuzzOneReading(f *testing.F) {
	for _, seed := range []string{
		`{"model":"m","max_tokens":16384,"Max_Tokens":1,"\u0078":1,` + msgs + `}`,
		`{"model":"m","max\u005ftokens":42,"\u006e":8,` + msgs + `}`,
		`{"model":"m","max_tokens":9,"max_completion_tokens":300,"n":3,` + msgs + `}`,
		`{"mod\u0065l":"x","messages":[{"role":"user","content":"a"}],"max_completion_tokens":7}`,
		`{"model":"m","n":2,"max_tokens":1,` + msgs + `,"max_tokens":2}`,
		`{"model":"m","max_to\u212aens":5,` + msgs + `}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := routing.ParseChatRequest(body)
		if err != nil {
			return
		}
		var top map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(body, &top), "accepted bodies are valid JSON objects")
		var model string
		require.NoError(t, json.Unmarshal(top["model"], &model))
		require.Equal(t, model, req.Model)
		limit := 0
		for _, k := range []string{"max_tokens", "max_completion_tokens"} {
			var v *int
			if raw, ok := top[k]; ok {
				require.NoError(t, json.Unmarshal(raw, &v), k)
			}
			if v != nil && (limit == 0 || *v < limit) {
				limit = *v
			}
		}
		require.Equal(t, limit, req.MaxTokens)
		n := 1
		if raw, ok := top["n"]; ok {
			var v *int
			require.NoError(t, json.Unmarshal(raw, &v))
			if v != nil {
				n = *v
			}
		}
		require.Equal(t, n, req.N)
		var messages []json.RawMessage
		require.NoError(t, json.Unmarshal(top["messages"], &messages))
		require.Len(t, req.Messages, len(messages))
	})
}

// TestHasControlByteMatchesDefinition checks the eight-bytes-at-a-time test against the
// byte-by-byte definition, at every position and byte value.
func TestHasControlByteMatchesDefinition(t *testing.T) {
	t.Parallel()
	for n := range 20 {
		for pos := range n {
			for c := range 256 {
				b := []byte(strings.Repeat("a", n))
				b[pos] = byte(c)
				_, err := routing.ParseChatRequest([]byte(`{"model":"` + string(b) + `",` + msgs + `}`))
				valid := c >= 0x20 && c != '"' && c != '\\' && c < 0x80
				if valid {
					require.NoError(t, err, "%d at %d of %d", c, pos, n)
				} else if c < 0x20 {
					require.ErrorIs(t, err, errkind.Invalid, "%d at %d of %d", c, pos, n)
				}
			}
		}
	}
}
