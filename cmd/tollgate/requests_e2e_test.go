package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// TestRequestExplorerRecordsRefusals: through the real server, a served
// request, a 400 (malformed body) and 429s of a hard budget all reach the
// request explorer with their status and error code, an unknown key's 401
// reaches no tenant, and usage (events and daily rollups) counts only the
// served request. The CLI lists the 429s.
func TestRequestExplorerRecordsRefusals(t *testing.T) {
	t.Parallel()
	s := startStack(t, map[string]string{"TOLLGATE_SIM": "1"})
	tn, key, secret := s.tenantWithKey(t, "explorer", apikeys.CreateKeyInput{Name: "k"})
	post := func(auth, body string) int {
		req, _ := http.NewRequest(http.MethodPost, s.baseURL+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+auth)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	const ok = `{"model":"sim-small","max_tokens":50,"messages":[{"role":"user","content":"hello"}]}`
	require.Equal(t, http.StatusOK, post(secret, ok))
	evs := s.waitLedger(t, tn, func(evs []ledger.Event) bool { return len(evs) == 1 })
	require.Equal(t, http.StatusBadRequest, post(secret, `{"model":`))
	require.Equal(t, http.StatusUnauthorized, post("tg_not_a_key", ok))
	s.setBudget(t, tn, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: evs[0].Cost, Hard: true})
	// The budget reaches the gateway through its cache: ask until it refuses.
	refused429, served := 0, 1
	for deadline := time.Now().Add(10 * time.Second); refused429 < 2 && time.Now().Before(deadline); {
		switch post(secret, ok) {
		case http.StatusTooManyRequests:
			refused429++
		case http.StatusOK:
			served++
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.Equal(t, 2, refused429)
	evs = s.waitLedger(t, tn, func(evs []ledger.Event) bool { return len(evs) == served })
	var servedCost billing.NanoUSD
	for _, e := range evs {
		servedCost += e.Cost
	}

	h := s.handle(t, tn)
	var page ledger.RequestPage
	require.Eventually(t, func() bool {
		var err error
		page, err = ledger.Requests(t.Context(), h, ledger.RequestPageInput{Status: ledger.RequestStatusRefused})
		return err == nil && len(page.Requests) == refused429+1
	}, 10*time.Second, 50*time.Millisecond)
	codes := map[int]int{}
	for _, r := range page.Requests {
		codes[r.StatusCode]++
		require.Equal(t, key.ID, r.KeyID)
		require.Zero(t, r.Cost)
		if r.StatusCode == http.StatusTooManyRequests {
			require.Equal(t, "budget_exceeded", r.ErrorCode)
			require.Equal(t, "sim-small", r.ModelRequested)
		}
	}
	require.Equal(t, map[int]int{http.StatusBadRequest: 1, http.StatusTooManyRequests: refused429}, codes)

	all, err := ledger.Requests(t.Context(), h, ledger.RequestPageInput{Limit: 500})
	require.NoError(t, err)
	require.Len(t, all.Requests, refused429+1+served, "served and refused, and no 401 of an unknown key")

	// Billing is untouched: only served requests in events and rollups.
	tot, err := ledger.EventTotals(t.Context(), h, time.Time{})
	require.NoError(t, err)
	require.EqualValues(t, served, tot.Requests)
	_, rolled, err := ledger.Series(t.Context(), h, ledger.SeriesQuery{GroupBy: []ledger.GroupBy{ledger.GroupByDay}})
	require.NoError(t, err)
	require.EqualValues(t, served, rolled.Requests)
	require.Equal(t, servedCost, rolled.Cost)

	// The admin API: the 429s, then one in detail; a bad filter is a 4xx.
	token := adminToken(t, s)
	status, body := adminCall(t, s, token, http.MethodGet, "/api/v1/tenants/"+tn.Slug+"/requests?status=429&limit=10", nil)
	require.Equal(t, http.StatusOK, status, body)
	var apiPage struct {
		Data []struct {
			RequestID  string `json:"request_id"`
			StatusCode int    `json:"status_code"`
			ErrorCode  string `json:"error_code"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &apiPage))
	require.Len(t, apiPage.Data, refused429)
	require.Equal(t, "budget_exceeded", apiPage.Data[0].ErrorCode)
	status, body = adminCall(t, s, token, http.MethodGet, "/api/v1/tenants/"+tn.Slug+"/requests/"+evs[0].RequestID, nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"cost_nano":`)
	status, _ = adminCall(t, s, token, http.MethodGet, "/api/v1/tenants/"+tn.Slug+"/requests/nope", nil)
	require.Equal(t, http.StatusNotFound, status)
	status, body = adminCall(t, s, token, http.MethodGet, "/api/v1/tenants/"+tn.Slug+"/requests?status=teapot", nil)
	require.Equal(t, http.StatusUnprocessableEntity, status, body)
	require.Contains(t, body, "status must be")

	out, _, err := runStackCLI(t, s, "requests", "--tenant", tn.Slug, "--status", "429", "--json")
	require.NoError(t, err)
	var listed struct {
		Requests []requestJSON `json:"requests"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &listed))
	require.Len(t, listed.Requests, refused429)
	require.Equal(t, 429, listed.Requests[0].StatusCode)

	// Projections from the same usage: the CLI and the API agree.
	out, _, err = runStackCLI(t, s, "usage", "project", "--tenant", tn.Slug, "--users", "1000", "--json")
	require.NoError(t, err)
	var proj ledger.Projection
	require.NoError(t, json.Unmarshal([]byte(out), &proj))
	require.Len(t, proj.Users, 1)
	require.EqualValues(t, 1000, proj.Users[0].Users)
	require.EqualValues(t, 1, proj.ActiveKeys)
	require.Equal(t, servedCost, proj.SpentThisMonth)
	require.Equal(t, servedCost*1000, proj.Users[0].Monthly.Estimate, "one active user: 1000 users cost 1000 times its month")
	require.NotEmpty(t, proj.Assumptions)
	status, body = adminCall(t, s, token, http.MethodGet, "/api/v1/tenants/"+tn.Slug+"/usage/projection?users=1,1000", nil)
	require.Equal(t, http.StatusOK, status, body)
	var apiProj ledger.Projection
	require.NoError(t, json.Unmarshal([]byte(body), &apiProj))
	require.Equal(t, proj.Users[0], apiProj.Users[1])
	status, _ = adminCall(t, s, token, http.MethodGet, "/api/v1/tenants/"+tn.Slug+"/usage/projection?users=0", nil)
	require.Equal(t, http.StatusUnprocessableEntity, status)
}
