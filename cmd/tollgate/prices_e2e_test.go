package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// adminCall sends one admin API request with a bearer token and returns the
// status and body.
func adminCall(t *testing.T, s *stack, token, method, path string, body any) (int, string) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.baseURL+path, r)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, string(out)
}

// adminToken signs in as the bootstrap platform admin of startStack.
func adminToken(t *testing.T, s *stack) string {
	t.Helper()
	status, body := adminCall(t, s, "", http.MethodPost, "/api/v1/auth/login",
		map[string]string{"email": "admin@localhost", "password": "test-admin-password"})
	require.Equal(t, http.StatusOK, status, body)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &tok))
	return tok.AccessToken
}

// TestTenantPriceOverrideIsBilled: a negotiated price set through the admin API
// is what the gateway meters and the ledger records for that tenant, and only
// for that tenant; removing it restores catalog prices.
func TestTenantPriceOverrideIsBilled(t *testing.T) {
	t.Parallel()
	s := startStack(t, map[string]string{"TOLLGATE_SIM": "1"})
	acme, _, secret := s.tenantWithKey(t, "acme", apikeys.CreateKeyInput{})
	other, _, otherSecret := s.tenantWithKey(t, "other", apikeys.CreateKeyInput{})
	token := adminToken(t, s)
	chat := func(key, prompt string) {
		t.Helper()
		client := openai.NewClient(option.WithBaseURL(s.baseURL+"/v1/"), option.WithAPIKey(key), option.WithMaxRetries(0))
		_, err := client.Chat.Completions.New(t.Context(), openai.ChatCompletionNewParams{Model: "sim-large",
			Messages: userMsg(prompt), MaxTokens: openai.Int(40)})
		require.NoError(t, err)
	}
	eventOf := func(tn tenants.Tenant, n int) ledger.Event {
		t.Helper()
		evs := s.waitLedger(t, tn, func(evs []ledger.Event) bool { return len(evs) >= n })
		require.Len(t, evs, n)
		require.Equal(t, "sim-large", evs[0].ModelUsed)
		return evs[0] // newest first
	}
	catalogCost := func(e ledger.Event) billing.NanoUSD {
		return billing.NanoUSD(e.InputTokens)*2500 + billing.NanoUSD(e.OutputTokens)*10000
	}

	// Given catalog prices, a request costs $2.50/M in and $10/M out.
	chat(secret, "price me at list")
	e1 := eventOf(acme, 1)
	require.Positive(t, e1.InputTokens)
	require.Equal(t, int64(40), e1.OutputTokens)
	require.Equal(t, catalogCost(e1), e1.Cost)

	// When acme negotiates $1.00/M in and $2.00/M out for sim-large,
	base := "/api/v1/tenants/" + string(acme.ID) + "/models/sim-large/price"
	status, body := adminCall(t, s, token, http.MethodPut, base,
		map[string]string{"input_per_million_usd": "1.00", "output_per_million_usd": "2.000"})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"overridden":true`)
	require.Contains(t, body, `"input_per_million_nano":1000000000`)

	// then the models list shows it,
	status, body = adminCall(t, s, token, http.MethodGet, "/api/v1/tenants/"+string(acme.ID)+"/models?q=sim-large", nil)
	require.Equal(t, http.StatusOK, status, body)
	var list struct {
		Data []struct {
			ID       string `json:"id"`
			Output   string `json:"output_per_million_usd"`
			Override *struct {
				Input string `json:"input_per_million_usd"`
			} `json:"override"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &list))
	require.Len(t, list.Data, 1)
	require.NotNil(t, list.Data[0].Override)
	require.Equal(t, "1.000000000", list.Data[0].Override.Input)
	require.Equal(t, "2.000000000", list.Data[0].Output)

	// and the next request is metered and recorded at the negotiated price.
	chat(secret, "price me at the deal")
	e2 := eventOf(acme, 2)
	require.Equal(t, billing.NanoUSD(e2.InputTokens)*1000+billing.NanoUSD(e2.OutputTokens)*2000, e2.Cost)
	require.Less(t, e2.Cost, catalogCost(e2))

	// Another tenant still pays list price.
	chat(otherSecret, "price me at list")
	o1 := eventOf(other, 1)
	require.Equal(t, catalogCost(o1), o1.Cost)

	// A price finer than the stored precision is refused and changes nothing.
	status, body = adminCall(t, s, token, http.MethodPut, base,
		map[string]string{"input_per_million_usd": "0.0001", "output_per_million_usd": "1"})
	require.Equal(t, http.StatusUnprocessableEntity, status, body)
	require.Contains(t, body, "0.001")
	status, _ = adminCall(t, s, token, http.MethodPut, "/api/v1/tenants/"+string(acme.ID)+"/models/no-such-model/price",
		map[string]string{"input_per_million_usd": "1", "output_per_million_usd": "1"})
	require.Equal(t, http.StatusNotFound, status)

	// When the override is removed, list prices apply again.
	status, body = adminCall(t, s, token, http.MethodDelete, base, nil)
	require.Equal(t, http.StatusNoContent, status, body)
	status, _ = adminCall(t, s, token, http.MethodDelete, base, nil)
	require.Equal(t, http.StatusNotFound, status)
	chat(secret, "back to list")
	e3 := eventOf(acme, 3)
	require.Equal(t, catalogCost(e3), e3.Cost)

	// The changes are audit-logged.
	status, body = adminCall(t, s, token, http.MethodGet, "/api/v1/tenants/"+string(acme.ID)+"/audit", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.True(t, strings.Contains(body, "model_price.set") && strings.Contains(body, "model_price.delete"), body)
}

