package routing

import (
	"strings"
	"sync"
)

// Short texts are counted exactly with tiktoken-go, whose regexp2 pre-tokenizer
// costs ~2 µs for "Say ok" and ~55 µs, 240 allocations and 19 KB of garbage for
// a 200-byte system prompt: the largest share of the gateway's own work on
// short chats. The same short texts recur (system prompts, canned messages), so
// their counts are remembered.
const (
	// tokenCacheMaxText is the longest text remembered, in bytes; it bounds the
	// cache's memory together with tokenCacheSize (~1.5 MB at most).
	tokenCacheMaxText = 256
	// tokenCacheSize is how many texts are remembered per process.
	tokenCacheSize = 4096
)

type tokenCacheKey struct {
	o200k bool
	text  string
}

// tokenCache maps short texts to their exact token counts. It is safe for
// concurrent use; when full it forgets a quarter of its entries (Go's map
// iteration order makes that a random choice).
type tokenCache struct {
	mu sync.RWMutex
	m  map[tokenCacheKey]int
}

func newTokenCache() *tokenCache {
	return &tokenCache{m: make(map[tokenCacheKey]int, tokenCacheSize)}
}

func (c *tokenCache) get(o200k bool, text string) (int, bool) {
	if c == nil || len(text) > tokenCacheMaxText {
		return 0, false
	}
	c.mu.RLock()
	n, ok := c.m[tokenCacheKey{o200k, text}]
	c.mu.RUnlock()
	return n, ok
}

func (c *tokenCache) put(o200k bool, text string, n int) {
	if c == nil || len(text) > tokenCacheMaxText {
		return
	}
	// A copy, so that the key never pins a larger string it was cut from.
	k := tokenCacheKey{o200k, strings.Clone(text)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= tokenCacheSize {
		drop := tokenCacheSize / 4
		for old := range c.m {
			if drop == 0 {
				break
			}
			delete(c.m, old)
			drop--
		}
	}
	c.m[k] = n
}
