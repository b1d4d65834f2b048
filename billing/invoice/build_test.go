package invoice_test

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/invoice"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

const cent = billing.NanoPerCent

func TestBuild(t *testing.T) {
	t.Parallel()

	type wantLine struct {
		id          string
		charge      billing.NanoUSD
		cents       int64
		roundingNan billing.NanoUSD
	}
	tests := []struct {
		name         string
		usage        []invoice.Usage
		plan         invoice.Plan
		wantLines    []wantLine
		wantTotal    int64
		wantCharge   billing.NanoUSD
		wantRounding billing.NanoUSD
	}{
		{
			name:      "markup 0 charges provider cost",
			usage:     []invoice.Usage{{Model: "gpt-4o", Requests: 10, InputTokens: 1000, OutputTokens: 100, ProviderCost: 123 * cent}},
			wantLines: []wantLine{{"m-gpt-4o", 123 * cent, 123, 0}},
			wantTotal: 123, wantCharge: 123 * cent,
		},
		{
			name:      "25% markup",
			usage:     []invoice.Usage{{Model: "gpt-4o", ProviderCost: 4 * billing.NanoPerUSD}},
			plan:      invoice.Plan{MarkupBasisPoints: 2500},
			wantLines: []wantLine{{"m-gpt-4o", 5 * billing.NanoPerUSD, 500, 0}},
			wantTotal: 500, wantCharge: 5 * billing.NanoPerUSD,
		},
		{
			name:      "exactly half a cent rounds up",
			usage:     []invoice.Usage{{Model: "m", ProviderCost: cent / 2}},
			wantLines: []wantLine{{"m-m", cent / 2, 1, cent / 2}},
			wantTotal: 1, wantCharge: cent / 2, wantRounding: cent / 2,
		},
		{
			name:      "one nano below half a cent rounds down",
			usage:     []invoice.Usage{{Model: "m", ProviderCost: cent/2 - 1}},
			wantLines: []wantLine{{"m-m", cent/2 - 1, 0, -(cent/2 - 1)}},
			wantTotal: 0, wantCharge: cent/2 - 1, wantRounding: -(cent/2 - 1),
		},
		{
			name:      "sub-cent total of 1 nano-USD",
			usage:     []invoice.Usage{{Model: "m", Requests: 1, InputTokens: 1, ProviderCost: 1}},
			wantLines: []wantLine{{"m-m", 1, 0, -1}},
			wantTotal: 0, wantCharge: 1, wantRounding: -1,
		},
		{
			name: "each line rounds on its own, total is the sum of rounded lines",
			usage: []invoice.Usage{
				{Model: "b", ProviderCost: cent * 4 / 10}, // 0.4 cent → 0
				{Model: "a", ProviderCost: cent * 4 / 10}, // 0.4 cent → 0
				{Model: "c", ProviderCost: cent * 6 / 10}, // 0.6 cent → 1
			},
			wantLines: []wantLine{
				{"m-a", cent * 4 / 10, 0, -cent * 4 / 10},
				{"m-b", cent * 4 / 10, 0, -cent * 4 / 10},
				{"m-c", cent * 6 / 10, 1, cent * 4 / 10},
			},
			wantTotal: 1, wantCharge: cent * 14 / 10, wantRounding: -cent * 4 / 10,
		},
		{
			name:      "zero usage month bills only the platform fee",
			plan:      invoice.Plan{MarkupBasisPoints: 2000, PlatformFee: 49 * billing.NanoPerUSD},
			wantLines: []wantLine{{invoice.PlatformFeeLineID, 49 * billing.NanoPerUSD, 4900, 0}},
			wantTotal: 4900, wantCharge: 49 * billing.NanoPerUSD,
		},
		{
			name:      "zero usage and no fee is an empty invoice",
			wantTotal: 0,
		},
		{
			name:  "per-model prices per million tokens",
			usage: []invoice.Usage{{Model: "sim-large", InputTokens: 2_000_000, CachedInputTokens: 1_000_000, OutputTokens: 500_000, ProviderCost: 1}},
			plan: invoice.Plan{ModelPrices: map[string]invoice.ModelPrice{
				"sim-large": {InputPerMillion: 2_500_000_000, CachedInputPerMillion: 1_250_000_000, OutputPerMillion: 10_000_000_000},
			}},
			// 2×2.50 + 1×1.25 + 0.5×10.00 = 11.25 USD
			wantLines: []wantLine{{"m-sim-large", 11_250_000_000, 1125, 0}},
			wantTotal: 1125, wantCharge: 11_250_000_000,
		},
		{
			name: "cache reads and writes at their own per-million prices",
			usage: []invoice.Usage{{Model: "claude-sonnet-4", InputTokens: 1_000_000, CachedInputTokens: 4_000_000,
				CacheWriteInputTokens: 2_000_000, OutputTokens: 100_000, ProviderCost: 1}},
			plan: invoice.Plan{ModelPrices: map[string]invoice.ModelPrice{
				"claude-sonnet-4": {InputPerMillion: 3_000_000_000, CachedInputPerMillion: 300_000_000,
					CacheWriteInputPerMillion: 3_750_000_000, OutputPerMillion: 15_000_000_000},
			}},
			// 1×3.00 + 4×0.30 + 2×3.75 + 0.1×15.00 = 13.20 USD
			wantLines: []wantLine{{"m-claude-sonnet-4", 13_200_000_000, 1320, 0}},
			wantTotal: 1320, wantCharge: 13_200_000_000,
		},
		{
			name:  "cache writes without a write price pay the input price",
			usage: []invoice.Usage{{Model: "sim-large", CacheWriteInputTokens: 2_000_000, ProviderCost: 1}},
			plan: invoice.Plan{ModelPrices: map[string]invoice.ModelPrice{
				"sim-large": {InputPerMillion: 2_500_000_000, CachedInputPerMillion: 1_250_000_000, OutputPerMillion: 10_000_000_000},
			}},
			wantLines: []wantLine{{"m-sim-large", 5_000_000_000, 500, 0}},
			wantTotal: 500, wantCharge: 5_000_000_000,
		},
		{
			name:  "per-million price with sub-nano remainder rounds half-up to the nano first",
			usage: []invoice.Usage{{Model: "sim-small", InputTokens: 3}},
			plan: invoice.Plan{ModelPrices: map[string]invoice.ModelPrice{
				"sim-small": {InputPerMillion: 1_500_000}, // 1.5 nano-USD a token: 3 → 4.5 → 5
			}},
			wantLines: []wantLine{{"m-sim-small", 5, 0, -5}},
			wantTotal: 0, wantCharge: 5, wantRounding: -5,
		},
		{
			name: "priced and marked-up models mix, fee line last",
			usage: []invoice.Usage{
				{Model: "z-model", ProviderCost: 1_000_000_000},
				{Model: "a-model", OutputTokens: 1_000_000, ProviderCost: 7},
			},
			plan: invoice.Plan{
				MarkupBasisPoints: 1250,
				ModelPrices:       map[string]invoice.ModelPrice{"a-model": {OutputPerMillion: 600_000_000}},
				PlatformFee:       1_005_000_000, // $1.005 → 101 cents
			},
			wantLines: []wantLine{
				{"m-a-model", 600_000_000, 60, 0},
				{"m-z-model", 1_125_000_000, 113, 5_000_000},
				{invoice.PlatformFeeLineID, 1_005_000_000, 101, 5_000_000},
			},
			wantTotal: 274, wantCharge: 2_730_000_000, wantRounding: 10_000_000,
		},
		{
			name:      "large provider cost does not overflow the markup product",
			usage:     []invoice.Usage{{Model: "m", ProviderCost: math.MaxInt64 / 20_000}},
			plan:      invoice.Plan{MarkupBasisPoints: 10_000},
			wantLines: []wantLine{{"m-m", math.MaxInt64 / 20_000 * 2, invoice.RoundHalfUpCents(math.MaxInt64 / 20_000 * 2), billing.NanoUSD(invoice.RoundHalfUpCents(math.MaxInt64/20_000*2))*cent - math.MaxInt64/20_000*2}},
			wantTotal: invoice.RoundHalfUpCents(math.MaxInt64 / 20_000 * 2), wantCharge: math.MaxInt64 / 20_000 * 2,
			wantRounding: billing.NanoUSD(invoice.RoundHalfUpCents(math.MaxInt64/20_000*2))*cent - math.MaxInt64/20_000*2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			inv, err := invoice.Build(invoice.BuildInput{TenantID: "t1", Period: "2026-01", Usage: tt.usage, Plan: tt.plan})
			require.NoError(t, err)
			require.Len(t, inv.Lines, len(tt.wantLines))
			var sumCents int64
			for i, want := range tt.wantLines {
				got := inv.Lines[i]
				require.Equal(t, want.id, got.ID, "line %d id", i)
				require.Equal(t, want.charge, got.Charge, "line %s charge", got.ID)
				require.Equal(t, want.cents, got.AmountCents, "line %s cents", got.ID)
				require.Equal(t, want.roundingNan, got.RoundingNano, "line %s rounding", got.ID)
				require.LessOrEqual(t, got.RoundingNano, cent/2)
				require.Greater(t, got.RoundingNano, -cent/2)
				sumCents += got.AmountCents
			}
			require.Equal(t, tt.wantTotal, inv.TotalCents)
			require.Equal(t, sumCents, inv.TotalCents)
			require.Equal(t, tt.wantCharge, inv.Charge)
			require.Equal(t, tt.wantRounding, inv.RoundingNano)
			require.Equal(t, billing.NanoUSD(inv.TotalCents)*cent-inv.Charge, inv.RoundingNano)
			require.Equal(t, invoice.CurrencyUSD, inv.Currency)
		})
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	t.Parallel()

	usage := []invoice.Usage{
		{Model: "x-ai/grok-4", ProviderCost: 85_000_000},
		{Model: "gpt-4o", ProviderCost: 5_600_000},
		{Model: "gpt-4o-mini", ProviderCost: 300_000},
	}
	reversed := []invoice.Usage{usage[2], usage[1], usage[0]}
	in := invoice.BuildInput{TenantID: "t1", Period: "2026-02", Usage: usage, Plan: invoice.Plan{MarkupBasisPoints: 3000}}
	a, err := invoice.Build(in)
	require.NoError(t, err)
	in.Usage = reversed
	b, err := invoice.Build(in)
	require.NoError(t, err)
	require.Equal(t, a, b)
	require.Equal(t, []string{"m-gpt-4o", "m-gpt-4o-mini", "m-x-ai_grok-4-" + a.Lines[2].ID[len("m-x-ai_grok-4-"):]}, []string{a.Lines[0].ID, a.Lines[1].ID, a.Lines[2].ID})

	// The invoice serialises with integer amounts only.
	raw, err := json.Marshal(a)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	require.NoError(t, dec.Decode(&doc))
	requireIntegerNumbers(t, doc)
}

