package routing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// MessagesRequest is an Anthropic Messages API request translated into the
// chat request the gateway serves.
type MessagesRequest struct {
	// Chat is the translated chat completion request; its API is APIMessages.
	Chat *ChatRequest
	// Model is the model the client named, echoed when the answer names none.
	Model string
}

// messagesKeys are the top-level members of a Messages request Tollgate reads.
var messagesKeys = map[string]bool{
	"model": true, "messages": true, "max_tokens": true, "system": true, "metadata": true,
	"stop_sequences": true, "stream": true, "temperature": true, "top_p": true, "tools": true,
	"tool_choice": true, "thinking": true, "service_tier": true, "cache_control": true,
}

// messagesRefused are Messages members Tollgate knows but cannot honour
// through translation, with the reason given to the client.
var messagesRefused = map[string]string{
	"top_k":              "top_k has no chat completions equivalent; call without it",
	"container":          "containers run inside Anthropic and cannot be routed; call Anthropic directly for them",
	"mcp_servers":        "MCP servers are connected by Anthropic's own API and cannot be routed; run the tools on the client",
	"context_management": "context management is done by Anthropic's own API and cannot be routed; call without it",
	"output_config":      "output_config has no translation yet; call without it",
	"inference_geo":      "Tollgate routes across providers and cannot promise where inference runs; call Anthropic directly for it",
	"speed":              "speed modes are Anthropic's own and cannot be routed; call without it",
	"diagnostics":        "diagnostics are Anthropic's own and cannot be routed; call without it",
}

// countTokensKeys are the members of a count_tokens request.
var countTokensKeys = map[string]bool{
	"model": true, "messages": true, "system": true, "tools": true, "tool_choice": true, "thinking": true,
	"cache_control": true,
}

// messagesBlockSchema reads content blocks; a tool_result's content holds blocks too.
var messagesBlockSchema = func() *keySchema {
	s := &keySchema{keys: []string{"type", "text", "source", "id", "name", "input", "tool_use_id",
		"content", "is_error", "cache_control", "citations"}}
	s.children = map[string]*keySchema{"content": s}
	return s
}()

var messagesSchema = &keySchema{
	keys: keysOf(messagesKeys), closed: true, refused: messagesRefused, api: "messages",
	children: map[string]*keySchema{
		"messages": {keys: []string{"role", "content"}, children: map[string]*keySchema{"content": messagesBlockSchema}},
		"system":   messagesBlockSchema,
		"tools":    {keys: []string{"type", "name", "description", "input_schema", "cache_control"}},
		"metadata": {keys: []string{"user_id"}},
	},
}

var countTokensSchema = &keySchema{
	keys: keysOf(countTokensKeys), closed: true, refused: messagesRefused, api: "count_tokens",
	children: messagesSchema.children,
}

type messagesWire struct {
	Model     string          `json:"model"`
	Messages  []messagesMsg   `json:"messages"`
	MaxTokens json.RawMessage `json:"max_tokens"`
	System    json.RawMessage `json:"system"`
	Metadata  *struct {
		UserID string `json:"user_id"`
	} `json:"metadata"`
	StopSequences []string        `json:"stop_sequences"`
	Stream        *bool           `json:"stream"`
	Temperature   json.RawMessage `json:"temperature"`
	TopP          json.RawMessage `json:"top_p"`
	Tools         json.RawMessage `json:"tools"`
	ToolChoice    json.RawMessage `json:"tool_choice"`
	Thinking      *struct {
		Type string `json:"type"`
	} `json:"thinking"`
	ServiceTier  *string         `json:"service_tier"`
	CacheControl json.RawMessage `json:"cache_control"`
}

type messagesMsg struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type messagesBlock struct {
	Type         string          `json:"type"`
	Text         string          `json:"text"`
	Source       *messagesSource `json:"source"`
	ID           string          `json:"id"`
	Name         string          `json:"name"`
	Input        json.RawMessage `json:"input"`
	ToolUseID    string          `json:"tool_use_id"`
	Content      json.RawMessage `json:"content"`
	IsError      bool            `json:"is_error"`
	CacheControl json.RawMessage `json:"cache_control"`
}

type messagesSource struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type"`
	Data      string `json:"data"`
	URL       string `json:"url"`
}

