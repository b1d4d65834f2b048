package routing_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/routing"
)

// TestKeyOverrides: a key's policy override routes its named model as auto
// (easy turns down, hard ones up), or serves it by a same-tier substitute;
// other keys are untouched, and the decision keeps the name asked. A
// substitute of another tier, or a model both routed as auto and
// substituted, is refused when the policy is saved.
func TestKeyOverrides(t *testing.T) {
	t.Parallel()
	s := newSelector(t, nil)
	p := routing.DefaultPolicy()
	p.Keys = map[string]routing.KeyRouting{
		"k_auto": {AutoModels: []string{"gpt-4o"}},
		"k_sub":  {Substitute: map[string]string{"gpt-4o": "claude-sonnet-4"}},
	}
	require.NoError(t, p.Validate())
	require.NoError(t, p.CheckCatalog(routing.DefaultCatalog()))
	for _, tc := range []struct {
		name, key, prompt, model string
		reason                   routing.RouteReason
	}{
		{"auto key, easy turn", "k_auto", "hi there", "gpt-4o-mini", routing.RouteReasonAutoEconomy},
		{"auto key, hard turn", "k_auto", "Prove step by step that the square root of 2 is irrational.", "gpt-4o", routing.RouteReasonAutoComplex},
		{"substitute key", "k_sub", "hi there", "claude-sonnet-4", routing.RouteReasonKeySubstitute},
		{"another key", "k_other", "hi there", "gpt-4o", routing.RouteReasonExplicit},
		{"no key", "", "hi there", "gpt-4o", routing.RouteReasonExplicit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := s.Select(t.Context(), routing.SelectInput{KeyID: tc.key, Request: chatReq(t, "gpt-4o", tc.prompt), Policy: p})
			require.NoError(t, err)
			require.Equal(t, tc.model, d.Model.ID, d.Header())
			require.Equal(t, tc.reason, d.Reason, d.Header())
			require.Equal(t, "gpt-4o", d.Requested, "the ledger keeps the name asked")
		})
	}

	bad := routing.DefaultPolicy()
	bad.Keys = map[string]routing.KeyRouting{"k": {Substitute: map[string]string{"gpt-4o": "gpt-4o-mini"}}}
	require.ErrorContains(t, bad.CheckCatalog(routing.DefaultCatalog()), "gpt-4o is standard but gpt-4o-mini is economy")
	bad.Keys = map[string]routing.KeyRouting{"k": {AutoModels: []string{"gpt-4o"}, Substitute: map[string]string{"gpt-4o": "claude-sonnet-4"}, MaxTokens: -1}}
	err := bad.Validate()
	require.ErrorContains(t, err, "both routed as auto and substituted")
	require.ErrorContains(t, err, "max_tokens")
}
