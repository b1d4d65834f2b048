package routing

import (
	"fmt"
	"sync"
	"time"
)

// Prompt-cache warmth, as model comparison counts it: a model that served this
// conversation's prefix minutes ago will likely read that prefix from its
// prompt cache (OpenAI: automatically, from 1,024 tokens; Anthropic: when the
// policy marks the prefix, AnthropicCacheControl), at the cached input price.
// The gateway notes every served request (NoteServed); selection asks how much
// of a new request's prompt is warm on each candidate (warmTokens) and prefers
// a warm model of the chosen tier when that makes it the cheaper one.
const (
	// warmTTL is how long a served prefix counts as warm: Anthropic's ephemeral
	// cache lives five minutes, OpenAI's five to ten.
	warmTTL = 5 * time.Minute
	// warmExpectedOutput is the output assumed when comparing models for a
	// request without max_tokens (the design sample averages ~300).
	warmExpectedOutput = 300
)

type warmKey struct {
	tenant string
	model  string
	hash   uint64
}

// warmCache maps (tenant, model, prompt prefix) to when it was last served and
// its size in tokens. Bounded: when full, expired entries go, then a quarter.
type warmCache struct {
	max int
	now func() time.Time

	mu sync.Mutex
	m  map[warmKey]warmEntry
}

type warmEntry struct {
	at     time.Time
	tokens int
}

func newWarmCache(size int, now func() time.Time) *warmCache {
	if now == nil {
		now = time.Now
	}
	return &warmCache{max: size, now: now, m: make(map[warmKey]warmEntry)}
}

// note records the prefixes of a prompt model served for tenant: the whole
// prompt (the next turn of the conversation starts with it) and the system
// prompt (other conversations of the same persona start with it).
func (w *warmCache) note(tenant, model string, prefixes []PromptPrefix, systemEnd int) {
	if w == nil || len(prefixes) == 0 {
		return
	}
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.m) >= w.max {
		for k, e := range w.m {
			if now.Sub(e.at) >= warmTTL {
				delete(w.m, k)
			}
		}
		evictQuarterWarm(w.m, w.max)
	}
	last := prefixes[len(prefixes)-1]
	if last.Tokens >= PromptCacheMinTokens {
		w.m[warmKey{tenant, model, last.Hash}] = warmEntry{now, last.Tokens}
	}
	if systemEnd > 0 && systemEnd < len(prefixes) {
		if p := prefixes[systemEnd-1]; p.Tokens >= PromptCacheMinTokens {
			w.m[warmKey{tenant, model, p.Hash}] = warmEntry{now, p.Tokens}
		}
	}
}

func evictQuarterWarm(m map[warmKey]warmEntry, size int) {
	if len(m) < size {
		return
	}
	drop := size / 4
	for k := range m {
		if drop == 0 {
			return
		}
		delete(m, k)
		drop--
	}
}

// warmTokens is the longest prefix of the prompt that model served for tenant
// within warmTTL, in tokens (0 when cold), as the provider would report it.
func (w *warmCache) warmTokens(tenant, model string, prefixes []PromptPrefix) int {
	if w == nil || len(prefixes) == 0 {
		return 0
	}
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.m) == 0 {
		return 0
	}
	// The whole prompt is never warm in a conversation: its last turn is new.
	for i := len(prefixes) - 1; i >= 0; i-- {
		if prefixes[i].Tokens < PromptCacheMinTokens {
			return 0
		}
		if e, ok := w.m[warmKey{tenant, model, prefixes[i].Hash}]; ok && now.Sub(e.at) < warmTTL {
			return CachedPrefixTokens(e.tokens, prefixes[len(prefixes)-1].Tokens)
		}
	}
	return 0
}

// cachesPrefixes reports whether model's provider will serve a repeated prefix
// of req from its cache: the model has a cached price, and Anthropic models
// only when the request marks its prefix.
func cachesPrefixes(m Model, req *ChatRequest) bool {
	if m.CachedInputPrice == 0 || m.CachedInputPrice >= m.InputPrice {
		return false
	}
	return m.Provider != "anthropic" || req.CachePrefix
}

// systemPrefixEnd is the number of leading system/developer messages.
func systemPrefixEnd(req *ChatRequest) int {
	n := 0
	for n < len(req.Messages) && (req.Messages[n].Role == "system" || req.Messages[n].Role == "developer") {
		n++
	}
	return n
}

// NoteServed records that model answered req for tenant, so later requests
// that repeat its prefix count the model's prompt cache as warm. The gateway
// calls it after every successful request; it needs req annotated (Estimator.
// Annotate) and does nothing for models whose provider would not cache.
func (s *Selector) NoteServed(tenant string, model Model, req *ChatRequest) {
	if s == nil || tenant == "" || !cachesPrefixes(model, req) {
		return
	}
	s.warm.note(tenant, model.ID, req.Prompt.Prefixes, systemPrefixEnd(req))
}

// preferWarm returns the model of tier t to answer req: chosen, unless another
// usable model of the tier is cheaper for this request once each candidate's
// warm prompt cache is counted (its warm prefix at the cached input price,
// the rest at the input price, plus the expected output). It is the warm-cache
// cost term of model comparison; the policy's order decides every tie.
func (s *Selector) preferWarm(cat *Catalog, p Policy, f Features, in SelectInput, t Tier, chosen Model) (Model, string) {
	req := in.Request
	if s.warm == nil || in.TenantID == "" || len(req.Prompt.Prefixes) == 0 {
		return chosen, ""
	}
	out := warmExpectedOutput
	if req.MaxTokens > 0 {
		out = min(req.MaxTokens, warmExpectedOutput)
	}
	prompt := req.PromptTokens
	cost := func(m Model) (int64, int) {
		warm := 0
		if cachesPrefixes(m, req) {
			warm = s.warm.warmTokens(in.TenantID, m.ID, req.Prompt.Prefixes)
		}
		return int64(m.WarmInputCost(prompt, warm)) + int64(out)*int64(m.OutputPrice), warm
	}
	best, bestWarm := chosen, 0
	bestCost, chosenWarm := cost(chosen)
	bestWarm = chosenWarm
	for _, id := range p.Tiers[t] {
		m, ok := cat.Lookup(id)
		if !ok || id == chosen.ID || !s.available(m) || !f.servedBy(m) {
			continue
		}
		if c, warm := cost(m); warm > 0 && c < bestCost {
			best, bestCost, bestWarm = m, c, warm
		}
	}
	if best.ID == chosen.ID {
		return chosen, ""
	}
	return best, fmt.Sprintf("%s prompt cache warm for %d tokens, cheaper than %s", best.ID, bestWarm, chosen.ID)
}

// withWarmCache applies preferWarm to an "auto" decision: the model may change
// within its tier, the explanation says why, and the fallbacks follow.
func (s *Selector) withWarmCache(cat *Catalog, p Policy, f Features, in SelectInput, d Decision) Decision {
	m, why := s.preferWarm(cat, p, f, in, d.Tier, d.Model)
	if why == "" {
		return d
	}
	d.Model, d.Explanation = m, d.Explanation+"; "+why
	d.Fallbacks = s.fallbacks(cat, p, f, d.Tier, m.ID, p.maxFallbacks())
	return d
}
