package routing

import (
	"errors"
	"log/slog"
	"slices"
	"sync/atomic"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
)

// Registry maps provider names to configured providers. It is safe for
// concurrent use. Its provider set is replaced as a whole by Replace (provider
// credentials changed through the admin API), so holders of the *Registry (the
// Executor, the Selector's Available) see the new set on their next lookup while
// requests in flight finish on the provider they already hold.
type Registry struct {
	providers atomic.Pointer[map[string]Provider]
}

// NewRegistry registers providers by Name; a duplicate name is an error.
func NewRegistry(providers ...Provider) (*Registry, error) {
	m := map[string]Provider{}
	for _, p := range providers {
		if _, dup := m[p.Name()]; dup {
			return nil, errkind.New(errkind.Invalid, "provider %q registered twice", p.Name())
		}
		m[p.Name()] = p
	}
	r := &Registry{}
	r.providers.Store(&m)
	return r, nil
}

// Replace swaps in next's providers atomically; next should not be used afterwards.
func (r *Registry) Replace(next *Registry) {
	r.providers.Store(next.providers.Load())
}

// Provider returns the provider named name.
func (r *Registry) Provider(name string) (Provider, bool) {
	p, ok := (*r.providers.Load())[name]
	return p, ok
}

// Names lists the registered providers, sorted.
func (r *Registry) Names() []string {
	ps := *r.providers.Load()
	out := make([]string, 0, len(ps))
	for n := range ps {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Available reports whether m's provider is configured; pass it as
// SelectorConfig.Available and use it to filter GET /v1/models.
func (r *Registry) Available(m Model) bool {
	_, ok := (*r.providers.Load())[m.Provider]
	return ok
}

// ProviderKeyConfig is an API key and base URL for one upstream; the provider
// is enabled when APIKey is set.
type ProviderKeyConfig struct {
	// APIKey enables the provider (OPENAI_API_KEY, ANTHROPIC_API_KEY, OPENROUTER_API_KEY).
	APIKey seal.Secret
	// BaseURL overrides the public endpoint (OPENAI_BASE_URL, ...); empty means the default.
	BaseURL string
}

// ProvidersConfig is the sub-config internal/config fills from the environment.
type ProvidersConfig struct {
	// OpenAI serves the catalog's "openai" models.
	OpenAI ProviderKeyConfig
	// Anthropic serves the "anthropic" models.
	Anthropic ProviderKeyConfig
	// OpenRouter serves the "openrouter" models (Gemini, Grok, Llama, synced models).
	OpenRouter ProviderKeyConfig
	// Sim enables the simulated provider (self-host default, TOLLGATE_SIM=1).
	Sim bool
	// SimConfig tunes it.
	SimConfig SimConfig
	// Extra registers more OpenAI-compatible upstreams (vLLM, Ollama, Groq) under
	// their own Name, for catalog overrides that point models at them.
	Extra []OpenAIConfig
}

// DefaultOpenRouterBaseURL is OpenRouter's OpenAI-compatible API root.
const DefaultOpenRouterBaseURL = "https://openrouter.ai/api/v1"

// NewRegistryFromConfig builds every enabled provider over one shared HTTP
// client (one keep-alive pool). est must be the estimator used for reservations.
func NewRegistryFromConfig(cfg ProvidersConfig, est *Estimator, logger *slog.Logger) (*Registry, error) {
	if logger == nil {
		return nil, errors.New("routing: NewRegistryFromConfig needs a logger")
	}
	client := NewHTTPClient()
	var ps []Provider
	var problems []error
	add := func(p Provider, err error) {
		if err != nil {
			problems = append(problems, err)
			return
		}
		ps = append(ps, p)
	}
	if cfg.OpenAI.APIKey != "" {
		add(NewOpenAIProvider(OpenAIConfig{Name: "openai", BaseURL: cfg.OpenAI.BaseURL, APIKey: cfg.OpenAI.APIKey, HTTPClient: client}, est, logger))
	}
	if cfg.OpenRouter.APIKey != "" {
		base := cfg.OpenRouter.BaseURL
		if base == "" {
			base = DefaultOpenRouterBaseURL
		}
		add(NewOpenAIProvider(OpenAIConfig{Name: OpenRouterProviderName, BaseURL: base, APIKey: cfg.OpenRouter.APIKey, HTTPClient: client,
			Headers: map[string]string{"X-Title": "Tollgate"}}, est, logger))
	}
	if cfg.Anthropic.APIKey != "" {
		add(NewAnthropicProvider(AnthropicConfig{BaseURL: cfg.Anthropic.BaseURL, APIKey: cfg.Anthropic.APIKey, HTTPClient: client}, est, logger))
	}
	if cfg.Sim {
		add(NewSimProvider(cfg.SimConfig, est, logger))
	}
	for _, x := range cfg.Extra {
		if x.HTTPClient == nil {
			x.HTTPClient = client
		}
		add(NewOpenAIProvider(x, est, logger))
	}
	if len(problems) > 0 {
		return nil, errkind.Wrap(errkind.Invalid, errors.Join(problems...), "invalid provider configuration")
	}
	return NewRegistry(ps...)
}
