package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/billing/webhook"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// A budget threshold crossed on the request path reaches the tenant's webhook,
// signed, through the worker (in-process in self-host mode), exactly once.
func TestBudgetAlertReachesWebhook(t *testing.T) {
	t.Parallel()
	type delivery struct {
		sig  string
		body []byte
	}
	var mu sync.Mutex
	var got []delivery
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, delivery{r.Header.Get(webhook.SignatureHeader), body})
		mu.Unlock()
	}))
	t.Cleanup(receiver.Close)

	// Given a self-host gateway whose tenant has a webhook and a soft budget alerting at 5%
	s := startStack(t, map[string]string{"TOLLGATE_MODE": "single-tenant", "TOLLGATE_WEBHOOK_ALLOW_PRIVATE": "1"})
	tn, err := s.op.registry.Get(t.Context(), selfHostTenantName)
	require.NoError(t, err)
	h := s.handle(t, tn)
	sealer, err := seal.New(seal.Secret(s.op.cfg.Auth.MasterKey.Reveal()))
	require.NoError(t, err)
	const secret = "whsec-test-secret-0123456789"
	_, err = webhook.Set(t.Context(), h, sealer, webhook.SetInput{URL: receiver.URL + "/hook", Secret: secret})
	require.NoError(t, err)
	s.setBudget(t, tn, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: billing.NanoPerCent, AlertAt: []int{5, 90}})
	svc := newIdentityServices(s.op, accounts.PasswordParams{})
	_, secretKey, err := svc.keys.Create(t.Context(), apikeys.CreateKeyInput{TenantID: tn.ID, Name: "alerts"})
	require.NoError(t, err)

	// When two requests together pass 5% of the budget
	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, s.baseURL+"/v1/chat/completions",
			strings.NewReader(`{"model":"sim-large","max_tokens":100,"messages":[{"role":"user","content":"hello"}]}`))
		req.Header.Set("Authorization", "Bearer "+secretKey.Reveal())
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}

	// Then the webhook receives one signed alert for the 5% threshold
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) > 0 }, 20*time.Second, 50*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 1, "an alert fires once per threshold and period")
	d := got[0]
	require.True(t, bytes.Contains(d.body, []byte(`"threshold_percent":5`)), "%s", d.body)
	ts, _, ok := strings.Cut(strings.TrimPrefix(d.sig, "t="), ",")
	require.True(t, ok, d.sig)
	sec, err := strconv.ParseInt(ts, 10, 64)
	require.NoError(t, err)
	require.Equal(t, webhook.Sign(secret, time.Unix(sec, 0), d.body), d.sig, "the signature verifies with the tenant's secret")
	alerts, err := budget.ListAlerts(t.Context(), h, 10)
	require.NoError(t, err)
	require.Len(t, alerts, 1)
	require.Eventually(t, func() bool {
		alerts, err := budget.ListAlerts(t.Context(), h, 10)
		return err == nil && len(alerts) == 1 && alerts[0].DeliveredAt != nil
	}, 10*time.Second, 50*time.Millisecond, "the delivery is recorded")
}

// Under a hard cap settled spend stops short of 100% (the last requests are
// refused), so the refusal itself raises the 100% alert, once.
func TestHardStopRaisesFullAlert(t *testing.T) {
	t.Parallel()
	s := startStack(t, map[string]string{"TOLLGATE_SIM": "1"})
	tn, _, key := s.tenantWithKey(t, "capped", apikeys.CreateKeyInput{})
	s.setBudget(t, tn, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 300_000, Hard: true, AlertAt: []int{100}})
	refused := 0
	for range 20 {
		req, _ := http.NewRequest(http.MethodPost, s.baseURL+"/v1/chat/completions",
			strings.NewReader(`{"model":"sim-small","max_tokens":50,"messages":[{"role":"user","content":"hello"}]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			refused++
		}
	}
	require.Positive(t, refused)
	h := s.handle(t, tn)
	require.Eventually(t, func() bool {
		alerts, err := budget.ListAlerts(t.Context(), h, 10)
		return err == nil && len(alerts) == 1 && alerts[0].Threshold == 100
	}, 10*time.Second, 50*time.Millisecond)
}
