package routing

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// Policy is a tenant's routing policy. It is plain JSON so the console can edit
// it; the zero value of every optional field means the documented default.
type Policy struct {
	// Tiers lists, per tier, the models to use in order of preference: the first
	// available one answers, later ones are fallbacks.
	Tiers map[Tier][]string `json:"tiers"`
	// SimpleTier serves prompts classified simple; "" means economy.
	SimpleTier Tier `json:"simple_tier,omitempty"`
	// ComplexTier serves prompts classified complex; "" means standard.
	ComplexTier Tier `json:"complex_tier,omitempty"`
	// Classifier names the tenant's own routing model (installed with
	// `tollgate route install`); "" uses the built-in one.
	Classifier string `json:"classifier,omitempty"`
	// StandardThreshold is the classifier probability at or above which an
	// "auto" turn goes to ComplexTier; 0 means the model's own (trained) value.
	StandardThreshold float64 `json:"standard_threshold,omitempty"`
	// AutoPremium lets "auto" pick a premium model for turns whose premium
	// probability reaches PremiumThreshold; off by default, so premium spend
	// only happens where the policy allows it.
	AutoPremium bool `json:"auto_premium,omitempty"`
	// PremiumThreshold is the premium probability at or above which an "auto"
	// turn goes premium (with AutoPremium); 0 means the model's own value.
	PremiumThreshold float64 `json:"premium_threshold,omitempty"`
	// StepDownThreshold: with SessionAffinity, a conversation escalated for one
	// turn steps back down when a later turn's probability is below this
	// ("clearly easy"), or when it is a short turn with no sign of difficulty;
	// 0 means a quarter of the standard threshold (a follow-up such as "and
	// the indexes?" leans on the hard turn before it), negative never.
	StepDownThreshold float64 `json:"step_down_threshold,omitempty"`
	// Rules are checked in order for model "auto"; the first match sets the tier.
	Rules []Rule `json:"rules,omitempty"`
	// MaxTier caps every selection, explicit requests included; "" means premium.
	MaxTier Tier `json:"max_tier,omitempty"`
	// PremiumAllowlist lists the premium models clients may ask for by name;
	// empty allows every premium model the MaxTier permits.
	PremiumAllowlist []string `json:"premium_allowlist,omitempty"`
	// RefuseDenied refuses a denied explicit request instead of downgrading it.
	RefuseDenied bool `json:"refuse_denied,omitempty"`
	// Ladder caps the tier as the period's spend climbs; steps sorted by AtPercent.
	Ladder []LadderStep `json:"ladder,omitempty"`
	// LadderExplicit opts in to downgrading requests that name a model: the
	// ladder, pace and budget downgrade steps apply to them, and a hard-budget
	// refusal is answered by a cheaper model. By default (off) they only steer
	// "auto", and a named model is served as asked or refused.
	LadderExplicit bool `json:"ladder_explicit,omitempty"`
	// PaceTolerancePercent allows spending this much faster than the period
	// elapses before "auto" drops one tier; 0 means 20, negative disables pacing.
	PaceTolerancePercent int `json:"pace_tolerance_percent,omitempty"`
	// SessionAffinity keeps a conversation on the model it started with, so the
	// provider's prompt cache stays warm.
	SessionAffinity bool `json:"session_affinity,omitempty"`
	// AnthropicCacheControl marks the stable prefix of every prompt sent to an
	// Anthropic model (the system prompt and the history before the last turn)
	// with cache_control breakpoints, so the next turn reads it from the prompt
	// cache at 0.1× the input price (a write costs 1.25× once). OpenAI caches
	// prefixes on its own and needs no marking.
	AnthropicCacheControl bool `json:"anthropic_cache_control,omitempty"`
	// MaxFallbacks bounds the fallback list; 0 means 2, negative means none.
	MaxFallbacks int `json:"max_fallbacks,omitempty"`
	// FallbackExplicit lets explicit requests fall back to other models of the
	// same tier; by default an explicit model answers or fails.
	FallbackExplicit bool `json:"fallback_explicit,omitempty"`
	// TraceContent puts prompts and completions on the tenant's OpenTelemetry
	// request spans (gen_ai.input.messages, gen_ai.output.messages) when tracing
	// is on. Default false: spans carry models, usage and cost, never content.
	TraceContent bool `json:"trace_content,omitempty"`
	// Cache is the response cache; nil or disabled means every request goes upstream.
	Cache *CachePolicy `json:"cache,omitempty"`
	// RetainPromptsDays keeps, for this many days, the text keyword rules
	// match (the last user turn's scan window) of every routed request,
	// sealed with the master key, so the what-if can replay new or changed
	// keyword rules exactly. 0 (default) keeps nothing and deletes what was
	// kept; at most MaxRetainPromptsDays. Never shown by any API.
	RetainPromptsDays int `json:"retain_prompts_days,omitempty"`
	// Keys holds per-API-key overrides by key id (what applied savings
	// suggestions set); a key without an entry routes by the policy alone.
	Keys map[string]KeyRouting `json:"keys,omitempty"`

	// model is the classifier Classifier names, attached by the policy store.
	model *Classifier
}

