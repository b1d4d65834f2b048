package routing

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/fnv"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// SimProviderName is the registry name of the simulated provider.
const SimProviderName = "sim"

// SimMaxOutputTokens is the most output tokens the simulated models produce per
// choice (their catalog limit, like gpt-4o's). The sim never allocates more than
// this many words, whatever a request asks for.
const SimMaxOutputTokens = 16_384

// simCreated is the fixed "created" timestamp of simulated answers, so that
// bodies are byte-for-byte deterministic.
const simCreated = 1_700_000_000

// SimConfig tunes the simulated provider. The zero value answers instantly,
// never fails and writes 16 completion tokens when max_tokens is absent.
type SimConfig struct {
	// Latency is the delay before the answer (time to first token); 0 means none.
	Latency time.Duration
	// ChunkDelay is the delay between streamed chunks; 0 means none.
	ChunkDelay time.Duration
	// DefaultMaxTokens is the completion length when the request sets no
	// max_tokens; 0 means 16.
	DefaultMaxTokens int
	// FailureRate is the fraction of calls (0..1) failing with HTTP 503, drawn
	// from a generator seeded with Seed, so a run's failures are reproducible.
	FailureRate float64
	// Seed seeds the failure generator.
	Seed uint64
	// Clock tells the time for the prompt cache; nil means time.Now.
	Clock func() time.Time
}

// SimProvider is a deterministic provider for self-host mode, tests and load
// tests: the answer depends only on the messages, usage is the exact prompt
// count (as OpenAI reports it) and exactly the requested max_tokens, so costs
// are predictable. Like OpenAI it caches prompt prefixes of 1,024 tokens and
// more for ten minutes and reports the repeated part as cached tokens
// (sim_prompt_cache.go).
type SimProvider struct {
	cfg    SimConfig
	est    *Estimator
	logger *slog.Logger
	cache  *PromptCache

	mu  sync.Mutex
	rng *rand.Rand
}

