package routing

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// TestParseChatFastMatchesEncodingJSON checks the fast parser against
// encoding/json on bodies exercising every field and awkward encodings.
func TestParseChatFastMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`,
		` { "model" : "auto" , "stream" : true, "stream_options": {"include_usage": true},
		   "messages" : [ {"role":"system","content":"a \"quoted\" \\ line\nnext \u00e9"},
		   {"role":"user","name":"bob","content":[{"type":"text","text":"x"},{"type":"image_url","image_url":{"url":"u"}}]},
		   {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
		   {"role":"tool","tool_call_id":"c1","content":"ok"} ],
		   "max_tokens": 10, "max_completion_tokens": null, "tools":[{"type":"function"}], "tool_choice":"auto",
		   "user":"u1", "response_format":{"type":"json_object"}, "temperature":0.5, "top_p":null, "stop":["a","b"],
		   "unknown":{"nested":[1,2,{"model":"x"}]} }`,
		`{"model":"m","messages":[],"stream":false}`,
		`{"model":"日本語","messages":[{"role":"user","content":"東京"}]}`,
		`{"model":"m","messages":[{"role":"user","content":"emoji \ud83d\ude00 lone \ud83d x \u00E9\t\b\f\r\/"}]}`,
		`{"mod\u0065l":"a","max\u005ftokens":7,"n":3,"messages":[{"r\u006fle":"user","content":"x"}]}`,
	} {
		fast, err := parseChatFast([]byte(body))
		require.NoError(t, err, body)
		var slow chatWire
		require.NoError(t, json.Unmarshal([]byte(body), &slow))
		fj, _ := json.Marshal(fast)
		sj, _ := json.Marshal(slow)
		require.JSONEq(t, string(sj), string(fj), body)
	}
	for _, body := range []string{`{"model":1}`, `{"stream":"yes"}`, `{"model":"bad \q"}`, `[]`, `{"messages":{}}`,
		`{"max_tokens":1.0}`, `{"max_tokens":"16"}`, `{"n":true}`, `{"max_completion_tokens":1e3}`} {
		_, err := parseChatFast([]byte(body))
		require.ErrorIs(t, err, errkind.Invalid, body)
	}
}

// TestDecodeStringMatchesEncodingJSON compares decodeString with encoding/json on
// every short string value over an alphabet of escapes, surrogate halves,
// control and invalid bytes: both accept the same strings and decode them alike.
func TestDecodeStringMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	pieces := []string{`a`, `\n`, `\"`, `\\`, `\u00e9`, `\ud83d`, `\ude00`, `\x`, `\`, "\x01", "\xff", `é`}
	var gen func(prefix string, n int)
	gen = func(prefix string, n int) {
		v := []byte(`"` + prefix + `"`)
		if end, err := skipString(v, 0); err == nil && end == len(v) { // a value the scanner yields
			got, ok := decodeString(v)
			var want string
			wantOK := json.Unmarshal(v, &want) == nil
			require.Equal(t, wantOK, ok, "%q", v)
			if ok {
				require.Equal(t, want, got, "%q", v)
			}
		}
		if n == 0 {
			return
		}
		for _, p := range pieces {
			gen(prefix+p, n-1)
		}
	}
	gen("", 4)
}

// TestDecodeIntMatchesEncodingJSON compares decodeInt with encoding/json.
func TestDecodeIntMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"0", "7", "-3", "300", "-0", "010", "+1", "1.5", "1e3", "1.0", "-", "",
		"999999999999999999", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "12a", `"5"`, "true"} {
		got, ok := decodeInt([]byte(v))
		var want int
		wantOK := json.Unmarshal([]byte(v), &want) == nil
		require.Equal(t, wantOK, ok, v)
		if ok {
			require.Equal(t, want, got, v)
		}
	}
}
