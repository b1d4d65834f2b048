package routing_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/routing"
)

func TestSimProviderIsDeterministic(t *testing.T) {
	t.Parallel()
	est := routing.NewEstimator(routing.EstimatorConfig{})
	p, err := routing.NewSimProvider(routing.SimConfig{}, est, testLogger(t))
	require.NoError(t, err)
	req, err := routing.ParseChatRequest([]byte(`{"model":"auto","max_tokens":40,"messages":[{"role":"user","content":"Hello world"}]}`))
	require.NoError(t, err)
	a, err := p.Chat(t.Context(), req, "sim-small")
	require.NoError(t, err)
	b, err := p.Chat(t.Context(), req, "sim-small")
	require.NoError(t, err)
	require.Equal(t, string(a.Body), string(b.Body))
	require.Equal(t, routing.Usage{PromptTokens: 9, CompletionTokens: 40}, a.Usage)
	n, _ := est.PromptTokens("sim-small", req)
	require.Equal(t, n, a.Usage.PromptTokens, "sim counts the prompt with the estimator")
}

func TestSimProviderFailureRateIsSeeded(t *testing.T) {
	t.Parallel()
	est := routing.NewEstimator(routing.EstimatorConfig{})
	req, err := routing.ParseChatRequest([]byte(`{"model":"auto","messages":[{"role":"user","content":"x"}]}`))
	require.NoError(t, err)
	run := func() []bool {
		p, err := routing.NewSimProvider(routing.SimConfig{FailureRate: 0.3, Seed: 7}, est, testLogger(t))
		require.NoError(t, err)
		out := make([]bool, 200)
		for i := range out {
			_, err := p.Chat(t.Context(), req, "sim-small")
			out[i] = err != nil
			if err != nil {
				require.True(t, routing.IsRetryable(err))
			}
		}
		return out
	}
	first, second := run(), run()
	require.Equal(t, first, second)
	fails := 0
	for _, f := range first {
		if f {
			fails++
		}
	}
	require.InDelta(t, 60, fails, 25)
}

func TestSimProviderStreamCancel(t *testing.T) {
	t.Parallel()
	p, err := routing.NewSimProvider(routing.SimConfig{ChunkDelay: time.Hour}, nil, testLogger(t))
	require.NoError(t, err)
	req, err := routing.ParseChatRequest([]byte(`{"model":"auto","stream":true,"messages":[{"role":"user","content":"x"}]}`))
	require.NoError(t, err)
	s, err := p.ChatStream(t.Context(), req, "sim-small")
	require.NoError(t, err)
	_, err = s.Next()
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { _, err := s.Next(); done <- err }()
	require.NoError(t, s.Close())
	select {
	case err := <-done:
		require.Error(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not interrupt the stream")
	}
}