// NewSimProvider builds the simulated provider. est must be the estimator the
// gateway reserves with, so that reservation and settlement agree exactly.
func NewSimProvider(cfg SimConfig, est *Estimator, logger *slog.Logger) (*SimProvider, error) {
	if logger == nil {
		return nil, errors.New("routing: NewSimProvider needs a logger")
	}
	if cfg.FailureRate < 0 || cfg.FailureRate > 1 {
		return nil, errkind.New(errkind.Invalid, "sim failure rate must be within 0..1")
	}
	if cfg.DefaultMaxTokens <= 0 {
		cfg.DefaultMaxTokens = 16
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &SimProvider{
		cfg: cfg, est: est, cache: NewPromptCache(est, cfg.Clock),
		logger: logger.With("component", "routing.provider", "provider", SimProviderName),
		rng:    rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
	}, nil
}

// Name returns "sim".
func (p *SimProvider) Name() string { return SimProviderName }

var simWords = [...]string{"tollgate", "routes", "every", "request", "through", "a", "careful",
	"budget", "and", "answers", "with", "simulated", "tokens", "so", "costs", "stay", "exact"}

// answer returns the usage, the completion words of one choice and the number
// of choices for req. Lengths and choices are bounded (SimMaxOutputTokens,
// MaxChoices), so no client number sizes an allocation unchecked.
func (p *SimProvider) answer(model string, req *ChatRequest) (Usage, []string, int, uint64) {
	prompt, cached := p.cache.Use(model, req)
	n := req.MaxTokens
	if n <= 0 {
		n = p.cfg.DefaultMaxTokens
	}
	n = min(n, SimMaxOutputTokens)
	choices := min(max(req.N, 1), MaxChoices)
	h := fnv.New64a()
	for _, m := range req.Messages {
		h.Write([]byte(m.Role))
		h.Write([]byte(m.Text))
	}
	seed := h.Sum64()
	words := make([]string, n)
	for i := range words {
		w := simWords[(seed+uint64(i)*7)%uint64(len(simWords))]
		if i > 0 {
			w = " " + w
		}
		words[i] = w
	}
	return Usage{PromptTokens: prompt, CachedTokens: cached, CompletionTokens: n * choices}, words, choices, seed
}

func (p *SimProvider) fail(model string) error {
	if p.cfg.FailureRate == 0 {
		return nil
	}
	p.mu.Lock()
	f := p.rng.Float64()
	p.mu.Unlock()
	if f >= p.cfg.FailureRate {
		return nil
	}
	return &UpstreamError{Provider: SimProviderName, Model: model, StatusCode: 503,
		Body: []byte(`{"error":{"message":"simulated upstream failure","type":"server_error","code":"sim_failure"}}`)}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type simChoice struct {
	Index        int             `json:"index"`
	Message      *simMessage     `json:"message,omitempty"`
	Delta        *simMessage     `json:"delta,omitempty"`
	FinishReason *string         `json:"finish_reason"`
	Logprobs     json.RawMessage `json:"logprobs"`
}

type simMessage struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

type simCompletion struct {
	ID      string      `json:"id"`
	Object  string      `json:"object"`
	Created int64       `json:"created"`
	Model   string      `json:"model"`
	Choices []simChoice `json:"choices"`
	Usage   *usageWire  `json:"usage,omitempty"`
}

func finishReason(usedMax bool) *string {
	r := "stop"
	if usedMax {
		r = "length"
	}
	return &r
}

// Chat answers deterministically after the configured latency.
func (p *SimProvider) Chat(ctx context.Context, req *ChatRequest, upstreamModel string) (*ChatResponse, error) {
	if err := sleepCtx(ctx, p.cfg.Latency); err != nil {
		return nil, transportError(SimProviderName, upstreamModel, err)
	}
	if err := p.fail(upstreamModel); err != nil {
		return nil, err
	}
	usage, words, n, seed := p.answer(upstreamModel, req)
	text := strings.Join(words, "")
	uw := wireUsage(usage)
	choices := make([]simChoice, n)
	for i := range choices {
		choices[i] = simChoice{Index: i, Message: &simMessage{Role: "assistant", Content: &text},
			FinishReason: finishReason(req.MaxTokens > 0), Logprobs: json.RawMessage("null")}
	}
	body, err := json.Marshal(simCompletion{
		ID: "chatcmpl-sim-" + strconv.FormatUint(seed, 36), Object: "chat.completion", Created: simCreated,
		Model: upstreamModel, Choices: choices, Usage: &uw,
	})
	if err != nil {
		return nil, err
	}
	return &ChatResponse{Body: body, Usage: usage, UpstreamModel: upstreamModel}, nil
}

// ChatStream streams one word per chunk, then a finish chunk and a usage chunk.
func (p *SimProvider) ChatStream(ctx context.Context, req *ChatRequest, upstreamModel string) (*Stream, error) {
	if !req.Stream {
		return nil, errkind.New(errkind.Invalid, "routing: ChatStream called with a non-streaming request")
	}
	if err := sleepCtx(ctx, p.cfg.Latency); err != nil {
		return nil, transportError(SimProviderName, upstreamModel, err)
	}
	if err := p.fail(upstreamModel); err != nil {
		return nil, err
	}
	usage, words, n, seed := p.answer(upstreamModel, req)
	ctx, cancel := context.WithCancel(ctx)
	src := &simChunkSource{
		ctx: ctx, delay: p.cfg.ChunkDelay, words: words, choices: n, usage: usage, finish: finishReason(req.MaxTokens > 0),
		base: simCompletion{ID: "chatcmpl-sim-" + strconv.FormatUint(seed, 36), Object: "chat.completion.chunk", Created: simCreated, Model: upstreamModel},
	}
	return newStream(streamConfig{
		src: src, cancel: cancel, provider: SimProviderName, model: upstreamModel, req: req,
		countTokens: p.est.counterFor(upstreamModel), promptTokens: usage.PromptTokens,
	}), nil
}

// simChunkSource streams each choice in turn: a role chunk, one chunk per
// word and a finish chunk, all with the choice's index; then the usage chunk.
type simChunkSource struct {
	ctx     context.Context
	delay   time.Duration
	words   []string
	choices int
	usage   Usage
	finish  *string
	base    simCompletion
	i       int
}

func (s *simChunkSource) next() ([]byte, error) {
	if s.i > 0 {
		if err := sleepCtx(s.ctx, s.delay); err != nil {
			return nil, transportError(SimProviderName, s.base.Model, err)
		}
	} else if err := s.ctx.Err(); err != nil {
		return nil, transportError(SimProviderName, s.base.Model, err)
	}
	c := s.base
	perChoice := len(s.words) + 2
	idx, step := s.i/perChoice, s.i%perChoice
	s.i++
	switch {
	case idx > s.choices:
		return nil, io.EOF
	case idx == s.choices && step == 0:
		uw := wireUsage(s.usage)
		c.Choices = []simChoice{}
		c.Usage = &uw
	case idx == s.choices:
		return nil, io.EOF
	case step == 0:
		empty := ""
		c.Choices = []simChoice{{Index: idx, Delta: &simMessage{Role: "assistant", Content: &empty}, Logprobs: json.RawMessage("null")}}
	case step <= len(s.words):
		w := s.words[step-1]
		c.Choices = []simChoice{{Index: idx, Delta: &simMessage{Content: &w}, Logprobs: json.RawMessage("null")}}
	default:
		c.Choices = []simChoice{{Index: idx, Delta: &simMessage{}, FinishReason: s.finish, Logprobs: json.RawMessage("null")}}
	}
	return json.Marshal(c)
}

// Embed returns a deterministic 8-dimensional embedding per input.
func (p *SimProvider) Embed(ctx context.Context, req *EmbeddingRequest, upstreamModel string) (*EmbeddingResponse, error) {
	if err := sleepCtx(ctx, p.cfg.Latency); err != nil {
		return nil, transportError(SimProviderName, upstreamModel, err)
	}
	if err := p.fail(upstreamModel); err != nil {
		return nil, err
	}
	type item struct {
		Object string `json:"object"`
		Index  int    `json:"index"`
		// Embedding is a []float32, or its base64 string when asked for.
		Embedding any `json:"embedding"`
	}
	items := make([]item, len(req.Inputs))
	for i, in := range req.Inputs {
		h := fnv.New64a()
		h.Write([]byte(in))
		v := h.Sum64()
		vec := make([]float32, 8)
		for d := range vec {
			vec[d] = float32(int8(v>>(8*d))) / 128
		}
		items[i] = item{Object: "embedding", Index: i, Embedding: vec}
		if req.EncodingFormat == EncodingBase64 {
			items[i].Embedding = encodeBase64Floats(vec)
		}
	}
	tokens := p.est.EmbeddingTokens(upstreamModel, req)
	body, err := json.Marshal(map[string]any{
		"object": "list", "data": items, "model": upstreamModel,
		"usage": map[string]int{"prompt_tokens": tokens, "total_tokens": tokens},
	})
	if err != nil {
		return nil, err
	}
	return &EmbeddingResponse{Body: body, Usage: Usage{PromptTokens: tokens}}, nil
}

// encodeBase64Floats encodes a vector as OpenAI does for encoding_format
// "base64": the little-endian float32 bytes, standard base64.
func encodeBase64Floats(vec []float32) string {
	b := make([]byte, 0, 4*len(vec))
	for _, f := range vec {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return base64.StdEncoding.EncodeToString(b)
}
