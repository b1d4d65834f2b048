package gateway_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants"
)

// keptTraffic is a small tenant history: single turns and a conversation,
// easy and hard, with and without the words the two policies' rules name.
var keptTraffic = []string{
	`{"model":"auto","max_tokens":50,"messages":[{"role":"user","content":"Please check this invoice total for me: 3 items at $4."}]}`,
	`{"model":"auto","max_tokens":50,"messages":[{"role":"user","content":"I want a REFUND for order 1234."}]}`,
	`{"model":"auto","max_tokens":50,"messages":[{"role":"user","content":"hello, what time is it in Paris?"}]}`,
	`{"model":"auto","max_tokens":50,"messages":[{"role":"user","content":"Prove that the square root of 2 is irrational, step by step, and analyze where the argument needs care."}]}`,
	`{"model":"auto","max_tokens":50,"messages":[{"role":"user","content":"Is a refundable deposit taxable?"}]}`,
	`{"model":"auto","max_tokens":50,"user":"u-1","messages":[{"role":"user","content":"thanks for the help earlier"}]}`,
	`{"model":"auto","max_tokens":50,"user":"u-1","messages":[{"role":"user","content":"thanks for the help earlier"},{"role":"assistant","content":"You're welcome."},{"role":"user","content":"Now write a refund policy for a SaaS with annual plans, covering proration and chargebacks."}]}`,
	`{"model":"auto","max_tokens":50,"messages":[{"role":"user","content":"Refactor this Go function to stream results and explain the concurrency trade-offs:\n` + "```go\\nfunc f() {}\\n```" + `"}]}`,
}

// keptPolicy is the sim tiers with the given keyword rules and retention.
func keptPolicy(days int, rules ...routing.Rule) routing.Policy {
	p := routing.DefaultPolicy()
	p.Tiers = map[routing.Tier][]string{routing.TierEconomy: {"sim-small"}, routing.TierStandard: {"sim-large"}}
	p.Rules, p.RetainPromptsDays = rules, days
	return p
}

// sendAll sends the traffic through the gateway under the tenant's saved
// policy and returns, in order, each request's server id and its decision
// (model and x-tollgate-route-reason).
func sendAll(t *testing.T, b *testBundle) (reqIDs, decisions []string) {
	t.Helper()
	for _, body := range keptTraffic {
		req, err := routing.ParseChatRequest([]byte(body))
		require.NoError(t, err)
		id := ids()
		res, err := b.svc.Chat(t.Context(), b.caller, id, req)
		require.NoError(t, err)
		reqIDs = append(reqIDs, id.Server)
		decisions = append(decisions, res.Model+" "+res.RouteReason)
	}
	return reqIDs, decisions
}

// TestWhatIfReplaysKeywordRulesOnKeptPrompts: a tenant keeping prompts sends
// traffic under one keyword rule; the what-if of a policy whose keyword rules
// changed decides for every request what a live run under that policy decides
// on the same requests. Without kept prompts the replay says how many it could
// not replay, and why.
func TestWhatIfReplaysKeywordRulesOnKeptPrompts(t *testing.T) {
	t.Parallel()
	before := keptPolicy(7, routing.Rule{Name: "billing", Keywords: []string{"invoice"}, Tier: routing.TierStandard})
	after := keptPolicy(7,
		routing.Rule{Name: "billing", Keywords: []string{"refund"}, Tier: routing.TierStandard},
		routing.Rule{Name: "small-talk", Keywords: []string{"hello", "thanks"}, Tier: routing.TierEconomy})

	// Given live traffic under the "before" policy, with retention on.
	b := setup(t, 0)
	require.NoError(t, gateway.SavePolicy(t.Context(), b.h, before, b.catalog))
	sent, liveBefore := sendAll(t, b)
	require.NoError(t, b.ledger.Flush(t.Context()))
	evs, err := ledger.EventsSince(t.Context(), b.h, time.Now().Add(-time.Hour), 100)
	require.NoError(t, err)
	require.Len(t, evs, len(keptTraffic))

	// And the same requests sent live under the "after" policy (a fresh
	// gateway: no affinity or warm cache carried over).
	live := setup(t, 0)
	require.NoError(t, gateway.SavePolicy(t.Context(), live.h, after, live.catalog))
	_, liveAfter := sendAll(t, live)
	require.NotEqual(t, liveBefore, liveAfter, "the rule change must change some decisions, or the test proves nothing")

	// When the what-if replays the tenant's history under "after".
	records, err := gateway.ReplayRecords(t.Context(), b.h, b.sealer, after, evs)
	require.NoError(t, err)
	res, err := b.selector.Simulate(t.Context(), after, records, routing.SimulateOptions{Catalog: b.catalog})
	require.NoError(t, err)

	// Then every decision equals live under "after", and nothing is reported missing.
	order := map[string]int{}
	for i, id := range sent {
		order[id] = i
	}
	replayed := make([]string, len(keptTraffic))
	for i, e := range evs {
		replayed[order[e.RequestID]] = res.Decisions[i].Model.ID + " " + res.Decisions[i].Header()
	}
	require.Equal(t, liveAfter, replayed)
	require.Equal(t, len(keptTraffic), res.KeywordRulesReplayed)
	require.Zero(t, res.KeywordRulesFromLive)
	require.Empty(t, res.NeedsText())

	// Without a sealer (or kept prompts) the rule matches stay as recorded
	// live, and the answer says how many and why.
	records, err = gateway.ReplayRecords(t.Context(), b.h, nil, after, evs)
	require.NoError(t, err)
	res, err = b.selector.Simulate(t.Context(), after, records, routing.SimulateOptions{Catalog: b.catalog})
	require.NoError(t, err)
	require.Equal(t, len(keptTraffic), res.KeywordRulesFromLive)
	require.Contains(t, res.NeedsText(), "prompt not kept: enable retain_prompts_days")
}

