package gateway_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
)

func TestSetPriceInputConvertsExactly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                string
		in, cached, out     string
		write               string
		wantIn, wantC, wOut billing.NanoUSD
		wantW               billing.NanoUSD
		problem             string
	}{
		{name: "list price", in: "2.50", out: "10", wantIn: 2500, wOut: 10000},
		{name: "cached", in: "0.15", cached: "0.075", out: "0.6", wantIn: 150, wantC: 75, wOut: 600},
		{name: "cache write", in: "3", write: "3.75", out: "15", wantIn: 3000, wantW: 3750, wOut: 15000},
		{name: "cache write too fine", in: "3", write: "3.7501", out: "15", problem: "cache_write_per_million_usd"},
		{name: "smallest step", in: "0.001", out: "0.000", wantIn: 1, wOut: 0},
		{name: "free", in: "0", out: "0"},
		{name: "finer than a nano per token", in: "0.0001", out: "1", problem: "finer than $0.001 per million"},
		{name: "sub-nano digits", in: "1.0000000001", out: "1", problem: "not a dollar amount"},
		{name: "negative", in: "-1", out: "1", problem: "must not be negative"},
		{name: "too high", in: "10000.001", out: "1", problem: "at most 10000"},
		{name: "missing", in: "", out: "", problem: "input_per_million_usd is required"},
		{name: "not a number", in: "1e3", out: "abc", problem: "output_per_million_usd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o, err := gateway.SetPriceInput{Model: "m", InputPerMillionUSD: tc.in, CachedInputPerMillionUSD: tc.cached,
				CacheWritePerMillionUSD: tc.write, OutputPerMillionUSD: tc.out}.Validate()
			if tc.problem != "" {
				require.Equal(t, errkind.Invalid, errkind.Of(err))
				require.Contains(t, err.Error(), tc.problem)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.wantIn, o.Input)
			require.Equal(t, tc.wantC, o.CachedInput)
			require.Equal(t, tc.wantW, o.CacheWrite)
			require.Equal(t, tc.wOut, o.Output)
		})
	}
}

func TestTenantCatalogLayersOverrides(t *testing.T) {
	t.Parallel()
	base := routing.DefaultCatalog()
	cat, err := gateway.TenantCatalog(base, nil)
	require.NoError(t, err)
	require.Same(t, base, cat, "no overrides: the shared base")

	cat, err = gateway.TenantCatalog(base, []gateway.PriceOverride{
		{Model: "sim-large", Input: 1000, Output: 2000},
		{Model: "claude-sonnet-4", Input: 2000, CachedInput: 200, CacheWrite: 2500, Output: 10_000},
		{Model: "gone-model", Input: 1, Output: 1},
	})
	require.NoError(t, err)
	m, ok := cat.Lookup("sim-large")
	require.True(t, ok)
	require.Equal(t, billing.NanoUSD(1000*100+2000*10), m.Cost(100, 0, 10))
	require.Equal(t, billing.NanoUSD(1000*100+2000*50), m.WorstCase(100, 50, 1))
	sonnet, _ := cat.Lookup("claude-sonnet-4")
	require.Equal(t, billing.NanoUSD(100*2000+300*200+400*2500+10*10_000),
		sonnet.UsageCost(routing.Usage{PromptTokens: 800, CachedTokens: 300, CacheWriteTokens: 400, CompletionTokens: 10}),
		"the override prices cache reads and writes")
	_, ok = cat.Lookup("gone-model")
	require.False(t, ok, "an override of a model the base lost is ignored")
	orig, _ := base.Lookup("sim-large")
	require.Equal(t, billing.NanoUSD(2500), orig.InputPrice, "the base is not changed")
}
