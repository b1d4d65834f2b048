package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
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
