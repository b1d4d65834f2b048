package api

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants/access"
)

func TestRoutingPolicyRoundTrip(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := newAdminEnv(t, backend)
			a := b.tenant("acme")
			_, admin := b.member(a, access.RoleAdmin)
			_, viewer := b.member(a, access.RoleViewer)
			_, dev := b.member(a, access.RoleDeveloper)
			base := "/api/v1/tenants/" + string(a.ID)

			// Given no saved policy, GET shows the default one.
			res := b.do("GET", base+"/routing", viewer, nil)
			require.Equal(t, 200, res.Status, res.Body)
			require.Equal(t, "true", res.Header.Get("x-tollgate-policy-default"))
			require.Equal(t, routing.DefaultPolicy(), decode[routing.Policy](t, res))
			// The request path has the default cached.
			cached, err := b.policies.For(t.Context(), b.handle(a))
			require.NoError(t, err)
			require.Equal(t, routing.DefaultPolicy(), cached)

			// When an admin saves a policy, it round-trips and the cache follows at once.
			pol := `{"tiers":{"economy":["sim-small"],"standard":["sim-large"]},"max_tier":"standard",
				"rules":[{"name":"big prompts","min_prompt_tokens":4000,"tier":"standard"}],"session_affinity":true}`
			res = b.do("PUT", base+"/routing", admin, pol)
			require.Equal(t, 200, res.Status, res.Body)
			res = b.do("GET", base+"/routing", viewer, nil)
			require.Empty(t, res.Header.Get("x-tollgate-policy-default"))
			got := decode[routing.Policy](t, res)
			require.Equal(t, []string{"sim-small"}, got.Tiers[routing.TierEconomy])
			require.Equal(t, "big prompts", got.Rules[0].Name)
			cached, err = b.policies.For(t.Context(), b.handle(a))
			require.NoError(t, err)
			require.Equal(t, got, cached)
			// And the change is in the audit log, with before and after.
			audit := b.do("GET", base+"/audit?q=routing", admin, nil)
			require.Equal(t, 200, audit.Status, audit.Body)
			require.Contains(t, audit.Body, `"action":"routing.update"`)
			require.Contains(t, audit.Body, `"before"`)

			f := &fixture{env: b.testEnv, tokens: map[string]string{"admin": admin, "viewer": viewer, "dev": dev}, vars: map[string]string{"A": string(a.ID)}}
			f.run(t, []apiScenario{
				{Name: "unknown model", Caller: "admin", Method: "PUT", Path: "/api/v1/tenants/{A}/routing", Body: `{"tiers":{"economy":["gpt-9000"]}}`,
					WantStatus: 422, WantBody: []string{`unknown model \"gpt-9000\"`}},
				{Name: "model in the wrong tier", Caller: "admin", Method: "PUT", Path: "/api/v1/tenants/{A}/routing", Body: `{"tiers":{"economy":["sim-large"]}}`,
					WantStatus: 422, WantBody: []string{`model \"sim-large\" is standard`}},
				{Name: "structural problems, all at once", Caller: "admin", Method: "PUT", Path: "/api/v1/tenants/{A}/routing",
					Body:       `{"tiers":{"gold":["sim-small"]},"max_tier":"platinum","rules":[{"name":"x","tier":"economy"}]}`,
					WantStatus: 422, WantBody: []string{`unknown tier \"gold\"`, `max_tier: unknown tier \"platinum\"`, "rules[0]: set at least one condition"}},
				{Name: "unknown field (the console's assumed shape)", Caller: "admin", Method: "PUT", Path: "/api/v1/tenants/{A}/routing",
					Body: `{"default_tier":"economy","tiers":{"economy":["sim-small"]}}`, WantStatus: 422, WantBody: []string{"unknown_field", "default_tier"}},
				{Name: "tiers as a list", Caller: "admin", Method: "PUT", Path: "/api/v1/tenants/{A}/routing", Body: `{"tiers":[{"name":"economy","models":["sim-small"]}]}`,
					WantStatus: 400, WantBody: []string{"malformed_body"}},
				{Name: "viewer may not save", Caller: "viewer", Method: "PUT", Path: "/api/v1/tenants/{A}/routing", Body: pol, WantStatus: 403},
				{Name: "developer may not save", Caller: "dev", Method: "PUT", Path: "/api/v1/tenants/{A}/routing", Body: pol, WantStatus: 403},
				{Name: "viewer may not simulate", Caller: "viewer", Method: "POST", Path: "/api/v1/tenants/{A}/routing/simulate", Body: `{"policy":` + pol + `}`, WantStatus: 403},
				{Name: "simulate needs a policy", Caller: "dev", Method: "POST", Path: "/api/v1/tenants/{A}/routing/simulate", Body: `{}`, WantStatus: 422, WantBody: []string{"policy is required"}},
				{Name: "simulate checks the policy", Caller: "dev", Method: "POST", Path: "/api/v1/tenants/{A}/routing/simulate", Body: `{"policy":{"tiers":{"economy":["nope"]}}}`,
					WantStatus: 422, WantBody: []string{`unknown model \"nope\"`}},
			})
			// None of the refused PUTs changed the saved policy.
			require.Equal(t, got, decode[routing.Policy](t, b.do("GET", base+"/routing", viewer, nil)))
		})
	}
}

