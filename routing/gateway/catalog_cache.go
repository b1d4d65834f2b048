package gateway

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/tenants"
)

// CatalogCache serves each tenant's catalog: the base catalog (built-in, plus
// the OpenRouter sync when it runs) with the tenant's price overrides on top. It
// keeps them in memory for a short TTL like PolicyCache, so the request path
// reads the database at most once per TTL per tenant, and a price changed on
// another instance applies here within the TTL.
type CatalogCache struct {
	ttl  time.Duration
	now  func() time.Time
	base atomic.Pointer[routing.Catalog]

	mu      sync.Mutex
	entries map[tenants.ID]catalogEntry
}

type catalogEntry struct {
	catalog   *routing.Catalog
	base      *routing.Catalog
	overrides []PriceOverride
	fetched   time.Time
}

// NewCatalogCache returns a cache over base with the given TTL (0 means 2s).
func NewCatalogCache(base *routing.Catalog, ttl time.Duration, now func() time.Time) *CatalogCache {
	if ttl <= 0 {
		ttl = 2 * time.Second
	}
	if now == nil {
		now = time.Now
	}
	c := &CatalogCache{ttl: ttl, now: now, entries: map[tenants.ID]catalogEntry{}}
	c.base.Store(base)
	return c
}

// Base returns the catalog every tenant starts from.
func (c *CatalogCache) Base() *routing.Catalog { return c.base.Load() }

// SetBase replaces the base catalog (the OpenRouter sync); tenants' catalogs are
// rebuilt on their next use.
func (c *CatalogCache) SetBase(base *routing.Catalog) { c.base.Store(base) }

// For returns the tenant's catalog. A database error keeps the last known
// overrides in force (layered on the current base).
func (c *CatalogCache) For(ctx context.Context, h *tenants.Handle) (*routing.Catalog, error) {
	id, base := h.TenantID(), c.base.Load()
	c.mu.Lock()
	e, ok := c.entries[id]
	c.mu.Unlock()
	if ok && e.base == base && c.now().Sub(e.fetched) < c.ttl {
		return e.catalog, nil
	}
	overrides, err := LoadPriceOverrides(ctx, h)
	if err != nil {
		if !ok {
			return nil, err
		}
		overrides = e.overrides
	}
	cat := e.catalog
	if !ok || e.base != base || !slices.Equal(overrides, e.overrides) {
		if cat, err = TenantCatalog(base, overrides); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	c.entries[id] = catalogEntry{catalog: cat, base: base, overrides: overrides, fetched: c.now()}
	c.mu.Unlock()
	return cat, nil
}

// Invalidate drops a tenant's cached catalog (its prices changed here).
func (c *CatalogCache) Invalidate(id tenants.ID) {
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}

// TenantCatalog layers overrides onto base. Overrides of models the base no
// longer has (a synced model OpenRouter dropped) are ignored.
func TenantCatalog(base *routing.Catalog, overrides []PriceOverride) (*routing.Catalog, error) {
	if len(overrides) == 0 {
		return base, nil
	}
	mos := make([]routing.ModelOverride, 0, len(overrides))
	for _, o := range overrides {
		if _, ok := base.Lookup(o.Model); ok {
			mos = append(mos, o.ModelOverride())
		}
	}
	return base.WithOverrides(mos)
}
