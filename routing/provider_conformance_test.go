package routing_test

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/providertest"
)

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestOpenAIProviderConformance(t *testing.T) {
	t.Parallel()
	providertest.RunConformance(t, func(t *testing.T) providertest.Harness {
		up := providertest.NewOpenAIUpstream(t, "sk-test")
		p, err := routing.NewOpenAIProvider(routing.OpenAIConfig{BaseURL: up.URL + "/v1", APIKey: "sk-test"}, nil, testLogger(t))
		require.NoError(t, err)
		return providertest.Harness{Provider: p, Model: "gpt-4o-mini", EmbeddingModel: "text-embedding-3-small", Upstream: up}
	})
}

func TestSimProviderConformance(t *testing.T) {
	t.Parallel()
	est := routing.NewEstimator(routing.EstimatorConfig{})
	providertest.RunConformance(t, func(t *testing.T) providertest.Harness {
		p, err := routing.NewSimProvider(routing.SimConfig{}, est, testLogger(t))
		require.NoError(t, err)
		return providertest.Harness{Provider: p, Model: "sim-small", EmbeddingModel: "sim-embed"}
	})
}
