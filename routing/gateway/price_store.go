package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/tenants"
)

// maxPricePerMillion bounds an override ($10,000 per million tokens, 133x the
// priciest catalog model) so a typo cannot overflow a reservation.
const maxPricePerMillion = 10_000 * billing.NanoPerUSD

// PriceOverride is a tenant's negotiated price for one model, in nano-USD per
// token. It replaces the catalog's prices for that tenant's selection,
// reservations and settlement.
type PriceOverride struct {
	// Model is the catalog model id.
	Model string
	// Input and Output are nano-USD per token.
	Input  billing.NanoUSD
	Output billing.NanoUSD
	// CachedInput is nano-USD per cached input token; 0 means cached tokens are
	// billed at Input (the catalog's convention).
	CachedInput billing.NanoUSD
	// CacheWrite is nano-USD per input token written to the prompt cache; 0
	// means Input (the catalog's convention).
	CacheWrite billing.NanoUSD
	// UpdatedAt is when the override was last set (UTC).
	UpdatedAt time.Time
}

// ModelOverride is the catalog layer the override stands for.
func (o PriceOverride) ModelOverride() routing.ModelOverride {
	in, cached, write, out := o.Input, o.CachedInput, o.CacheWrite, o.Output
	return routing.ModelOverride{ID: o.Model, InputPrice: &in, CachedInputPrice: &cached, CacheWritePrice: &write, OutputPrice: &out}
}

// SetPriceInput sets a tenant's price for a model from per-million-token dollar
// strings, the form providers publish and contracts state.
type SetPriceInput struct {
	// Model is the catalog model id.
	Model string
	// InputPerMillionUSD and OutputPerMillionUSD are required ("2.50").
	InputPerMillionUSD  string
	OutputPerMillionUSD string
	// CachedInputPerMillionUSD is optional; empty or "0" bills cached input
	// tokens at the input price.
	CachedInputPerMillionUSD string
	// CacheWritePerMillionUSD is optional; empty or "0" bills cache writes at
	// the input price.
	CacheWritePerMillionUSD string
}

// perToken converts a per-million dollar string to whole nano-USD per token.
// Prices are stored per token, so a per-million price must be a multiple of
// $0.001 (1 nano-USD per token); anything finer is refused rather than rounded,
// so the tenant is billed exactly what was agreed.
func perToken(field, s string) (billing.NanoUSD, error) {
	n, err := billing.ParseUSD(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", field, err)
	}
	switch {
	case n < 0:
		return 0, fmt.Errorf("%s must not be negative", field)
	case n > maxPricePerMillion:
		return 0, fmt.Errorf("%s must be at most 10000 (USD per million tokens)", field)
	case n%1_000_000 != 0:
		return 0, fmt.Errorf("%s %q is finer than $0.001 per million tokens (1 nano-USD per token), the precision prices are kept in; round it to 3 decimals", field, s)
	}
	return n / 1_000_000, nil
}

// Validate parses every price and reports every problem, wrapping errkind.Invalid.
func (in SetPriceInput) Validate() (PriceOverride, error) {
	var problems []error
	o := PriceOverride{Model: in.Model}
	if in.Model == "" {
		problems = append(problems, errors.New("model is required"))
	}
	var err error
	if in.InputPerMillionUSD == "" {
		problems = append(problems, errors.New("input_per_million_usd is required"))
	} else if o.Input, err = perToken("input_per_million_usd", in.InputPerMillionUSD); err != nil {
		problems = append(problems, err)
	}
	if in.OutputPerMillionUSD == "" {
		problems = append(problems, errors.New("output_per_million_usd is required"))
	} else if o.Output, err = perToken("output_per_million_usd", in.OutputPerMillionUSD); err != nil {
		problems = append(problems, err)
	}
	if in.CachedInputPerMillionUSD != "" {
		if o.CachedInput, err = perToken("cached_input_per_million_usd", in.CachedInputPerMillionUSD); err != nil {
			problems = append(problems, err)
		}
	}
	if in.CacheWritePerMillionUSD != "" {
		if o.CacheWrite, err = perToken("cache_write_per_million_usd", in.CacheWritePerMillionUSD); err != nil {
			problems = append(problems, err)
		}
	}
	if err := errkind.JoinInvalid("invalid price", problems); err != nil {
		return PriceOverride{}, err
	}
	return o, nil
}

type priceRow struct {
	Model      string `gorm:"primaryKey"`
	InputNano  int64
	CachedNano int64
	// CacheWriteNano is the column added by tenant migration 00005.
	CacheWriteNano int64
	OutputNano     int64
	UpdatedAt      time.Time
}

func (priceRow) TableName() string { return "model_prices" }

// LoadPriceOverrides returns the tenant's overrides sorted by model.
func LoadPriceOverrides(ctx context.Context, h *tenants.Handle) ([]PriceOverride, error) {
	var rows []priceRow
	if err := h.Read(ctx, func(db *gorm.DB) error { return db.Order("model").Find(&rows).Error }); err != nil {
		return nil, err
	}
	out := make([]PriceOverride, len(rows))
	for i, r := range rows {
		out[i] = PriceOverride{Model: r.Model, Input: billing.NanoUSD(r.InputNano), CachedInput: billing.NanoUSD(r.CachedNano),
			CacheWrite: billing.NanoUSD(r.CacheWriteNano), Output: billing.NanoUSD(r.OutputNano), UpdatedAt: r.UpdatedAt.UTC()}
	}
	return out, nil
}

// SavePriceOverride stores (or replaces) the tenant's price for o.Model. The
// caller checks that the model is in the catalog.
func SavePriceOverride(ctx context.Context, h *tenants.Handle, o PriceOverride) (PriceOverride, error) {
	o.UpdatedAt = time.Now().UTC()
	err := h.Tx(ctx, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO model_prices (model, input_nano, cached_nano, cache_write_nano, output_nano, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (model) DO UPDATE SET input_nano = excluded.input_nano, cached_nano = excluded.cached_nano,
			cache_write_nano = excluded.cache_write_nano, output_nano = excluded.output_nano, updated_at = excluded.updated_at`,
			o.Model, int64(o.Input), int64(o.CachedInput), int64(o.CacheWrite), int64(o.Output), o.UpdatedAt).Error
	})
	return o, err
}

// DeletePriceOverride removes the tenant's price for model; NotFound when it has none.
func DeletePriceOverride(ctx context.Context, h *tenants.Handle, model string) error {
	var n int64
	err := h.Tx(ctx, func(tx *gorm.DB) error {
		res := tx.Where("model = ?", model).Delete(&priceRow{})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return errkind.New(errkind.NotFound, "model %s has no price override", model)
	}
	return nil
}
