package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/providertest"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// interopBundle is a running gateway with the simulated provider and loopback
// upstreams speaking OpenAI's and Anthropic's wire formats, plus one tenant.
type interopBundle struct {
	stack     *stack
	openai    *providertest.Upstream
	anthropic *providertest.Upstream
	tenant    tenants.Tenant
	key       string
}

func setupInterop(t *testing.T) *interopBundle {
	t.Helper()
	oa := providertest.NewOpenAIUpstream(t, "openai-test-key")
	an := providertest.NewAnthropicUpstream(t, "anthropic-test-key")
	s := startStack(t, map[string]string{
		"TOLLGATE_SIM":    "1",
		"OPENAI_BASE_URL": oa.URL + "/v1", "OPENAI_API_KEY": "openai-test-key",
		"ANTHROPIC_BASE_URL": an.URL, "ANTHROPIC_API_KEY": "anthropic-test-key",
	})
	tn, _, key := s.tenantWithKey(t, "interop", apikeys.CreateKeyInput{})
	return &interopBundle{stack: s, openai: oa, anthropic: an, tenant: tn, key: key}
}

// lastBody is the JSON body of the upstream's latest request.
func lastBody(t *testing.T, u *providertest.Upstream) map[string]any {
	t.Helper()
	reqs := u.Requests()
	require.NotEmpty(t, reqs)
	var m map[string]any
	require.NoError(t, json.Unmarshal(reqs[len(reqs)-1].Body, &m))
	return m
}

// ledgerEvent waits for the event of one request (by the server's id) and
// checks that the ledger holds it exactly once, priced from its usage.
func (b *interopBundle) ledgerEvent(t *testing.T, requestID, api string, want routing.Usage) ledger.Event {
	t.Helper()
	require.NotEmpty(t, requestID)
	evs := b.stack.waitLedger(t, b.tenant, func(evs []ledger.Event) bool {
		for _, e := range evs {
			if e.RequestID == requestID {
				return true
			}
		}
		return false
	})
	var found []ledger.Event
	for _, e := range evs {
		if e.RequestID == requestID {
			found = append(found, e)
		}
	}
	require.Len(t, found, 1, "each request is in the ledger exactly once")
	e := found[0]
	require.Equal(t, api, e.API)
	require.Equal(t, ledger.StatusOK, e.Status)
	m, ok := routing.DefaultCatalog().Lookup(e.ModelUsed)
	require.True(t, ok, e.ModelUsed)
	require.EqualValues(t, want.PromptTokens, e.InputTokens, "input tokens")
	require.EqualValues(t, want.CachedTokens, e.CachedTokens, "cached tokens")
	require.EqualValues(t, want.CompletionTokens, e.OutputTokens, "output tokens")
	require.Equal(t, m.UsageCost(want), e.Cost, "billed at the catalog price of %s", e.ModelUsed)
	require.Positive(t, e.Cost)
	return e
}

// rawPost sends a body to a /v1 path with the given headers and returns the
// status, headers and body.
func rawPost(t *testing.T, url string, headers map[string]string, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, res.Header, string(out)
}

// sseEvents splits an SSE body into (event name, data) pairs.
func sseEvents(t *testing.T, body string) [][2]string {
	t.Helper()
	var out [][2]string
	for _, block := range strings.Split(strings.TrimSpace(body), "\n\n") {
		var name, data string
		for _, line := range strings.Split(block, "\n") {
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				name = v
			} else if v, ok := strings.CutPrefix(line, "data: "); ok {
				data = v
			}
		}
		require.True(t, json.Valid([]byte(data)), "event %q data is JSON: %s", name, data)
		var typ struct {
			Type string `json:"type"`
		}
		require.NoError(t, json.Unmarshal([]byte(data), &typ))
		require.Equal(t, name, typ.Type, "the event name matches the data's type")
		out = append(out, [2]string{name, data})
	}
	return out
}

func isAPIError[T error](err error) (T, bool) {
	var e T
	return e, errors.As(err, &e)
}

