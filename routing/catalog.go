package routing

import (
	"errors"
	"fmt"
	"slices"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// Tier is a price/quality class of models that policies route between.
type Tier string

// The tiers, cheapest first.
const (
	TierEconomy  Tier = "economy"
	TierStandard Tier = "standard"
	TierPremium  Tier = "premium"
)

// tierOrder lists the tiers from cheapest to most expensive.
var tierOrder = [...]Tier{TierEconomy, TierStandard, TierPremium}

// Rank orders tiers: economy 0, standard 1, premium 2, unknown -1.
func (t Tier) Rank() int { return slices.Index(tierOrder[:], t) }

// Valid reports whether t is one of the three tiers.
func (t Tier) Valid() bool { return t.Rank() >= 0 }

// lower returns the next cheaper tier (economy stays economy).
func (t Tier) lower() Tier {
	if r := t.Rank(); r > 0 {
		return tierOrder[r-1]
	}
	return TierEconomy
}

// Capabilities says what a model accepts beyond plain text chat.
type Capabilities struct {
	// Tools: function calling.
	Tools bool `json:"tools"`
	// Vision: image inputs.
	Vision bool `json:"vision"`
	// JSON: response_format json_object / json_schema.
	JSON bool `json:"json"`
}

// Model is one catalog entry: where a model is served and what it costs.
// Prices are integer nano-USD per token ($2.50 per 1M tokens = 2500).
type Model struct {
	// ID is the name clients use ("gpt-4o", "claude-sonnet-4").
	ID string `json:"id"`
	// Provider is the registry name of the provider serving it ("openai").
	Provider string `json:"provider"`
	// UpstreamID is the provider's own id; empty means ID.
	UpstreamID string `json:"upstream_id,omitempty"`
	// Tier is the model's routing class.
	Tier Tier `json:"tier"`
	// InputPrice is nano-USD per uncached input token.
	InputPrice billing.NanoUSD `json:"input_price"`
	// CachedInputPrice is nano-USD per input token served from the prompt cache;
	// 0 means the provider has no discount and InputPrice applies.
	CachedInputPrice billing.NanoUSD `json:"cached_input_price"`
	// CacheWritePrice is nano-USD per input token written to the prompt cache
	// (Anthropic bills a cache write at 1.25× input); 0 means InputPrice.
	CacheWritePrice billing.NanoUSD `json:"cache_write_price,omitempty"`
	// OutputPrice is nano-USD per output token (reasoning tokens included).
	OutputPrice billing.NanoUSD `json:"output_price"`
	// ContextWindow is the maximum prompt plus output, in tokens.
	ContextWindow int `json:"context_window"`
	// MaxOutputTokens caps one answer; it is the worst case reserved when a
	// request sets no max_tokens.
	MaxOutputTokens int `json:"max_output_tokens"`
	// Capabilities lists accepted features.
	Capabilities Capabilities `json:"capabilities"`
	// Embedding marks an embeddings model (priced on input only).
	Embedding bool `json:"embedding,omitempty"`
	// PriceRounded is set when a synced price had sub-nano digits and was
	// rounded up to a whole nano-USD.
	PriceRounded bool `json:"price_rounded,omitempty"`
}

// Upstream returns the id to send to the provider.
func (m Model) Upstream() string {
	if m.UpstreamID != "" {
		return m.UpstreamID
	}
	return m.ID
}

// Cost prices a request from its usage: input counts all prompt tokens,
// cached included (OpenAI's convention), cached is the part served from cache.
// Integer arithmetic only; 1M output tokens of the priciest model stays far
// below int64's range.
func (m Model) Cost(input, cached, output int) billing.NanoUSD {
	return m.cost(input, cached, 0, output)
}

// cost prices input tokens of which cached were read from the prompt cache and
// written were written to it (both part of input), and output tokens.
func (m Model) cost(input, cached, written, output int) billing.NanoUSD {
	input = max(input, 0)
	cached = min(max(cached, 0), input)
	written = min(max(written, 0), input-cached)
	return billing.NanoUSD(input-cached-written)*m.InputPrice + billing.NanoUSD(cached)*m.cachedPrice() +
		billing.NanoUSD(written)*m.cacheWritePrice() + billing.NanoUSD(max(output, 0))*m.OutputPrice
}

func (m Model) cachedPrice() billing.NanoUSD {
	if m.CachedInputPrice == 0 {
		return m.InputPrice
	}
	return m.CachedInputPrice
}

func (m Model) cacheWritePrice() billing.NanoUSD {
	if m.CacheWritePrice == 0 {
		return m.InputPrice
	}
	return m.CacheWritePrice
}

// UsageCost prices a Usage: cache reads at the cached price, cache writes at
// the cache-write price, the rest of the prompt at the input price.
func (m Model) UsageCost(u Usage) billing.NanoUSD {
	return m.cost(u.PromptTokens, u.CachedTokens, u.CacheWriteTokens, u.CompletionTokens)
}

// CacheSaving is what prompt caching saved on u: its cost with every prompt
// token at the input price minus its actual cost. Negative when cache writes
// cost more than the reads saved (a conversation's first turn on Anthropic).
func (m Model) CacheSaving(u Usage) billing.NanoUSD {
	return m.Cost(u.PromptTokens, 0, u.CompletionTokens) - m.UsageCost(u)
}

// WarmInputCost is the input cost of prompt tokens of which warm are likely
// served from this model's prompt cache: what model comparison uses when a
// conversation's cache is warm on the model.
func (m Model) WarmInputCost(prompt, warm int) billing.NanoUSD {
	return m.Cost(prompt, warm, 0)
}

// undeclaredMaxOutput is the output reserved for a request without max_tokens on
// a model whose catalog entry declares neither MaxOutputTokens nor a context
// window (a tenant's own vLLM entry, say), so such a request never reserves 0.
const undeclaredMaxOutput = 32_768

// OutputCap is the output tokens of one choice to reserve for: the request's
// max_tokens when set, else the model's MaxOutputTokens, never more than the
// context window left after the prompt (the upstream cannot produce more).
// Embeddings models produce none.
func (m Model) OutputCap(promptTokens, maxTokens int) int {
	if m.Embedding {
		return 0
	}
	c := maxTokens
	if c <= 0 {
		c = m.MaxOutputTokens
	}
	if c <= 0 && m.ContextWindow <= 0 {
		c = undeclaredMaxOutput
	}
	if m.ContextWindow > 0 {
		if c <= 0 {
			c = m.ContextWindow
		}
		c = min(c, max(m.ContextWindow-promptTokens, 0))
	}
	return max(c, 0)
}

// WorstCase is the reservation for a request before it is forwarded: every
// prompt token at the uncached input price plus OutputCap for each of its
// choices (n) at the output price.
func (m Model) WorstCase(promptTokens, maxTokens, choices int) billing.NanoUSD {
	return m.Cost(promptTokens, 0, m.OutputCap(promptTokens, maxTokens)*max(choices, 1))
}

// CheckMaxTokens refuses a request whose output limit is above the model's:
// the upstream would refuse or clamp it, and Tollgate refuses clearly instead
// of reserving for one limit while the upstream applies another.
func (m Model) CheckMaxTokens(req *ChatRequest) error {
	if m.MaxOutputTokens <= 0 || req.MaxTokens <= m.MaxOutputTokens {
		return nil
	}
	param := req.MaxTokensParam
	if param == "" {
		param = "max_tokens"
	}
	return errkind.InvalidParam(param, "%s is %d, above the %d output tokens model %s can produce; send at most %d",
		param, req.MaxTokens, m.MaxOutputTokens, m.ID, m.MaxOutputTokens)
}

func (m Model) validate() error {
	var problems []error
	if m.ID == "" {
		problems = append(problems, errors.New("id is required"))
	}
	if m.Provider == "" {
		problems = append(problems, fmt.Errorf("%s: provider is required", m.ID))
	}
	if !m.Tier.Valid() {
		problems = append(problems, fmt.Errorf("%s: tier %q is not economy, standard or premium", m.ID, m.Tier))
	}
	if m.InputPrice < 0 || m.CachedInputPrice < 0 || m.CacheWritePrice < 0 || m.OutputPrice < 0 {
		problems = append(problems, fmt.Errorf("%s: prices must not be negative", m.ID))
	}
	if m.ContextWindow < 0 || m.MaxOutputTokens < 0 {
		problems = append(problems, fmt.Errorf("%s: token limits must not be negative", m.ID))
	}
	return errors.Join(problems...)
}

// Catalog is an immutable set of models by id. Layer tenant changes with
// WithOverrides, which returns a new Catalog; share catalogs freely.
type Catalog struct {
	byID map[string]Model
	ids  []string
}

// NewCatalog validates models and indexes them. Duplicate ids are an error.
// Errors wrap errkind.Invalid and list every problem.
func NewCatalog(models []Model) (*Catalog, error) {
	c := &Catalog{byID: make(map[string]Model, len(models))}
	var problems []error
	for _, m := range models {
		if err := m.validate(); err != nil {
			problems = append(problems, err)
			continue
		}
		if _, dup := c.byID[m.ID]; dup {
			problems = append(problems, fmt.Errorf("%s: duplicate model id", m.ID))
			continue
		}
		c.byID[m.ID] = m
		c.ids = append(c.ids, m.ID)
	}
	if len(problems) > 0 {
		return nil, errkind.Wrap(errkind.Invalid, errors.Join(problems...), "invalid model catalog")
	}
	slices.Sort(c.ids)
	return c, nil
}

// Lookup returns the model with id.
func (c *Catalog) Lookup(id string) (Model, bool) {
	m, ok := c.byID[id]
	return m, ok
}

// Models returns all models sorted by id.
func (c *Catalog) Models() []Model {
	out := make([]Model, len(c.ids))
	for i, id := range c.ids {
		out[i] = c.byID[id]
	}
	return out
}

// Cost prices usage of model id; an unknown id is a NotFound error.
func (c *Catalog) Cost(id string, input, cached, output int) (billing.NanoUSD, error) {
	m, ok := c.byID[id]
	if !ok {
		return 0, errkind.New(errkind.NotFound, "model %q is not in the catalog", id)
	}
	return m.Cost(input, cached, output), nil
}

// ModelOverride changes or adds one catalog entry for a tenant. Nil and empty
// fields keep the base entry's value; a new id must set Provider and Tier.
type ModelOverride struct {
	// ID names the model to change or add.
	ID string `json:"id"`
	// Remove drops the model from the tenant's catalog.
	Remove bool `json:"remove,omitempty"`
	// Provider, UpstreamID and Tier replace the base values when non-empty.
	Provider   string `json:"provider,omitempty"`
	UpstreamID string `json:"upstream_id,omitempty"`
	Tier       Tier   `json:"tier,omitempty"`
	// Prices in nano-USD per token (negotiated rates, margins).
	InputPrice       *billing.NanoUSD `json:"input_price,omitempty"`
	CachedInputPrice *billing.NanoUSD `json:"cached_input_price,omitempty"`
	CacheWritePrice  *billing.NanoUSD `json:"cache_write_price,omitempty"`
	OutputPrice      *billing.NanoUSD `json:"output_price,omitempty"`
	// ContextWindow and MaxOutputTokens replace the base values when non-zero.
	ContextWindow   int `json:"context_window,omitempty"`
	MaxOutputTokens int `json:"max_output_tokens,omitempty"`
	// Capabilities replaces the base capabilities when set.
	Capabilities *Capabilities `json:"capabilities,omitempty"`
}

// WithOverrides returns a new catalog with overrides applied in order on top of c.
func (c *Catalog) WithOverrides(overrides []ModelOverride) (*Catalog, error) {
	merged := make(map[string]Model, len(c.byID)+len(overrides))
	for id, m := range c.byID {
		merged[id] = m
	}
	for _, o := range overrides {
		if o.Remove {
			delete(merged, o.ID)
			continue
		}
		m, ok := merged[o.ID]
		if !ok {
			m = Model{ID: o.ID}
		}
		if o.Provider != "" {
			m.Provider = o.Provider
		}
		if o.UpstreamID != "" {
			m.UpstreamID = o.UpstreamID
		}
		if o.Tier != "" {
			m.Tier = o.Tier
		}
		if o.InputPrice != nil {
			m.InputPrice = *o.InputPrice
		}
		if o.CachedInputPrice != nil {
			m.CachedInputPrice = *o.CachedInputPrice
		}
		if o.CacheWritePrice != nil {
			m.CacheWritePrice = *o.CacheWritePrice
		}
		if o.OutputPrice != nil {
			m.OutputPrice = *o.OutputPrice
		}
		if o.ContextWindow != 0 {
			m.ContextWindow = o.ContextWindow
		}
		if o.MaxOutputTokens != 0 {
			m.MaxOutputTokens = o.MaxOutputTokens
		}
		if o.Capabilities != nil {
			m.Capabilities = *o.Capabilities
		}
		merged[o.ID] = m
	}
	models := make([]Model, 0, len(merged))
	for _, m := range merged {
		models = append(models, m)
	}
	return NewCatalog(models)
}
