package routing_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing"
)

// A slice of the design's sample: mostly gpt-4o, some premium, a little mini.
const requestLog = `{"model_requested":"gpt-4o","model_used":"gpt-4o","input_tokens":3387,"output_tokens":304,"messages":[{"role":"user","content":"what's a good name for a cat?"}]}
{"model_requested":"gpt-4o","model_used":"gpt-4o","input_tokens":3387,"output_tokens":304,"features":{"code_blocks":2,"p_standard":0.9,"model_standard":0.2}}

{"data":[{"model_requested":"grok-4","model":"grok-4","input_tokens":5000,"output_tokens":600,"route_features":{"p_standard":0.6,"model_standard":0.2}}],"next_cursor":""}
{"model_requested":"gpt-4o-mini","model_used":"gpt-4o-mini","input_tokens":800,"output_tokens":100}
{"model_requested":"mystery","model_used":"mystery-model","input_tokens":1,"output_tokens":1}
`

func TestSimulate(t *testing.T) {
	t.Parallel()
	records, err := routing.ReadRecords(strings.NewReader(requestLog))
	require.NoError(t, err)
	require.Len(t, records, 5)
	s := newSelector(t, nil)

	res, err := s.Simulate(t.Context(), routing.DefaultPolicy(), records, routing.SimulateOptions{ForceAuto: true})
	require.NoError(t, err)
	require.Equal(t, 5, res.Requests)
	require.Equal(t, 1, res.Skipped)
	before := billing.NanoUSD(2*(3387*2500+304*10_000) + 5000*3000 + 600*15_000 + 800*150 + 100*600)
	require.Equal(t, before, res.CostBefore)
	// Casual prompt and the mini request (no features: replayed as easy) go to
	// gpt-4o-mini; the two whose recorded probability is above the threshold
	// (one read from a usage/events page) to gpt-4o.
	after := billing.NanoUSD(3387*150 + 304*600 + 3387*2500 + 304*10_000 + 5000*2500 + 600*10_000 + 800*150 + 100*600)
	require.Equal(t, after, res.CostAfter)
	require.Equal(t, map[routing.Tier]int{routing.TierStandard: 2, routing.TierPremium: 1, routing.TierEconomy: 1}, res.TierMixBefore)
	require.Equal(t, map[routing.Tier]int{routing.TierStandard: 2, routing.TierEconomy: 2}, res.TierMixAfter)
	require.Positive(t, res.SavingsPercent())
	require.Equal(t, 1, res.NoFeatures)
	require.Contains(t, res.NeedsText(), "no recorded features")

	// Without ForceAuto explicit requests keep their model.
	res, err = s.Simulate(t.Context(), routing.DefaultPolicy(), records, routing.SimulateOptions{})
	require.NoError(t, err)
	require.Equal(t, res.CostBefore, res.CostAfter)

	_, err = routing.ReadRecords(strings.NewReader("{\"model_used\":1}\n"))
	require.ErrorIs(t, err, errkind.Invalid)
	require.Contains(t, err.Error(), "line 1")
}

// A replay can price with a tenant's catalog (negotiated prices) instead of the list.
func TestSimulateWithTenantCatalog(t *testing.T) {
	t.Parallel()
	records := []routing.Record{{RequestedModel: "gpt-4o-mini", UsedModel: "gpt-4o-mini", InputTokens: 1000, OutputTokens: 100}}
	s := newSelector(t, nil)
	list, err := s.Simulate(t.Context(), routing.DefaultPolicy(), records, routing.SimulateOptions{})
	require.NoError(t, err)

	in, out := billing.NanoUSD(75), billing.NanoUSD(300) // half of gpt-4o-mini's list price
	cat, err := routing.DefaultCatalog().WithOverrides([]routing.ModelOverride{{ID: "gpt-4o-mini", InputPrice: &in, OutputPrice: &out}})
	require.NoError(t, err)
	tenant, err := s.Simulate(t.Context(), routing.DefaultPolicy(), records, routing.SimulateOptions{Catalog: cat})
	require.NoError(t, err)
	require.EqualValues(t, 1000*150+100*600, list.CostBefore)
	require.EqualValues(t, 1000*75+100*300, tenant.CostBefore)
	require.Equal(t, tenant.CostBefore, tenant.CostAfter, "an explicit request stays on its model")
}