// keptRows reads the tenant's kept_prompts table.
func keptRows(t *testing.T, h *tenants.Handle) map[string]string {
	t.Helper()
	var rows []struct{ RequestID, TurnSealed string }
	require.NoError(t, h.Read(t.Context(), func(db *gorm.DB) error {
		return db.Table("kept_prompts").Select("request_id, turn_sealed").Scan(&rows).Error
	}))
	out := map[string]string{}
	for _, r := range rows {
		out[r.RequestID] = r.TurnSealed
	}
	return out
}

// TestKeptPromptsAreSealedAndStayWithTheirTenant: with retention on, each
// served request keeps its keyword text sealed (no plaintext at rest, none on
// the live feed); a sealed row copied into another tenant does not open there;
// with retention off nothing is kept.
func TestKeptPromptsAreSealedAndStayWithTheirTenant(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	secret := "the launch codes are swordfish"
	body := `{"model":"auto","max_tokens":20,"messages":[{"role":"user","content":"Remember: ` + secret + `."}]}`
	send := func(h *tenants.Handle) string {
		req, err := routing.ParseChatRequest([]byte(body))
		require.NoError(t, err)
		id := ids()
		c := b.caller
		c.Handle = h
		_, err = b.svc.Chat(t.Context(), c, id, req)
		require.NoError(t, err)
		return id.Server
	}

	// Given retention off, nothing is kept.
	require.NoError(t, gateway.SavePolicy(t.Context(), b.h, keptPolicy(0), b.catalog))
	send(b.h)
	require.NoError(t, b.ledger.Flush(t.Context()))
	require.Empty(t, keptRows(t, b.h))

	// When the tenant keeps prompts for 7 days.
	require.NoError(t, gateway.SavePolicy(t.Context(), b.h, keptPolicy(7), b.catalog))
	b.policies.Invalidate(b.h.TenantID())
	id := send(b.h)
	require.NoError(t, b.ledger.Flush(t.Context()))

	// Then the row is sealed: no plaintext at rest.
	rows := keptRows(t, b.h)
	require.Len(t, rows, 1)
	require.NotEmpty(t, rows[id])
	require.NotContains(t, strings.ToLower(rows[id]), "swordfish")
	// And the live feed never carried it, sealed or not.
	b.sink.mu.Lock()
	for _, e := range b.sink.usage {
		require.Empty(t, e.KeptTurn)
	}
	b.sink.mu.Unlock()
	// And usage_events holds no copy of it.
	evs, err := ledger.EventsSince(t.Context(), b.h, time.Now().Add(-time.Hour), 10)
	require.NoError(t, err)
	for _, e := range evs {
		require.Empty(t, e.KeptTurn)
		require.NotContains(t, e.RouteFeatures, "swordfish")
	}

	// The kept text opens for its tenant's what-if only.
	pol := keptPolicy(7, routing.Rule{Name: "codes", Keywords: []string{"swordfish"}, Tier: routing.TierStandard})
	recs, err := gateway.ReplayRecords(t.Context(), b.h, b.sealer, pol, evs)
	require.NoError(t, err)
	kept := 0
	for _, r := range recs {
		if r.KeptTurn != "" {
			kept++
			require.Contains(t, r.KeptTurn, "swordfish")
		}
	}
	require.Equal(t, 1, kept)

	// A sealed row copied into another tenant (with a matching ledger event)
	// does not open there: the seal is bound to tenant and request.
	other, err := b.reg.Create(t.Context(), tenants.CreateInput{Name: "globex"})
	require.NoError(t, err)
	oh, err := b.reg.Handle(tenants.SystemPrincipal(other, "test"))
	require.NoError(t, err)
	_, err = ledger.Insert(t.Context(), oh, []ledger.Event{{TenantID: string(other.ID), RequestID: id, CreatedAt: time.Now().UTC(),
		ModelRequested: "auto", ModelUsed: "sim-small", Status: ledger.StatusOK, KeptTurn: rows[id],
		RouteFeatures: `{"prompt_tokens":10,"p_standard":0.1,"p_premium":0,"classifier":"builtin"}`}})
	require.NoError(t, err)
	require.Len(t, keptRows(t, oh), 1)
	oevs, err := ledger.EventsSince(t.Context(), oh, time.Now().Add(-time.Hour), 10)
	require.NoError(t, err)
	recs, err = gateway.ReplayRecords(t.Context(), oh, b.sealer, pol, oevs)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Empty(t, recs[0].KeptTurn)
}

