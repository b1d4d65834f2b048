package routing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
)

// anthropicVersion is the Messages API version header Tollgate speaks.
const anthropicVersion = "2023-06-01"

// AnthropicConfig configures the Anthropic Messages API provider.
type AnthropicConfig struct {
	// Name is the registry name; "anthropic" when empty.
	Name string
	// BaseURL is the API root, "https://api.anthropic.com" by default; a
	// trailing "/v1" is accepted.
	BaseURL string
	// APIKey is sent as x-api-key.
	APIKey seal.Secret
	// DefaultMaxTokens fills Anthropic's mandatory max_tokens when the client set
	// none; 0 means 4096. The Estimator's worst case must use the same cap.
	DefaultMaxTokens int
	// HTTPClient is the shared client; nil uses a new NewHTTPClient().
	HTTPClient *http.Client
}

// AnthropicProvider translates OpenAI chat requests to the Messages API and
// the answers (JSON and SSE) back into OpenAI's shapes.
type AnthropicProvider struct {
	name      string
	url       string
	key       seal.Secret
	maxTokens int
	client    *http.Client
	est       *Estimator
	logger    *slog.Logger
}

// NewAnthropicProvider builds the Anthropic provider. est counts streamed
// content when a stream ends before Anthropic reports output usage.
func NewAnthropicProvider(cfg AnthropicConfig, est *Estimator, logger *slog.Logger) (*AnthropicProvider, error) {
	if logger == nil {
		return nil, errors.New("routing: NewAnthropicProvider needs a logger")
	}
	p := &AnthropicProvider{name: cfg.Name, key: cfg.APIKey, maxTokens: cfg.DefaultMaxTokens, client: cfg.HTTPClient, est: est}
	if p.name == "" {
		p.name = "anthropic"
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = "https://api.anthropic.com"
	}
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, errkind.New(errkind.Invalid, "provider %s: base URL %q must start with http:// or https://", p.name, cfg.BaseURL)
	}
	p.url = strings.TrimSuffix(base, "/v1") + "/v1/messages"
	if p.maxTokens == 0 {
		p.maxTokens = 4096
	}
	if p.client == nil {
		p.client = NewHTTPClient()
	}
	p.logger = logger.With("component", "routing.provider", "provider", p.name)
	return p, nil
}

// Name returns the registry name.
func (p *AnthropicProvider) Name() string { return p.name }

func (p *AnthropicProvider) do(ctx context.Context, req *ChatRequest, model string, body []byte) (*http.Response, error) {
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("x-api-key", p.key.Reveal())
	version := anthropicVersion
	if req.AnthropicVersion != "" {
		version = req.AnthropicVersion
	}
	hr.Header.Set("anthropic-version", version)
	if req.AnthropicBeta != "" {
		hr.Header.Set("anthropic-beta", req.AnthropicBeta)
	}
	setTraceHeaders(ctx, hr.Header)
	resp, err := send(p.client, hr)
	if err != nil {
		return nil, transportError(p.name, model, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		eb, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		ue := upstreamStatusError(p.name, model, resp, anthropicErrorToOpenAI(eb, resp.StatusCode))
		if resp.StatusCode == 529 { // Anthropic's "overloaded"
			ue.StatusCode = http.StatusServiceUnavailable
		}
		return nil, ue
	}
	return resp, nil
}

// Chat sends a non-streaming Messages request and returns an OpenAI chat.completion.
func (p *AnthropicProvider) Chat(ctx context.Context, req *ChatRequest, upstreamModel string) (*ChatResponse, error) {
	if req.Stream {
		return nil, errkind.New(errkind.Invalid, "routing: Chat called with a streaming request")
	}
	body, err := toAnthropic(req, upstreamModel, p.maxTokens, false)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "request cannot be translated for Anthropic")
	}
	resp, err := p.do(ctx, req, upstreamModel, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, transportError(p.name, upstreamModel, err)
	}
	out, usage, model, err := fromAnthropic(raw, time.Now().Unix())
	if err != nil {
		return nil, transportError(p.name, upstreamModel, fmt.Errorf("unreadable response: %w", err))
	}
	return &ChatResponse{Body: out, Usage: usage, UpstreamModel: model}, nil
}

// ChatStream opens a streaming Messages request translated to OpenAI chunks.
func (p *AnthropicProvider) ChatStream(ctx context.Context, req *ChatRequest, upstreamModel string) (*Stream, error) {
	if !req.Stream {
		return nil, errkind.New(errkind.Invalid, "routing: ChatStream called with a non-streaming request")
	}
	body, err := toAnthropic(req, upstreamModel, p.maxTokens, true)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "request cannot be translated for Anthropic")
	}
	ctx, cancel := context.WithCancel(ctx)
	resp, err := p.do(ctx, req, upstreamModel, body)
	if err != nil {
		cancel()
		return nil, err
	}
	src := &anthropicChunkSource{sse: newSSEReader(resp.Body), provider: p.name, model: upstreamModel,
		created: time.Now().Unix(), upModel: upstreamModel}
	return newStream(streamConfig{
		src: src, body: resp.Body, cancel: cancel, provider: p.name, model: upstreamModel, req: req,
		countTokens: p.est.counterFor(upstreamModel),
	}), nil
}

// Embed is unsupported: Anthropic has no embeddings endpoint.
func (p *AnthropicProvider) Embed(context.Context, *EmbeddingRequest, string) (*EmbeddingResponse, error) {
	return nil, ErrUnsupported
}
