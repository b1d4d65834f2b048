package routing_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/routing"
)

func TestSimProviderIsDeterministic(t *testing.T) {
	t.Parallel()
	est := routing.NewEstimator(routing.EstimatorConfig{})
	p, err := routing.NewSimProvider(routing.SimConfig{}, est, testLogger(t))
	require.NoError(t, err)
	req, err := routing.ParseChatRequest([]byte(`{"model":"auto","max_tokens":40,"messages":[{"role":"user","content":"Hello world"}]}`))
	require.NoError(t, err)
	a, err := p.Chat(t.Context(), req, "sim-small")
	require.NoError(t, err)
	b, err := p.Chat(t.Context(), req, "sim-small")
	require.NoError(t, err)
	require.Equal(t, string(a.Body), string(b.Body))
	require.Equal(t, routing.Usage{PromptTokens: 9, CompletionTokens: 40}, a.Usage)
	n, _ := est.PromptTokens("sim-small", req)
	require.Equal(t, n, a.Usage.PromptTokens, "sim counts the prompt with the estimator")
}

func TestSimProviderFailureRateIsSeeded(t *testing.T) {
	t.Parallel()
	est := routing.NewEstimator(routing.EstimatorConfig{})
	req, err := routing.ParseChatRequest([]byte(`{"model":"auto","messages":[{"role":"user","content":"x"}]}`))
	require.NoError(t, err)
	run := func() []bool {
		p, err := routing.NewSimProvider(routing.SimConfig{FailureRate: 0.3, Seed: 7}, est, testLogger(t))
		require.NoError(t, err)
		out := make([]bool, 200)
		for i := range out {
			_, err := p.Chat(t.Context(), req, "sim-small")
			out[i] = err != nil
			if err != nil {
				require.True(t, routing.IsRetryable(err))
			}
		}
		return out
	}
	first, second := run(), run()
	require.Equal(t, first, second)
	fails := 0
	for _, f := range first {
		if f {
			fails++
		}
	}
	require.InDelta(t, 60, fails, 25)
}