// TestInteropHardBudgetRefusals: a hard budget refuses on /v1/responses and
// /v1/messages alike, each in its own API's error shape, and a refused request
// leaves nothing in the ledger.
func TestInteropHardBudgetRefusals(t *testing.T) {
	t.Parallel()
	s := startStack(t, map[string]string{"TOLLGATE_SIM": "1"})
	tn, _, key := s.tenantWithKey(t, "capped", apikeys.CreateKeyInput{})
	// sim-large, 9 prompt + 10 output tokens: 122,500 nano-USD a request; one fits.
	s.setBudget(t, tn, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 150_000, Hard: true})
	responsesBody := `{"model":"sim-large","max_output_tokens":10,"input":"hello there"}`
	messagesBody := `{"model":"sim-large","max_tokens":10,"messages":[{"role":"user","content":"hello there"}]}`

	// Given one request that fits
	status, hdr, body := rawPost(t, s.baseURL+"/v1/responses", map[string]string{"Authorization": "Bearer " + key}, responsesBody)
	require.Equal(t, http.StatusOK, status, body)
	served := hdr.Get("x-tollgate-request-id")

	// When the next ones would pass the limit, on either endpoint
	status, hdr, body = rawPost(t, s.baseURL+"/v1/messages", map[string]string{"x-api-key": key}, messagesBody)
	// Then Messages refuses with 429 in Anthropic's shape
	require.Equal(t, http.StatusTooManyRequests, status, body)
	require.Equal(t, "false", hdr.Get("x-should-retry"))
	var ae struct {
		Type  string `json:"type"`
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &ae), body)
	require.Equal(t, "error", ae.Type)
	require.Equal(t, "billing_error", ae.Error.Type)
	require.Contains(t, ae.Error.Message, "budget")

	// And Responses with 429 in OpenAI's shape
	for _, stream := range []string{"false", "true"} {
		status, hdr, body = rawPost(t, s.baseURL+"/v1/responses", map[string]string{"Authorization": "Bearer " + key},
			`{"model":"sim-large","max_output_tokens":10,"input":"hello there","stream":`+stream+`}`)
		require.Equal(t, http.StatusTooManyRequests, status, body)
		require.Equal(t, "false", hdr.Get("x-should-retry"))
		var oe struct {
			Error struct {
				Type string `json:"type"`
				Code string `json:"code"`
			} `json:"error"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &oe), body)
		require.Equal(t, "insufficient_quota", oe.Error.Type)
		require.Equal(t, "budget_exceeded", oe.Error.Code)
	}
	status, _, body = rawPost(t, s.baseURL+"/v1/messages", map[string]string{"x-api-key": key},
		`{"model":"sim-large","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hello there"}]}`)
	require.Equal(t, http.StatusTooManyRequests, status, body)
	require.Contains(t, body, `"billing_error"`)

	// And the usage API breaks the served request down by its client API
	s.waitLedger(t, tn, func(evs []ledger.Event) bool { return len(evs) == 1 })
	status, body = adminCall(t, s, adminToken(t, s), http.MethodGet, "/api/v1/tenants/"+tn.Slug+"/usage?group_by=api", nil)
	require.Equal(t, http.StatusOK, status, body)
	var usage struct {
		Series []struct {
			API      string `json:"api"`
			Requests int64  `json:"requests"`
		} `json:"series"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &usage), body)
	require.Len(t, usage.Series, 1, body)
	require.Equal(t, routing.APIResponses, usage.Series[0].API)
	require.EqualValues(t, 1, usage.Series[0].Requests)

	// And the ledger holds only the served request, within the limit
	s.stop()
	evs, err := ledger.Recent(t.Context(), s.handle(t, tn), time.Time{}, 100)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, served, evs[0].RequestID)
	require.Equal(t, routing.APIResponses, evs[0].API)
	require.LessOrEqual(t, int64(evs[0].Cost), int64(150_000))
}
