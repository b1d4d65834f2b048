package routing

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestParseUsageFromBodyMatchesEncodingJSON checks the scanning path against the
// encoding/json one on usual and unusual bodies.
func TestParseUsageFromBodyMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"id":"c","model":"gpt-4o-mini","choices":[{"message":{"content":"{\"usage\":1}"}}],"usage":{"prompt_tokens":12,"completion_tokens":1,"total_tokens":13}}`,
		`{"model":"m","usage":{"prompt_tokens":5,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":3}}}`,
		`{"usage":{"prompt_tokens":5},"model":"m"}`,
		`{"model":"m","usage":null}`,
		`{"model":"m"}`,
		`{"model":null,"usage":{"prompt_tokens":1}}`,
		`{"Model":"m","Usage":{"prompt_tokens":7}}`,
		`{"model":"m","usage":{"prompt_tokens":"x"}}`,
		`{"model":7,"usage":{"prompt_tokens":1}}`,
		`{"model":"m","usage":{"prompt_tokens":1}`,
		`{"model":"m","usage":{"prompt_tokens":1}} trailing`,
		`[]`,
		``,
		// The usage object itself, read without encoding/json where it reads alike.
		`{"model":"m","usage":{"prompt_tokens":5,"prompt_tokens":null}}`,
		`{"model":"m","usage":{"prompt_tokens":5,"prompt_tokens":6,"total_tokens":null}}`,
		`{"model":"m","usage":{"Prompt_Tokens":5}}`,
		`{"model":"m","usage":{"prompt_toKens":5}}`,
		`{"model":"m","usage":{"prompt_tokens":5}}`,
		`{"model":"m","usage":{"prompt_tokens":1.0}}`,
		`{"model":"m","usage":{"prompt_tokens":1e2}}`,
		`{"model":"m","usage":{"prompt_tokens":-0,"completion_tokens":-3}}`,
		`{"model":"m","usage":{"prompt_tokens":99999999999999999999}}`,
		`{"model":"m","usage":{"total_tokens":"13","prompt_tokens":1}}`,
		`{"model":"m","usage":{"prompt_tokens":1,"extra":{"nested":[1,{"prompt_tokens":9}]},"completion_tokens":2}}`,
		`{"model":"m","usage":{"prompt_tokens_details":{"cached_tokens":3},"prompt_tokens_details":{"cache_write_tokens":4}}}`,
		`{"model":"m","usage":{"prompt_tokens_details":{"cached_tokens":3},"prompt_tokens_details":null}}`,
		`{"model":"m","usage":{"prompt_tokens_details":null,"prompt_tokens_details":{"cached_tokens":2,"Cached_Tokens":5}}}`,
		`{"model":"m","usage":{"prompt_tokens_details":[1]}}`,
		`{"model":"m","usage":{"prompt_tokens_details":{}}}`,
		`{"model":"m","usage":{}}`,
		`{"model":"m","usage":[]}`,
		`{"model":"m","usage":"none"}`,
		`{"model":"m","usage":{ "prompt_tokens" : 4 , "completion_tokens" : 2 }}`,
	} {
		u, m, err := parseUsageFromBody([]byte(body))
		su, sm, serr := parseUsageFromBodySlow([]byte(body))
		require.Equal(t, serr, err, body)
		require.Equal(t, su, u, body)
		require.Equal(t, sm, m, body)
	}
}

// BenchmarkParseUsageFromBody reads the usage of a one-token answer and of a
// ~1,000-token one.
func BenchmarkParseUsageFromBody(b *testing.B) {
	for _, content := range []string{"ok", strings.Repeat("The drivers were pricing and mix.\\n", 110)} {
		body := []byte(`{"id":"chatcmpl-bench","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"` +
			content + `"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":1,"total_tokens":13}}`)
		b.Run(fmt.Sprintf("%dB", len(body)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _, _ = parseUsageFromBody(body)
			}
		})
	}
}
