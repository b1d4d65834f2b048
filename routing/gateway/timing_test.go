package gateway_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
)

// TestLedgerKeepsFallbacksLatencyAndKeyCap: the first model of the tier
// answers 500 and the second one answers; the ledger event names the failed
// attempt, the latency split (Tollgate's share and the answering upstream's
// first byte, within the total), and the output limit, which is the key's cap
// from the policy: the upstream body carried it too.
func TestLedgerKeepsFallbacksLatencyAndKeyCap(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var bodies []map[string]any
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		mu.Lock()
		bodies = append(bodies, body)
		mu.Unlock()
		if body["model"] == "gpt-4o" {
			http.Error(w, `{"error":{"message":"overloaded","type":"server_error"}}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"x","object":"chat.completion","model":"gpt-4.1","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":3,"total_tokens":23}}`)
	}))
	t.Cleanup(up.Close)
	logger := slog.New(slog.NewTextHandler(logging.TestWriter{T: t}, nil))
	openai, err := routing.NewOpenAIProvider(routing.OpenAIConfig{BaseURL: up.URL, APIKey: "sk-test"}, nil, logger)
	require.NoError(t, err)
	b := setupWith(t, 0, routing.DefaultCatalog(), openai)
	policy := routing.DefaultPolicy()
	policy.Tiers[routing.TierStandard] = []string{"gpt-4o", "gpt-4.1"}
	policy.Keys = map[string]routing.KeyRouting{b.caller.KeyID: {MaxTokens: 64}}
	require.NoError(t, gateway.SavePolicy(t.Context(), b.h, policy, b.catalog))

	res, err := b.svc.Chat(t.Context(), b.caller, ids(), chat(t, "auto", 1000))
	require.NoError(t, err)
	require.Equal(t, "gpt-4.1", res.Model, res.RouteReason)

	require.NoError(t, b.ledger.Flush(t.Context()))
	evs, err := ledger.Recent(t.Context(), b.h, time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	e := evs[0]
	var fallbacks []struct {
		Model, Outcome string
		MS             int64
	}
	require.NoError(t, json.Unmarshal([]byte(e.Fallbacks), &fallbacks), e.Fallbacks)
	require.Len(t, fallbacks, 1)
	require.Equal(t, "gpt-4o", fallbacks[0].Model)
	require.Equal(t, "upstream_error", fallbacks[0].Outcome)
	require.EqualValues(t, 64, e.MaxTokens, "the key's cap, not the request's 1,000")
	require.GreaterOrEqual(t, e.OverheadMS, int64(0))
	require.GreaterOrEqual(t, e.FirstByteMS, int64(0))
	require.LessOrEqual(t, e.OverheadMS+e.FirstByteMS, e.LatencyMS)
	// A request that every model fails carries its attempts on the error (the
	// explorer's refusal row), which still unwraps to the upstream's answer.
	_, err = b.svc.Chat(t.Context(), b.caller, ids(), chat(t, "gpt-4o", 10))
	var upErr *routing.UpstreamError
	require.ErrorAs(t, err, &upErr)
	require.Equal(t, http.StatusInternalServerError, upErr.StatusCode)
	require.JSONEq(t, `[{"model":"gpt-4o","outcome":"upstream_error","ms":0}]`,
		zeroMS(t, routing.FallbacksJSON(routing.AttemptsOf(err))))

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, bodies, 3)
	for _, body := range bodies[:2] {
		require.EqualValues(t, 64, body["max_tokens"], "the upstream reads the cap the reservation used")
	}
	require.EqualValues(t, 10, bodies[2]["max_tokens"], "a limit below the cap is kept")
}

// zeroMS blanks the durations of a fallbacks list, which vary run to run.
func zeroMS(t *testing.T, s string) string {
	t.Helper()
	var list []map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &list), s)
	for _, a := range list {
		a["ms"] = 0
	}
	out, err := json.Marshal(list)
	require.NoError(t, err)
	return string(out)
}
