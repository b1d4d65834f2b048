package routing

import (
	"sync"
	"time"
)

// OpenAI's automatic prompt caching, as the simulated provider reproduces it:
// a prompt whose first 1,024 or more tokens repeat a prompt the same model saw
// within the last few minutes (5–10 minutes of inactivity; up to an hour off
// peak) reports the repeated part as prompt_tokens_details.cached_tokens, in
// steps of 128 tokens.
const (
	// PromptCacheMinTokens is the shortest prefix OpenAI caches.
	PromptCacheMinTokens = 1024
	// PromptCacheStep is the granularity of cached_tokens.
	PromptCacheStep = 128
	// PromptCacheTTL is how long a prefix stays warm after its last use.
	PromptCacheTTL = 10 * time.Minute
	// simPromptCacheSize bounds the prefixes the sim remembers.
	simPromptCacheSize = 1 << 16
)

// CachedPrefixTokens is what a prompt cache reports for a prompt of total
// tokens whose first prefix tokens are warm: nothing below the minimum, else
// the warm part rounded down to a whole step.
func CachedPrefixTokens(prefix, total int) int {
	prefix = min(prefix, total)
	if prefix < PromptCacheMinTokens {
		return 0
	}
	return prefix / PromptCacheStep * PromptCacheStep
}

// PromptCache is OpenAI's automatic prompt caching for any simulated upstream:
// the simulated provider reports its cached tokens through one, and so does
// the routing bench's loopback upstream, so both cache alike. It is safe for
// concurrent use.
type PromptCache struct {
	est   *Estimator
	clock func() time.Time
	cache simPromptCache
}

// NewPromptCache builds a prompt cache that counts prompts with est (exactly,
// as a provider does) on clock (nil means time.Now).
func NewPromptCache(est *Estimator, clock func() time.Time) *PromptCache {
	if clock == nil {
		clock = time.Now
	}
	return &PromptCache{est: est, clock: clock}
}

// Use returns the prompt tokens of req on model and the part a provider
// reports as prompt_tokens_details.cached_tokens: the longest prefix of 1,024
// tokens or more (whole messages) that model saw within PromptCacheTTL, in
// steps of PromptCacheStep. It marks every prefix of req as seen.
func (c *PromptCache) Use(model string, req *ChatRequest) (prompt, cached int) {
	count := c.est.count(model, req, true)
	return count.Tokens, CachedPrefixTokens(c.cache.use(model, count.Prefixes, c.clock()), count.Tokens)
}

type simCacheKey struct {
	model string
	hash  uint64
}

// simPromptCache remembers which prompt prefixes each model saw and when, at
// message granularity: a prefix is warm when the same messages, in order, were
// the start of an earlier prompt to the same model.
type simPromptCache struct {
	mu   sync.Mutex
	seen map[simCacheKey]time.Time
}

// use returns the warm prefix of prompt on model at now (in tokens) and marks
// every prefix of prompt as used.
func (c *simPromptCache) use(model string, prefixes []PromptPrefix, now time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = make(map[simCacheKey]time.Time)
	}
	warm := 0
	for i := len(prefixes) - 1; i >= 0; i-- {
		if at, ok := c.seen[simCacheKey{model, prefixes[i].Hash}]; ok && now.Sub(at) < PromptCacheTTL {
			warm = prefixes[i].Tokens
			break
		}
	}
	if len(c.seen)+len(prefixes) > simPromptCacheSize {
		for k, at := range c.seen {
			if now.Sub(at) >= PromptCacheTTL || len(c.seen) > simPromptCacheSize/2 {
				delete(c.seen, k)
			}
		}
	}
	for _, p := range prefixes {
		if p.Tokens >= PromptCacheMinTokens {
			c.seen[simCacheKey{model, p.Hash}] = now
		}
	}
	return warm
}
