package routing_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/routing"
)

// BenchmarkHotPath measures routing's share of the gateway's added latency for
// the design's average request (~3,400 prompt tokens): parse, estimate,
// select, price the worst case, and execute against the in-process sim
// provider (which includes building the answer, the body rewrite is measured
// separately in BenchmarkEstimator/rewrite).
func BenchmarkHotPath(b *testing.B) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	var text strings.Builder
	for text.Len() < 3400*4 {
		text.WriteString("The quarterly report shows revenue grew 12% while costs fell; summarize the drivers. ")
	}
	raw, err := json.Marshal(map[string]any{"model": "auto", "max_tokens": 300,
		"messages": []map[string]string{{"role": "system", "content": "You are helpful."}, {"role": "user", "content": text.String()}}})
	require.NoError(b, err)
	est := routing.NewEstimator(routing.EstimatorConfig{})
	est.Warm()
	reg, err := routing.NewRegistryFromConfig(routing.ProvidersConfig{Sim: true}, est, logger)
	require.NoError(b, err)
	sel, err := routing.NewSelector(routing.SelectorConfig{Catalog: routing.DefaultCatalog(), Available: reg.Available}, logger)
	require.NoError(b, err)
	exec, err := routing.NewExecutor(routing.ExecutorConfig{Registry: reg}, logger)
	require.NoError(b, err)
	policy := routing.DefaultPolicy()
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		req, err := routing.ParseChatRequest(raw)
		if err != nil {
			b.Fatal(err)
		}
		est.Annotate("gpt-4o", req)
		d, err := sel.Select(b.Context(), routing.SelectInput{TenantID: "t1", Request: req, Policy: policy})
		if err != nil {
			b.Fatal(err)
		}
		_ = d.Model.WorstCase(req.PromptTokens, req.MaxTokens, req.N)
		if _, err := exec.Chat(b.Context(), d, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseChatRequest measures the strict parse alone on the design's
// average request (~3,400 prompt tokens, a system and a user message).
func BenchmarkParseChatRequest(b *testing.B) {
	var text strings.Builder
	for text.Len() < 3400*4 {
		text.WriteString("The quarterly report shows revenue grew 12% while costs fell;\n summarize the \"drivers\". ")
	}
	raw, err := json.Marshal(map[string]any{"model": "auto", "max_tokens": 300, "stream": true,
		"stream_options": map[string]any{"include_usage": true}, "temperature": 0.2,
		"messages": []map[string]string{{"role": "system", "content": "You are helpful."}, {"role": "user", "content": text.String()}}})
	require.NoError(b, err)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := routing.ParseChatRequest(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseTranslated measures the strict reading and translation of the
// same average request sent as a Responses or a Messages body, against
// BenchmarkParseChatRequest's chat body: the cost the foreign shapes add.
func BenchmarkParseTranslated(b *testing.B) {
	var text strings.Builder
	for text.Len() < 3400*4 {
		text.WriteString("The quarterly report shows revenue grew 12% while costs fell;\n summarize the \"drivers\". ")
	}
	responses, err := json.Marshal(map[string]any{"model": "auto", "max_output_tokens": 300, "stream": true, "temperature": 0.2,
		"instructions": "You are helpful.", "input": text.String()})
	require.NoError(b, err)
	messages, err := json.Marshal(map[string]any{"model": "auto", "max_tokens": 300, "stream": true, "temperature": 0.2,
		"system": "You are helpful.", "messages": []map[string]string{{"role": "user", "content": text.String()}}})
	require.NoError(b, err)
	b.Run("responses", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(responses)))
		for b.Loop() {
			if _, err := routing.ParseResponsesRequest(responses); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("messages", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(messages)))
		for b.Loop() {
			if _, err := routing.ParseMessagesRequest(messages); err != nil {
				b.Fatal(err)
			}
		}
	})
}
