package routing

import (
	"hash/maphash"
	"strings"
	"sync"
)

// Texts are counted exactly (token_bpe.go), and the regexp2 pre-tokenizer
// costs ~2 µs for "Say ok", ~55 µs for a 200-byte system prompt and ~300 ns a
// byte beyond: the largest share of the gateway's own work. The same texts
// recur (system prompts, canned messages, and above all a conversation's
// history, resent with every turn), so their counts are remembered: short texts
// by their text, long ones by a 64-bit hash (keyed per process) and length.
const (
	// tokenCacheMaxText is the longest text remembered by its text, in bytes; it
	// bounds that map's memory together with tokenCacheSize (~1.5 MB at most).
	tokenCacheMaxText = 256
	// tokenCacheSize is how many short texts are remembered per process.
	tokenCacheSize = 4096
	// tokenCacheLongSize is how many long texts are remembered per process
	// (32 bytes an entry: ~2 MB at most), enough for the live conversations of
	// a busy replica.
	tokenCacheLongSize = 1 << 16
)

type tokenCacheKey struct {
	o200k bool
	text  string
}

type tokenCacheLongKey struct {
	o200k bool
	hash  uint64
	n     int
}

// tokenCache maps texts to their exact token counts. It is safe for concurrent
// use; when a map is full it forgets a quarter of its entries (Go's map
// iteration order makes that a random choice).
type tokenCache struct {
	seed maphash.Seed
	mu   sync.RWMutex
	m    map[tokenCacheKey]int
	long map[tokenCacheLongKey]int
}

func newTokenCache() *tokenCache {
	return &tokenCache{seed: maphash.MakeSeed(), m: make(map[tokenCacheKey]int, tokenCacheSize),
		long: make(map[tokenCacheLongKey]int)}
}

func (c *tokenCache) longKey(o200k bool, text string) tokenCacheLongKey {
	return tokenCacheLongKey{o200k, maphash.String(c.seed, text), len(text)}
}

func (c *tokenCache) get(o200k bool, text string) (int, bool) {
	if c == nil {
		return 0, false
	}
	if len(text) > tokenCacheMaxText {
		k := c.longKey(o200k, text)
		c.mu.RLock()
		n, ok := c.long[k]
		c.mu.RUnlock()
		return n, ok
	}
	c.mu.RLock()
	n, ok := c.m[tokenCacheKey{o200k, text}]
	c.mu.RUnlock()
	return n, ok
}

func (c *tokenCache) put(o200k bool, text string, n int) {
	if c == nil {
		return
	}
	if len(text) > tokenCacheMaxText {
		k := c.longKey(o200k, text)
		c.mu.Lock()
		defer c.mu.Unlock()
		evictQuarter(c.long, tokenCacheLongSize)
		c.long[k] = n
		return
	}
	// A copy, so that the key never pins a larger string it was cut from.
	k := tokenCacheKey{o200k, strings.Clone(text)}
	c.mu.Lock()
	defer c.mu.Unlock()
	evictQuarter(c.m, tokenCacheSize)
	c.m[k] = n
}

// evictQuarter drops a quarter of m's entries when it holds size or more.
func evictQuarter[K comparable](m map[K]int, size int) {
	if len(m) < size {
		return
	}
	drop := size / 4
	for old := range m {
		if drop == 0 {
			break
		}
		delete(m, old)
		drop--
	}
}
