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

// FakeOpenAIJSON is the content the fake OpenAI upstream answers a request
// for a json_schema response format with.
const FakeOpenAIJSON = `{"city":"Paris","temperature_c":21}`

// NewOpenAIUpstream starts a fake OpenAI API at URL+"/v1": chat completions
// (JSON and SSE, usage chunk only with stream_options.include_usage, like
// OpenAI) and embeddings. Usage is prompt = 10 + number of messages,
// completion = len(FakeOpenAIWords), cached = 2. A request offering tools
// whose last message is not a tool result is answered with a call of the
// first tool (arguments {"city":"Paris"}, finish_reason tool_calls); one asking
// for a json_schema response format with FakeOpenAIJSON.
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
		Tools []struct {
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		} `json:"tools"`
		ResponseFormat *struct {
			Type string `json:"type"`
		} `json:"response_format"`
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
	var lastRole struct {
		Role string `json:"role"`
	}
	if n := len(req.Messages); n > 0 {
		_ = json.Unmarshal(req.Messages[n-1], &lastRole)
	}
	tool := ""
	if len(req.Tools) > 0 && lastRole.Role != "tool" {
		tool = req.Tools[0].Function.Name
	}
	words := FakeOpenAIWords
	if req.ResponseFormat != nil && req.ResponseFormat.Type == "json_schema" {
		words = []string{FakeOpenAIJSON[:8], FakeOpenAIJSON[8:]}
	}
	if !req.Stream {
		if f.Hang {
			u.hang(r)
			return
		}
		msg := map[string]any{"role": "assistant", "content": strings.Join(words, ""), "refusal": nil}
		finish := "stop"
		if tool != "" {
			msg = map[string]any{"role": "assistant", "content": nil, "refusal": nil, "tool_calls": []map[string]any{{
				"id": "call_fake", "type": "function", "function": map[string]string{"name": tool, "arguments": `{"city":"Paris"}`}}}}
			finish = "tool_calls"
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion", "created": 1_700_000_000, "model": req.Model,
			"choices": []map[string]any{{"index": 0, "finish_reason": finish, "logprobs": nil, "message": msg}},
			"usage":   usage, "system_fingerprint": "fp_fake",
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
	finish := "stop"
	if tool != "" {
		chunk([]map[string]any{{"index": 0, "delta": map[string]any{"tool_calls": []map[string]any{{"index": 0, "id": "call_fake",
			"type": "function", "function": map[string]string{"name": tool, "arguments": ""}}}}, "finish_reason": nil}}, nil)
		for _, part := range []string{`{"city":`, `"Paris"}`} {
			chunk([]map[string]any{{"index": 0, "delta": map[string]any{"tool_calls": []map[string]any{{"index": 0,
				"function": map[string]string{"arguments": part}}}}, "finish_reason": nil}}, nil)
		}
		finish = "tool_calls"
	} else {
		for _, word := range words {
			chunk([]map[string]any{{"index": 0, "delta": map[string]any{"content": word}, "finish_reason": nil}}, nil)
		}
	}
	chunk([]map[string]any{{"index": 0, "delta": map[string]any{}, "finish_reason": finish}}, nil)
	if includeUsage {
		chunk([]map[string]any{}, usage)
	}
	_, _ = fmt.Fprint(w, "data: [DONE]\n\n")
	flush(w)
}
