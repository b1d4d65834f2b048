package routing

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// benchPrompt builds a chat body of roughly n tokens of mixed prose and code,
// the shape of the design sample's average request (3,387 input tokens).
func benchPrompt(tb testing.TB, approxTokens int) []byte {
	tb.Helper()
	para := "The quarterly report shows revenue grew 12% while costs fell; analyze the drivers and explain step by step. " +
		"```go\nfunc add(a, b int) int { return a + b }\n```\n"
	var b strings.Builder
	for b.Len() < approxTokens*4 {
		b.WriteString(para)
	}
	body, err := json.Marshal(map[string]any{
		"model": "gpt-4o",
		"messages": []map[string]any{
			{"role": "system", "content": "You are a careful analyst."},
			{"role": "user", "content": b.String()},
		},
		"temperature": 0.2,
	})
	require.NoError(tb, err)
	return body
}

func TestEstimatorCountsLikeOpenAI(t *testing.T) {
	t.Parallel()
	e := NewEstimator(EstimatorConfig{})
	// "Hello world" is 2 tokens in o200k; framing: 3 reply + (3+1) per message.
	req, err := ParseChatRequest([]byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"Hello world"}]}`))
	require.NoError(t, err)
	n, exact := e.PromptTokens("gpt-4o", req)
	require.True(t, exact)
	require.Equal(t, 2+4+3, n)
}

func TestEstimatorUpperBoundAboveLimit(t *testing.T) {
	t.Parallel()
	exact := NewEstimator(EstimatorConfig{ExactLimitBytes: -1})
	fast := NewEstimator(EstimatorConfig{ExactLimitBytes: 1024})
	req, err := ParseChatRequest(benchPrompt(t, 3400))
	require.NoError(t, err)
	ne, isExact := exact.PromptTokens("gpt-4o", req)
	require.True(t, isExact)
	nf, isExact := fast.PromptTokens("gpt-4o", req)
	require.False(t, isExact)
	require.GreaterOrEqual(t, nf, ne, "the fast path must not undercount natural text")
	require.Less(t, nf, ne*2, "the fast path should stay within 2x")
}

func TestUpperBoundCJK(t *testing.T) {
	t.Parallel()
	e := NewEstimator(EstimatorConfig{ExactLimitBytes: -1})
	s := strings.Repeat("東京は日本の首都です。", 50)
	require.GreaterOrEqual(t, upperBoundTokens(s), e.CountText("gpt-4o", s))
	require.GreaterOrEqual(t, upperBoundTokens(s), e.CountText("claude-sonnet-4", s))
}

func BenchmarkEstimator(b *testing.B) {
	body := benchPrompt(b, 3400)
	req, err := ParseChatRequest(body)
	require.NoError(b, err)
	for _, bc := range []struct {
		name  string
		limit int
	}{{"exact", -1}, {"default", 0}} {
		e := NewEstimator(EstimatorConfig{ExactLimitBytes: bc.limit})
		e.Warm()
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				e.PromptTokens("gpt-4o", req)
			}
		})
	}
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			_, _ = ParseChatRequest(body)
		}
	})
	b.Run("rewrite", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = rewriteBody(body, "gpt-4o-2024-08-06", true)
		}
	})
}
