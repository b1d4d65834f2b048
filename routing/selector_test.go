package routing_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing"
)

func chatReq(t *testing.T, model string, msgs ...string) *routing.ChatRequest {
	t.Helper()
	var m []map[string]string
	for i, text := range msgs {
		role := "user"
		if i%2 == 1 {
			role = "assistant"
		}
		m = append(m, map[string]string{"role": role, "content": text})
	}
	raw, err := json.Marshal(map[string]any{"model": model, "messages": m})
	require.NoError(t, err)
	req, err := routing.ParseChatRequest(raw)
	require.NoError(t, err)
	routing.NewEstimator(routing.EstimatorConfig{}).Annotate("gpt-4o", req)
	return req
}

func TestClassifierTurns(t *testing.T) {
	t.Parallel()
	history := []string{"hey, can you help me plan a trip?", strings.Repeat("Sure! Here is a detailed plan with many steps. ", 200),
		"and explain the visa rules", strings.Repeat("Visa rules are complicated; in short, it depends. ", 200)}
	s := newSelector(t, nil)
	for _, tc := range []struct {
		name string
		msgs []string
		want routing.RouteReason
	}{
		{"greeting", []string{"hi! how are you today?"}, routing.RouteReasonAutoEconomy},
		{"thanks after a long history", append(append([]string{}, history...), "lol thanks!"), routing.RouteReasonAutoEconomy},
		{"migration plan without a cue word", []string{"write a migration plan to move our billing tables from MySQL to Postgres without downtime"}, routing.RouteReasonAutoComplex},
		{"counting", []string{"count the number of times the letter e appears in 'excellent reference experience'"}, routing.RouteReasonAutoComplex},
		{"proof", []string{"Prove step by step that the square root of 2 is irrational."}, routing.RouteReasonAutoComplex},
		{"debugging pasted code", []string{"this panics with index out of range, fix it:\n```go\nfor i := 0; i <= len(xs); i++ { sum += xs[i] }\n```"}, routing.RouteReasonAutoComplex},
		{"long easy paste", []string{"just give this a title:\n\n" + strings.Repeat("We met on Tuesday and talked about the garden party. ", 120)}, routing.RouteReasonAutoEconomy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := s.Select(t.Context(), routing.SelectInput{Request: chatReq(t, "auto", tc.msgs...), Policy: routing.DefaultPolicy()})
			require.NoError(t, err)
			require.Equal(t, tc.want, d.Reason, d.Header())
			require.Contains(t, d.Header(), "threshold", "the header explains the probability and threshold")
		})
	}
}

// Keyword rules match whole words of the turn: "prove" is not in "improve" or
// "approved".
func TestKeywordRulesMatchWholeWords(t *testing.T) {
	t.Parallel()
	p := routing.DefaultPolicy()
	p.Rules = []routing.Rule{{Name: "proofs", Keywords: []string{"prove", "step by step"}, Tier: routing.TierStandard}}
	s := newSelector(t, nil)
	for msg, hit := range map[string]bool{
		"please improve my tweet":           false,
		"the budget was approved, thanks":   false,
		"can you prove it?":                 true,
		"Step by step, please":              true,
		"steps by steps":                    false,
		"we need to PROVE this to the team": true,
	} {
		d, err := s.Select(t.Context(), routing.SelectInput{Request: chatReq(t, "auto", msg), Policy: p})
		require.NoError(t, err)
		require.Equal(t, hit, d.Reason == routing.RouteReasonRule, "%q: %s", msg, d.Header())
	}
}

func newSelector(t *testing.T, available func(routing.Model) bool) *routing.Selector {
	s, err := routing.NewSelector(routing.SelectorConfig{Catalog: routing.DefaultCatalog(), Available: available}, testLogger(t))
	require.NoError(t, err)
	return s
}

