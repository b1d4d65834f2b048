package providertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// FakeOpenAIWords are the content pieces the fake OpenAI upstream streams.
var FakeOpenAIWords = []string{"Hello", " from", " the", " fake", " upstream"}

// NewOpenAIUpstream starts a fake OpenAI API at URL+"/v1": chat completions
// (JSON and SSE, usage chunk only with stream_options.include_usage, like
// OpenAI) and embeddings. Usage is prompt = 10 + number of messages,
// completion = len(FakeOpenAIWords), cached = 2.
func NewOpenAIUpstream(t testing.TB, apiKey string) *Upstream {
	return newUpstream(t, apiKey, serveOpenAI)
}

func openAIError(w http.ResponseWriter, status int, body string) {
	if body == "" {
		body = fmt.Sprintf(`{"error":{"message":"fake upstream status %d","type":"invalid_request_error","param":null,"code":null}}`, status)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func serveOpenAI(u *Upstream, w http.ResponseWriter, r *http.Request, body []byte, f Fault) {
	if u.APIKey != "" && r.Header.Get("Authorization") != "Bearer "+u.APIKey {
		openAIError(w, http.StatusUnauthorized, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`)
		return
	}
	if f.Status != 0 {
		openAIError(w, f.Status, f.Body)
		return
	}
	var req struct {
		Model         string            `json:"model"`
		Messages      []json.RawMessage `json:"messages"`
		Stream        bool              `json:"stream"`
		StreamOptions *struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
		Input json.RawMessage `json:"input"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		openAIError(w, http.StatusBadRequest, "")
		return
	}
	usage := map[string]any{
		"prompt_tokens": 10 + len(req.Messages), "completion_tokens": len(FakeOpenAIWords),
		"total_tokens":          10 + len(req.Messages) + len(FakeOpenAIWords),
		"prompt_tokens_details": map[string]int{"cached_tokens": 2},
	}
	switch r.URL.Path {
	case "/v1/embeddings":
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"object": "list", "model": req.Model,
			"data":  []map[string]any{{"object": "embedding", "index": 0, "embedding": []float64{0.1, -0.2, 0.3}}},
			"usage": map[string]int{"prompt_tokens": 7, "total_tokens": 7},
		})
		return
	case "/v1/chat/completions":
	default:
		openAIError(w, http.StatusNotFound, "")
		return
	}
	if !req.Stream {
		if f.Hang {
			u.hang(r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion", "created": 1_700_000_000, "model": req.Model,
			"choices": []map[string]any{{"index": 0, "finish_reason": "stop", "logprobs": nil,
				"message": map[string]any{"role": "assistant", "content": strings.Join(FakeOpenAIWords, ""), "refusal": nil}}},
			"usage": usage, "system_fingerprint": "fp_fake",
		})
		return
	}
	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage && !f.NoUsage
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	chunk := func(choices any, usage any) {
		m := map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_700_000_000,
			"model": req.Model, "system_fingerprint": "fp_fake", "choices": choices}
		if includeUsage {
			m["usage"] = usage
		}
		b, _ := json.Marshal(m)
		_, _ = fmt.Fprintf(w, "data: %s\n\n", b)
		flush(w)
	}
	chunk([]map[string]any{{"index": 0, "delta": map[string]any{"role": "assistant", "content": ""}, "finish_reason": nil}}, nil)
	if f.Hang {
		u.hang(r)
		return
	}
	for _, word := range FakeOpenAIWords {
		chunk([]map[string]any{{"index": 0, "delta": map[string]any{"content": word}, "finish_reason": nil}}, nil)
	}
	chunk([]map[string]any{{"index": 0, "delta": map[string]any{}, "finish_reason": "stop"}}, nil)
	if includeUsage {
		chunk([]map[string]any{}, usage)
	}
	_, _ = fmt.Fprint(w, "data: [DONE]\n\n")
	flush(w)
}