// MaxRetainPromptsDays bounds RetainPromptsDays: a month covers the what-if's
// default window and keeps the privacy cost of opting in bounded.
const MaxRetainPromptsDays = 30

// WithModel returns the policy with the tenant's classifier attached (the one
// its Classifier field names).
func (p Policy) WithModel(c *Classifier) Policy {
	p.model = c
	return p
}

// HasKeywordRules reports whether any rule matches keywords: only such rules
// need a request's text to replay.
func (p Policy) HasKeywordRules() bool {
	for _, r := range p.Rules {
		if len(r.Keywords) > 0 {
			return true
		}
	}
	return false
}

// CachePolicy configures the tenant's response cache: an exact repeat of a
// request (after routing) is answered from the cache, never upstream.
type CachePolicy struct {
	// Enabled turns the cache on for the tenant's keys (a request opts out with
	// x-tollgate-cache: off).
	Enabled bool `json:"enabled"`
	// TTLSeconds is how long an answer is reused; 0 means 3600.
	TTLSeconds int `json:"ttl_seconds,omitempty"`
	// MaxEntryBytes skips caching larger answers; 0 means 262144.
	MaxEntryBytes int `json:"max_entry_bytes,omitempty"`
	// DeterministicOnly (default true) caches only requests with temperature 0,
	// unless the request sends x-tollgate-cache: on.
	DeterministicOnly *bool `json:"deterministic_only,omitempty"`
	// HitPricePercent bills a hit this share of the cost it avoided; 0 is free.
	HitPricePercent int `json:"hit_price_percent,omitempty"`
}

// TTL is the entry lifetime.
func (c CachePolicy) TTL() time.Duration {
	if c.TTLSeconds <= 0 {
		return time.Hour
	}
	return time.Duration(c.TTLSeconds) * time.Second
}

// MaxBytes is the largest entry kept.
func (c CachePolicy) MaxBytes() int {
	if c.MaxEntryBytes <= 0 {
		return 256 << 10
	}
	return c.MaxEntryBytes
}

// OnlyDeterministic reports whether only temperature-0 requests are cached by default.
func (c CachePolicy) OnlyDeterministic() bool {
	return c.DeterministicOnly == nil || *c.DeterministicOnly
}

// KeyRouting overrides the policy for one API key's requests.
type KeyRouting struct {
	// AutoModels lists models this key names that are routed as "auto": the
	// classifier picks the tier, and the ledger still records the name asked.
	AutoModels []string `json:"auto_models,omitempty"`
	// Substitute serves a named model by another model of the same tier
	// ({"gpt-4o": "claude-sonnet-4"}), the "cheaper equivalent" of a savings
	// suggestion.
	Substitute map[string]string `json:"substitute,omitempty"`
	// MaxTokens caps each request's output limit (max_tokens and
	// max_completion_tokens; added when the request sets neither), so the
	// reservation and the upstream both see the cap; 0 means no cap.
	MaxTokens int `json:"max_tokens,omitempty"`
}

