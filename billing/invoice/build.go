package invoice

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// BuildInput is everything Build needs: who, which month, what they used, and how
// they pay.
type BuildInput struct {
	// TenantID is the billed tenant. Required.
	TenantID string `json:"tenant_id"`
	// Period is the billed month, "YYYY-MM". Required.
	Period string `json:"period"`
	// Usage holds one aggregate per model; models must be unique. Empty means a
	// month without usage (the invoice then bills only the platform fee, if any).
	Usage []Usage `json:"usage"`
	// Plan is the tenant's pricing.
	Plan Plan `json:"plan"`
}

// Validate reports every problem with the input at once, as an errkind.Invalid error.
func (in BuildInput) Validate() error {
	var errs []error
	if in.TenantID == "" {
		errs = append(errs, errors.New("tenant_id: required"))
	}
	if !ValidPeriod(in.Period) {
		errs = append(errs, fmt.Errorf("period: want YYYY-MM, got %q", in.Period))
	}
	seen := make(map[string]bool, len(in.Usage))
	lineIDs := make(map[string]string, len(in.Usage))
	for i, u := range in.Usage {
		prefix := fmt.Sprintf("usage[%d]", i)
		if u.Model == "" {
			errs = append(errs, fmt.Errorf("%s.model: required", prefix))
		} else if seen[u.Model] {
			errs = append(errs, fmt.Errorf("%s.model: %q appears twice", prefix, u.Model))
		} else if other, ok := lineIDs[LineID(u.Model)]; ok {
			errs = append(errs, fmt.Errorf("%s.model: %q has the same line id as %q", prefix, u.Model, other))
		}
		seen[u.Model] = true
		lineIDs[LineID(u.Model)] = u.Model
		if u.Requests < 0 || u.InputTokens < 0 || u.CachedInputTokens < 0 || u.CacheWriteInputTokens < 0 || u.OutputTokens < 0 {
			errs = append(errs, fmt.Errorf("%s: counts must be >= 0", prefix))
		}
		if u.ProviderCost < 0 {
			errs = append(errs, fmt.Errorf("%s.provider_cost_nano: must be >= 0", prefix))
		}
	}
	if err := in.Plan.validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return errkind.Wrap(errkind.Invalid, errors.Join(errs...), "invalid invoice input")
	}
	return nil
}

// Build computes the invoice for in. Lines come out sorted by line id, the
// platform fee last, so the same input always yields the same lines in the same
// order. Each line is rounded half-up to cents exactly once (see the package doc).
// It returns an errkind.Invalid error for bad input or amounts beyond int64.
func Build(in BuildInput) (Invoice, error) {
	if err := in.Validate(); err != nil {
		return Invoice{}, err
	}
	inv := Invoice{TenantID: in.TenantID, Period: in.Period, Currency: CurrencyUSD}

	usage := slices.Clone(in.Usage)
	slices.SortFunc(usage, func(a, b Usage) int { return strings.Compare(LineID(a.Model), LineID(b.Model)) })
	for _, u := range usage {
		charge, how, err := usageCharge(u, in.Plan)
		if err != nil {
			return Invoice{}, err
		}
		inv.Lines = append(inv.Lines, newLine(Line{
			ID:                    LineID(u.Model),
			Kind:                  LineKindUsage,
			Model:                 u.Model,
			Description:           usageDescription(u, in.Period, how),
			Requests:              u.Requests,
			InputTokens:           u.InputTokens,
			CachedInputTokens:     u.CachedInputTokens,
			CacheWriteInputTokens: u.CacheWriteInputTokens,
			OutputTokens:          u.OutputTokens,
			ProviderCost:          u.ProviderCost,
		}, charge))
	}
	if in.Plan.PlatformFee > 0 {
		inv.Lines = append(inv.Lines, newLine(Line{
			ID:          PlatformFeeLineID,
			Kind:        LineKindPlatformFee,
			Description: "Platform fee " + in.Period,
		}, in.Plan.PlatformFee))
	}

	var providerCost, charge, rounding, cents big.Int
	for _, l := range inv.Lines {
		providerCost.Add(&providerCost, big.NewInt(int64(l.ProviderCost)))
		charge.Add(&charge, big.NewInt(int64(l.Charge)))
		rounding.Add(&rounding, big.NewInt(int64(l.RoundingNano)))
		cents.Add(&cents, big.NewInt(l.AmountCents))
	}
	// The nano-USD total of the rounded amounts must fit too, or RoundingNano lies.
	var totalNano big.Int
	totalNano.Mul(&cents, big.NewInt(int64(billing.NanoPerCent)))
	for _, v := range []*big.Int{&providerCost, &charge, &rounding, &totalNano} {
		if !v.IsInt64() {
			return Invoice{}, errkind.New(errkind.Invalid, "invoice for tenant %s period %s: total beyond int64 nano-USD", in.TenantID, in.Period)
		}
	}
	inv.ProviderCost = billing.NanoUSD(providerCost.Int64())
	inv.Charge = billing.NanoUSD(charge.Int64())
	inv.RoundingNano = billing.NanoUSD(rounding.Int64())
	inv.TotalCents = cents.Int64()
	return inv, nil
}

