package routing

import (
	"encoding/json"
	"strings"
	"sync"
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

func TestEstimatorLongLastTurnIsEstimatedThenCounted(t *testing.T) {
	t.Parallel()
	exact := NewEstimator(EstimatorConfig{ExactLimitBytes: -1})
	fast := NewEstimator(EstimatorConfig{ExactLimitBytes: 1024})
	req, err := ParseChatRequest(benchPrompt(t, 3400))
	require.NoError(t, err)
	ne, isExact := exact.PromptTokens("gpt-4o", req)
	require.True(t, isExact)

	// Given a last turn above the limit, when it is first seen,
	// then routing reads the shape estimate and the reservation the length bound.
	c := fast.Count("gpt-4o", req)
	require.False(t, c.Exact)
	require.InDelta(t, ne, c.Tokens, float64(ne)/10, "the estimate stays within 10%")
	require.GreaterOrEqual(t, c.Bound, ne, "the bound must not undercount natural text")
	require.Less(t, c.Bound, ne*2, "the bound should stay within 2x")

	// When the background counter has run, the same text reads exactly.
	fast.Flush()
	c = fast.Count("gpt-4o", req)
	require.True(t, c.Exact)
	require.Equal(t, ne, c.Tokens)
	require.Equal(t, ne, c.Bound, "a counted text bounds by its exact count on its own encoding")
	require.GreaterOrEqual(t, c.AnyBound, ne)
}

// An estimator that loads in the background loads nothing until a request needs
// an encoding, answers that request with the estimate and the bound, and counts
// exactly once the background counter has loaded the encoding; only the
// encoding the traffic used is loaded.
func TestEstimatorLoadsAnEncodingInTheBackgroundOnFirstUse(t *testing.T) {
	t.Parallel()
	e := NewEstimator(EstimatorConfig{LoadInBackground: true})
	cl := &lazyEncoding{name: EncodingCl100k, pattern: cl100kPattern}
	o := &lazyEncoding{name: EncodingO200k, pattern: o200kPattern}
	e.encs = &[2]*lazyEncoding{cl, o}
	req, err := ParseChatRequest([]byte(`{"model":"gpt-4o","messages":[{"role":"user","content":"Hello world"}]}`))
	require.NoError(t, err)

	c := e.Count("gpt-4o", req)
	require.False(t, c.Exact, "the first request does not wait for the encoding")
	require.GreaterOrEqual(t, c.Bound, 2+4+3)
	emb := e.EmbeddingTokens("gpt-4o", &EmbeddingRequest{Inputs: []string{"Hello world"}})
	require.GreaterOrEqual(t, emb, 2)

	e.Flush()
	require.True(t, o.done.Load(), "the background counter loaded o200k")
	require.False(t, cl.done.Load(), "cl100k stays unloaded: nothing used it")
	c = e.Count("gpt-4o", req)
	require.True(t, c.Exact)
	require.Equal(t, 2+4+3, c.Tokens)
	require.Equal(t, 2, e.EmbeddingTokens("gpt-4o", &EmbeddingRequest{Inputs: []string{"Hello world"}}))
	// Counts that bill wait for the load instead of estimating.
	require.Equal(t, 2, e.CountText("gpt-3.5-turbo", "Hello world"))
	require.True(t, cl.done.Load())
}

func TestEstimatorCountsTheLastTurnExactly(t *testing.T) {
	t.Parallel()
	history := strings.Repeat("The ledger keeps every request's usage exactly once, even across crashes. ", 60)
	body, err := json.Marshal(map[string]any{"model": "gpt-4o", "messages": []map[string]string{
		{"role": "system", "content": history},
		{"role": "user", "content": "hi"},
		{"role": "assistant", "content": history + " ok"},
		{"role": "user", "content": strings.Repeat("Why does the spool replay twice? ", 30)},
	}})
	require.NoError(t, err)
	req, err := ParseChatRequest(body)
	require.NoError(t, err)
	e := NewEstimator(EstimatorConfig{})
	c := e.Count("gpt-4o", req)
	require.False(t, c.Exact, "the long history is estimated the first time")
	_, ok := e.counts.get(true, req.Messages[3].Text)
	require.True(t, ok, "the last turn (over 256 bytes) was counted on the request path")
	_, ok = e.counts.get(true, req.Messages[2].Text)
	require.False(t, ok, "the history was not")
	e.Flush()
	c = e.Count("gpt-4o", req)
	require.True(t, c.Exact, "after the background count the whole prompt is exact")
	require.Equal(t, NewEstimator(EstimatorConfig{ExactLimitBytes: -1}).ExactPromptTokens("gpt-4o", req), c.Tokens)
	require.Len(t, c.Prefixes, 4)
	require.Equal(t, c.Tokens, c.Prefixes[3].Tokens, "the last prefix is the whole prompt")
}

func TestEncodeCountChunksLikeTheWhole(t *testing.T) {
	t.Parallel()
	c := loadChatCorpus(t)
	text := strings.Join(c.prose, "\n\n") + strings.Join(c.code, "\n")
	require.Greater(t, len(text), 8*encodeChunk)
	for name, enc := range map[string]*bpeEncoding{EncodingO200k: o200k(), EncodingCl100k: cl100k()} {
		require.Equal(t, libCount(t, name, text), encodeCount(enc, text), name)
	}
}

func TestBoundForPicksTheBoundOfTheModelsTokenizer(t *testing.T) {
	t.Parallel()
	c := PromptCount{Tokens: 100, Bound: 100, AnyBound: 160, Encoding: EncodingO200k}
	cat := DefaultCatalog()
	for id, want := range map[string]int{"gpt-4o": 100, "gpt-4o-mini": 100, "sim-large": 100, "o3": 100,
		"claude-sonnet-4": 160, "gemini-2.5-pro": 160, "llama-3.1-8b": 160} {
		m, ok := cat.Lookup(id)
		require.True(t, ok, id)
		require.Equal(t, want, c.BoundFor(m), id)
	}
	req := &ChatRequest{PromptTokens: 100, Prompt: c}
	m, _ := cat.Lookup("claude-sonnet-4")
	require.Equal(t, 160, req.ReserveTokens(m))
	require.Equal(t, 42, (&ChatRequest{PromptTokens: 42}).ReserveTokens(m), "a request without a bound reserves its count")
}

func TestApproxTokensTracksExact(t *testing.T) {
	t.Parallel()
	c := loadChatCorpus(t)
	for name, texts := range map[string][]string{"prose": c.prose, "code": c.code} {
		approx, exact := 0, 0
		for _, s := range texts {
			approx += approxTokens(s)
			exact += o200k().count(s)
		}
		require.InDelta(t, 1.0, float64(approx)/float64(exact), 0.12, name)
	}
	require.Equal(t, 0, approxTokens(""))
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

func TestEstimatorIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	turns := realisticTraffic(t, loadChatCorpus(t), 8, 4, 7)
	e := NewEstimator(EstimatorConfig{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < len(turns); i += 2 {
				e.Count("gpt-4o", turns[i].req)
			}
		})
	}
	wg.Wait()
	e.Flush()
	truth := NewEstimator(EstimatorConfig{ExactLimitBytes: -1})
	for _, tr := range turns {
		c := e.Count("gpt-4o", tr.req)
		require.True(t, c.Exact, "every text was counted by now")
		require.Equal(t, truth.ExactPromptTokens("gpt-4o", tr.req), c.Tokens)
	}
}
