package providertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing"
)

// Harness is what one Provider implementation hands to the conformance suite.
type Harness struct {
	// Provider is the implementation under test.
	Provider routing.Provider
	// Model is an upstream model id that answers normally.
	Model string
	// EmbeddingModel is an embeddings model; empty when the provider has none
	// (the suite then expects routing.ErrUnsupported).
	EmbeddingModel string
	// Upstream is the fake the provider talks to; nil for providers without an
	// upstream (sim), for which the fault and cancellation cases do not apply.
	Upstream *Upstream
}

// RunConformance runs the provider contract against a fresh harness per case.
func RunConformance(t *testing.T, setup func(t *testing.T) Harness) {
	t.Helper()
	chat := func(t *testing.T, h Harness, stream, includeUsage bool) *routing.ChatRequest {
		t.Helper()
		body := map[string]any{
			"model":       "client-model",
			"messages":    []map[string]any{{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello to the conformance suite."}},
			"max_tokens":  5,
			"temperature": 0.3,
		}
		if stream {
			body["stream"] = true
		}
		if includeUsage {
			body["stream_options"] = map[string]any{"include_usage": true}
		}
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		req, err := routing.ParseChatRequest(raw)
		require.NoError(t, err)
		req.PromptTokens = 20
		return req
	}

	t.Run("ChatJSON", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		resp, err := h.Provider.Chat(t.Context(), chat(t, h, false, false), h.Model)
		require.NoError(t, err)
		var body struct {
			Object  string `json:"object"`
			Choices []struct {
				Message struct {
					Role    string `json:"role"`
					Content string `json:"content"`
				} `json:"message"`
				FinishReason string `json:"finish_reason"`
			} `json:"choices"`
			Usage struct {
				PromptTokens     int `json:"prompt_tokens"`
				CompletionTokens int `json:"completion_tokens"`
			} `json:"usage"`
		}
		require.NoError(t, json.Unmarshal(resp.Body, &body))
		require.Equal(t, "chat.completion", body.Object)
		require.Len(t, body.Choices, 1)
		require.Equal(t, "assistant", body.Choices[0].Message.Role)
		require.NotEmpty(t, body.Choices[0].Message.Content)
		require.NotEmpty(t, body.Choices[0].FinishReason)
		require.Positive(t, resp.Usage.PromptTokens)
		require.Positive(t, resp.Usage.CompletionTokens)
		require.False(t, resp.Usage.Estimated)
		require.Equal(t, body.Usage.PromptTokens, resp.Usage.PromptTokens)
		require.Equal(t, body.Usage.CompletionTokens, resp.Usage.CompletionTokens)
	})

	for _, includeUsage := range []bool{false, true} {
		name := "StreamWithoutClientUsage"
		if includeUsage {
			name = "StreamWithClientUsage"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := setup(t)
			s, err := h.Provider.ChatStream(t.Context(), chat(t, h, true, includeUsage), h.Model)
			require.NoError(t, err)
			defer s.Close()
			var out bytes.Buffer
			_, err = s.WriteTo(&out)
			require.NoError(t, err)
			events := strings.SplitAfter(out.String(), "\n\n")
			require.Equal(t, "", events[len(events)-1])
			events = events[:len(events)-1]
			require.Equal(t, "data: [DONE]\n\n", events[len(events)-1])
			var content strings.Builder
			sawUsage := false
			for _, ev := range events[:len(events)-1] {
				require.True(t, strings.HasPrefix(ev, "data: "), "event %q", ev)
				var c struct {
					Object  string `json:"object"`
					Choices []struct {
						Delta struct {
							Content string `json:"content"`
						} `json:"delta"`
					} `json:"choices"`
					Usage *struct {
						PromptTokens     int `json:"prompt_tokens"`
						CompletionTokens int `json:"completion_tokens"`
					} `json:"usage"`
				}
				require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(ev, "data: ")), &c), "event %q", ev)
				require.Equal(t, "chat.completion.chunk", c.Object)
				for _, ch := range c.Choices {
					content.WriteString(ch.Delta.Content)
				}
				if c.Usage != nil {
					sawUsage = true
					require.Empty(t, c.Choices)
				}
			}
			require.NotEmpty(t, content.String())
			require.Equal(t, includeUsage, sawUsage, "the usage chunk reaches the client only when asked")
			require.NoError(t, s.Close())
			u := s.Usage()
			require.False(t, u.Estimated, "upstream usage must be captured")
			require.Positive(t, u.PromptTokens)
			require.Positive(t, u.CompletionTokens)
		})
	}

	t.Run("StreamEarlyCloseReportsUsage", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		s, err := h.Provider.ChatStream(t.Context(), chat(t, h, true, false), h.Model)
		require.NoError(t, err)
		_, err = s.Next()
		require.NoError(t, err)
		require.NoError(t, s.Close())
		require.NoError(t, s.Close(), "Close is idempotent")
		u := s.Usage()
		require.Positive(t, u.PromptTokens, "an early stop still bills the prompt")
	})

	t.Run("Embeddings", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		req, err := routing.ParseEmbeddingRequest([]byte(`{"model":"client-model","input":["hello","world"]}`))
		require.NoError(t, err)
		model := h.EmbeddingModel
		if model == "" {
			model = h.Model
		}
		resp, err := h.Provider.Embed(t.Context(), req, model)
		if h.EmbeddingModel == "" {
			require.ErrorIs(t, err, routing.ErrUnsupported)
			return
		}
		require.NoError(t, err)
		require.Positive(t, resp.Usage.PromptTokens)
		var body struct {
			Object string `json:"object"`
			Data   []struct {
				Embedding []float64 `json:"embedding"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(resp.Body, &body))
		require.Equal(t, "list", body.Object)
		require.NotEmpty(t, body.Data)
	})

	// Fault and cancellation cases need an upstream to misbehave; providers without
	// one (sim) do not register them rather than skip them.
	if setup(t).Upstream == nil {
		return
	}
	for _, tc := range []struct {
		status    int
		retryable bool
		kind      *errkind.Kind
	}{
		{http.StatusBadRequest, false, errkind.Invalid},
		{http.StatusTooManyRequests, true, errkind.RateLimited},
		{http.StatusInternalServerError, true, errkind.Unavailable},
		{http.StatusServiceUnavailable, true, errkind.Unavailable},
	} {
		t.Run("UpstreamStatus"+http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			h := setup(t)
			for _, stream := range []bool{false, true} {
				h.Upstream.Fail(Fault{Status: tc.status})
				var err error
				if stream {
					_, err = h.Provider.ChatStream(t.Context(), chat(t, h, true, false), h.Model)
				} else {
					_, err = h.Provider.Chat(t.Context(), chat(t, h, false, false), h.Model)
				}
				var ue *routing.UpstreamError
				require.ErrorAs(t, err, &ue)
				require.Equal(t, tc.status, ue.StatusCode)
				require.Equal(t, tc.retryable, ue.Retryable())
				require.Equal(t, tc.retryable, routing.IsRetryable(err))
				require.ErrorIs(t, err, tc.kind)
				var envelope struct {
					Error struct {
						Message string `json:"message"`
					} `json:"error"`
				}
				require.NoError(t, json.Unmarshal(ue.Body, &envelope), "body %s", ue.Body)
				require.NotEmpty(t, envelope.Error.Message, "the body is in OpenAI's error shape")
			}
		})
	}

	t.Run("ConnectErrorIsRetryable", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		h.Upstream.srv.Close()
		_, err := h.Provider.Chat(t.Context(), chat(t, h, false, false), h.Model)
		var ue *routing.UpstreamError
		require.ErrorAs(t, err, &ue)
		require.Zero(t, ue.StatusCode)
		require.True(t, routing.IsRetryable(err))
	})

	t.Run("CancelStopsUpstream", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		h.Upstream.Fail(Fault{Hang: true})
		ctx, cancel := context.WithCancel(t.Context())
		s, err := h.Provider.ChatStream(ctx, chat(t, h, true, false), h.Model)
		require.NoError(t, err)
		_, err = s.Next()
		require.NoError(t, err)
		cancel()
		select {
		case <-h.Upstream.Cancelled():
		case <-time.After(5 * time.Second):
			t.Fatal("the upstream handler never saw its request context done")
		}
		// Events already buffered may still arrive; then the stream must fail, not end.
		for range 100 {
			if _, err = s.Next(); err != nil {
				break
			}
		}
		require.Error(t, err)
		require.False(t, errors.Is(err, io.EOF))
		require.NoError(t, s.Close())
		require.True(t, s.Usage().Estimated)
	})

	t.Run("CloseStopsUpstream", func(t *testing.T) {
		t.Parallel()
		h := setup(t)
		h.Upstream.Fail(Fault{Hang: true})
		s, err := h.Provider.ChatStream(t.Context(), chat(t, h, true, false), h.Model)
		require.NoError(t, err)
		_, err = s.Next()
		require.NoError(t, err)
		require.NoError(t, s.Close())
		select {
		case <-h.Upstream.Cancelled():
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not cancel the upstream request")
		}
	})
}