func TestRoutingSimulate(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := newAdminEnv(t, backend)
			a := b.tenant("acme")
			_, dev := b.member(a, access.RoleDeveloper)
			// Given 40 "auto" requests in the last days that all went to sim-large,
			// and one 40 days ago (outside the window).
			now := time.Now().UTC()
			var evs []ledger.Event
			for i := range 40 {
				evs = append(evs, ledger.Event{TenantID: string(a.ID), RequestID: fmt.Sprintf("r%d", i), CreatedAt: now.Add(-time.Duration(i) * time.Hour),
					ModelRequested: "auto", ModelUsed: "sim-large", InputTokens: 1000, OutputTokens: 200, Cost: 4_500_000, Status: ledger.StatusOK})
			}
			evs = append(evs, ledger.Event{TenantID: string(a.ID), RequestID: "old", CreatedAt: now.AddDate(0, 0, -40), ModelRequested: "auto",
				ModelUsed: "sim-large", InputTokens: 1000, OutputTokens: 200, Status: ledger.StatusOK})
			b.insertEvents(a, evs)

			// When an economy-heavy policy is simulated (everything capped at economy).
			body := map[string]any{"policy": map[string]any{"tiers": map[string][]string{"economy": {"sim-small"}, "standard": {"sim-large"}}, "max_tier": "economy"}}
			res := b.do("POST", "/api/v1/tenants/"+string(a.ID)+"/routing/simulate", dev, body)
			require.Equal(t, 200, res.Status, res.Body)
			sim := decode[simulateDTO](t, res)

			// Then the replay prices 40 requests both ways: sim-large 1000×2500 + 200×10000
			// = 4.5M nano each; sim-small 1000×150 + 200×600 = 270k nano each.
			require.Equal(t, 40, sim.Requests)
			require.Zero(t, sim.Skipped)
			require.Equal(t, int64(40*4_500_000), sim.BeforeNano)
			require.Equal(t, int64(40*270_000), sim.AfterNano)
			require.Equal(t, "0.010800000", sim.AfterUSD)
			require.Less(t, sim.AfterNano, sim.BeforeNano)
			require.Equal(t, int64(94), sim.SavingsPercent)
			require.Equal(t, map[routing.Tier]int{routing.TierEconomy: 40}, sim.TierMix)
			require.Equal(t, map[routing.Tier]int{routing.TierStandard: 40}, sim.TierMixBefore)
			require.Equal(t, map[string]int{"sim-small": 40}, sim.ModelsAfter)
			require.Equal(t, map[string]int{"sim-large": 40}, sim.ModelsBefore)
			require.False(t, sim.Truncated)
			require.Equal(t, 30, sim.Days)

			// A longer window replays the older request too.
			body = map[string]any{"policy": map[string]any{"tiers": map[string][]string{"economy": {"sim-small"}, "standard": {"sim-large"}}}, "days": 90}
			sim = decode[simulateDTO](t, b.do("POST", "/api/v1/tenants/"+string(a.ID)+"/routing/simulate", dev, body))
			require.Equal(t, 41, sim.Requests, "90 days include the old request")
			require.Equal(t, 90, sim.Days)
		})
	}
}