// TestProviderCredentialsThroughAPI: a superadmin stores an OpenAI key through the
// API; it is sealed in settings, never returned, and serves requests at once
// without a restart.
func TestProviderCredentialsThroughAPI(t *testing.T) {
	t.Parallel()
	up := newFakeOpenAI(t)
	s := startStack(t, map[string]string{"TOLLGATE_MASTER_KEY": "e2e-master-key-0123456789abcdef0123456789"})
	_, _, secret := s.tenantWithKey(t, "acme", apikeys.CreateKeyInput{})
	token := adminToken(t, s)
	client := openai.NewClient(option.WithBaseURL(s.baseURL+"/v1/"), option.WithAPIKey(secret), option.WithMaxRetries(0))
	ask := func() error {
		_, err := client.Chat.Completions.New(t.Context(), openai.ChatCompletionNewParams{Model: "gpt-4o-mini", Messages: userMsg("hi")})
		return err
	}

	// Given no OpenAI key, gpt-4o-mini is unavailable.
	require.Error(t, ask())
	status, body := adminCall(t, s, token, http.MethodGet, "/api/v1/providers", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"name":"openai","enabled":false`)

	// When a superadmin stores one,
	const key = "sk-e2e-stored-key-abcdef"
	status, body = adminCall(t, s, token, http.MethodPut, "/api/v1/providers/openai",
		map[string]string{"api_key": key, "base_url": up.URL + "/v1"})
	require.Equal(t, http.StatusOK, status, body)
	require.NotContains(t, body, key)
	require.Contains(t, body, `"key_source":"stored"`)

	// then requests are served with it at once,
	require.NoError(t, ask())
	require.Equal(t, 1, up.count("gpt-4o-mini"))

	// the database holds only the sealed value, and the listing never shows the key.
	var value string
	require.NoError(t, s.op.db.SQL.QueryRowContext(t.Context(), "SELECT value FROM settings WHERE key = 'provider:openai'").Scan(&value))
	require.NotContains(t, value, key)
	status, body = adminCall(t, s, token, http.MethodGet, "/api/v1/providers", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.NotContains(t, body, key)
	require.Contains(t, body, `"name":"openai","enabled":true`)

	// Without a session there is nothing to see (tenant roles are refused by the RBAC matrix test).
	status, _ = adminCall(t, s, "", http.MethodGet, "/api/v1/providers", nil)
	require.Equal(t, http.StatusUnauthorized, status)

	// When it is deleted, the provider is off again.
	status, body = adminCall(t, s, token, http.MethodDelete, "/api/v1/providers/openai", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Error(t, ask())
}

// TestOpenRouterSyncAtStart: with OPENROUTER_API_KEY set, serve fetches
// OpenRouter's model list at start and layers its prices onto the catalog.
func TestOpenRouterSyncAtStart(t *testing.T) {
	t.Parallel()
	or := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/models" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":[
 {"id":"x-ai/grok-4","context_length":256000,"pricing":{"prompt":"0.000002","completion":"0.000012"},"top_provider":{"max_completion_tokens":32000}},
 {"id":"mistralai/mistral-small-3.2","context_length":131072,"pricing":{"prompt":"0.00000005","completion":"0.0000001"}}]}`)
	}))
	t.Cleanup(or.Close)
	s := startStack(t, map[string]string{"OPENROUTER_API_KEY": "or-test-key", "OPENROUTER_BASE_URL": or.URL + "/api/v1"})
	tn, _, _ := s.tenantWithKey(t, "acme", apikeys.CreateKeyInput{})
	token := adminToken(t, s)
	var body string
	require.Eventually(t, func() bool {
		var status int
		status, body = adminCall(t, s, token, http.MethodGet, "/api/v1/tenants/"+string(tn.ID)+"/models?q=openrouter", nil)
		return status == http.StatusOK && strings.Contains(body, `"id":"mistralai/mistral-small-3.2"`)
	}, 10*time.Second, 50*time.Millisecond, body)
	require.Contains(t, body, `"id":"grok-4","provider":"openrouter","tier":"premium","enabled":true,"input_per_million_nano":2000000000`)

	// A synced id with a slash is addressable (encoded) for tenant prices.
	status, res := adminCall(t, s, token, http.MethodPut, "/api/v1/tenants/"+string(tn.ID)+"/models/mistralai%2Fmistral-small-3.2/price",
		map[string]string{"input_per_million_usd": "0.04", "output_per_million_usd": "0.08"})
	require.Equal(t, http.StatusOK, status, res)
	require.Contains(t, res, `"id":"mistralai/mistral-small-3.2"`)
}
