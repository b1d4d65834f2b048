package main

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// randomTGKey is a well-formed API key that exists nowhere.
func randomTGKey() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, apikeys.APIKeyLen-len(apikeys.APIKeyPrefix))
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return apikeys.APIKeyPrefix + string(b)
}

// modelsAs calls GET /v1/models with key from client address ip (forwarded by the
// trusted local proxy) and returns the status (0 when no answer came), the error
// code and Retry-After. Safe to call from any goroutine.
func modelsAs(t *testing.T, client *http.Client, baseURL, key, ip string) (int, string, string) {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, baseURL+"/v1/models", nil)
	if err != nil {
		return 0, err.Error(), ""
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("X-Forwarded-For", ip)
	res, err := client.Do(req)
	if err != nil {
		return 0, err.Error(), ""
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var e struct{ Error struct{ Code string } }
	_ = json.Unmarshal(raw, &e)
	return res.StatusCode, e.Error.Code, res.Header.Get("Retry-After")
}

// Noisy neighbours through the HTTP API: while one client address floods random
// tg_ keys, six valid keys of six other tenants (first use, not cached) are all
// served; the flooder gets 401 invalid_api_key until its allowance is used up,
// then 429 with Retry-After, and only that address is throttled.
func TestKeyFloodStarvesNoValidKey(t *testing.T) {
	t.Parallel()
	s := startStack(t, map[string]string{"TOLLGATE_SIM": "1", "TOLLGATE_TRUSTED_PROXIES": "127.0.0.1"})
	// Six tenants' keys, created through the admin API as the console does (the
	// server knows a key the moment it is created; one created by another process
	// within the change feed's latency)
	token := adminToken(t, s)
	var keys []string
	for i := range 6 {
		tn, err := s.op.registry.Create(t.Context(), tenants.CreateInput{Name: "neighbour " + strconv.Itoa(i)})
		require.NoError(t, err)
		status, body := adminCall(t, s, token, http.MethodPost, "/api/v1/tenants/"+string(tn.ID)+"/keys", map[string]any{"name": "prod"})
		require.Equal(t, http.StatusCreated, status, body)
		var created struct {
			Secret string `json:"secret"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &created))
		keys = append(keys, created.Secret)
	}
	// Given one address flooding 1,500 random keys from 10 connections
	var unauthorized, throttled, other atomic.Int64
	var retryAfter atomic.Value
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 10 {
		wg.Go(func() {
			client := &http.Client{}
			for next.Add(1) <= 1500 {
				status, code, ra := modelsAs(t, client, s.baseURL, randomTGKey(), "203.0.113.66")
				switch {
				case status == http.StatusUnauthorized && code == "invalid_api_key":
					unauthorized.Add(1)
				case status == http.StatusTooManyRequests && ra != "":
					throttled.Add(1)
					retryAfter.Store(ra)
				default:
					other.Add(1)
				}
			}
		})
	}
	// When six tenants use their valid keys in the middle of it, from their own
	// addresses
	for next.Load() < 500 {
		time.Sleep(5 * time.Millisecond)
	}
	served := 0
	var slowest time.Duration
	client := &http.Client{}
	for i, key := range keys {
		start := time.Now()
		status, code, _ := modelsAs(t, client, s.baseURL, key, "192.0.2."+strconv.Itoa(i+1))
		slowest = max(slowest, time.Since(start))
		require.Equal(t, http.StatusOK, status, "valid key %d answered %s during the flood", i, code)
		served++
	}
	floodAtEnd := next.Load()
	wg.Wait()
	require.Less(t, floodAtEnd, int64(1500), "the valid keys were used while the flood ran")
	// Then all six were served and the flood was answered 401, then 429 + Retry-After
	t.Logf("valid served %d/6 (slowest first use %s); flood: 401=%d 429=%d other=%d retry-after=%v", served,
		slowest.Round(time.Microsecond), unauthorized.Load(), throttled.Load(), other.Load(), retryAfter.Load())
	require.Zero(t, other.Load())
	require.Positive(t, unauthorized.Load())
	require.Positive(t, throttled.Load())
	// And another address's bad key is a plain 401
	status, code, _ := modelsAs(t, client, s.baseURL, randomTGKey(), "192.0.2.99")
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, "invalid_api_key", code)
}