func TestSelector(t *testing.T) {
	t.Parallel()
	const complex = "Analyze step by step and prove the bound."
	budget := func(spentPct int, elapsed float64) routing.BudgetPace {
		return routing.BudgetPace{Budget: 100 * billing.NanoPerUSD, Spent: billing.NanoUSD(spentPct) * billing.NanoPerUSD, Elapsed: elapsed}
	}
	strict := routing.DefaultPolicy()
	strict.PremiumAllowlist = []string{"o3"}
	capped := routing.DefaultPolicy()
	capped.MaxTier = routing.TierStandard
	refuse := strict
	refuse.RefuseDenied = true
	rules := routing.DefaultPolicy()
	rules.Rules = []routing.Rule{{Name: "legal to premium", Keywords: []string{"Contract"}, Tier: routing.TierPremium}}
	ladderExplicit := routing.DefaultPolicy()
	ladderExplicit.LadderExplicit = true
	for _, tc := range []struct {
		name      string
		policy    routing.Policy
		model     string
		msg       string
		budget    routing.BudgetPace
		action    routing.DecisionAction
		want      string
		reason    routing.RouteReason
		fallbacks []string
	}{
		{"explicit", routing.DefaultPolicy(), "gpt-4o", "hi", routing.BudgetPace{}, routing.DecisionActionAllow, "gpt-4o", routing.RouteReasonExplicit, nil},
		{"auto simple", routing.DefaultPolicy(), "auto", "hi", routing.BudgetPace{}, routing.DecisionActionAllow, "gpt-4o-mini", routing.RouteReasonAutoEconomy, []string{"gemini-2.0-flash", "claude-haiku-4-5"}},
		{"auto complex", routing.DefaultPolicy(), "auto", complex, routing.BudgetPace{}, routing.DecisionActionAllow, "gpt-4o", routing.RouteReasonAutoComplex, []string{"claude-sonnet-4", "gemini-2.5-pro"}},
		{"rule", rules, "auto", "review this contract", routing.BudgetPace{}, routing.DecisionActionAllow, "o3", routing.RouteReasonRule, nil},
		{"premium allowed", strict, "o3", "hi", routing.BudgetPace{}, routing.DecisionActionAllow, "o3", routing.RouteReasonExplicit, nil},
		{"premium not on allowlist", strict, "grok-4", "hi", routing.BudgetPace{}, routing.DecisionActionDowngrade, "gpt-4o", routing.RouteReasonPremiumDenied, nil},
		{"premium refused", refuse, "grok-4", "hi", routing.BudgetPace{}, routing.DecisionActionRefuse, "", routing.RouteReasonPremiumDenied, nil},
		{"premium above max tier", capped, "o3", "hi", routing.BudgetPace{}, routing.DecisionActionDowngrade, "gpt-4o", routing.RouteReasonPremiumDenied, nil},
		{"ladder caps auto", routing.DefaultPolicy(), "auto", complex, budget(96, 0.99), routing.DecisionActionAllow, "gpt-4o-mini", routing.RouteReasonBudgetLadder, nil},
		{"ladder spares explicit", routing.DefaultPolicy(), "gpt-4o", "hi", budget(96, 0.99), routing.DecisionActionAllow, "gpt-4o", routing.RouteReasonExplicit, nil},
		{"ladder explicit opt-in", ladderExplicit, "gpt-4o", "hi", budget(96, 0.99), routing.DecisionActionDowngrade, "gpt-4o-mini", routing.RouteReasonBudgetLadder, nil},
		{"pace downgrades", routing.DefaultPolicy(), "auto", complex, budget(50, 0.2), routing.DecisionActionAllow, "gpt-4o-mini", routing.RouteReasonBudgetPace, nil},
		{"on pace", routing.DefaultPolicy(), "auto", complex, budget(50, 0.5), routing.DecisionActionAllow, "gpt-4o", routing.RouteReasonAutoComplex, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSelector(t, nil)
			d, err := s.Select(t.Context(), routing.SelectInput{Request: chatReq(t, tc.model, tc.msg), Policy: tc.policy, Budget: tc.budget})
			require.NoError(t, err)
			require.Equal(t, tc.action, d.Action, d.Header())
			require.Equal(t, tc.want, d.Model.ID, d.Header())
			require.Equal(t, tc.reason, d.Reason, d.Header())
			require.NotEmpty(t, d.Explanation)
			if tc.fallbacks != nil {
				var ids []string
				for _, m := range d.Fallbacks {
					ids = append(ids, m.ID)
				}
				require.Equal(t, tc.fallbacks, ids)
			}
		})
	}
}

func TestSelectorUsesOnlyAvailableModels(t *testing.T) {
	t.Parallel()
	simOnly := func(m routing.Model) bool { return m.Provider == routing.SimProviderName }
	s := newSelector(t, simOnly)
	d, err := s.Select(t.Context(), routing.SelectInput{Request: chatReq(t, "auto", "hi"), Policy: routing.DefaultPolicy()})
	require.NoError(t, err)
	require.Equal(t, "sim-small", d.Model.ID)
	require.Empty(t, d.Fallbacks)
	d, err = s.Select(t.Context(), routing.SelectInput{Request: chatReq(t, "auto", "Prove it step by step"), Policy: routing.DefaultPolicy()})
	require.NoError(t, err)
	require.Equal(t, "sim-large", d.Model.ID)
	require.Equal(t, []routing.Model{mustModel(t, "sim-small")}, d.Fallbacks, "fallbacks go to cheaper tiers")
	// A catalog model nobody serves is model_not_found, naming the setting that enables it.
	_, err = s.Select(t.Context(), routing.SelectInput{Request: chatReq(t, "gpt-4o", "hi"), Policy: routing.DefaultPolicy()})
	require.ErrorIs(t, err, errkind.NotFound)
	require.Equal(t, "model", errkind.ParamOf(err))
	require.Contains(t, err.Error(), "OPENAI_API_KEY")
	// A model outside the catalog points at GET /v1/models.
	_, err = s.Select(t.Context(), routing.SelectInput{Request: chatReq(t, "gpt-9", "hi"), Policy: routing.DefaultPolicy()})
	require.ErrorIs(t, err, errkind.NotFound)
	require.Contains(t, err.Error(), "GET /v1/models")
}

