package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/savings"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// TestSuggestionAppliedChangesLiveRouting: a key that names sim-large for easy
// and hard prompts alike gets a "route as auto" suggestion whose replay
// predicts which model answers each request; applied through the admin API
// (audited), the same requests sent again through the gateway are answered
// exactly as predicted, and the explorer's detail carries the latency split
// and the output limit. The CLI lists the same suggestion.
func TestSuggestionAppliedChangesLiveRouting(t *testing.T) {
	t.Parallel()
	s := startStack(t, map[string]string{"TOLLGATE_SIM": "1"})
	tn, key, secret := s.tenantWithKey(t, "savers", apikeys.CreateKeyInput{Name: "chatbot"})
	prompts := []string{"hello there", "thanks, that helps", "what time zone is Paris in?", "say hi to Bob",
		"good morning", "what is the capital of Spain?", "translate 'cat' to French", "ok, bye",
		complexPrompt, "Prove step by step that the square root of 2 is irrational.",
		"Analyze step by step the time complexity of merge sort and prove it is optimal among comparison sorts.",
		"Design a distributed rate limiter, reason step by step about consistency, and prove it never admits more than N requests."}
	send := func(prompt string) (model, reason string) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"model": "sim-large", "max_tokens": 40,
			"messages": []map[string]string{{"role": "user", "content": prompt}}})
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.baseURL+"/v1/chat/completions", strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		return resp.Header.Get("x-tollgate-model"), resp.Header.Get("x-tollgate-route-reason")
	}

	// Given a month of named-model traffic (here: one round of it).
	for _, p := range prompts {
		model, _ := send(p)
		require.Equal(t, "sim-large", model, "a named model is served as asked")
	}
	evs := s.waitLedger(t, tn, func(evs []ledger.Event) bool { return len(evs) == len(prompts) })
	require.EqualValues(t, 40, evs[0].MaxTokens, "the ledger keeps the output limit")

	// When the suggestions are listed.
	token := adminToken(t, s)
	base := "/api/v1/tenants/" + tn.Slug
	status, body := adminCall(t, s, token, http.MethodGet, base+"/suggestions", nil)
	require.Equal(t, http.StatusOK, status, body)
	var list struct {
		Data     []suggestionJSON `json:"data"`
		Requests int              `json:"requests"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	require.Equal(t, len(prompts), list.Requests)
	var auto *suggestionJSON
	for i, sg := range list.Data {
		if sg.Kind == savings.KindRouteAuto {
			auto = &list.Data[i]
		}
	}
	require.NotNil(t, auto, "a route-as-auto suggestion: %s", body)
	require.Equal(t, key.ID, auto.KeyID)
	require.Equal(t, "sim-large", auto.Model)
	require.Positive(t, auto.MonthlySavings)
	require.Less(t, int64(auto.WindowCostAfter), int64(auto.WindowCostBefore))
	require.Equal(t, len(prompts), auto.Requests)
	require.Positive(t, auto.Predicted["sim-small"], "easy prompts go to the simple tier: %v", auto.Predicted)
	require.Positive(t, auto.Predicted["sim-large"], "hard prompts stay: %v", auto.Predicted)
	require.NotEmpty(t, auto.Risk)

	// The CLI computes the same suggestion (same id) from the same database.
	envFile := filepath.Join(t.TempDir(), "cli.env")
	require.NoError(t, os.WriteFile(envFile, []byte("TOLLGATE_SIM=1\n"), 0o600))
	out, _, err := runStackCLI(t, s, "--env-file", envFile, "suggestions", "--tenant", tn.Slug, "--json")
	require.NoError(t, err)
	require.Contains(t, out, `"id": "`+auto.ID+`"`)

	// A stale or unknown id changes nothing.
	status, body = adminCall(t, s, token, http.MethodPost, base+"/suggestions/sug_0000000000000000/apply", nil)
	require.Equal(t, http.StatusNotFound, status, body)

	// When it is applied.
	status, body = adminCall(t, s, token, http.MethodPost, base+"/suggestions/"+auto.ID+"/apply", nil)
	require.Equal(t, http.StatusOK, status, body)
	var applied struct {
		Policy routing.Policy `json:"policy"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &applied))
	require.Equal(t, []string{"sim-large"}, applied.Policy.Keys[key.ID].AutoModels)
	status, body = adminCall(t, s, token, http.MethodGet, base+"/audit", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, savings.AuditActionApply)

	// Then live routing answers the same requests as the replay predicted.
	got := map[string]int{}
	for _, p := range prompts {
		model, reason := send(p)
		got[model]++
		require.Contains(t, reason, "key routes sim-large as auto", "x-tollgate-route-reason explains the override")
	}
	require.Equal(t, auto.Predicted, got)
	evs = s.waitLedger(t, tn, func(evs []ledger.Event) bool { return len(evs) == 2*len(prompts) })
	for _, e := range evs[:len(prompts)] {
		require.Equal(t, "sim-large", e.ModelRequested, "the ledger keeps the name asked, so a replay applies the override again")
	}

	// The explorer's detail: the latency split and the (empty) fallbacks.
	status, body = adminCall(t, s, token, http.MethodGet, base+"/requests/"+evs[0].RequestID, nil)
	require.Equal(t, http.StatusOK, status, body)
	for _, field := range []string{`"overhead_ms":`, `"first_byte_ms":`, `"fallbacks":[]`, `"max_tokens":40`} {
		require.Contains(t, body, field)
	}
}
