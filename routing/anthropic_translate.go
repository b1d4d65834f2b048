package routing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// anthropicRequest is the Messages API request body.
type anthropicRequest struct {
	Model string `json:"model"`
	// System is a string, or text blocks when a cache breakpoint marks one.
	System        any                `json:"system,omitempty"`
	Messages      []anthropicMessage `json:"messages"`
	MaxTokens     int                `json:"max_tokens"`
	Temperature   json.RawMessage    `json:"temperature,omitempty"`
	TopP          json.RawMessage    `json:"top_p,omitempty"`
	StopSequences []string           `json:"stop_sequences,omitempty"`
	Stream        bool               `json:"stream,omitempty"`
	Tools         []anthropicTool    `json:"tools,omitempty"`
	ToolChoice    any                `json:"tool_choice,omitempty"`
	Metadata      *struct {
		UserID string `json:"user_id"`
	} `json:"metadata,omitempty"`
}

type anthropicMessage struct {
	Role    string           `json:"role"`
	Content []anthropicBlock `json:"content"`
}

type anthropicBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   string          `json:"content,omitempty"`
	Source    *anthropicImage `json:"source,omitempty"`
	// CacheControl marks the end of a cacheable prefix (a cache breakpoint,
	// {"type":"ephemeral"}), kept as the client sent it.
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

type anthropicImage struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