func mustModel(t *testing.T, id string) routing.Model {
	m, ok := routing.DefaultCatalog().Lookup(id)
	require.True(t, ok)
	return m
}

func TestSelectorCapabilities(t *testing.T) {
	t.Parallel()
	p := routing.DefaultPolicy()
	p.Tiers[routing.TierEconomy] = []string{"llama-3.1-8b"} // no vision
	s := newSelector(t, nil)
	raw := `{"model":"auto","messages":[{"role":"user","content":[{"type":"text","text":"what is this"},{"type":"image_url","image_url":{"url":"https://x/y.png"}}]}]}`
	req, err := routing.ParseChatRequest([]byte(raw))
	require.NoError(t, err)
	d, err := s.Select(t.Context(), routing.SelectInput{Request: req, Policy: p})
	require.NoError(t, err)
	require.Equal(t, routing.RouteReasonCapability, d.Reason)
	require.True(t, d.Model.Capabilities.Vision)
}

func TestSelectorSessionAffinity(t *testing.T) {
	t.Parallel()
	s := newSelector(t, nil)
	p := routing.DefaultPolicy()
	first := chatReq(t, "auto", "Analyze step by step why the build fails.")
	d, err := s.Select(t.Context(), routing.SelectInput{TenantID: "t1", Request: first, Policy: p})
	require.NoError(t, err)
	require.Equal(t, "gpt-4o", d.Model.ID)

	// A hard follow-up in the same conversation stays on gpt-4o.
	follow := chatReq(t, "auto", "Analyze step by step why the build fails.", "It is the linker.", "Then refactor the build script so it links statically, and explain each change.")
	d, err = s.Select(t.Context(), routing.SelectInput{TenantID: "t1", Request: follow, Policy: p})
	require.NoError(t, err)
	require.Equal(t, "gpt-4o", d.Model.ID)
	require.Equal(t, routing.RouteReasonAffinity, d.Reason, d.Header())

	// Another tenant with the same text has no affinity.
	d, err = s.Select(t.Context(), routing.SelectInput{TenantID: "t2", Request: follow, Policy: p})
	require.NoError(t, err)
	require.NotEqual(t, routing.RouteReasonAffinity, d.Reason)

	// The budget ladder beats affinity.
	d, err = s.Select(t.Context(), routing.SelectInput{TenantID: "t1", Request: follow, Policy: p,
		Budget: routing.BudgetPace{Budget: 100, Spent: 99, Elapsed: 0.9}})
	require.NoError(t, err)
	require.Equal(t, "gpt-4o-mini", d.Model.ID)
}

func TestPolicyValidateCollectsProblems(t *testing.T) {
	t.Parallel()
	p := routing.Policy{
		Tiers:   map[routing.Tier][]string{"gold": {"x"}, routing.TierEconomy: nil},
		MaxTier: "platinum",
		Rules:   []routing.Rule{{Name: "empty", Tier: routing.TierPremium}},
		Ladder:  []routing.LadderStep{{AtPercent: 90, MaxTier: routing.TierEconomy}, {AtPercent: 50, MaxTier: "x"}},
	}
	err := p.Validate()
	require.ErrorIs(t, err, errkind.Invalid)
	for _, want := range []string{`unknown tier "gold"`, "tiers.economy", "max_tier", "rules[0]", "ladder[1].max_tier", "sorted"} {
		require.Contains(t, err.Error(), want)
	}
	require.NoError(t, routing.DefaultPolicy().Validate())
	require.NoError(t, routing.DefaultPolicy().CheckCatalog(routing.DefaultCatalog()))

	raw, err := json.Marshal(routing.DefaultPolicy())
	require.NoError(t, err)
	var back routing.Policy
	require.NoError(t, json.Unmarshal(raw, &back))
	require.Equal(t, routing.DefaultPolicy(), back)
}

func TestDecisionHeader(t *testing.T) {
	t.Parallel()
	d := routing.Decision{Reason: routing.RouteReasonAutoEconomy, Explanation: "simple prompt (score 0, 9 tokens)"}
	require.Equal(t, "auto_economy; simple prompt (score 0, 9 tokens)", d.Header())
	_ = fmt.Sprint(d)
}

