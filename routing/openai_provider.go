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

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
)

// maxErrorBody bounds how much of an upstream error body is kept.
const maxErrorBody = 64 << 10

// OpenAIConfig configures an OpenAI-compatible upstream: OpenAI itself,
// OpenRouter, Groq, vLLM, Ollama or anything speaking /chat/completions.
type OpenAIConfig struct {
	// Name is the provider's registry name; "openai" when empty.
	Name string
	// BaseURL is the API root including the version, e.g.
	// "https://api.openai.com/v1" (the default) or "http://127.0.0.1:11434/v1".
	BaseURL string
	// APIKey is sent as a bearer token; empty sends no Authorization header (Ollama).
	APIKey seal.Secret
	// Headers are extra headers on every request (OpenRouter's HTTP-Referer, X-Title).
	Headers map[string]string
	// HTTPClient is the shared client; nil uses a new NewHTTPClient().
	HTTPClient *http.Client
}

// OpenAIProvider forwards requests to an OpenAI-compatible upstream, changing
// only the model (and forcing stream usage on), so unknown fields pass through.
type OpenAIProvider struct {
	name string
	base string
	// chat is a request to base + "/chat/completions" whose URL and Host
	// every chat call shares (nil when the URL does not parse: each call
	// then fails as before).
	chat    *http.Request
	auth    string
	headers map[string]string
	// header is every request's headers, built once; requests share its
	// value slices, which nothing on the way to the upstream writes (a
	// RoundTripper must not change the request; the trace headers are new
	// entries of the request's own map).
	header http.Header
	client *http.Client
	est    *Estimator
	logger *slog.Logger
}

// NewOpenAIProvider builds an OpenAI-compatible provider. est counts tokens of
// streamed content when an upstream never reports usage; nil uses a byte-length
// upper bound.
func NewOpenAIProvider(cfg OpenAIConfig, est *Estimator, logger *slog.Logger) (*OpenAIProvider, error) {
	if logger == nil {
		return nil, errors.New("routing: NewOpenAIProvider needs a logger")
	}
	p := &OpenAIProvider{
		name:    cfg.Name,
		base:    strings.TrimRight(cfg.BaseURL, "/"),
		headers: cfg.Headers,
		client:  cfg.HTTPClient,
		est:     est,
	}
	if p.name == "" {
		p.name = "openai"
	}
	if p.base == "" {
		p.base = "https://api.openai.com/v1"
	}
	if !strings.HasPrefix(p.base, "http://") && !strings.HasPrefix(p.base, "https://") {
		return nil, errkind.New(errkind.Invalid, "provider %s: base URL %q must start with http:// or https://", p.name, cfg.BaseURL)
	}
	p.chat, _ = http.NewRequest(http.MethodPost, p.base+"/chat/completions", nil)
	if cfg.APIKey != "" {
		p.auth = "Bearer " + cfg.APIKey.Reveal()
	}
	if p.client == nil {
		p.client = NewHTTPClient()
	}
	p.header = http.Header{}
	p.header.Set("Content-Type", "application/json")
	if p.auth != "" {
		p.header.Set("Authorization", p.auth)
	}
	for k, v := range p.headers {
		p.header.Set(k, v)
	}
	for k, v := range p.header {
		p.header[k] = v[:len(v):len(v)] // an Add must copy, not write into the shared array
	}
	p.logger = logger.With("component", "routing.provider", "provider", p.name)
	return p, nil
}

// Name returns the registry name.
func (p *OpenAIProvider) Name() string { return p.name }