// TestRoutingKeepsPromptsOnlyWithAMasterKey: retain_prompts_days is bounded,
// refused on a deployment that cannot seal prompts, and saved otherwise.
func TestRoutingKeepsPromptsOnlyWithAMasterKey(t *testing.T) {
	t.Parallel()
	pol := func(days int) string {
		return fmt.Sprintf(`{"tiers":{"economy":["sim-small"],"standard":["sim-large"]},"retain_prompts_days":%d}`, days)
	}
	b := newAdminEnv(t, "sqlite")
	a := b.tenant("acme")
	_, admin := b.member(a, access.RoleAdmin)
	bare := newAdminEnv(t, "sqlite", adminOptions{noPromptSealer: true})
	ba := bare.tenant("acme")
	_, bareAdmin := bare.member(ba, access.RoleAdmin)
	f := &fixture{env: b.testEnv, tokens: map[string]string{"admin": admin}, vars: map[string]string{"A": string(a.ID)}}
	f.run(t, []apiScenario{
		{Name: "over 30 days", Caller: "admin", Method: "PUT", Path: "/api/v1/tenants/{A}/routing", Body: pol(31),
			WantStatus: 422, WantBody: []string{"retain_prompts_days: must be from 0 (keep no prompts) to 30"}},
		{Name: "negative", Caller: "admin", Method: "PUT", Path: "/api/v1/tenants/{A}/routing", Body: pol(-1), WantStatus: 422,
			WantBody: []string{"retain_prompts_days"}},
		{Name: "seven days", Caller: "admin", Method: "PUT", Path: "/api/v1/tenants/{A}/routing", Body: pol(7), WantStatus: 200,
			WantBody: []string{`"retain_prompts_days":7`}},
	})
	fb := &fixture{env: bare.testEnv, tokens: map[string]string{"admin": bareAdmin}, vars: map[string]string{"A": string(ba.ID)}}
	fb.run(t, []apiScenario{
		{Name: "no master key", Caller: "admin", Method: "PUT", Path: "/api/v1/tenants/{A}/routing", Body: pol(7), WantStatus: 422,
			WantBody: []string{"retain_prompts_days", "keeping prompts needs TOLLGATE_MASTER_KEY"}},
		{Name: "off is fine", Caller: "admin", Method: "PUT", Path: "/api/v1/tenants/{A}/routing", Body: pol(0), WantStatus: 200,
			DenyBody: []string{"retain_prompts_days"}},
	})
}

// TestRoutingSimulateReplaysKeptPrompts: the what-if matches a new keyword rule
// on the prompts the tenant kept, counts the requests without one and says
// why, and answers with aggregates only (never a prompt).
func TestRoutingSimulateReplaysKeptPrompts(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := newAdminEnv(t, backend)
			a := b.tenant("acme")
			_, dev := b.member(a, access.RoleDeveloper)
			// Given three easy "auto" requests served by sim-small; two kept
			// their text ("refund" in one), one did not.
			now := time.Now().UTC()
			features := `{"prompt_tokens":900,"p_standard":0.05,"p_premium":0.01,"classifier":"builtin","model_standard":0.23,"model_premium":0.5}`
			texts := map[string]string{"r0": "i want a refund now", "r1": "what is the weather like"}
			var evs []ledger.Event
			for i := range 3 {
				id := fmt.Sprintf("r%d", i)
				e := ledger.Event{TenantID: string(a.ID), RequestID: id, CreatedAt: now.Add(-time.Duration(i) * time.Hour), ModelRequested: "auto",
					ModelUsed: "sim-small", InputTokens: 900, OutputTokens: 100, Cost: 195_000, Status: ledger.StatusOK, RouteFeatures: features}
				if text, ok := texts[id]; ok {
					sealed, err := gateway.SealKeptTurn(b.sealer, string(a.ID), id, text)
					require.NoError(t, err)
					e.KeptTurn = sealed
				}
				evs = append(evs, e)
			}
			b.insertEvents(a, evs)

			// When a policy with a "refund" rule is simulated.
			body := `{"policy":{"tiers":{"economy":["sim-small"],"standard":["sim-large"]},
				"rules":[{"name":"refunds","keywords":["refund"],"tier":"standard"}]}}`
			res := b.do("POST", "/api/v1/tenants/"+string(a.ID)+"/routing/simulate", dev, body)
			require.Equal(t, 200, res.Status, res.Body)
			sim := decode[simulateDTO](t, res)

			// Then the kept "refund" request moves to standard, the other kept
			// one stays, and the one without a kept prompt is counted, with why.
			require.Equal(t, 2, sim.KeywordRulesReplayed)
			require.Equal(t, 1, sim.KeywordRulesNotReplayed)
			require.Equal(t, map[routing.Tier]int{routing.TierStandard: 1, routing.TierEconomy: 2}, sim.TierMixAfter)
			require.Contains(t, sim.NeedsText, "1 requests could not replay keyword rules (prompt not kept: enable retain_prompts_days)")
			require.NotContains(t, res.Body, "refund now")
			require.NotContains(t, res.Body, "weather")

			// A policy without keyword rules needs no text.
			body = `{"policy":{"tiers":{"economy":["sim-small"],"standard":["sim-large"]}}}`
			sim = decode[simulateDTO](t, b.do("POST", "/api/v1/tenants/"+string(a.ID)+"/routing/simulate", dev, body))
			require.Zero(t, sim.KeywordRulesReplayed)
			require.Zero(t, sim.KeywordRulesNotReplayed)
			require.Empty(t, sim.NeedsText)
		})
	}
}
