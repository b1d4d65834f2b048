package main

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

func postCache(t *testing.T, url, secret, cache, body string) (*http.Response, string) {
	t.Helper()
	r, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	r.Header.Set("Authorization", "Bearer "+secret)
	r.Header.Set("Content-Type", "application/json")
	if cache != "" {
		r.Header.Set("x-tollgate-cache", cache)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(r)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// TestResponseCacheE2E: through /v1/chat/completions, a tenant that enabled
// the cache gets x-tollgate-cache: miss then hit (same body, non-streaming and
// streamed); the hit is in the ledger as cache_hit; a bad header is a 400.
func TestResponseCacheE2E(t *testing.T) {
	t.Parallel()
	s := startStack(t, map[string]string{"TOLLGATE_SIM": "1"})
	tn, _, key := s.tenantWithKey(t, "cache-a", apikeys.CreateKeyInput{})
	p := routing.DefaultPolicy()
	p.Cache = &routing.CachePolicy{Enabled: true, TTLSeconds: 60}
	require.NoError(t, gateway.SavePolicy(t.Context(), s.handle(t, tn), p, routing.DefaultCatalog()))
	url := s.baseURL + "/v1/chat/completions"
	const body = `{"model":"sim-large","temperature":0,"max_tokens":20,"messages":[{"role":"user","content":"cache me"}]}`

	r1, b1 := postCache(t, url, key, "", body)
	require.Equal(t, http.StatusOK, r1.StatusCode, b1)
	require.Equal(t, "miss", r1.Header.Get("x-tollgate-cache"))
	r2, b2 := postCache(t, url, key, "", body)
	require.Equal(t, http.StatusOK, r2.StatusCode, b2)
	require.Equal(t, "hit", r2.Header.Get("x-tollgate-cache"))
	require.Equal(t, b1, b2)
	require.NotEqual(t, r1.Header.Get("x-tollgate-request-id"), r2.Header.Get("x-tollgate-request-id"))

	const sbody = `{"model":"sim-large","temperature":0,"stream":true,"max_tokens":20,"messages":[{"role":"user","content":"cache me"}]}`
	r3, b3 := postCache(t, url, key, "", sbody)
	require.Equal(t, "miss", r3.Header.Get("x-tollgate-cache"))
	r4, b4 := postCache(t, url, key, "", sbody)
	require.Equal(t, "hit", r4.Header.Get("x-tollgate-cache"))
	require.Equal(t, "text/event-stream", r4.Header.Get("Content-Type"))
	require.Equal(t, b3, b4)

	r5, b5 := postCache(t, url, key, "sometimes", body)
	require.Equal(t, http.StatusBadRequest, r5.StatusCode, b5)
	require.Contains(t, b5, "x-tollgate-cache")

	evs := s.waitLedger(t, tn, func(evs []ledger.Event) bool { return len(evs) == 4 })
	hits := 0
	for _, e := range evs {
		if e.Status == ledger.StatusCacheHit {
			hits++
			require.Zero(t, e.Cost)
			require.Positive(t, e.CacheSaved)
		}
	}
	require.Equal(t, 2, hits)
}