func (p *OpenAIProvider) newRequest(ctx context.Context, path string, body []byte) (*http.Request, error) {
	if path == "/chat/completions" && p.chat != nil {
		// Every chat call: the URL parsed once, and the headers' map itself
		// shared, as nothing on the way out writes a request (a RoundTripper
		// must not change it; traceTransport and redirects copy it first).
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.URL, req.Host, req.Header = p.chat.URL, p.chat.Host, p.header
		return req, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range p.header {
		req.Header[k] = v
	}
	setTraceHeaders(ctx, req.Header)
	return req, nil
}

// do sends the request and turns non-2xx answers into *UpstreamError. A
// stream's request lets go of its body once the answer began (sentBodies):
// the transport holds the request for the whole stream, and the body is the
// prompt. It costs the stream a write of its own for the headers (the
// transport sends a body it does not know to be in memory after them); a
// whole answer's request keeps the one write.
func (p *OpenAIProvider) do(ctx context.Context, path, model string, body []byte, stream bool) (*http.Response, error) {
	req, err := p.newRequest(ctx, path, body)
	if err != nil {
		return nil, err
	}
	var bodies *sentBodies
	if stream && len(body) > 0 {
		bodies = newSentBodies(body)
		req.Body, req.GetBody = bodies.get(), bodies.again
	}
	resp, err := send(p.client, req)
	if bodies != nil {
		bodies.sent()
	}
	if err != nil {
		return nil, transportError(p.name, model, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		eb, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return nil, upstreamStatusError(p.name, model, resp, eb)
	}
	return resp, nil
}

// Chat forwards a non-streaming chat completion.
func (p *OpenAIProvider) Chat(ctx context.Context, req *ChatRequest, upstreamModel string) (*ChatResponse, error) {
	if req.Stream {
		return nil, errkind.New(errkind.Invalid, "routing: Chat called with a streaming request")
	}
	body, err := rewriteChatBody(req.openAIBody(), upstreamModel, false, req.MaxTokens)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "request body is not a JSON object")
	}
	resp, err := p.do(ctx, "/chat/completions", upstreamModel, body, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := readResponse(resp)
	if err != nil {
		return nil, transportError(p.name, upstreamModel, err)
	}
	usage, model, err := parseUsageFromBody(out)
	if err != nil {
		return nil, transportError(p.name, upstreamModel, fmt.Errorf("unreadable response: %w", err))
	}
	return &ChatResponse{Body: out, Usage: usage, UpstreamModel: model}, nil
}

// ChatStream opens a streaming chat completion with include_usage forced on.
func (p *OpenAIProvider) ChatStream(ctx context.Context, req *ChatRequest, upstreamModel string) (*Stream, error) {
	if !req.Stream {
		return nil, errkind.New(errkind.Invalid, "routing: ChatStream called with a non-streaming request")
	}
	body, err := rewriteChatBody(req.openAIBody(), upstreamModel, true, req.MaxTokens)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "request body is not a JSON object")
	}
	ctx, cancel := context.WithCancel(ctx)
	resp, err := p.do(ctx, "/chat/completions", upstreamModel, body, true)
	if err != nil {
		cancel()
		return nil, err
	}
	src := &openAIChunkSource{sse: newSSEReader(resp.Body), provider: p.name, model: upstreamModel}
	return newStream(streamConfig{
		src: src, body: resp.Body, cancel: cancel, provider: p.name, model: upstreamModel, req: req,
		countTokens: p.est.counterFor(upstreamModel),
	}), nil
}

// Embed forwards an embeddings request with only the model replaced.
func (p *OpenAIProvider) Embed(ctx context.Context, req *EmbeddingRequest, upstreamModel string) (*EmbeddingResponse, error) {
	body, err := rewriteBody(req.Raw, upstreamModel, false)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "request body is not a JSON object")
	}
	resp, err := p.do(ctx, "/embeddings", upstreamModel, body, false)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := readResponse(resp)
	if err != nil {
		return nil, transportError(p.name, upstreamModel, err)
	}
	usage, _, err := parseUsageFromBody(out)
	if err != nil {
		return nil, transportError(p.name, upstreamModel, fmt.Errorf("unreadable response: %w", err))
	}
	return &EmbeddingResponse{Body: out, Usage: usage}, nil
}

// maxPresizedResponse bounds the buffer readResponse allocates up front on the
// upstream's word (its Content-Length); larger answers grow as they arrive.
const maxPresizedResponse = 1 << 20

// readResponse reads a whole answer into one buffer of its Content-Length when
// the upstream sent one, instead of io.ReadAll's 512-byte start and regrowth.
func readResponse(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n > 0 && n <= maxPresizedResponse {
		out := make([]byte, n)
		_, err := io.ReadFull(resp.Body, out)
		return out, err
	}
	return io.ReadAll(resp.Body)
}

// openAIChunkSource yields the data payloads of an OpenAI SSE stream.
type openAIChunkSource struct {
	sse             *sseReader
	provider, model string
}

func (s *openAIChunkSource) next() ([]byte, error) {
	for {
		_, data, err := s.sse.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				// The body ended without [DONE]: a broken stream.
				return nil, transportError(s.provider, s.model, io.ErrUnexpectedEOF)
			}
			return nil, transportError(s.provider, s.model, err)
		}
		if len(data) == 0 {
			continue
		}
		if bytes.Equal(data, []byte("[DONE]")) {
			return nil, io.EOF
		}
		return data, nil
	}
}
