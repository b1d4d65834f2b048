package budget

import (
	"context"
	"time"

	"github.com/tollgate-dev/tollgate/tenants"
)

// Cache keeps each tenant's budgets in memory for a short TTL, so the request path
// reads no database. A change through this process invalidates at once; other
// replicas see it within the TTL (the counters themselves are shared and exact).
// A database blip keeps the last known budgets in force. For and Invalidate come
// from tenants.SettingsCache, which also reloads entries before they expire.
type Cache struct {
	*tenants.SettingsCache[[]Budget]
}

// NewCache returns a cache with the given TTL (0 means 2s).
func NewCache(ttl time.Duration, now func() time.Time) *Cache {
	return &Cache{tenants.NewSettingsCache(ttl, now, List)}
}

// Follow drops a tenant's cached budgets as soon as the change feed says they
// changed (a rotated key's successor joined its key budgets), on every instance.
func (c *Cache) Follow(feed *tenants.ChangeFeed) {
	feed.Subscribe(func(_ context.Context, ch tenants.Change) {
		if ch.Kind == tenants.ChangeBudgets {
			c.Invalidate(tenants.ID(ch.Ref))
		}
	})
}