// ParseMessagesRequest reads an Anthropic Messages body as strictly as
// ParseChatRequest and translates it into a chat request: system (a string
// or text blocks) becomes a system message, text and image blocks content
// parts, tool_use blocks an assistant's tool_calls, tool_result blocks tool
// messages, tools chat function tools. cache_control markers stay on their
// parts and tools, so an Anthropic upstream receives them; other upstreams
// get the body without them. Members that need Anthropic's own servers
// (containers, MCP servers) and extended thinking are refused with a 400.
func ParseMessagesRequest(raw []byte) (*MessagesRequest, error) {
	return parseMessages(raw, false)
}

// ParseCountTokensRequest reads a count_tokens body (a Messages body without
// max_tokens and the sampling members) into a chat request to count.
func ParseCountTokensRequest(raw []byte) (*MessagesRequest, error) {
	return parseMessages(raw, true)
}

func parseMessages(raw []byte, count bool) (*MessagesRequest, error) {
	schema, what := messagesSchema, "messages"
	if count {
		schema, what = countTokensSchema, "count_tokens"
	}
	if err := checkStrict(raw, schema); err != nil {
		return nil, err
	}
	var w messagesWire
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "invalid %s request: %v", what, err)
	}
	var problems []error
	add := func(err error) {
		if err != nil {
			problems = append(problems, err)
		}
	}
	if w.Model == "" {
		add(errkind.InvalidParam("model", "model: field required"))
	}
	body := chatBody{Model: w.Model, Temperature: nonNull(w.Temperature), TopP: nonNull(w.TopP), Stop: w.StopSequences}
	body.Stream = w.Stream != nil && *w.Stream
	if !count {
		n, err := positiveInt(w.MaxTokens, "max_tokens")
		add(err)
		if err == nil && n == 0 {
			add(errkind.InvalidParam("max_tokens", "max_tokens: field required"))
		}
		body.MaxCompletionTokens = n
	}
	if w.Metadata != nil {
		body.User = w.Metadata.UserID
	}
	if w.Thinking != nil && w.Thinking.Type != "disabled" {
		add(unsupportedMember("thinking", "extended thinking blocks (and their signatures) cannot be carried through translation; "+
			`call without thinking or with {"type":"disabled"}`))
	}
	if w.ServiceTier != nil && *w.ServiceTier != "auto" {
		add(unsupportedMember("service_tier", `only "auto" is served`))
	}
	sys, err := messagesSystem(w.System)
	add(err)
	if sys != nil {
		body.Messages = append(body.Messages, *sys)
	}
	if len(w.Messages) == 0 {
		add(errkind.InvalidParam("messages", "messages: at least one message is required"))
	}
	for i, m := range w.Messages {
		msgs, err := messagesMessage(m, fmt.Sprintf("messages[%d]", i))
		add(err)
		body.Messages = append(body.Messages, msgs...)
	}
	if cc := nonNull(w.CacheControl); cc != nil {
		// Automatic caching: the marker applies to the last block of the prompt.
		add(markLastBlock(body.Messages, cc))
	}
	body.Tools, err = messagesTools(w.Tools)
	add(err)
	var parallel *bool
	body.ToolChoice, parallel, err = messagesToolChoice(w.ToolChoice)
	add(err)
	if parallel != nil && len(body.Tools) > 0 {
		body.ParallelToolCalls = parallel
	}
	if len(problems) > 0 {
		return nil, joinProblems("invalid "+what+" request", problems)
	}
	chat, err := body.parse(APIMessages)
	if err != nil {
		return nil, err
	}
	return &MessagesRequest{Chat: chat, Model: w.Model}, nil
}

// markLastBlock puts a top-level cache_control on the last part of the last
// message, as Anthropic applies it.
func markLastBlock(msgs []chatBodyMsg, cc json.RawMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	m := &msgs[len(msgs)-1]
	switch c := m.Content.(type) {
	case string:
		m.Content = []chatBodyPart{textPart(c, cc)}
	case []chatBodyPart:
		if len(c) > 0 && c[len(c)-1].CacheControl == nil {
			c[len(c)-1].CacheControl = cc
		}
	default:
		return unsupportedMember("cache_control", "a top-level cache_control needs a last message with text; mark a block instead")
	}
	return nil
}

func messagesSystem(raw json.RawMessage) (*chatBodyMsg, error) {
	raw = nonNull(raw)
	if raw == nil {
		return nil, nil
	}
	if raw[0] == '"' {
		s, _ := decodeString(raw)
		if s == "" {
			return nil, nil
		}
		return &chatBodyMsg{Role: "system", Content: s}, nil
	}
	var blocks []messagesBlock
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, errkind.InvalidParam("system", "system must be a string or a list of text blocks")
	}
	parts := make([]chatBodyPart, 0, len(blocks))
	for i, b := range blocks {
		if b.Type != "text" {
			return nil, errkind.InvalidParam(fmt.Sprintf("system[%d].type", i), "system blocks must be text blocks")
		}
		parts = append(parts, textPart(b.Text, b.CacheControl))
	}
	if len(parts) == 0 {
		return nil, nil
	}
	return &chatBodyMsg{Role: "system", Content: parts}, nil
}