// KeyModel is the model key's request for requested is routed as: ModelAuto
// when the key routes it as "auto", its substitute, or requested itself.
func (p Policy) KeyModel(key, requested string) string {
	k, ok := p.Keys[key]
	if !ok || key == "" || requested == ModelAuto {
		return requested
	}
	if slices.Contains(k.AutoModels, requested) {
		return ModelAuto
	}
	if to, ok := k.Substitute[requested]; ok {
		return to
	}
	return requested
}

// KeyMaxTokens is the output cap of key's requests; 0 means none.
func (p Policy) KeyMaxTokens(key string) int {
	if key == "" {
		return 0
	}
	return p.Keys[key].MaxTokens
}

// Rule routes matching "auto" requests to a tier. All set conditions must hold.
type Rule struct {
	// Name appears in the route explanation.
	Name string `json:"name"`
	// Keywords match when any occurs as whole words (case-insensitive) in the
	// turn: "prove" matches "prove it", never "improve" or "approved". Rules
	// with keywords need a unique Name (replays match them by name).
	Keywords []string `json:"keywords,omitempty"`
	// MinPromptTokens matches prompts at least this large; 0 ignores size.
	MinPromptTokens int `json:"min_prompt_tokens,omitempty"`
	// Tools matches requests that offer tools.
	Tools bool `json:"tools,omitempty"`
	// Images matches requests with image inputs.
	Images bool `json:"images,omitempty"`
	// MinCodeBlocks matches requests with at least this many fenced code blocks.
	MinCodeBlocks int `json:"min_code_blocks,omitempty"`
	// Tier is where matching requests go.
	Tier Tier `json:"tier"`
}

// LadderStep caps the tier once spend reaches AtPercent of the period budget.
type LadderStep struct {
	// AtPercent of the period budget spent (1..100+).
	AtPercent int `json:"at_percent"`
	// MaxTier is the highest tier allowed from this step on.
	MaxTier Tier `json:"max_tier"`
}

// DefaultPolicy is the policy of a tenant that configured none: mini-class
// models for turns the classifier finds easy, gpt-4o-class for the others,
// premium only when asked by name (AutoPremium off), and a ladder that steps
// down at 80% and 95% of the budget.
func DefaultPolicy() Policy {
	return Policy{
		Tiers: map[Tier][]string{
			TierEconomy:  {"gpt-4o-mini", "gemini-2.0-flash", "claude-haiku-4-5", "sim-small"},
			TierStandard: {"gpt-4o", "claude-sonnet-4", "gemini-2.5-pro", "sim-large"},
			// Cheapest adequate premium model first.
			TierPremium: {"o3", "grok-4", "claude-opus-4-1"},
		},
		Ladder: []LadderStep{
			{AtPercent: 80, MaxTier: TierStandard},
			{AtPercent: 95, MaxTier: TierEconomy},
		},
		SessionAffinity: true,
	}
}

