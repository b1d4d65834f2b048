package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/routing"
)

// perMillion is how many tokens a listed price covers.
const perMillion = 1_000_000

type catalogModelDTO struct {
	ID       string `json:"id"`
	Provider string `json:"provider"`
	Tier     string `json:"tier"`
	// Enabled is true when a configured provider serves the model.
	Enabled bool `json:"enabled"`
	// Prices per million tokens, nano-USD and USD.
	InputPerMillionNano       int64                `json:"input_per_million_nano"`
	InputPerMillionUSD        string               `json:"input_per_million_usd"`
	CachedInputPerMillionNano int64                `json:"cached_input_per_million_nano"`
	CachedInputPerMillionUSD  string               `json:"cached_input_per_million_usd"`
	OutputPerMillionNano      int64                `json:"output_per_million_nano"`
	OutputPerMillionUSD       string               `json:"output_per_million_usd"`
	ContextWindow             int                  `json:"context_window"`
	MaxOutputTokens           int                  `json:"max_output_tokens"`
	Capabilities              routing.Capabilities `json:"capabilities"`
	Embedding                 bool                 `json:"embedding"`
	// Override holds tenant-specific prices; tenants have none yet (always null).
	Override   *struct{} `json:"override"`
	Overridden bool      `json:"overridden"`
}

func mapCatalogModel(m routing.Model, enabled bool) catalogModelDTO {
	price := func(p billing.NanoUSD) (int64, string) {
		n := p * perMillion
		return int64(n), n.USDString()
	}
	out := catalogModelDTO{ID: m.ID, Provider: m.Provider, Tier: string(m.Tier), Enabled: enabled, ContextWindow: m.ContextWindow,
		MaxOutputTokens: m.MaxOutputTokens, Capabilities: m.Capabilities, Embedding: m.Embedding}
	out.InputPerMillionNano, out.InputPerMillionUSD = price(m.InputPrice)
	cached := m.CachedInputPrice
	if cached == 0 {
		cached = m.InputPrice
	}
	out.CachedInputPerMillionNano, out.CachedInputPerMillionUSD = price(cached)
	out.OutputPerMillionNano, out.OutputPerMillionUSD = price(m.OutputPrice)
	return out
}

// listModels: GET /api/v1/tenants/{tenant}/models?q=. The whole catalog (it is
// small: one page, next_cursor always empty), sorted by id; q filters on id,
// provider and tier.
func (a *Admin) listModels(c *gin.Context) error {
	if _, err := principal(c); err != nil {
		return err
	}
	q := strings.ToLower(strings.TrimSpace(c.Query("q")))
	out := listResponse[catalogModelDTO]{Data: []catalogModelDTO{}}
	for _, m := range a.d.Catalog.Models() {
		if q != "" && !strings.Contains(strings.ToLower(m.ID+" "+m.Provider+" "+string(m.Tier)), q) {
			continue
		}
		out.Data = append(out.Data, mapCatalogModel(m, a.d.Available(m)))
	}
	c.JSON(http.StatusOK, out)
	return nil
}
