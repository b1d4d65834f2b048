package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
)

// perMillion is how many tokens a listed price covers.
// modelsAPI serves the tenant's model catalog and its price overrides.
type modelsAPI struct {
	registry  *tenants.Registry
	prices    priceCatalog
	available func(routing.Model) bool
	audit     auditor
}

func (a *modelsAPI) register(r adminRoutes) {
	t, id := r.tenant, r.id
	t.GET("/models", id.Authorize(access.ResourceModels, access.ActionRead), h(a.listModels))
	t.PUT("/models/:model/price", id.Authorize(access.ResourceModels, access.ActionWrite), h(a.setModelPrice))
	t.DELETE("/models/:model/price", id.Authorize(access.ResourceModels, access.ActionWrite), h(a.deleteModelPrice))
}

// priceCatalog is the catalog prices are listed and validated against: the
// request path's tenant catalog cache when there is one (its base is built-in
// plus OpenRouter sync), else the static catalog.
type priceCatalog struct {
	static *routing.Catalog
	cache  *gateway.CatalogCache
}

// base is the catalog before tenant price overrides.
func (pc priceCatalog) base() *routing.Catalog {
	if pc.cache != nil {
		return pc.cache.Base()
	}
	return pc.static
}

// invalidate drops the tenant's cached catalog after its prices changed.
func (pc priceCatalog) invalidate(tenant tenants.ID) {
	if pc.cache != nil {
		pc.cache.Invalidate(tenant)
	}
}

const perMillion = 1_000_000

type catalogModelDTO struct {
	ID       string `json:"id"`
	Provider string `json:"provider"`
	Tier     string `json:"tier"`
	// Enabled is true when a configured provider serves the model.
	Enabled bool `json:"enabled"`
	// Prices per million tokens, nano-USD and USD.
	InputPerMillionNano       int64  `json:"input_per_million_nano"`
	InputPerMillionUSD        string `json:"input_per_million_usd"`
	CachedInputPerMillionNano int64  `json:"cached_input_per_million_nano"`
	CachedInputPerMillionUSD  string `json:"cached_input_per_million_usd"`
	// CacheWrite prices input written to the prompt cache (Anthropic: 1.25×
	// input); the input price where the provider charges nothing extra.
	CacheWritePerMillionNano int64                `json:"cache_write_per_million_nano"`
	CacheWritePerMillionUSD  string               `json:"cache_write_per_million_usd"`
	OutputPerMillionNano     int64                `json:"output_per_million_nano"`
	OutputPerMillionUSD      string               `json:"output_per_million_usd"`
	ContextWindow            int                  `json:"context_window"`
	MaxOutputTokens          int                  `json:"max_output_tokens"`
	Capabilities             routing.Capabilities `json:"capabilities"`
	Embedding                bool                 `json:"embedding"`
	// Override holds the tenant's negotiated prices (the prices above already
	// include them); null when the tenant pays catalog prices.
	Override   *priceOverrideDTO `json:"override"`
	Overridden bool              `json:"overridden"`
	// List holds the catalog's list prices when an override replaces them, so a
	// client can show both; null otherwise (the prices above are the list prices).
	List *pricesDTO `json:"list"`
}

// pricesDTO is one model's prices per million tokens, nano-USD and USD.
type pricesDTO struct {
	InputPerMillionNano       int64  `json:"input_per_million_nano"`
	InputPerMillionUSD        string `json:"input_per_million_usd"`
	CachedInputPerMillionNano int64  `json:"cached_input_per_million_nano"`
	CachedInputPerMillionUSD  string `json:"cached_input_per_million_usd"`
	CacheWritePerMillionNano  int64  `json:"cache_write_per_million_nano"`
	CacheWritePerMillionUSD   string `json:"cache_write_per_million_usd"`
	OutputPerMillionNano      int64  `json:"output_per_million_nano"`
	OutputPerMillionUSD       string `json:"output_per_million_usd"`
}

// priceOverrideDTO is a tenant's price for one model, per million tokens.
type priceOverrideDTO struct {
	pricesDTO
	UpdatedAt time.Time `json:"updated_at"`
}

// perMillionPrice is a per-token price scaled to a million tokens, in nano-USD and USD.
func perMillionPrice(p billing.NanoUSD) (int64, string) {
	n := p * perMillion
	return int64(n), n.USDString()
}

// mapListPrices is a catalog model's list prices per million tokens.
func mapListPrices(m routing.Model) *pricesDTO {
	out := &pricesDTO{}
	out.InputPerMillionNano, out.InputPerMillionUSD = perMillionPrice(m.InputPrice)
	out.CachedInputPerMillionNano, out.CachedInputPerMillionUSD = perMillionPrice(m.CachedInputPrice)
	out.CacheWritePerMillionNano, out.CacheWritePerMillionUSD = perMillionPrice(orInput(m.CacheWritePrice, m.InputPrice))
	out.OutputPerMillionNano, out.OutputPerMillionUSD = perMillionPrice(m.OutputPrice)
	return out
}

// orInput is p, or the input price when p is 0 (the catalog's "no separate price").
func orInput(p, input billing.NanoUSD) billing.NanoUSD {
	if p == 0 {
		return input
	}
	return p
}

func mapPriceOverride(o gateway.PriceOverride) *priceOverrideDTO {
	out := &priceOverrideDTO{UpdatedAt: o.UpdatedAt.UTC()}
	out.InputPerMillionNano, out.InputPerMillionUSD = perMillionPrice(o.Input)
	cached := o.CachedInput
	if cached == 0 {
		cached = o.Input
	}
	out.CachedInputPerMillionNano, out.CachedInputPerMillionUSD = perMillionPrice(cached)
	out.CacheWritePerMillionNano, out.CacheWritePerMillionUSD = perMillionPrice(orInput(o.CacheWrite, o.Input))
	out.OutputPerMillionNano, out.OutputPerMillionUSD = perMillionPrice(o.Output)
	return out
}

