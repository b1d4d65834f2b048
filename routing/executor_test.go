package routing_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/providertest"
)

// fakeClock is an injectable clock for breaker tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type execBundle struct {
	exec      *routing.Executor
	up1, up2  *providertest.Upstream
	m1, m2    routing.Model
	clock     *fakeClock
	decision  routing.Decision
	jsonReq   *routing.ChatRequest
	streamReq *routing.ChatRequest
}

func setupExec(t *testing.T, cfg routing.ExecutorConfig) *execBundle {
	t.Helper()
	b := &execBundle{up1: providertest.NewOpenAIUpstream(t, "k1"), up2: providertest.NewOpenAIUpstream(t, "k2"),
		clock: &fakeClock{now: time.Unix(1_700_000_000, 0)}}
	p1, err := routing.NewOpenAIProvider(routing.OpenAIConfig{Name: "up1", BaseURL: b.up1.URL + "/v1", APIKey: "k1"}, nil, testLogger(t))
	require.NoError(t, err)
	p2, err := routing.NewOpenAIProvider(routing.OpenAIConfig{Name: "up2", BaseURL: b.up2.URL + "/v1", APIKey: "k2"}, nil, testLogger(t))
	require.NoError(t, err)
	reg, err := routing.NewRegistry(p1, p2)
	require.NoError(t, err)
	cfg.Registry = reg
	cfg.Now = b.clock.Now
	cfg.BackoffBase = time.Millisecond
	cfg.BackoffMax = 5 * time.Millisecond
	b.exec, err = routing.NewExecutor(cfg, testLogger(t))
	require.NoError(t, err)
	b.m1 = routing.Model{ID: "m1", Provider: "up1", UpstreamID: "gpt-4o", Tier: routing.TierStandard}
	b.m2 = routing.Model{ID: "m2", Provider: "up2", UpstreamID: "gpt-4o-mini", Tier: routing.TierEconomy}
	b.decision = routing.Decision{Action: routing.DecisionActionAllow, Model: b.m1, Fallbacks: []routing.Model{b.m2}}
	b.jsonReq, err = routing.ParseChatRequest([]byte(`{"model":"auto","messages":[{"role":"user","content":"hi"}]}`))
	require.NoError(t, err)
	b.streamReq, err = routing.ParseChatRequest([]byte(`{"model":"auto","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	require.NoError(t, err)
	return b
}

func TestExecutorFallsBackOn500(t *testing.T) {
	t.Parallel()
	b := setupExec(t, routing.ExecutorConfig{})
	// Given m1 fails twice with 500 (first try and its one retry),
	b.up1.Fail(providertest.Fault{Status: 500})
	b.up1.Fail(providertest.Fault{Status: 500})
	// when the request runs,
	res, err := b.exec.Chat(t.Context(), b.decision, b.jsonReq)
	// then m2 answers and the outcome says why.
	require.NoError(t, err)
	require.Equal(t, "m2", res.Model.ID)
	require.Equal(t, routing.FallbackReasonUpstreamError, res.FallbackReason)
	require.Len(t, res.Attempts, 3)
	require.Len(t, b.up1.Requests(), 2)
	require.Contains(t, string(b.up2.LastRequest(t).Body), `"model":"gpt-4o-mini"`)
}

func TestExecutorPassesThrough400(t *testing.T) {
	t.Parallel()
	b := setupExec(t, routing.ExecutorConfig{})
	body := `{"error":{"message":"Invalid 'messages[0].role'","type":"invalid_request_error","param":"messages","code":null}}`
	b.up1.Fail(providertest.Fault{Status: 400, Body: body})
	_, err := b.exec.Chat(t.Context(), b.decision, b.jsonReq)
	var ue *routing.UpstreamError
	require.ErrorAs(t, err, &ue)
	require.Equal(t, 400, ue.StatusCode)
	require.Equal(t, body, string(ue.Body), "the body reaches the client unchanged")
	require.Len(t, b.up1.Requests(), 1, "no retry")
	require.Empty(t, b.up2.Requests(), "no fallback")
	require.Equal(t, routing.BreakerClosed, b.exec.BreakerState(b.m1))
}

func TestExecutorBreakerOpensAndRecovers(t *testing.T) {
	t.Parallel()
	b := setupExec(t, routing.ExecutorConfig{MaxRetries: -1, Breaker: routing.BreakerConfig{FailureThreshold: 2, CoolDown: 10 * time.Second}})
	// Given two consecutive 500s from m1,
	for range 2 {
		b.up1.Fail(providertest.Fault{Status: 500})
		res, err := b.exec.Chat(t.Context(), b.decision, b.jsonReq)
		require.NoError(t, err)
		require.Equal(t, "m2", res.Model.ID)
	}
	require.Equal(t, routing.BreakerOpen, b.exec.BreakerState(b.m1))
	// when the circuit is open, m1 gets no traffic at all;
	res, err := b.exec.Chat(t.Context(), b.decision, b.jsonReq)
	require.NoError(t, err)
	require.Equal(t, "m2", res.Model.ID)
	require.Equal(t, routing.FallbackReasonCircuitOpen, res.FallbackReason)
	require.True(t, res.Attempts[0].Skipped)
	require.Len(t, b.up1.Requests(), 2)
	// then after the cool-down one probe goes out, succeeds, and closes it.
	b.clock.Advance(11 * time.Second)
	require.Equal(t, routing.BreakerHalfOpen, b.exec.BreakerState(b.m1))
	res, err = b.exec.Chat(t.Context(), b.decision, b.jsonReq)
	require.NoError(t, err)
	require.Equal(t, "m1", res.Model.ID)
	require.Equal(t, routing.BreakerClosed, b.exec.BreakerState(b.m1))

	// A failed probe re-opens the circuit.
	b.up1.Fail(providertest.Fault{Status: 500})
	b.up1.Fail(providertest.Fault{Status: 500})
	for range 2 {
		_, err = b.exec.Chat(t.Context(), b.decision, b.jsonReq)
		require.NoError(t, err)
	}
	b.clock.Advance(11 * time.Second)
	b.up1.Fail(providertest.Fault{Status: 503})
	res, err = b.exec.Chat(t.Context(), b.decision, b.jsonReq)
	require.NoError(t, err)
	require.Equal(t, "m2", res.Model.ID)
	require.Equal(t, routing.BreakerOpen, b.exec.BreakerState(b.m1))
}

func TestExecutorStreamFallsBackBeforeFirstChunk(t *testing.T) {
	t.Parallel()
	b := setupExec(t, routing.ExecutorConfig{MaxRetries: -1})
	b.up1.Fail(providertest.Fault{Status: 503})
	res, err := b.exec.ChatStream(t.Context(), b.decision, b.streamReq)
	require.NoError(t, err)
	defer res.Stream.Close()
	require.Equal(t, "m2", res.Model.ID)
	var out bytes.Buffer
	_, err = res.Stream.WriteTo(&out)
	require.NoError(t, err)
	require.Contains(t, out.String(), "data: [DONE]")
	require.NoError(t, res.Stream.Close())
	require.False(t, res.Stream.Usage().Estimated)
}

func TestExecutorCancelReachesUpstream(t *testing.T) {
	t.Parallel()
	b := setupExec(t, routing.ExecutorConfig{})
	b.up1.Fail(providertest.Fault{Hang: true})
	ctx, cancel := context.WithCancel(t.Context())
	res, err := b.exec.ChatStream(ctx, b.decision, b.streamReq)
	require.NoError(t, err)
	require.Equal(t, "m1", res.Model.ID)
	// The client disconnects mid-stream.
	cancel()
	select {
	case <-b.up1.Cancelled():
	case <-time.After(5 * time.Second):
		t.Fatal("upstream handler never saw its request context done")
	}
	_, err = res.Stream.WriteTo(&bytes.Buffer{})
	require.Error(t, err)
	require.NoError(t, res.Stream.Close())
	require.Empty(t, b.up2.Requests(), "a started stream is never retried elsewhere")
}

func TestExecutorTimeoutFallsBack(t *testing.T) {
	t.Parallel()
	b := setupExec(t, routing.ExecutorConfig{MaxRetries: -1, Timeouts: map[string]time.Duration{"up1": 50 * time.Millisecond}})
	b.up1.Fail(providertest.Fault{Hang: true})
	res, err := b.exec.Chat(t.Context(), b.decision, b.jsonReq)
	require.NoError(t, err)
	require.Equal(t, "m2", res.Model.ID)
	require.Equal(t, routing.FallbackReasonTimeout, res.FallbackReason)
	select {
	case <-b.up1.Cancelled():
	case <-time.After(5 * time.Second):
		t.Fatal("the timed-out upstream request was not cancelled")
	}
}

func TestExecutorRefusedDecision(t *testing.T) {
	t.Parallel()
	b := setupExec(t, routing.ExecutorConfig{})
	_, err := b.exec.Chat(t.Context(), routing.Decision{Action: routing.DecisionActionRefuse, Explanation: "premium model grok-4 not allowed by policy"}, b.jsonReq)
	require.Error(t, err)
	require.Empty(t, b.up1.Requests())
}