type anthropicTool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"input_schema"`
	// CacheControl is the prompt-caching marker; it caches everything up to this tool.
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

// toAnthropic translates an OpenAI chat request into a Messages API body:
// system/developer messages become the system prompt, tool results become
// user tool_result blocks, assistant tool_calls become tool_use blocks, and
// consecutive same-role messages merge (the API requires alternation).
// defaultMaxTokens fills the mandatory max_tokens when the client set none.
func toAnthropic(req *ChatRequest, model string, defaultMaxTokens int, stream bool) ([]byte, error) {
	out := anthropicRequest{Model: model, MaxTokens: req.MaxTokens, Stream: stream,
		Temperature: nonNull(req.Temperature), TopP: nonNull(req.TopP)}
	if out.MaxTokens == 0 {
		out.MaxTokens = defaultMaxTokens
	}
	var system []string
	var systemBlocks []anthropicBlock
	cachedSystem := false
	for i := range req.Messages {
		m := &req.Messages[i]
		var role string
		var blocks []anthropicBlock
		switch m.Role {
		case "system", "developer":
			system = append(system, m.Text)
			parts, _ := m.Parts()
			for _, p := range parts {
				if p.Type == "text" {
					systemBlocks = append(systemBlocks, anthropicBlock{Type: "text", Text: p.Text, CacheControl: nonNull(p.CacheControl)})
					cachedSystem = cachedSystem || nonNull(p.CacheControl) != nil
				}
			}
			continue
		case "tool":
			role = "user"
			b := anthropicBlock{Type: "tool_result", ToolUseID: m.ToolCallID, Content: m.Text}
			if parts, _ := m.Parts(); len(parts) > 0 {
				b.CacheControl = nonNull(parts[len(parts)-1].CacheControl)
			}
			blocks = []anthropicBlock{b}
		case "assistant":
			role = "assistant"
			if m.Text != "" {
				blocks = append(blocks, anthropicBlock{Type: "text", Text: m.Text})
			}
			for _, tc := range m.ToolCalls {
				input := json.RawMessage(tc.Function.Arguments)
				if !json.Valid(input) || len(bytes.TrimSpace(input)) == 0 {
					input = json.RawMessage("{}")
				}
				blocks = append(blocks, anthropicBlock{Type: "tool_use", ID: tc.ID, Name: tc.Function.Name, Input: input})
			}
		default:
			role = "user"
			parts, err := m.Parts()
			if err != nil {
				return nil, fmt.Errorf("messages[%d]: %w", i, err)
			}
			for _, p := range parts {
				switch {
				case p.Type == "text":
					blocks = append(blocks, anthropicBlock{Type: "text", Text: p.Text, CacheControl: nonNull(p.CacheControl)})
				case p.Type == "image_url" && p.ImageURL != nil:
					blocks = append(blocks, anthropicBlock{Type: "image", Source: imageSource(p.ImageURL.URL), CacheControl: nonNull(p.CacheControl)})
				}
			}
		}
		if len(blocks) == 0 {
			continue
		}
		if n := len(out.Messages); n > 0 && out.Messages[n-1].Role == role {
			out.Messages[n-1].Content = append(out.Messages[n-1].Content, blocks...)
			continue
		}
		out.Messages = append(out.Messages, anthropicMessage{Role: role, Content: blocks})
	}
	if cachedSystem {
		out.System = systemBlocks
	} else if len(system) > 0 {
		out.System = strings.Join(system, "\n\n")
	}
	if req.CachePrefix {
		markCachePrefix(&out)
	}
	if stop := nonNull(req.Stop); stop != nil {
		var one string
		if json.Unmarshal(stop, &one) == nil {
			out.StopSequences = []string{one}
		} else if err := json.Unmarshal(stop, &out.StopSequences); err != nil {
			return nil, fmt.Errorf("stop: %w", err)
		}
	}
	if req.HasTools() {
		var tools []struct {
			Function struct {
				Name        string          `json:"name"`
				Description string          `json:"description"`
				Parameters  json.RawMessage `json:"parameters"`
			} `json:"function"`
			CacheControl json.RawMessage `json:"cache_control"`
		}
		if err := json.Unmarshal(req.Tools, &tools); err != nil {
			return nil, fmt.Errorf("tools: %w", err)
		}
		for _, t := range tools {
			schema := t.Function.Parameters
			if len(schema) == 0 || bytes.Equal(schema, []byte("null")) {
				schema = json.RawMessage(`{"type":"object","properties":{}}`)
			}
			out.Tools = append(out.Tools, anthropicTool{Name: t.Function.Name, Description: t.Function.Description, InputSchema: schema,
				CacheControl: nonNull(t.CacheControl)})
		}
		out.ToolChoice = anthropicToolChoice(req.ToolChoice)
	}
	if req.User != "" {
		out.Metadata = &struct {
			UserID string `json:"user_id"`
		}{req.User}
	}
	return json.Marshal(out)
}

// markCachePrefix sets up to two prompt-cache breakpoints on the stable prefix
// of a conversation, so that the next turn reads it from Anthropic's cache (at
// 0.1× the input price) instead of paying for it again: one at the end of the
// system prompt (tools and system, shared by every conversation of a persona)
// and one at the end of the history before the last user turn. Anthropic
// allows four; prefixes under its minimum (1,024 tokens) are simply not cached.
// A request whose client placed its own breakpoints keeps exactly those.
func markCachePrefix(out *anthropicRequest) {
	if hasCacheControl(out) {
		return
	}
	ephemeral := json.RawMessage(`{"type":"ephemeral"}`)
	if sys, ok := out.System.(string); ok && sys != "" {
		out.System = []anthropicBlock{{Type: "text", Text: sys, CacheControl: ephemeral}}
	}
	// The history ends with the last assistant message before the final turn.
	for i := len(out.Messages) - 2; i >= 0; i-- {
		if m := &out.Messages[i]; m.Role == "assistant" && len(m.Content) > 0 {
			m.Content[len(m.Content)-1].CacheControl = ephemeral
			break
		}
	}
}

// hasCacheControl reports whether any block, system block or tool carries a
// breakpoint already.
func hasCacheControl(out *anthropicRequest) bool {
	if blocks, ok := out.System.([]anthropicBlock); ok {
		for _, b := range blocks {
			if b.CacheControl != nil {
				return true
			}
		}
	}
	for _, m := range out.Messages {
		for _, b := range m.Content {
			if b.CacheControl != nil {
				return true
			}
		}
	}
	for _, t := range out.Tools {
		if t.CacheControl != nil {
			return true
		}
	}
	return false
}

func nonNull(r json.RawMessage) json.RawMessage {
	if len(r) == 0 || bytes.Equal(r, []byte("null")) {
		return nil
	}
	return r
}

func imageSource(url string) *anthropicImage {
	if rest, ok := strings.CutPrefix(url, "data:"); ok {
		if meta, data, ok := strings.Cut(rest, ","); ok {
			return &anthropicImage{Type: "base64", MediaType: strings.TrimSuffix(meta, ";base64"), Data: data}
		}
	}
	return &anthropicImage{Type: "url", URL: url}
}

func anthropicToolChoice(raw json.RawMessage) any {
	raw = nonNull(raw)
	if raw == nil {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "none":
			return map[string]string{"type": "none"}
		case "required":
			return map[string]string{"type": "any"}
		default:
			return map[string]string{"type": "auto"}
		}
	}
	var named struct {
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if json.Unmarshal(raw, &named) == nil && named.Function.Name != "" {
		return map[string]string{"type": "tool", "name": named.Function.Name}
	}
	return map[string]string{"type": "auto"}
}

// anthropicUsage is the Messages API usage object.
type anthropicUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

// usage maps Anthropic's usage to OpenAI's convention, where prompt tokens
// include cached ones: Anthropic's input_tokens are only the tokens after the
// last cache breakpoint, so cache reads and cache writes are added to them, and
// kept apart (CachedTokens, CacheWriteTokens) to be priced at their own rates.
func (u anthropicUsage) usage() Usage {
	return Usage{
		PromptTokens:     u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens,
		CachedTokens:     u.CacheReadInputTokens,
		CacheWriteTokens: u.CacheCreationInputTokens,
		CompletionTokens: u.OutputTokens,
	}
}

type anthropicResponse struct {
	ID         string           `json:"id"`
	Model      string           `json:"model"`
	Content    []anthropicBlock `json:"content"`
	StopReason string           `json:"stop_reason"`
	Usage      anthropicUsage   `json:"usage"`
}

func finishFromStop(stop string) string {
	switch stop {
	case "max_tokens":
		return "length"
	case "tool_use":
		return "tool_calls"
	case "refusal":
		return "content_filter"
	default:
		return "stop"
	}
}

type openAIToolCallOut struct {
	Index    *int   `json:"index,omitempty"`
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Name      string `json:"name,omitempty"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// fromAnthropic translates a Messages API response into an OpenAI chat.completion.
func fromAnthropic(body []byte, created int64) ([]byte, Usage, string, error) {
	var r anthropicResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, Usage{}, "", err
	}
	var text strings.Builder
	var calls []openAIToolCallOut
	for _, b := range r.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "tool_use":
			var c openAIToolCallOut
			c.ID, c.Type = b.ID, "function"
			c.Function.Name, c.Function.Arguments = b.Name, string(b.Input)
			calls = append(calls, c)
		}
	}
	msg := map[string]any{"role": "assistant", "content": text.String()}
	if len(calls) > 0 {
		msg["tool_calls"] = calls
		if text.Len() == 0 {
			msg["content"] = nil
		}
	}
	u := r.Usage.usage()
	out, err := json.Marshal(map[string]any{
		"id": r.ID, "object": "chat.completion", "created": created, "model": r.Model,
		"choices": []map[string]any{{"index": 0, "message": msg, "finish_reason": finishFromStop(r.StopReason), "logprobs": nil}},
		"usage":   wireUsage(u),
	})
	return out, u, r.Model, err
}

// anthropicErrorToOpenAI rewrites {"type":"error","error":{"type","message"}}
// into OpenAI's envelope so the api layer can pass a 4xx through unchanged.
func anthropicErrorToOpenAI(body []byte, status int) []byte {
	var e struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Message == "" {
		e.Error.Type = "upstream_error"
		e.Error.Message = fmt.Sprintf("upstream returned status %d", status)
	}
	out, _ := json.Marshal(map[string]any{"error": map[string]any{"message": e.Error.Message, "type": e.Error.Type, "param": nil, "code": nil}})
	return out
}