func blocksOf(raw json.RawMessage, p string) ([]messagesBlock, error) {
	raw = nonNull(raw)
	if raw == nil {
		return nil, errkind.InvalidParam(p+".content", "%s.content: field required", p)
	}
	if raw[0] == '"' {
		s, _ := decodeString(raw)
		return []messagesBlock{{Type: "text", Text: s}}, nil
	}
	var blocks []messagesBlock
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, errkind.InvalidParam(p+".content", "%s.content must be a string or a list of content blocks", p)
	}
	return blocks, nil
}

// messagesMessage translates one message. A user message's tool_result
// blocks become tool messages, placed first (they answer the assistant's
// calls just before); its other blocks one user message after them.
func messagesMessage(m messagesMsg, p string) ([]chatBodyMsg, error) {
	blocks, err := blocksOf(m.Content, p)
	if err != nil {
		return nil, err
	}
	switch m.Role {
	case "user":
		var out []chatBodyMsg
		var parts []chatBodyPart
		for j, b := range blocks {
			bp := fmt.Sprintf("%s.content[%d]", p, j)
			switch b.Type {
			case "text":
				parts = append(parts, textPart(b.Text, b.CacheControl))
			case "image":
				part, err := messagesImage(b, bp)
				if err != nil {
					return nil, err
				}
				parts = append(parts, part)
			case "tool_result":
				tm, images, err := messagesToolResult(b, bp)
				if err != nil {
					return nil, err
				}
				out = append(out, tm)
				parts = append(parts, images...)
			default:
				return nil, errkind.InvalidParam(bp+".type", "%s: %q blocks are not supported in user messages; use text, image or tool_result", bp, b.Type)
			}
		}
		switch {
		case len(parts) == 1 && parts[0].Type == "text" && parts[0].CacheControl == nil:
			// One plain text block reads (and is sent) as a string content.
			out = append(out, chatBodyMsg{Role: "user", Content: *parts[0].Text})
		case len(parts) > 0:
			out = append(out, chatBodyMsg{Role: "user", Content: parts})
		}
		return out, nil
	case "assistant":
		msg := chatBodyMsg{Role: "assistant"}
		var text strings.Builder
		for j, b := range blocks {
			bp := fmt.Sprintf("%s.content[%d]", p, j)
			switch b.Type {
			case "text":
				text.WriteString(b.Text)
			case "tool_use":
				if b.ID == "" || b.Name == "" {
					return nil, errkind.InvalidParam(bp, "%s: a tool_use block needs id and name", bp)
				}
				var c chatBodyCall
				c.ID, c.Type = b.ID, "function"
				c.Function.Name = b.Name
				c.Function.Arguments = "{}"
				if in := nonNull(b.Input); in != nil {
					var compact bytes.Buffer
					if json.Compact(&compact, in) == nil {
						c.Function.Arguments = compact.String()
					}
				}
				msg.ToolCalls = append(msg.ToolCalls, c)
			default:
				return nil, errkind.InvalidParam(bp+".type", "%s: %q blocks are not supported in assistant messages; use text or tool_use", bp, b.Type)
			}
		}
		if text.Len() > 0 {
			msg.Content = text.String()
		}
		return []chatBodyMsg{msg}, nil
	}
	return nil, errkind.InvalidParam(p+".role", `%s.role must be "user" or "assistant"`, p)
}

func messagesImage(b messagesBlock, p string) (chatBodyPart, error) {
	if b.Source == nil {
		return chatBodyPart{}, errkind.InvalidParam(p+".source", "%s.source: field required", p)
	}
	var url string
	switch b.Source.Type {
	case "base64":
		url = "data:" + b.Source.MediaType + ";base64," + b.Source.Data
	case "url":
		url = b.Source.URL
	default:
		return chatBodyPart{}, errkind.InvalidParam(p+".source.type", `%s: image sources must be "base64" or "url" (file ids need Anthropic's file storage)`, p)
	}
	return chatBodyPart{Type: "image_url", ImageURL: &chatBodyImage{URL: url}, CacheControl: nonNull(b.CacheControl)}, nil
}

