package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// keptE2ETraffic: single turns and a conversation, with and without the words
// the two policies' keyword rules name.
var keptE2ETraffic = []string{
	`{"model":"auto","max_tokens":40,"messages":[{"role":"user","content":"Please check this invoice total for me: 3 items at $4."}]}`,
	`{"model":"auto","max_tokens":40,"messages":[{"role":"user","content":"I want a REFUND for order 1234."}]}`,
	`{"model":"auto","max_tokens":40,"messages":[{"role":"user","content":"hello, what time is it in Paris?"}]}`,
	`{"model":"auto","max_tokens":40,"messages":[{"role":"user","content":"Prove that the square root of 2 is irrational, step by step."}]}`,
	`{"model":"auto","max_tokens":40,"messages":[{"role":"user","content":"Is a refundable deposit taxable?"}]}`,
	`{"model":"auto","max_tokens":40,"user":"u-1","messages":[{"role":"user","content":"thanks for the help earlier"}]}`,
	`{"model":"auto","max_tokens":40,"user":"u-1","messages":[{"role":"user","content":"thanks for the help earlier"},{"role":"assistant","content":"You're welcome."},{"role":"user","content":"Now write a refund policy for a SaaS with annual plans, covering proration."}]}`,
}

func keptE2EPolicy(days int, rules string) string {
	return `{"tiers":{"economy":["sim-small"],"standard":["sim-large"]},"session_affinity":true,"retain_prompts_days":` +
		strconv.Itoa(days) + `,"rules":` + rules + `}`
}

// sendKept sends the traffic with the key and returns how many requests each
// model served.
func sendKept(t *testing.T, s *stack, secret string) map[string]int {
	t.Helper()
	models := map[string]int{}
	for _, body := range keptE2ETraffic {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.baseURL+"/v1/chat/completions", bytes.NewReader([]byte(body)))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		out, _ := io.ReadAll(res.Body)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode, string(out))
		var chat struct {
			Model string `json:"model"`
		}
		require.NoError(t, json.Unmarshal(out, &chat))
		models[chat.Model]++
	}
	return models
}

func keptCountE2E(t *testing.T, s *stack, tn tenants.Tenant) int64 {
	t.Helper()
	var n int64
	require.NoError(t, s.handle(t, tn).Read(t.Context(), func(db *gorm.DB) error { return db.Table("kept_prompts").Count(&n).Error }))
	return n
}

// TestWhatIfEqualsLiveOnKeptPrompts: through `tollgate serve`, a tenant that
// keeps prompts sends traffic under one keyword rule; the console's what-if of
// a changed rule answers what the same traffic, sent live under the changed
// rule (by a second tenant, so no affinity carries over), was served: the same
// models and the same route reasons, every request replayed from its kept
// prompt. Turning retention off deletes the kept prompts, and the what-if then
// says what it could not replay and why.
func TestWhatIfEqualsLiveOnKeptPrompts(t *testing.T) {
	t.Parallel()
	s := startStack(t, map[string]string{"TOLLGATE_SIM": "1", "TOLLGATE_MASTER_KEY": "e2e-master-key-0123456789abcdef0123"})
	token := adminToken(t, s)
	before := keptE2EPolicy(7, `[{"name":"billing","keywords":["invoice"],"tier":"standard"}]`)
	after := keptE2EPolicy(7, `[{"name":"billing","keywords":["refund"],"tier":"standard"},{"name":"small-talk","keywords":["hello","thanks"],"tier":"economy"}]`)
	put := func(tn tenants.Tenant, policy string) {
		status, body := adminCall(t, s, token, http.MethodPut, "/api/v1/tenants/"+string(tn.ID)+"/routing", json.RawMessage(policy))
		require.Equal(t, http.StatusOK, status, body)
	}

	// Given tenant A's live traffic under "before", with prompts kept.
	a, _, aSecret := s.tenantWithKey(t, "acme", apikeys.CreateKeyInput{})
	put(a, before)
	liveBefore := sendKept(t, s, aSecret)
	s.waitLedger(t, a, func(evs []ledger.Event) bool { return len(evs) == len(keptE2ETraffic) })
	require.Eventually(t, func() bool { return keptCountE2E(t, s, a) == int64(len(keptE2ETraffic)) }, 10*time.Second, 50*time.Millisecond)

	// And the same traffic sent live under "after" by tenant B.
	b, _, bSecret := s.tenantWithKey(t, "globex", apikeys.CreateKeyInput{})
	put(b, after)
	liveAfter := sendKept(t, s, bSecret)
	bEvents := s.waitLedger(t, b, func(evs []ledger.Event) bool { return len(evs) == len(keptE2ETraffic) })
	require.NotEqual(t, liveBefore, liveAfter, "the rule change must move some requests, or the test proves nothing")
	liveReasons := map[string]int{}
	for _, e := range bEvents {
		liveReasons[strings.SplitN(e.RouteReason, "+", 2)[0]]++
	}

	// When A's what-if replays its history under "after".
	simulate := func() (map[string]any, string) {
		status, body := adminCall(t, s, token, http.MethodPost, "/api/v1/tenants/"+string(a.ID)+"/routing/simulate",
			json.RawMessage(`{"policy":`+after+`}`))
		require.Equal(t, http.StatusOK, status, body)
		var sim map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &sim))
		return sim, body
	}
	sim, body := simulate()

	// Then it answers what live under "after" did, from the kept prompts.
	counts := func(v any) map[string]int {
		out := map[string]int{}
		for k, n := range v.(map[string]any) {
			out[k] = int(n.(float64))
		}
		return out
	}
	require.Equal(t, liveAfter, counts(sim["models_after"]))
	require.Equal(t, liveReasons, counts(sim["reasons"]))
	require.EqualValues(t, len(keptE2ETraffic), sim["keyword_rules_replayed"])
	require.EqualValues(t, 0, sim["keyword_rules_not_replayed"])
	require.Nil(t, sim["needs_text"])
	require.NotContains(t, body, "invoice total", "the what-if answers with counts, never a prompt")

	// When A turns retention off, what it kept is deleted, and the what-if
	// says how many requests it could not replay, and why.
	put(a, keptE2EPolicy(0, `[{"name":"billing","keywords":["invoice"],"tier":"standard"}]`))
	require.Zero(t, keptCountE2E(t, s, a))
	sim, _ = simulate()
	require.EqualValues(t, len(keptE2ETraffic), sim["keyword_rules_not_replayed"])
	require.Contains(t, sim["needs_text"], "prompt not kept: enable retain_prompts_days")
}
