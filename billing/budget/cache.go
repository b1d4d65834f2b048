package budget

import (
	"context"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/tenants"
)

// Cache keeps each tenant's budgets in memory for a short TTL, so the request path
// reads no database. A change through this process invalidates at once; other
// replicas see it within the TTL (the counters themselves are shared and exact).
type Cache struct {
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[tenants.ID]cacheEntry
}

type cacheEntry struct {
	budgets []Budget
	fetched time.Time
}

// NewCache returns a cache with the given TTL (0 means 2s).
func NewCache(ttl time.Duration, now func() time.Time) *Cache {
	if ttl <= 0 {
		ttl = 2 * time.Second
	}
	return &Cache{ttl: ttl, now: now, entries: map[tenants.ID]cacheEntry{}}
}

// For returns the tenant's budgets, loading them when stale.
func (c *Cache) For(ctx context.Context, h *tenants.Handle) ([]Budget, error) {
	id := h.TenantID()
	c.mu.Lock()
	e, ok := c.entries[id]
	c.mu.Unlock()
	if ok && c.now().Sub(e.fetched) < c.ttl {
		return e.budgets, nil
	}
	bs, err := List(ctx, h)
	if err != nil {
		if ok {
			return e.budgets, nil // a database blip keeps the last known budgets in force
		}
		return nil, err
	}
	c.mu.Lock()
	c.entries[id] = cacheEntry{budgets: bs, fetched: c.now()}
	c.mu.Unlock()
	return bs, nil
}

// Invalidate drops a tenant's cached budgets.
func (c *Cache) Invalidate(id tenants.ID) {
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}