// TestSelectorBudgetsCombine: every budget that applies caps the tier; the most
// restrictive wins, pace and ladder combine (a ladder step never switches pace
// off), and a budget's own downgrade step drops one tier below what is wanted.
func TestSelectorBudgetsCombine(t *testing.T) {
	t.Parallel()
	const complex = "Analyze step by step and prove the bound."
	const usd = billing.NanoPerUSD
	noLadder := routing.DefaultPolicy()
	noLadder.Ladder = nil
	premium := routing.DefaultPolicy()
	premium.ComplexTier = routing.TierPremium
	premium.Ladder = nil
	premium.PaceTolerancePercent = -1
	onPace := routing.BudgetPace{Budget: 100 * usd, Spent: 10 * usd, Elapsed: 0.5}
	for _, tc := range []struct {
		name    string
		policy  routing.Policy
		model   string
		budget  routing.BudgetPace
		budgets []routing.BudgetPace
		want    string
		reason  routing.RouteReason
	}{
		// A key budget's downgrade_at applies while a tenant budget (on pace) exists.
		{"key downgrade beside tenant budget", noLadder, "auto", onPace,
			[]routing.BudgetPace{{Budget: 10 * usd, Spent: 6 * usd, DowngradeAt: 50, Name: "key k1 budget"}}, "gpt-4o-mini", routing.RouteReasonBudgetLadder},
		{"key below its downgrade step", noLadder, "auto", onPace,
			[]routing.BudgetPace{{Budget: 10 * usd, Spent: 4 * usd, DowngradeAt: 50}}, "gpt-4o", routing.RouteReasonAutoComplex},
		// The ladder caps premium at standard and pace (spending too fast) drops
		// below that: before, the ladder step switched pace off.
		{"ladder and pace combine", routing.DefaultPolicy(), "auto", routing.BudgetPace{Budget: 100 * usd, Spent: 85 * usd, Elapsed: 0.1},
			nil, "gpt-4o-mini", routing.RouteReasonBudgetPace},
		// A downgrade step goes premium → standard first, not straight to economy.
		{"premium steps to standard", premium, "auto", routing.BudgetPace{},
			[]routing.BudgetPace{{Budget: 10 * usd, Spent: 6 * usd, DowngradeAt: 50}}, "gpt-4o", routing.RouteReasonBudgetLadder},
		// Named models are not steered by budgets unless the policy opts in.
		{"named model kept", noLadder, "gpt-4o", onPace,
			[]routing.BudgetPace{{Budget: 10 * usd, Spent: 9 * usd, DowngradeAt: 50}}, "gpt-4o", routing.RouteReasonExplicit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSelector(t, nil)
			d, err := s.Select(t.Context(), routing.SelectInput{Request: chatReq(t, tc.model, complex), Policy: tc.policy,
				Budget: tc.budget, Budgets: tc.budgets})
			require.NoError(t, err)
			require.Equal(t, tc.want, d.Model.ID, d.Header())
			require.Equal(t, tc.reason, d.Reason, d.Header())
		})
	}
}

// A few words with no sign of difficulty go to economy with model "auto",
// whatever a word the training data saw in hard asks does to the
// probability; a short turn that names demanding work does not.
func TestShortTurnsGoToEconomy(t *testing.T) {
	t.Parallel()
	s := newSelector(t, nil)
	for _, tc := range []struct {
		turn  string
		tier  routing.Tier
		short bool
	}{
		{"budget 3", routing.TierEconomy, true},
		{"hello", routing.TierEconomy, true},
		{"ok thanks", routing.TierEconomy, true},
		{"option 2 please", routing.TierEconomy, true},
		{"write a migration plan", routing.TierStandard, false},
	} {
		d, err := s.Select(t.Context(), routing.SelectInput{TenantID: "t1", Request: chatReq(t, "auto", tc.turn), Policy: routing.DefaultPolicy()})
		require.NoError(t, err)
		require.Equal(t, tc.tier, d.Tier, "%q: %s", tc.turn, d.Header())
		require.Equal(t, tc.short, d.Features.ShortTurn, tc.turn)
		require.Contains(t, d.Explanation, "threshold", "the reason names the threshold")
	}
	// Words of demanding work are a sign of difficulty: the classifier decides.
	for _, turn := range []string{"debug this deadlock", "prove it", "refactor the parser"} {
		d, err := s.Select(t.Context(), routing.SelectInput{TenantID: "t1", Request: chatReq(t, "auto", turn), Policy: routing.DefaultPolicy()})
		require.NoError(t, err)
		require.False(t, d.Features.ShortTurn, turn)
	}
}