// TestKeptPromptsArePurged: rows older than the policy's days go on a purge;
// lowering the days or turning retention off deletes at once what the policy
// no longer keeps.
func TestKeptPromptsArePurged(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	ctx := t.Context()
	now := time.Now().UTC()
	// Given kept prompts 1, 5 and 9 days old under a 10-day policy.
	require.NoError(t, gateway.SavePolicy(ctx, b.h, keptPolicy(10), b.catalog))
	var evs []ledger.Event
	for _, age := range []int{1, 5, 9} {
		evs = append(evs, ledger.Event{TenantID: string(b.h.TenantID()), RequestID: "kept-" + string(rune('0'+age)),
			CreatedAt: now.Add(-time.Duration(age) * 24 * time.Hour), ModelUsed: "sim-small", Status: ledger.StatusOK, KeptTurn: "c2VhbGVk"})
	}
	_, err := ledger.Insert(ctx, b.h, evs)
	require.NoError(t, err)
	require.Len(t, keptRows(t, b.h), 3)

	// When the purge runs now, nothing is past 10 days.
	n, err := gateway.PurgeKeptPrompts(ctx, b.h, now)
	require.NoError(t, err)
	require.Zero(t, n)
	// Two days later the 9-day-old row is past it.
	n, err = gateway.PurgeKeptPrompts(ctx, b.h, now.Add(48*time.Hour))
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	require.Len(t, keptRows(t, b.h), 2)

	// Lowering retention to 3 days deletes the 5-day-old row on save.
	require.NoError(t, gateway.SavePolicy(ctx, b.h, keptPolicy(3), b.catalog))
	require.Equal(t, []string{"kept-1"}, keys(keptRows(t, b.h)))

	// Turning retention off deletes what was kept, and a straggler still in a
	// spool when it was turned off goes on the next purge.
	require.NoError(t, gateway.SavePolicy(ctx, b.h, keptPolicy(0), b.catalog))
	require.Empty(t, keptRows(t, b.h))
	_, err = ledger.Insert(ctx, b.h, []ledger.Event{{TenantID: string(b.h.TenantID()), RequestID: "straggler", CreatedAt: now,
		ModelUsed: "sim-small", Status: ledger.StatusOK, KeptTurn: "c2VhbGVk"}})
	require.NoError(t, err)
	require.Len(t, keptRows(t, b.h), 1)
	n, err = gateway.PurgeKeptPrompts(ctx, b.h, now)
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	require.Empty(t, keptRows(t, b.h))
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// BenchmarkSealKeptTurn is what keeping a prompt adds to a request: sealing
// a 2 KiB keyword text (a full turn of the scan window) for the ledger event.
func BenchmarkSealKeptTurn(b *testing.B) {
	sealer, err := seal.New("gateway bench master key")
	require.NoError(b, err)
	text := strings.Repeat("please refactor this function and explain ", 50)[:2048]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gateway.SealKeptTurn(sealer, "01m98ydb380xcfhn07caa0fs1x", "req_0123456789abcdef01234567", text); err != nil {
			b.Fatal(err)
		}
	}
}
