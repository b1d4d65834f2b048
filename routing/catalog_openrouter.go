package routing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// OpenRouterProviderName is the registry name synced OpenRouter models use.
const OpenRouterProviderName = "openrouter"

// Tier thresholds for synced models, by output price in nano-USD per token:
// up to $2.50/M is economy, up to $20/M standard, above that premium.
const (
	syncEconomyMaxOutput  billing.NanoUSD = 2_500
	syncStandardMaxOutput billing.NanoUSD = 20_000
)

// ParseUSDPerToken converts a decimal dollar string ("0.0000025") to nano-USD
// without floats. Digits beyond nano precision round up (a price is never
// understated) and exact reports false. Exponents and negative values are
// rejected; OpenRouter uses "-1" for "priced per route", which the caller skips.
func ParseUSDPerToken(s string) (price billing.NanoUSD, exact bool, err error) {
	s = strings.TrimSpace(s)
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || strings.ContainsAny(s, "eE+-") {
		return 0, false, fmt.Errorf("price %q is not a plain non-negative decimal", s)
	}
	var n int64
	for _, c := range whole {
		if c < '0' || c > '9' {
			return 0, false, fmt.Errorf("price %q is not a decimal", s)
		}
		n = n*10 + int64(c-'0')
		if n > 1_000_000 {
			return 0, false, fmt.Errorf("price %q is implausibly high", s)
		}
	}
	exact = true
	var f int64
	for i, c := range frac {
		if c < '0' || c > '9' {
			return 0, false, fmt.Errorf("price %q is not a decimal", s)
		}
		if i < 9 {
			f = f*10 + int64(c-'0')
		} else if c != '0' {
			exact = false
		}
	}
	for i := len(frac); i < 9; i++ {
		f *= 10
	}
	p := n*int64(billing.NanoPerUSD) + f
	if !exact {
		p++
	}
	return billing.NanoUSD(p), exact, nil
}

type openRouterModel struct {
	ID            string `json:"id"`
	ContextLength int    `json:"context_length"`
	Pricing       struct {
		Prompt         string `json:"prompt"`
		Completion     string `json:"completion"`
		InputCacheRead string `json:"input_cache_read"`
	} `json:"pricing"`
	TopProvider struct {
		MaxCompletionTokens *int `json:"max_completion_tokens"`
	} `json:"top_provider"`
	Architecture struct {
		InputModalities []string `json:"input_modalities"`
	} `json:"architecture"`
	SupportedParameters []string `json:"supported_parameters"`
}

// ParseOpenRouterModels converts OpenRouter's /api/v1/models document into
// catalog entries (provider "openrouter", id and upstream id = OpenRouter's id,
// tier from the output price). Models with variable or unparsable pricing are
// skipped and reported in skipped.
func ParseOpenRouterModels(r io.Reader) (models []Model, skipped []string, err error) {
	var doc struct {
		Data []openRouterModel `json:"data"`
	}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, nil, errkind.Wrap(errkind.Invalid, err, "OpenRouter models document is not valid JSON")
	}
	for _, om := range doc.Data {
		in, inExact, err1 := ParseUSDPerToken(om.Pricing.Prompt)
		out, outExact, err2 := ParseUSDPerToken(om.Pricing.Completion)
		if om.ID == "" || err1 != nil || err2 != nil {
			skipped = append(skipped, om.ID)
			continue
		}
		m := Model{ID: om.ID, Provider: OpenRouterProviderName, UpstreamID: om.ID,
			InputPrice: in, OutputPrice: out, ContextWindow: om.ContextLength,
			PriceRounded: !inExact || !outExact}
		if om.Pricing.InputCacheRead != "" {
			if c, ok, err := ParseUSDPerToken(om.Pricing.InputCacheRead); err == nil {
				m.CachedInputPrice = c
				m.PriceRounded = m.PriceRounded || !ok
			}
		}
		if om.TopProvider.MaxCompletionTokens != nil {
			m.MaxOutputTokens = *om.TopProvider.MaxCompletionTokens
		}
		if m.MaxOutputTokens == 0 {
			m.MaxOutputTokens = om.ContextLength
		}
		switch {
		case out <= syncEconomyMaxOutput:
			m.Tier = TierEconomy
		case out <= syncStandardMaxOutput:
			m.Tier = TierStandard
		default:
			m.Tier = TierPremium
		}
		m.Capabilities = Capabilities{
			Tools:  slices.Contains(om.SupportedParameters, "tools"),
			JSON:   slices.Contains(om.SupportedParameters, "response_format") || slices.Contains(om.SupportedParameters, "structured_outputs"),
			Vision: slices.Contains(om.Architecture.InputModalities, "image"),
		}
		models = append(models, m)
	}
	return models, skipped, nil
}

// FetchOpenRouterModels downloads and parses OpenRouter's public model list
// from baseURL ("https://openrouter.ai/api/v1" by default). The caller decides
// when to sync and how to merge (typically as ModelOverrides on the built-in
// catalog); nothing here runs on its own.
func FetchOpenRouterModels(ctx context.Context, client *http.Client, baseURL string) ([]Model, []string, error) {
	if baseURL == "" {
		baseURL = "https://openrouter.ai/api/v1"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(baseURL, "/")+"/models", nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, errkind.Wrap(errkind.Unavailable, err, "cannot reach OpenRouter")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, errkind.Wrap(errkind.Unavailable, errors.New(resp.Status), "OpenRouter model list failed")
	}
	return ParseOpenRouterModels(io.LimitReader(resp.Body, 64<<20))
}

// OverridesFromModels turns synced models into overrides that update prices and
// limits of existing entries with the same upstream id and add the rest.
func OverridesFromModels(base *Catalog, synced []Model) []ModelOverride {
	byUpstream := map[string]string{}
	for _, m := range base.Models() {
		if m.Provider == OpenRouterProviderName {
			byUpstream[m.Upstream()] = m.ID
		}
	}
	out := make([]ModelOverride, 0, len(synced))
	for _, s := range synced {
		in, cached, outP := s.InputPrice, s.CachedInputPrice, s.OutputPrice
		o := ModelOverride{ID: s.ID, Provider: s.Provider, UpstreamID: s.UpstreamID, InputPrice: &in,
			CachedInputPrice: &cached, OutputPrice: &outP, ContextWindow: s.ContextWindow, MaxOutputTokens: s.MaxOutputTokens}
		if id, ok := byUpstream[s.Upstream()]; ok {
			o.ID = id // keep the built-in's tier and capabilities, refresh prices
		} else {
			o.Tier = s.Tier
			caps := s.Capabilities
			o.Capabilities = &caps
		}
		out = append(out, o)
	}
	return out
}