// messagesToolResult translates a tool_result block into a tool message; its
// images (chat tool messages hold text only) come back as user parts.
func messagesToolResult(b messagesBlock, p string) (chatBodyMsg, []chatBodyPart, error) {
	if b.ToolUseID == "" {
		return chatBodyMsg{}, nil, errkind.InvalidParam(p+".tool_use_id", "%s.tool_use_id: field required", p)
	}
	var text strings.Builder
	var images []chatBodyPart
	cacheControl := nonNull(b.CacheControl)
	if c := nonNull(b.Content); c != nil {
		inner, err := blocksOf(c, p)
		if err != nil {
			return chatBodyMsg{}, nil, err
		}
		for k, ib := range inner {
			ip := fmt.Sprintf("%s.content[%d]", p, k)
			switch ib.Type {
			case "text":
				if text.Len() > 0 {
					text.WriteByte('\n')
				}
				text.WriteString(ib.Text)
				if cc := nonNull(ib.CacheControl); cc != nil {
					cacheControl = cc // a marker inside the result caches through it
				}
			case "image":
				part, err := messagesImage(ib, ip)
				if err != nil {
					return chatBodyMsg{}, nil, err
				}
				images = append(images, part)
			default:
				return chatBodyMsg{}, nil, errkind.InvalidParam(ip+".type", "%s: tool results hold text and image blocks, not %q", ip, ib.Type)
			}
		}
	}
	s := text.String()
	if b.IsError {
		s = "Error: " + s
	}
	var content any = s
	if cacheControl != nil {
		content = []chatBodyPart{textPart(s, cacheControl)}
	}
	return chatBodyMsg{Role: "tool", ToolCallID: b.ToolUseID, Content: content}, images, nil
}

func messagesTools(raw json.RawMessage) ([]chatBodyTool, error) {
	if nonNull(raw) == nil {
		return nil, nil
	}
	var tools []struct {
		Type         string          `json:"type"`
		Name         string          `json:"name"`
		Description  string          `json:"description"`
		InputSchema  json.RawMessage `json:"input_schema"`
		Strict       *bool           `json:"strict"`
		CacheControl json.RawMessage `json:"cache_control"`
	}
	if err := json.Unmarshal(raw, &tools); err != nil {
		return nil, errkind.InvalidParam("tools", "tools must be a list of tools")
	}
	out := make([]chatBodyTool, 0, len(tools))
	for i, t := range tools {
		if t.Type != "" && t.Type != "custom" {
			return nil, errkind.InvalidParam(fmt.Sprintf("tools[%d].type", i), "tools of type %q are not supported: "+
				"Anthropic's server and client tools run on Anthropic's side; Tollgate serves custom tools (name, description, input_schema)", t.Type)
		}
		if t.Name == "" || nonNull(t.InputSchema) == nil {
			return nil, errkind.InvalidParam(fmt.Sprintf("tools[%d]", i), "tools[%d]: name and input_schema are required", i)
		}
		var ct chatBodyTool
		ct.Type = "function"
		ct.Function.Name, ct.Function.Description, ct.Function.Parameters, ct.Function.Strict = t.Name, t.Description, t.InputSchema, t.Strict
		ct.CacheControl = nonNull(t.CacheControl)
		out = append(out, ct)
	}
	return out, nil
}

// messagesToolChoice maps tool_choice (auto, any, tool, none) to chat's, and
// disable_parallel_tool_use to parallel_tool_calls.
func messagesToolChoice(raw json.RawMessage) (json.RawMessage, *bool, error) {
	if nonNull(raw) == nil {
		return nil, nil, nil
	}
	var c struct {
		Type                   string `json:"type"`
		Name                   string `json:"name"`
		DisableParallelToolUse *bool  `json:"disable_parallel_tool_use"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, nil, errkind.InvalidParam("tool_choice", "tool_choice must be an object")
	}
	var parallel *bool
	if c.DisableParallelToolUse != nil {
		p := !*c.DisableParallelToolUse
		parallel = &p
	}
	switch c.Type {
	case "auto":
		return json.RawMessage(`"auto"`), parallel, nil
	case "any":
		return json.RawMessage(`"required"`), parallel, nil
	case "none":
		return json.RawMessage(`"none"`), nil, nil
	case "tool":
		if c.Name == "" {
			return nil, nil, errkind.InvalidParam("tool_choice.name", "tool_choice.name: field required")
		}
		out, err := json.Marshal(map[string]any{"type": "function", "function": map[string]string{"name": c.Name}})
		return out, parallel, err
	}
	return nil, nil, errkind.InvalidParam("tool_choice.type", `tool_choice.type must be "auto", "any", "tool" or "none"`)
}