func TestSimProviderStreamCancel(t *testing.T) {
	t.Parallel()
	p, err := routing.NewSimProvider(routing.SimConfig{ChunkDelay: time.Hour}, nil, testLogger(t))
	require.NoError(t, err)
	req, err := routing.ParseChatRequest([]byte(`{"model":"auto","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	require.NoError(t, err)
	s, err := p.ChatStream(t.Context(), req, "sim-small")
	require.NoError(t, err)
	_, err = s.Next()
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { _, err := s.Next(); done <- err }()
	require.NoError(t, s.Close())
	select {
	case err := <-done:
		require.Error(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not interrupt the stream")
	}
}

// TestSimProviderHonoursNAndBoundsLength: the sim answers n choices and bills
// n × max_tokens, and never produces (or allocates) more than its models' output
// limit per choice, whatever number a request carries.
func TestSimProviderHonoursNAndBoundsLength(t *testing.T) {
	t.Parallel()
	est := routing.NewEstimator(routing.EstimatorConfig{})
	p, err := routing.NewSimProvider(routing.SimConfig{}, est, testLogger(t))
	require.NoError(t, err)
	req, err := routing.ParseChatRequest([]byte(`{"model":"sim-small","max_tokens":5,"n":3,"messages":[{"role":"user","content":"Hello world"}]}`))
	require.NoError(t, err)
	res, err := p.Chat(t.Context(), req, "sim-small")
	require.NoError(t, err)
	require.Equal(t, 15, res.Usage.CompletionTokens)
	var body struct {
		Choices []struct {
			Index   int `json:"index"`
			Message struct{ Content string }
		} `json:"choices"`
		Usage struct {
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	require.NoError(t, json.Unmarshal(res.Body, &body))
	require.Len(t, body.Choices, 3)
	require.Equal(t, 2, body.Choices[2].Index)
	require.Equal(t, 15, body.Usage.CompletionTokens)

	// A request built past the parser's checks is still bounded.
	huge := &routing.ChatRequest{Model: "sim-small", MaxTokens: 1_000_000, N: 100_000,
		Messages: []routing.Message{{Role: "user", Text: "x"}}}
	res, err = p.Chat(t.Context(), huge, "sim-small")
	require.NoError(t, err)
	require.Equal(t, routing.SimMaxOutputTokens*routing.MaxChoices, res.Usage.CompletionTokens)
	m, ok := routing.DefaultCatalog().Lookup("sim-small")
	require.True(t, ok)
	require.Equal(t, routing.SimMaxOutputTokens, m.MaxOutputTokens, "the sim's bound is its catalog limit")

	// Streaming: every choice streams its words with its index, usage counts them all.
	sreq, err := routing.ParseChatRequest([]byte(`{"model":"sim-small","stream":true,"stream_options":{"include_usage":true},"max_tokens":4,"n":2,"messages":[{"role":"user","content":"Hello"}]}`))
	require.NoError(t, err)
	s, err := p.ChatStream(t.Context(), sreq, "sim-small")
	require.NoError(t, err)
	var out bytes.Buffer
	_, err = s.WriteTo(&out)
	require.NoError(t, err)
	require.Equal(t, 8, s.Usage().CompletionTokens)
	words := map[int]int{}
	for _, line := range strings.Split(out.String(), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var chunk struct {
			Choices []struct {
				Index int `json:"index"`
				Delta struct {
					Content *string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
		}
		require.NoError(t, json.Unmarshal([]byte(data), &chunk))
		for _, c := range chunk.Choices {
			if c.Delta.Content != nil && *c.Delta.Content != "" {
				words[c.Index]++
			}
		}
	}
	require.Equal(t, map[int]int{0: 4, 1: 4}, words)
}

// TestSimEmbeddingsBase64: encoding_format base64 returns OpenAI's encoding
// (little-endian float32), decoding to the same vector as the float format.
func TestSimEmbeddingsBase64(t *testing.T) {
	t.Parallel()
	p, err := routing.NewSimProvider(routing.SimConfig{}, routing.NewEstimator(routing.EstimatorConfig{}), testLogger(t))
	require.NoError(t, err)
	embed := func(format string) json.RawMessage {
		req, err := routing.ParseEmbeddingRequest([]byte(`{"model":"sim-embed","input":"hello","encoding_format":"` + format + `"}`))
		require.NoError(t, err)
		res, err := p.Embed(t.Context(), req, "sim-embed")
		require.NoError(t, err)
		var body struct {
			Data []struct {
				Embedding json.RawMessage `json:"embedding"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(res.Body, &body))
		require.Len(t, body.Data, 1)
		return body.Data[0].Embedding
	}
	var floats []float32
	require.NoError(t, json.Unmarshal(embed("float"), &floats))
	require.Len(t, floats, 8)
	var b64 string
	require.NoError(t, json.Unmarshal(embed("base64"), &b64))
	raw, err := base64.StdEncoding.DecodeString(b64)
	require.NoError(t, err)
	require.Len(t, raw, 4*len(floats))
	for i, f := range floats {
		require.Equal(t, f, math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
	}
}

func TestSimProviderReportsCachedPrefixLikeOpenAI(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	p, err := routing.NewSimProvider(routing.SimConfig{Clock: func() time.Time { return now }},
		routing.NewEstimator(routing.EstimatorConfig{}), testLogger(t))
	require.NoError(t, err)
	system := strings.Repeat("You are a companion who remembers the user's week and answers warmly. ", 80)
	turn := func(msgs ...string) *routing.ChatRequest {
		m := []map[string]string{{"role": "system", "content": system}}
		for i, s := range msgs {
			role := "user"
			if i%2 == 1 {
				role = "assistant"
			}
			m = append(m, map[string]string{"role": role, "content": s})
		}
		body, err := json.Marshal(map[string]any{"model": "auto", "max_tokens": 5, "messages": m})
		require.NoError(t, err)
		req, err := routing.ParseChatRequest(body)
		require.NoError(t, err)
		return req
	}
	type wire struct {
		Usage struct {
			PromptTokens        int `json:"prompt_tokens"`
			PromptTokensDetails struct {
				CachedTokens int `json:"cached_tokens"`
			} `json:"prompt_tokens_details"`
		} `json:"usage"`
	}
	chat := func(req *routing.ChatRequest, model string) (routing.Usage, wire) {
		resp, err := p.Chat(t.Context(), req, model)
		require.NoError(t, err)
		var w wire
		require.NoError(t, json.Unmarshal(resp.Body, &w))
		require.Equal(t, resp.Usage.CachedTokens, w.Usage.PromptTokensDetails.CachedTokens, "the body reports what usage says")
		return resp.Usage, w
	}

	// A PromptCache on its own (what a loopback upstream uses) reports what
	// the provider reports, turn for turn.
	alone := routing.NewPromptCache(routing.NewEstimator(routing.EstimatorConfig{}), func() time.Time { return now })
	sameAsProvider := func(req *routing.ChatRequest, model string, u routing.Usage) {
		t.Helper()
		prompt, cached := alone.Use(model, req)
		require.Equal(t, [2]int{u.PromptTokens, u.CachedTokens}, [2]int{prompt, cached})
	}

	// Given a first turn with a long system prompt, nothing is cached.
	first, _ := chat(turn("How was your day?"), "sim-large")
	sameAsProvider(turn("How was your day?"), "sim-large", first)
	require.Greater(t, first.PromptTokens, routing.PromptCacheMinTokens)
	require.Zero(t, first.CachedTokens)

	// When the conversation continues on the same model within ten minutes,
	// then the repeated prefix is cached in steps of 128 tokens from 1,024.
	now = now.Add(3 * time.Minute)
	second, _ := chat(turn("How was your day?", "Lovely, thanks!", "Tell me a joke."), "sim-large")
	sameAsProvider(turn("How was your day?", "Lovely, thanks!", "Tell me a joke."), "sim-large", second)
	require.GreaterOrEqual(t, second.CachedTokens, routing.PromptCacheMinTokens)
	require.Zero(t, second.CachedTokens%routing.PromptCacheStep)
	require.LessOrEqual(t, second.CachedTokens, first.PromptTokens, "only the repeated prefix is cached")
	require.Greater(t, second.CachedTokens, first.PromptTokens-routing.PromptCacheStep)

	// Another model has its own cache: cold.
	other, _ := chat(turn("How was your day?", "Lovely, thanks!", "Tell me a joke."), "sim-small")
	require.Zero(t, other.CachedTokens)

	// After ten idle minutes the cache is cold again.
	now = now.Add(routing.PromptCacheTTL)
	late, _ := chat(turn("How was your day?", "Lovely, thanks!", "Tell me a joke.", "Ha!", "Another one?"), "sim-large")
	require.Zero(t, late.CachedTokens)

	// Short prompts are never cached.
	short := turn("x")
	short.Messages = short.Messages[1:]
	u, _ := chat(short, "sim-large")
	u, _ = chat(short, "sim-large")
	require.Zero(t, u.CachedTokens)
	require.Equal(t, 0, routing.CachedPrefixTokens(1023, 5000))
	require.Equal(t, 1024, routing.CachedPrefixTokens(1151, 5000))
	require.Equal(t, 1152, routing.CachedPrefixTokens(1152, 5000))
	require.Equal(t, 1280, routing.CachedPrefixTokens(9000, 1300), "never more than the prompt")
}