func mapCatalogModel(m routing.Model, enabled bool) catalogModelDTO {
	price := perMillionPrice
	out := catalogModelDTO{ID: m.ID, Provider: m.Provider, Tier: string(m.Tier), Enabled: enabled, ContextWindow: m.ContextWindow,
		MaxOutputTokens: m.MaxOutputTokens, Capabilities: m.Capabilities, Embedding: m.Embedding}
	out.InputPerMillionNano, out.InputPerMillionUSD = price(m.InputPrice)
	cached := m.CachedInputPrice
	if cached == 0 {
		cached = m.InputPrice
	}
	out.CachedInputPerMillionNano, out.CachedInputPerMillionUSD = price(cached)
	out.CacheWritePerMillionNano, out.CacheWritePerMillionUSD = price(orInput(m.CacheWritePrice, m.InputPrice))
	out.OutputPerMillionNano, out.OutputPerMillionUSD = price(m.OutputPrice)
	return out
}

// listModels: GET /api/v1/tenants/{tenant}/models?q=. The tenant's catalog (it is
// small: one page, next_cursor always empty), sorted by id, with the tenant's
// prices; q filters on id, provider and tier.
func (a *modelsAPI) listModels(c *gin.Context) error {
	_, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	overrides, err := gateway.LoadPriceOverrides(ctx, hd)
	if err != nil {
		return err
	}
	cat, err := gateway.TenantCatalog(a.prices.base(), overrides)
	if err != nil {
		return err
	}
	byModel := make(map[string]gateway.PriceOverride, len(overrides))
	for _, o := range overrides {
		byModel[o.Model] = o
	}
	q := strings.ToLower(strings.TrimSpace(c.Query("q")))
	out := listResponse[catalogModelDTO]{Data: []catalogModelDTO{}}
	for _, m := range cat.Models() {
		if q != "" && !strings.Contains(strings.ToLower(m.ID+" "+m.Provider+" "+string(m.Tier)), q) {
			continue
		}
		dto := mapCatalogModel(m, a.available(m))
		if o, ok := byModel[m.ID]; ok {
			dto.Override, dto.Overridden = mapPriceOverride(o), true
			if base, ok := a.prices.base().Lookup(m.ID); ok {
				dto.List = mapListPrices(base)
			}
		}
		out.Data = append(out.Data, dto)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type setPriceRequest struct {
	InputPerMillionUSD       string `json:"input_per_million_usd"`
	CachedInputPerMillionUSD string `json:"cached_input_per_million_usd"`
	CacheWritePerMillionUSD  string `json:"cache_write_per_million_usd"`
	OutputPerMillionUSD      string `json:"output_per_million_usd"`
}

// setModelPrice: PUT /api/v1/tenants/{tenant}/models/{model}/price. The tenant's
// negotiated price replaces the catalog's for its selection, reservations and
// settlement; this process applies it to the next request, others within 2 s.
func (a *modelsAPI) setModelPrice(c *gin.Context) error {
	p, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	var req setPriceRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	model := c.Param("model")
	base, ok := a.prices.base().Lookup(model)
	if !ok {
		return errkind.New(errkind.NotFound, "model %q is not in the catalog", model)
	}
	o, err := gateway.SetPriceInput{Model: model, InputPerMillionUSD: req.InputPerMillionUSD,
		CachedInputPerMillionUSD: req.CachedInputPerMillionUSD, CacheWritePerMillionUSD: req.CacheWritePerMillionUSD,
		OutputPerMillionUSD: req.OutputPerMillionUSD}.Validate()
	if err != nil {
		return err
	}
	if base.Embedding && o.Output != 0 {
		return errkind.New(errkind.Invalid, "%s is an embeddings model, priced on input only: output_per_million_usd must be 0", model)
	}
	ctx := c.Request.Context()
	if o, err = gateway.SavePriceOverride(ctx, hd, o); err != nil {
		return err
	}
	a.prices.invalidate(p.TenantID())
	after := mapPriceOverride(o)
	a.audit.record(c, p.TenantID(), "model_price.set", model, map[string]any{"input_per_million_usd": after.InputPerMillionUSD,
		"cached_input_per_million_usd": after.CachedInputPerMillionUSD, "cache_write_per_million_usd": after.CacheWritePerMillionUSD,
		"output_per_million_usd": after.OutputPerMillionUSD})
	cat, err := gateway.TenantCatalog(a.prices.base(), []gateway.PriceOverride{o})
	if err != nil {
		return err
	}
	m, _ := cat.Lookup(model)
	dto := mapCatalogModel(m, a.available(m))
	dto.Override, dto.Overridden = after, true
	if base, ok := a.prices.base().Lookup(model); ok {
		dto.List = mapListPrices(base)
	}
	c.JSON(http.StatusOK, dto)
	return nil
}

// deleteModelPrice: DELETE /api/v1/tenants/{tenant}/models/{model}/price. The
// tenant pays catalog prices again; 404 when it had no override.
func (a *modelsAPI) deleteModelPrice(c *gin.Context) error {
	p, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	model := c.Param("model")
	if err := gateway.DeletePriceOverride(c.Request.Context(), hd, model); err != nil {
		return err
	}
	a.prices.invalidate(p.TenantID())
	a.audit.record(c, p.TenantID(), "model_price.delete", model, nil)
	c.Status(http.StatusNoContent)
	return nil
}
