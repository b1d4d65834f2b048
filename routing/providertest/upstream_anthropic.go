package providertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// FakeAnthropicCacheWrite is the cache_creation_input_tokens the fake reports
// for a request that carries cache_control.
const FakeAnthropicCacheWrite = 20

// FakeAnthropicWords are the text pieces the fake Anthropic upstream answers with.
var FakeAnthropicWords = []string{"Hello", " from", " Claude"}

// NewAnthropicUpstream starts a fake Anthropic Messages API at URL+"/v1/messages".
// It validates what the real API enforces (x-api-key, anthropic-version,
// max_tokens, alternating roles starting with user) and answers with text, or
// with a get_weather tool_use block when tools are offered. Usage: input = 10 +
// number of messages, cache_read = 3, output = number of text pieces (+1 with a tool call);
// a request with a cache_control marker anywhere also reports
// FakeAnthropicCacheWrite cache_creation_input_tokens.
func NewAnthropicUpstream(t testing.TB, apiKey string) *Upstream {
	return newUpstream(t, apiKey, serveAnthropic)
}

func anthropicError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]string{"type": typ, "message": msg}})
	_, _ = w.Write(b)
}

func serveAnthropic(u *Upstream, w http.ResponseWriter, r *http.Request, body []byte, f Fault) {
	if r.URL.Path != "/v1/messages" {
		anthropicError(w, http.StatusNotFound, "not_found_error", "Not found")
		return
	}
	if r.Header.Get("x-api-key") != u.APIKey {
		anthropicError(w, http.StatusUnauthorized, "authentication_error", "invalid x-api-key")
		return
	}
	if r.Header.Get("anthropic-version") == "" {
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", "anthropic-version header is required")
		return
	}
	if f.Status != 0 {
		if f.Body != "" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte(f.Body))
			return
		}
		typ := "invalid_request_error"
		if f.Status >= 500 {
			typ = "api_error"
		} else if f.Status == http.StatusTooManyRequests {
			typ = "rate_limit_error"
		}
		anthropicError(w, f.Status, typ, fmt.Sprintf("fake upstream status %d", f.Status))
		return
	}
	var req struct {
		Model     string `json:"model"`
		MaxTokens int    `json:"max_tokens"`
		Stream    bool   `json:"stream"`
		System    any    `json:"system"`
		Messages  []struct {
			Role    string            `json:"role"`
			Content []json.RawMessage `json:"content"`
		} `json:"messages"`
		Tools []struct {
			Name        string          `json:"name"`
			InputSchema json.RawMessage `json:"input_schema"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", "invalid JSON: "+err.Error())
		return
	}
	switch {
	case req.MaxTokens <= 0:
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", "max_tokens: field required")
		return
	case len(req.Messages) == 0 || req.Messages[0].Role != "user":
		anthropicError(w, http.StatusBadRequest, "invalid_request_error", "messages: first message must use the user role")
		return
	}
	for i := 1; i < len(req.Messages); i++ {
		if req.Messages[i].Role == req.Messages[i-1].Role {
			anthropicError(w, http.StatusBadRequest, "invalid_request_error", "messages: roles must alternate")
			return
		}
	}
	for _, t := range req.Tools {
		if t.Name == "" || len(t.InputSchema) == 0 {
			anthropicError(w, http.StatusBadRequest, "invalid_request_error", "tools: name and input_schema are required")
			return
		}
	}
	in := 10 + len(req.Messages)
	cacheWrite := 0
	if strings.Contains(string(body), `"cache_control"`) {
		cacheWrite = FakeAnthropicCacheWrite
	}
	out := len(FakeAnthropicWords)
	withTool := len(req.Tools) > 0
	stop := "end_turn"
	if withTool {
		out++
		stop = "tool_use"
	}
	if !req.Stream {
		if f.Hang {
			u.hang(r)
			return
		}
		content := []map[string]any{{"type": "text", "text": strings.Join(FakeAnthropicWords, "")}}
		if withTool {
			content = append(content, map[string]any{"type": "tool_use", "id": "toolu_fake", "name": req.Tools[0].Name, "input": map[string]string{"city": "Paris"}})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "msg_fake", "type": "message", "role": "assistant", "model": req.Model, "content": content,
			"stop_reason": stop, "stop_sequence": nil,
			"usage": map[string]int{"input_tokens": in, "output_tokens": out, "cache_creation_input_tokens": cacheWrite, "cache_read_input_tokens": 3},
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	send := func(event string, data any) {
		b, _ := json.Marshal(data)
		_, _ = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
		flush(w)
	}
	send("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": "msg_fake", "type": "message", "role": "assistant", "model": req.Model, "content": []any{},
		"stop_reason": nil, "usage": map[string]int{"input_tokens": in, "output_tokens": 1, "cache_read_input_tokens": 3,
			"cache_creation_input_tokens": cacheWrite}}})
	send("content_block_start", map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]string{"type": "text", "text": ""}})
	send("ping", map[string]string{"type": "ping"})
	for i, word := range FakeAnthropicWords {
		send("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]string{"type": "text_delta", "text": word}})
		if i == 0 && f.Hang {
			u.hang(r)
			return
		}
	}
	send("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	if withTool {
		send("content_block_start", map[string]any{"type": "content_block_start", "index": 1, "content_block": map[string]any{"type": "tool_use", "id": "toolu_fake", "name": req.Tools[0].Name, "input": map[string]any{}}})
		for _, part := range []string{`{"city":`, ` "Paris"}`} {
			send("content_block_delta", map[string]any{"type": "content_block_delta", "index": 1, "delta": map[string]string{"type": "input_json_delta", "partial_json": part}})
		}
		send("content_block_stop", map[string]any{"type": "content_block_stop", "index": 1})
	}
	send("message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stop, "stop_sequence": nil}, "usage": map[string]int{"output_tokens": out}})
	send("message_stop", map[string]string{"type": "message_stop"})
}
