package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// chatStatus sends one small sim-large chat request with key and returns the status
// and the error code of a refusal.
func chatStatus(t *testing.T, baseURL, key string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"model": "sim-large", "max_tokens": 40,
		"messages": []map[string]string{{"role": "user", "content": "rotate me"}}})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, baseURL+"/v1/chat/completions", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var e struct{ Error struct{ Code string } }
	_ = json.Unmarshal(raw, &e)
	return res.StatusCode, e.Error.Code
}

// A rotated key cannot dodge its hard budget: the successor (rotated through the
// admin API) keeps the old key's scopes, model allowlist, rate limits and expiry,
// spends against the same key budget and continues its counter, so it is refused
// exactly where the old key was; the ledger totals the rebuild uses count both keys.
func TestRotatedKeyKeepsBudgetAndSpend(t *testing.T) {
	t.Parallel()
	s := startStack(t, clusterEnv(t, testdb.Postgres(t)))
	expires := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)
	tn, old, oldSecret := s.tenantWithKey(t, "rotation", apikeys.CreateKeyInput{Models: []string{"sim-large", "sim-small"},
		Scopes: []string{apikeys.ScopeInference, apikeys.ScopeReadUsage}, RPMLimit: 1000, TPMLimit: 1_000_000, ExpiresAt: &expires})
	// One request costs about $0.0004; the key's hard budget takes four of them.
	limit := billing.NanoUSD(2_000_000)
	s.setBudget(t, tn, budget.SetInput{Scope: meter.ScopeKey, ScopeID: old.ID, Period: meter.PeriodMonth, Limit: limit, Hard: true})

	// Given the old key spent its budget up to the refusal
	served := 0
	for {
		status, code := chatStatus(t, s.baseURL, oldSecret)
		if status == http.StatusTooManyRequests {
			require.Equal(t, "budget_exceeded", code)
			break
		}
		require.Equal(t, http.StatusOK, status)
		served++
		require.Less(t, served, 20, "the key budget never refused")
	}
	require.Positive(t, served)

	// When the key is rotated through the admin API (the old key stays valid for an hour)
	token := adminToken(t, s)
	status, body := adminCall(t, s, token, http.MethodPost, "/api/v1/tenants/"+string(tn.ID)+"/keys/"+old.ID+"/rotate",
		map[string]any{"grace_seconds": 3600})
	require.Equal(t, http.StatusCreated, status, body)
	var rotated struct {
		Key struct {
			ID        string     `json:"id"`
			Scopes    []string   `json:"scopes"`
			Models    []string   `json:"models"`
			RPMLimit  int64      `json:"rpm_limit"`
			TPMLimit  int64      `json:"tpm_limit"`
			ExpiresAt *time.Time `json:"expires_at"`
			CreatedBy string     `json:"created_by"`
		} `json:"key"`
		Secret string `json:"secret"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &rotated))

	// Then the successor carries the key's settings
	require.ElementsMatch(t, []string{apikeys.ScopeInference, apikeys.ScopeReadUsage}, rotated.Key.Scopes)
	require.ElementsMatch(t, []string{"sim-large", "sim-small"}, rotated.Key.Models)
	require.Equal(t, int64(1000), rotated.Key.RPMLimit)
	require.Equal(t, int64(1_000_000), rotated.Key.TPMLimit)
	require.NotNil(t, rotated.Key.ExpiresAt)
	require.True(t, expires.Equal(*rotated.Key.ExpiresAt), "expiry %s carried as %s", expires, rotated.Key.ExpiresAt)
	require.Equal(t, old.CreatedBy, rotated.Key.CreatedBy, "the successor keeps the old key's member (and member budgets), not the rotating admin")

	// And it is refused at the same point: its budget and this period's spend carried over
	status, code := chatStatus(t, s.baseURL, rotated.Secret)
	require.Equal(t, http.StatusTooManyRequests, status, "the successor must not start from $0 on the key's hard budget")
	require.Equal(t, "budget_exceeded", code)
	// And the old key, still in its grace period, is refused too (one shared counter)
	status, code = chatStatus(t, s.baseURL, oldSecret)
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Equal(t, "budget_exceeded", code)

	// And the budget lists both keys, and a rebuild from the ledger counts the old
	// key's spend against it (a counter rebuilt after a Redis loss is not $0 either)
	h := s.handle(t, tn)
	bs, err := budget.List(t.Context(), h)
	require.NoError(t, err)
	require.Len(t, bs, 1)
	require.Equal(t, []string{old.ID, rotated.Key.ID}, bs[0].KeyIDs)
	require.Len(t, budget.Applicable(bs, rotated.Key.ID, ""), 1)
	s.waitLedger(t, tn, func(evs []ledger.Event) bool { return len(evs) == served })
	totals, err := ledger.CounterTotals(t.Context(), h, bs, time.Now())
	require.NoError(t, err)
	require.Greater(t, totals[0].Spent, limit-limit/4, "the old key's spend counts for its successor")

	// And a budget set on the successor changes the chain's budget, not a new one
	b, err := budget.Set(t.Context(), h, budget.SetInput{Scope: meter.ScopeKey, ScopeID: rotated.Key.ID, Period: meter.PeriodMonth,
		Limit: limit + 500_000, Hard: true})
	require.NoError(t, err)
	require.Equal(t, bs[0].ID, b.ID)
}

// `tollgate keys rotate` (SQLite, a separate process's view) carries the key's
// budgets too: the successor joins the key budget and the old key is revoked with
// --grace 0; the secret alone is printed on stdout.
func TestKeysRotateCLICarriesBudgets(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "tollgate.db")
	s := startStack(t, map[string]string{"TOLLGATE_DATABASE_URL": dbURL, "TOLLGATE_SIM": "1"})
	tn, old, oldSecret := s.tenantWithKey(t, "cli-rotation", apikeys.CreateKeyInput{RPMLimit: 60})
	s.setBudget(t, tn, budget.SetInput{Scope: meter.ScopeKey, ScopeID: old.ID, Period: meter.PeriodDay, Limit: 1_000_000, Hard: true})

	out, err := runCLI(t, dbURL, "keys", "rotate", "--tenant", tn.Slug, old.Prefix, "--grace", "0", "--json")
	require.NoError(t, err, out)
	var succ struct {
		ID       string `json:"id"`
		RPMLimit int64  `json:"rpm_limit"`
		Secret   string `json:"secret"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &succ), out)
	require.True(t, apikeys.LooksLikeAPIKey(succ.Secret))
	require.Equal(t, int64(60), succ.RPMLimit)

	bs, err := budget.List(t.Context(), s.handle(t, tn))
	require.NoError(t, err)
	require.Len(t, bs, 1)
	require.Equal(t, []string{old.ID, succ.ID}, bs[0].KeyIDs)
	status, _ := chatStatus(t, s.baseURL, oldSecret)
	require.Equal(t, http.StatusUnauthorized, status, "--grace 0 revokes the old key")
	status, _ = chatStatus(t, s.baseURL, succ.Secret)
	require.Equal(t, http.StatusOK, status)
}