// requireIntegerNumbers fails when any JSON number in v is not an integer.
func requireIntegerNumbers(t *testing.T, v any) {
	t.Helper()
	switch v := v.(type) {
	case json.Number:
		_, err := v.Int64()
		require.NoError(t, err, "number %s is not an int64", v)
	case map[string]any:
		for _, e := range v {
			requireIntegerNumbers(t, e)
		}
	case []any:
		for _, e := range v {
			requireIntegerNumbers(t, e)
		}
	}
}

func TestBuildInputValidate(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		in      invoice.BuildInput
		wantErr []string
	}{
		{
			name:    "everything wrong at once",
			in:      invoice.BuildInput{Period: "2026-13", Plan: invoice.Plan{MarkupBasisPoints: -1, PlatformFee: -5}},
			wantErr: []string{"tenant_id: required", `period: want YYYY-MM, got "2026-13"`, "plan.markup_basis_points", "plan.platform_fee_nano"},
		},
		{
			name: "bad usage rows",
			in: invoice.BuildInput{TenantID: "t", Period: "2026-01", Usage: []invoice.Usage{
				{Model: "a"}, {Model: "a"}, {Model: ""}, {Model: "b", OutputTokens: -1}, {Model: "c", ProviderCost: -1},
			}},
			wantErr: []string{`usage[1].model: "a" appears twice`, "usage[2].model: required", "usage[3]: counts must be >= 0", "usage[4].provider_cost_nano"},
		},
		{
			name:    "negative model price",
			in:      invoice.BuildInput{TenantID: "t", Period: "2026-01", Plan: invoice.Plan{ModelPrices: map[string]invoice.ModelPrice{"m": {OutputPerMillion: -1}}}},
			wantErr: []string{`plan.model_prices["m"]: prices must be >= 0`},
		},
		{
			name:    "period format",
			in:      invoice.BuildInput{TenantID: "t", Period: "2026-1"},
			wantErr: []string{"period: want YYYY-MM"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := tt.in.Validate()
			require.ErrorIs(t, err, errkind.Invalid)
			for _, want := range tt.wantErr {
				require.ErrorContains(t, err, want)
			}
			_, err = invoice.Build(tt.in)
			require.ErrorIs(t, err, errkind.Invalid)
		})
	}
}

