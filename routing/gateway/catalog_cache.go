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
// the OpenRouter sync when it runs) with the tenant's price overrides on top. The
// overrides are a tenants.SettingsCache (kept for a short TTL, reloaded before
// they expire, so the request path reads no database, and a price changed on
// another instance applies here within the TTL); the layered catalog is rebuilt
// only when the base or the overrides changed.
type CatalogCache struct {
	base      atomic.Pointer[routing.Catalog]
	overrides *tenants.SettingsCache[[]PriceOverride]

	mu    sync.Mutex
	built map[tenants.ID]builtCatalog
}

type builtCatalog struct {
	catalog   *routing.Catalog
	base      *routing.Catalog
	overrides []PriceOverride
}

// NewCatalogCache returns a cache over base with the given TTL (0 means 2s).
func NewCatalogCache(base *routing.Catalog, ttl time.Duration, now func() time.Time) *CatalogCache {
	if now == nil {
		now = time.Now
	}
	c := &CatalogCache{overrides: tenants.NewSettingsCache(ttl, now, LoadPriceOverrides), built: map[tenants.ID]builtCatalog{}}
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
	overrides, err := c.overrides.For(ctx, h)
	if err != nil {
		return nil, err
	}
	id, base := h.TenantID(), c.base.Load()
	c.mu.Lock()
	b, ok := c.built[id]
	c.mu.Unlock()
	if ok && b.base == base && slices.Equal(b.overrides, overrides) {
		return b.catalog, nil
	}
	cat, err := TenantCatalog(base, overrides)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.built[id] = builtCatalog{catalog: cat, base: base, overrides: overrides}
	c.mu.Unlock()
	return cat, nil
}

// Invalidate drops a tenant's cached overrides (its prices changed here); the
// next For loads them and rebuilds the catalog if they differ.
func (c *CatalogCache) Invalidate(id tenants.ID) { c.overrides.Invalidate(id) }

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
