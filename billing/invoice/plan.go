package invoice

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/tollgate-dev/tollgate/billing"
)

// BasisPointsPerWhole is 100% in basis points: a markup of 2,500 adds 25%.
const BasisPointsPerWhole = 10_000

// Plan is how a tenant is charged for its usage.
//
// A model listed in ModelPrices is charged from its token counts at those prices;
// any other model is charged its provider cost plus MarkupBasisPoints.
type Plan struct {
	// MarkupBasisPoints is the markup on provider cost, in basis points (1/100 of a
	// percent): 0 charges the provider cost as is, 2,500 adds 25%, 10,000 doubles it.
	// Must be ≥ 0. Default 0.
	MarkupBasisPoints int64 `json:"markup_basis_points"`
	// ModelPrices are fixed per-model prices, keyed by model name as it appears in
	// the ledger. nil or empty means every model is charged by markup.
	ModelPrices map[string]ModelPrice `json:"model_prices,omitempty"`
	// PlatformFee is a flat monthly fee in nano-USD, billed as its own line even in a
	// month without usage. 0 (default) means no fee line.
	PlatformFee billing.NanoUSD `json:"platform_fee_nano"`
}

// ModelPrice is a model's price in nano-USD per million tokens
// ($2.50 per million input tokens is 2_500_000_000).
type ModelPrice struct {
	// InputPerMillion is the price of a million uncached input tokens, nano-USD.
	InputPerMillion billing.NanoUSD `json:"input_per_million_nano"`
	// CachedInputPerMillion is the price of a million cached input tokens, nano-USD.
	// 0 means cached tokens are free.
	CachedInputPerMillion billing.NanoUSD `json:"cached_input_per_million_nano"`
	// CacheWriteInputPerMillion is the price of a million input tokens written
	// to the prompt cache, nano-USD. 0 means InputPerMillion.
	CacheWriteInputPerMillion billing.NanoUSD `json:"cache_write_input_per_million_nano,omitempty"`
	// OutputPerMillion is the price of a million output tokens, nano-USD.
	OutputPerMillion billing.NanoUSD `json:"output_per_million_nano"`
}

func (p Plan) validate() error {
	var errs []error
	if p.MarkupBasisPoints < 0 {
		errs = append(errs, fmt.Errorf("plan.markup_basis_points: must be >= 0, got %d", p.MarkupBasisPoints))
	}
	if p.PlatformFee < 0 {
		errs = append(errs, fmt.Errorf("plan.platform_fee_nano: must be >= 0, got %d", p.PlatformFee))
	}
	for _, model := range sortedKeys(p.ModelPrices) {
		mp := p.ModelPrices[model]
		if model == "" {
			errs = append(errs, errors.New("plan.model_prices: model name is empty"))
		}
		if mp.InputPerMillion < 0 || mp.CachedInputPerMillion < 0 || mp.CacheWriteInputPerMillion < 0 || mp.OutputPerMillion < 0 {
			errs = append(errs, fmt.Errorf("plan.model_prices[%q]: prices must be >= 0", model))
		}
	}
	return errors.Join(errs...)
}

// sortedKeys returns m's keys in order, so validation messages are deterministic.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
