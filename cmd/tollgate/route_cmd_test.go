package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants"
)

// The replay command prices a recorded log before and after a policy: a log of
// casual prompts all answered by gpt-4o gets cheaper under "auto" routing.
func TestRouteSimulateCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var log strings.Builder
	for i := 0; i < 50; i++ {
		rec := map[string]any{"model_requested": "gpt-4o", "model_used": "gpt-4o", "input_tokens": 3387, "output_tokens": 304,
			"messages": []map[string]string{{"role": "user", "content": "thanks, what time is it?"}}}
		b, _ := json.Marshal(rec)
		log.Write(b)
		log.WriteByte('\n')
	}
	logPath := filepath.Join(dir, "requests.jsonl")
	require.NoError(t, os.WriteFile(logPath, []byte(log.String()), 0o600))

	var out bytes.Buffer
	cmd := newRootCmd()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"route", "simulate", "--policy", "default", "--log", logPath, "--force-auto", "--json"})
	require.NoError(t, cmd.Execute())
	var res struct {
		Requests       int            `json:"requests"`
		CostBefore     int64          `json:"cost_before"`
		CostAfter      int64          `json:"cost_after"`
		SavingsPercent int64          `json:"savings_percent"`
		TierMixAfter   map[string]int `json:"tier_mix_after"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &res))
	require.Equal(t, 50, res.Requests)
	// 50 × (3387 × 2500 + 304 × 10000) nano-USD at gpt-4o prices.
	require.EqualValues(t, 50*(3387*2500+304*10000), res.CostBefore)
	require.Less(t, res.CostAfter, res.CostBefore)
	require.Positive(t, res.SavingsPercent)
	require.Equal(t, 50, res.TierMixAfter["economy"])

	bad := newRootCmd()
	bad.SetArgs([]string{"route", "simulate", "--log", filepath.Join(dir, "missing.jsonl")})
	bad.SetOut(&out)
	bad.SetErr(&out)
	require.ErrorContains(t, bad.Execute(), "cannot be read")
}

// route simulate reads GET usage/events pages as the API returns them and
// decides from their route_features; a policy with keyword rules is told the
// replay cannot check them without the text.
func TestRouteSimulateReadsUsageEventsExport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	page := `{"data":[
 {"id":"r2","request_id":"r2","created_at":"2026-12-01T10:00:02Z","model":"gpt-4o","model_requested":"auto","input_tokens":3000,"cached_tokens":0,"output_tokens":300,"cost_nano":10500000,"route_reason":"auto_complex","route_features":{"prompt_tokens":3100,"p_standard":0.62,"p_premium":0.1,"classifier":"builtin","model_standard":0.23,"model_premium":0.45}},
 {"id":"r1","request_id":"r1","created_at":"2026-12-01T10:00:01Z","model":"gpt-4o-mini","model_requested":"auto","input_tokens":3000,"cached_tokens":0,"output_tokens":300,"cost_nano":630000,"route_reason":"auto_economy","route_features":{"prompt_tokens":3100,"p_standard":0.05,"p_premium":0.01,"classifier":"builtin","model_standard":0.23,"model_premium":0.45}}
],"next_cursor":""}`
	logPath := filepath.Join(dir, "events.json")
	require.NoError(t, os.WriteFile(logPath, []byte(page), 0o600))
	run := func(policy string) map[string]any {
		var out bytes.Buffer
		cmd := newRootCmd()
		cmd.SetOut(&out)
		cmd.SetArgs([]string{"route", "simulate", "--policy", policy, "--log", logPath, "--json"})
		require.NoError(t, cmd.Execute())
		var res map[string]any
		require.NoError(t, json.Unmarshal(out.Bytes(), &res))
		return res
	}
	// The default policy decides as live did: the cost does not change.
	res := run("default")
	require.EqualValues(t, 2, res["requests"])
	require.Equal(t, res["cost_before"], res["cost_after"])
	require.Nil(t, res["needs_text"])

	// A higher standard threshold moves the 0.62 request to economy.
	raised := filepath.Join(dir, "raised.json")
	require.NoError(t, os.WriteFile(raised, []byte(`{"tiers":{"economy":["gpt-4o-mini"],"standard":["gpt-4o"]},"standard_threshold":0.7}`), 0o600))
	res = run(raised)
	require.EqualValues(t, 2, res["tier_mix_after"].(map[string]any)["economy"])

	// Keyword rules need the text.
	rules := filepath.Join(dir, "rules.json")
	require.NoError(t, os.WriteFile(rules, []byte(`{"tiers":{"economy":["gpt-4o-mini"],"standard":["gpt-4o"]},"rules":[{"name":"legal","keywords":["contract"],"tier":"standard"}]}`), 0o600))
	res = run(rules)
	require.Contains(t, res["needs_text"], "keyword rules")
}

// route simulate --tenant replays the tenant's own ledger as the console's
// what-if does: a new keyword rule is matched on the prompts the tenant kept,
// the request without one is counted, and no prompt is printed.
func TestRouteSimulateTenantReplaysKeptPrompts(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "tollgate.db")
	_, err := runCLI(t, dbURL, "tenants", "create", "--name", "Acme")
	require.NoError(t, err)

	// Given two easy "auto" requests that kept their prompt (one mentions a
	// contract) and one that did not, sealed with the install's master key.
	ctx := t.Context()
	dir := filepath.Dir(database.SQLitePath(dbURL))
	key, err := os.ReadFile(filepath.Join(dir, "master.key"))
	require.NoError(t, err)
	sealer, err := seal.New(seal.Secret(strings.TrimSpace(string(key))))
	require.NoError(t, err)
	db, err := database.Open(ctx, dbURL, database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	reg := tenants.NewRegistry(db, dir, logging.New(logging.TestWriter{T: t}, "warn", "text"))
	t.Cleanup(reg.Close)
	tn, err := reg.Get(ctx, "acme")
	require.NoError(t, err)
	h, err := reg.Handle(tenants.SystemPrincipal(tn, "test"))
	require.NoError(t, err)
	features := `{"prompt_tokens":900,"p_standard":0.05,"p_premium":0.01,"classifier":"builtin","model_standard":0.23,"model_premium":0.45}`
	var evs []ledger.Event
	for i, text := range []string{"please review this contract clause", "what is the capital of peru", ""} {
		id := fmt.Sprintf("r%d", i)
		e := ledger.Event{TenantID: string(tn.ID), RequestID: id, CreatedAt: time.Now().UTC().Add(-time.Duration(i) * time.Minute),
			ModelRequested: "auto", ModelUsed: "gpt-4o-mini", InputTokens: 900, OutputTokens: 100, Cost: 195_000, Status: ledger.StatusOK, RouteFeatures: features}
		if text != "" {
			e.KeptTurn, err = gateway.SealKeptTurn(sealer, string(tn.ID), id, text)
			require.NoError(t, err)
		}
		evs = append(evs, e)
	}
	_, err = ledger.Insert(ctx, h, evs)
	require.NoError(t, err)

	// When a policy with a "contract" rule is replayed over the tenant.
	rules := filepath.Join(t.TempDir(), "rules.json")
	require.NoError(t, os.WriteFile(rules, []byte(`{"tiers":{"economy":["gpt-4o-mini"],"standard":["gpt-4o"]},"rules":[{"name":"legal","keywords":["contract"],"tier":"standard"}]}`), 0o600))
	out, err := runCLI(t, dbURL, "route", "simulate", "--tenant", "acme", "--policy", rules, "--json")
	require.NoError(t, err, out)
	var res struct {
		Requests             int            `json:"requests"`
		KeywordRulesReplayed int            `json:"keyword_rules_replayed"`
		KeywordRulesFromLive int            `json:"keyword_rules_from_live"`
		TierMixAfter         map[string]int `json:"tier_mix_after"`
		NeedsText            string         `json:"needs_text"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)

	// Then the kept "contract" request moves to standard, and the one without
	// a kept prompt is counted, with why.
	require.Equal(t, 3, res.Requests)
	require.Equal(t, 2, res.KeywordRulesReplayed)
	require.Equal(t, 1, res.KeywordRulesFromLive)
	require.Equal(t, map[string]int{"standard": 1, "economy": 2}, res.TierMixAfter)
	require.Contains(t, res.NeedsText, "prompt not kept: enable retain_prompts_days")
	require.NotContains(t, out, "contract clause")

	// One source at a time.
	_, err = runCLI(t, dbURL, "route", "simulate", "--tenant", "acme", "--log", rules)
	require.ErrorContains(t, err, "exactly one of --log FILE")
}