func TestBuildOverflowIsInvalid(t *testing.T) {
	t.Parallel()

	_, err := invoice.Build(invoice.BuildInput{TenantID: "t", Period: "2026-01", Usage: []invoice.Usage{
		{Model: "a", ProviderCost: math.MaxInt64 / 2},
		{Model: "b", ProviderCost: math.MaxInt64 / 2},
		{Model: "c", ProviderCost: math.MaxInt64 / 2},
	}})
	require.ErrorIs(t, err, errkind.Invalid)

	_, err = invoice.Build(invoice.BuildInput{TenantID: "t", Period: "2026-01",
		Usage: []invoice.Usage{{Model: "a", ProviderCost: math.MaxInt64}}, Plan: invoice.Plan{MarkupBasisPoints: 1}})
	require.ErrorIs(t, err, errkind.Invalid)
}

func TestRoundHalfUpCents(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in   billing.NanoUSD
		want int64
	}{
		{0, 0},
		{1, 0},
		{4_999_999, 0},
		{5_000_000, 1},
		{10_000_000, 1},
		{14_999_999, 1},
		{15_000_000, 2},
		{-4_999_999, 0},
		{-5_000_000, -1},
		{math.MaxInt64, 922_337_203_685}, // remainder 4,775,807 rounds down
		{math.MaxInt64 - 4_775_807 + 5_000_000 - 10_000_000, 922_337_203_685},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, invoice.RoundHalfUpCents(tt.in), "RoundHalfUpCents(%d)", tt.in)
	}
}