// Validate reports every structural problem at once, wrapping errkind.Invalid.
// Whether listed models exist is checked by CheckCatalog.
func (p Policy) Validate() error {
	var problems []error
	if len(p.Tiers) == 0 {
		problems = append(problems, errors.New("tiers: at least one tier must list models"))
	}
	for t, models := range p.Tiers {
		if !t.Valid() {
			problems = append(problems, fmt.Errorf("tiers: unknown tier %q", t))
		}
		if len(models) == 0 {
			problems = append(problems, fmt.Errorf("tiers.%s: list at least one model", t))
		}
	}
	for _, f := range []struct {
		name string
		t    Tier
	}{{"simple_tier", p.SimpleTier}, {"complex_tier", p.ComplexTier}, {"max_tier", p.MaxTier}} {
		if f.t != "" && !f.t.Valid() {
			problems = append(problems, fmt.Errorf("%s: unknown tier %q", f.name, f.t))
		}
	}
	for _, t := range []struct {
		name string
		v    float64
	}{{"standard_threshold", p.StandardThreshold}, {"premium_threshold", p.PremiumThreshold}} {
		if t.v < 0 || t.v >= 1 {
			problems = append(problems, fmt.Errorf("%s: must be a probability from 0 (the model's default) to below 1", t.name))
		}
	}
	if p.StepDownThreshold >= 1 {
		problems = append(problems, errors.New("step_down_threshold: must be below 1 (negative disables stepping down)"))
	}
	if len(p.Classifier) > 64 {
		problems = append(problems, errors.New("classifier: name is longer than 64 characters"))
	}
	names := map[string]bool{}
	for i, r := range p.Rules {
		if len(r.Keywords) > 0 {
			if r.Name == "" || names[r.Name] {
				problems = append(problems, fmt.Errorf("rules[%d].name: a keyword rule needs a unique name", i))
			}
			names[r.Name] = true
		}
		if !r.Tier.Valid() {
			problems = append(problems, fmt.Errorf("rules[%d].tier: unknown tier %q", i, r.Tier))
		}
		if len(r.Keywords) == 0 && r.MinPromptTokens == 0 && !r.Tools && !r.Images && r.MinCodeBlocks == 0 {
			problems = append(problems, fmt.Errorf("rules[%d]: set at least one condition", i))
		}
		if r.MinPromptTokens < 0 || r.MinCodeBlocks < 0 {
			problems = append(problems, fmt.Errorf("rules[%d]: thresholds must not be negative", i))
		}
	}
	if c := p.Cache; c != nil {
		if c.TTLSeconds < 0 || c.TTLSeconds > 30*24*3600 {
			problems = append(problems, errors.New("cache.ttl_seconds: must be from 0 (one hour) to 2592000 (30 days)"))
		}
		if c.MaxEntryBytes < 0 || c.MaxEntryBytes > 16<<20 {
			problems = append(problems, errors.New("cache.max_entry_bytes: must be from 0 (256 KiB) to 16777216"))
		}
		if c.HitPricePercent < 0 || c.HitPricePercent > 100 {
			problems = append(problems, errors.New("cache.hit_price_percent: must be from 0 (hits are free) to 100"))
		}
	}
	if p.RetainPromptsDays < 0 || p.RetainPromptsDays > MaxRetainPromptsDays {
		problems = append(problems, fmt.Errorf("retain_prompts_days: must be from 0 (keep no prompts) to %d", MaxRetainPromptsDays))
	}
	for id, k := range p.Keys {
		if id == "" || len(id) > 64 {
			problems = append(problems, errors.New("keys: a key id must be 1 to 64 characters"))
		}
		if k.MaxTokens < 0 || k.MaxTokens > math.MaxInt32 {
			problems = append(problems, fmt.Errorf("keys.%s.max_tokens: must be from 0 (no cap) to %d", id, math.MaxInt32))
		}
		for from, to := range k.Substitute {
			if from == ModelAuto || to == ModelAuto || from == to || to == "" {
				problems = append(problems, fmt.Errorf("keys.%s.substitute: %q must map to another named model", id, from))
			}
			if slices.Contains(k.AutoModels, from) {
				problems = append(problems, fmt.Errorf("keys.%s: %q is both routed as auto and substituted", id, from))
			}
		}
		if slices.Contains(k.AutoModels, ModelAuto) {
			problems = append(problems, fmt.Errorf("keys.%s.auto_models: list named models, not \"auto\"", id))
		}
	}
	for i, s := range p.Ladder {
		if s.AtPercent <= 0 {
			problems = append(problems, fmt.Errorf("ladder[%d].at_percent: must be positive", i))
		}
		if !s.MaxTier.Valid() {
			problems = append(problems, fmt.Errorf("ladder[%d].max_tier: unknown tier %q", i, s.MaxTier))
		}
		if i > 0 && s.AtPercent <= p.Ladder[i-1].AtPercent {
			problems = append(problems, fmt.Errorf("ladder[%d]: steps must be sorted by at_percent", i))
		}
	}
	if len(problems) > 0 {
		return errkind.Wrap(errkind.Invalid, errors.Join(problems...), "invalid routing policy")
	}
	return nil
}