// usageDescription is a usage line's text for the customer's invoice.
func usageDescription(u Usage, period, how string) string {
	writes := ""
	if u.CacheWriteInputTokens > 0 {
		writes = fmt.Sprintf(", %d cache-write input", u.CacheWriteInputTokens)
	}
	return fmt.Sprintf("%s usage %s: %d requests, %d input, %d cached input%s, %d output tokens (%s)",
		u.Model, period, u.Requests, u.InputTokens, u.CachedInputTokens, writes, u.OutputTokens, how)
}

// newLine sets the charge and its one rounding on l.
func newLine(l Line, charge billing.NanoUSD) Line {
	l.Charge = charge
	l.AmountCents = RoundHalfUpCents(charge)
	l.RoundingNano = billing.NanoUSD(l.AmountCents)*billing.NanoPerCent - charge
	return l
}

// RoundHalfUpCents rounds a non-negative nano-USD amount to whole cents, half a
// cent (5,000,000 nano-USD) rounding up. Negative amounts round half away from
// zero, symmetrically. It never overflows: the result times NanoPerCent can
// exceed int64 only for amounts within half a cent of the int64 limit.
func RoundHalfUpCents(n billing.NanoUSD) int64 {
	per := int64(billing.NanoPerCent)
	v := int64(n)
	q, r := v/per, v%per
	switch {
	case r >= per/2:
		q++
	case r <= -per/2:
		q--
	}
	return q
}

// usageCharge prices one model's usage: at the plan's fixed prices when the model
// has them, otherwise as provider cost plus markup. Sub-nano fractions (from
// per-million prices or basis points) round half-up to the nano-USD, the ledger's
// own resolution; the money rounding (to cents) happens later, once.
func usageCharge(u Usage, p Plan) (billing.NanoUSD, string, error) {
	var exact, den big.Int
	var how string
	if mp, ok := p.ModelPrices[u.Model]; ok {
		write := mp.CacheWriteInputPerMillion
		if write == 0 {
			write = mp.InputPerMillion
		}
		exact.Add(mul(u.InputTokens, int64(mp.InputPerMillion)), mul(u.CachedInputTokens, int64(mp.CachedInputPerMillion)))
		exact.Add(&exact, mul(u.CacheWriteInputTokens, int64(write)))
		exact.Add(&exact, mul(u.OutputTokens, int64(mp.OutputPerMillion)))
		den.SetInt64(1_000_000)
		how = "plan prices"
	} else {
		exact.Set(mul(int64(u.ProviderCost), BasisPointsPerWhole+p.MarkupBasisPoints))
		den.SetInt64(BasisPointsPerWhole)
		how = "provider cost + " + basisPointsString(p.MarkupBasisPoints)
	}
	// Half-up for non-negative values: floor((2·exact + den) / (2·den)).
	exact.Mul(&exact, big.NewInt(2)).Add(&exact, &den)
	den.Mul(&den, big.NewInt(2))
	exact.Quo(&exact, &den)
	if !exact.IsInt64() {
		return 0, "", errkind.New(errkind.Invalid, "charge for model %q beyond int64 nano-USD", u.Model)
	}
	return billing.NanoUSD(exact.Int64()), how, nil
}

func mul(a, b int64) *big.Int {
	return new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
}

// basisPointsString formats basis points as a percentage: 2500 → "25%", 1250 → "12.5%".
func basisPointsString(bp int64) string {
	whole, frac := bp/100, bp%100
	if frac == 0 {
		return fmt.Sprintf("%d%% markup", whole)
	}
	return strings.TrimRight(fmt.Sprintf("%d.%02d", whole, frac), "0") + "% markup"
}
