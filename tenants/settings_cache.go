package tenants

import (
	"context"
	"sync"
	"time"
)

// SettingsCache keeps one value per tenant (its budgets, its routing policy) loaded
// from the tenant's schema, so the request path reads no database. A value is
// served for TTL after it was loaded; a change made through this process is seen
// at once (Invalidate), one made on another replica within the TTL.
//
// An entry in the last quarter of its TTL is reloaded in the background by the
// first request that sees it, while that request and the following ones are still
// served the cached value. Under steady traffic an entry therefore never expires:
// no request waits for the database, and the requests arriving during a load no
// longer all query it at once (at 3,000 req/s they did, every TTL, and queued for
// the database pool). With less than one request per quarter TTL, entries expire
// and the next request loads synchronously, as before.
type SettingsCache[V any] struct {
	ttl  time.Duration
	now  func() time.Time
	load func(context.Context, *Handle) (V, error)

	mu      sync.Mutex
	entries map[ID]settingsEntry[V]
}

type settingsEntry[V any] struct {
	value      V
	fetched    time.Time
	refreshing bool
}

// NewSettingsCache returns a cache that loads with load and serves a value for ttl
// (0 means 2s). now is the clock, usually time.Now.
func NewSettingsCache[V any](ttl time.Duration, now func() time.Time, load func(context.Context, *Handle) (V, error)) *SettingsCache[V] {
	if ttl <= 0 {
		ttl = 2 * time.Second
	}
	return &SettingsCache[V]{ttl: ttl, now: now, load: load, entries: map[ID]settingsEntry[V]{}}
}

// For returns the tenant's value, loading it when it is older than the TTL. A
// failed load keeps the last known value in force.
func (c *SettingsCache[V]) For(ctx context.Context, h *Handle) (V, error) {
	id := h.TenantID()
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[id]
	age := now.Sub(e.fetched)
	fresh := ok && age < c.ttl
	if fresh && !e.refreshing && age >= c.ttl-c.ttl/4 {
		e.refreshing = true
		c.entries[id] = e
		// Detached from the request: it may finish first, and the load is shared.
		go c.refresh(context.WithoutCancel(ctx), h, e.fetched)
	}
	c.mu.Unlock()
	if fresh {
		return e.value, nil
	}
	v, err := c.load(ctx, h)
	if err != nil {
		if ok {
			return e.value, nil
		}
		return v, err
	}
	c.mu.Lock()
	c.entries[id] = settingsEntry[V]{value: v, fetched: c.now()}
	c.mu.Unlock()
	return v, nil
}

// refresh reloads an entry fetched at was, unless it was invalidated or replaced
// meanwhile (then what this load read may predate the change).
func (c *SettingsCache[V]) refresh(ctx context.Context, h *Handle, was time.Time) {
	ctx, cancel := context.WithTimeout(ctx, c.ttl)
	defer cancel()
	v, err := c.load(ctx, h)
	id := h.TenantID()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || !e.fetched.Equal(was) {
		return
	}
	if err != nil {
		// Served until it expires; the request path then loads (and reports) itself.
		e.refreshing = false
		c.entries[id] = e
		return
	}
	c.entries[id] = settingsEntry[V]{value: v, fetched: c.now()}
}

// Invalidate drops a tenant's cached value; the next For loads it.
func (c *SettingsCache[V]) Invalidate(id ID) {
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}