// CheckCatalog reports models the policy names that c does not have, and tier
// lists naming a model of another tier.
func (p Policy) CheckCatalog(c *Catalog) error {
	var problems []error
	for _, t := range tierOrder {
		for _, id := range p.Tiers[t] {
			m, ok := c.Lookup(id)
			switch {
			case !ok:
				problems = append(problems, fmt.Errorf("tiers.%s: unknown model %q", t, id))
			case m.Tier != t:
				problems = append(problems, fmt.Errorf("tiers.%s: model %q is %s", t, id, m.Tier))
			}
		}
	}
	for _, id := range p.PremiumAllowlist {
		if _, ok := c.Lookup(id); !ok {
			problems = append(problems, fmt.Errorf("premium_allowlist: unknown model %q", id))
		}
	}
	for key, k := range p.Keys {
		for from, to := range k.Substitute {
			fm, fok := c.Lookup(from)
			tm, tok := c.Lookup(to)
			switch {
			case !fok || !tok:
				problems = append(problems, fmt.Errorf("keys.%s.substitute: unknown model %q or %q", key, from, to))
			case tm.Tier != fm.Tier || tm.Embedding != fm.Embedding:
				// A substitute is an equivalent: another tier is a routing
				// decision (auto_models), not a substitution.
				problems = append(problems, fmt.Errorf("keys.%s.substitute: %s is %s but %s is %s", key, from, fm.Tier, to, tm.Tier))
			}
		}
	}
	if len(problems) > 0 {
		return errkind.Wrap(errkind.Invalid, errors.Join(problems...), "routing policy does not match the catalog")
	}
	return nil
}

func (p Policy) simpleTier() Tier  { return orTier(p.SimpleTier, TierEconomy) }
func (p Policy) complexTier() Tier { return orTier(p.ComplexTier, TierStandard) }
func (p Policy) maxTier() Tier     { return orTier(p.MaxTier, TierPremium) }

// thresholds returns the standard, premium and step-down thresholds for a
// turn scored by a model whose own defaults f records.
func (p Policy) thresholds(f Features) (std, prem, down float64) {
	std, prem = p.StandardThreshold, p.PremiumThreshold
	if std == 0 {
		std = f.ModelStandard
	}
	if prem == 0 {
		prem = f.ModelPremium
	}
	// Features recorded without a model (old ledger rows) read as 0.5.
	if std == 0 {
		std = 0.5
	}
	if prem == 0 {
		prem = 0.5
	}
	switch {
	case p.StepDownThreshold == 0:
		down = std / 4
	case p.StepDownThreshold > 0:
		down = p.StepDownThreshold
	}
	return std, prem, down
}

// StandardThresholdFor is the probability at or above which an "auto" turn
// scored as f goes to the complex tier under p.
func (p Policy) StandardThresholdFor(f Features) float64 {
	std, _, _ := p.thresholds(f)
	return std
}

// SimpleTierOf is the tier "auto" sends easy turns to.
func (p Policy) SimpleTierOf() Tier { return p.simpleTier() }

func (p Policy) maxFallbacks() int {
	switch {
	case p.MaxFallbacks == 0:
		return 2
	case p.MaxFallbacks < 0:
		return 0
	}
	return p.MaxFallbacks
}

func (p Policy) premiumAllowed(id string) bool {
	return len(p.PremiumAllowlist) == 0 || slices.Contains(p.PremiumAllowlist, id)
}

func orTier(t, def Tier) Tier {
	if t == "" {
		return def
	}
	return t
}

func minTier(a, b Tier) Tier {
	if a.Rank() <= b.Rank() {
		return a
	}
	return b
}
