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
// A database blip keeps the last known budgets in force. For and Invalidate come
// from tenants.SettingsCache, which also reloads entries before they expire.
type Cache struct {
	*tenants.SettingsCache[[]Budget]

	mu     sync.Mutex
	onLoad func(ctx context.Context, h *tenants.Handle, bs []Budget)
}

// NewCache returns a cache with the given TTL (0 means 2s).
func NewCache(ttl time.Duration, now func() time.Time) *Cache {
	c := &Cache{}
	c.SettingsCache = tenants.NewSettingsCache(ttl, now, c.load)
	return c
}

func (c *Cache) load(ctx context.Context, h *tenants.Handle) ([]Budget, error) {
	bs, err := List(ctx, h)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	fn := c.onLoad
	c.mu.Unlock()
	if fn != nil {
		fn(ctx, h, bs)
	}
	return bs, nil
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
