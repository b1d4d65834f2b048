package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// ModelAuto is the model name with which a client asks Tollgate to choose.
const ModelAuto = "auto"

// ChatRequest is an OpenAI chat completion request as routing sees it: the raw
// body, which is forwarded unchanged except for the model, plus a parsed view of
// the fields routing interprets. Build it with ParseChatRequest; treat it as
// read-only afterwards, since several goroutines (retries, fallbacks) may read it.
type ChatRequest struct {
	// Raw is the client's body exactly as received.
	Raw []byte
	// Model is the model the client asked for; ModelAuto lets the Selector choose.
	Model string
	// Messages are the parsed messages, in order.
	Messages []Message
	// MaxTokens is max_completion_tokens when set, else max_tokens; 0 means absent.
	MaxTokens int
	// Stream is true when the client asked for server-sent events.
	Stream bool
	// IncludeUsage is the client's stream_options.include_usage. Tollgate always
	// asks upstream for usage, and only shows the final usage chunk when this is set.
	IncludeUsage bool
	// Tools is the raw "tools" array, nil when absent.
	Tools json.RawMessage
	// ToolChoice is the raw "tool_choice" value, nil when absent.
	ToolChoice json.RawMessage
	// User is the client's end-user id ("user" field), used for session affinity.
	User string
	// ResponseFormat is response_format.type ("json_object", "json_schema"), or "".
	ResponseFormat string
	// Temperature, TopP and Stop are kept raw for providers that translate them.
	Temperature, TopP, Stop json.RawMessage
	// PromptTokens is the estimated prompt size in tokens, set by Estimator.Annotate;
	// 0 means not estimated yet. Providers use it to estimate usage when an
	// upstream stream ends without reporting any.
	PromptTokens int
}

// HasTools reports whether the request offers the model any tools.
func (r *ChatRequest) HasTools() bool {
	return len(r.Tools) > 0 && !bytes.Equal(r.Tools, []byte("null")) && !bytes.Equal(r.Tools, []byte("[]"))
}

// Message is one chat message. Text holds the concatenated text parts, which is
// what token estimation and classification read; Content keeps the raw value
// (string or array of parts) for providers that translate it.
type Message struct {
	Role       string
	Text       string
	Content    json.RawMessage
	HasImage   bool
	Name       string
	ToolCallID string
	ToolCalls  []ToolCall
}

// ToolCall is an assistant's call of a function tool, as in OpenAI's wire format.
type ToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// ContentPart is one element of an array-valued message content.
type ContentPart struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	ImageURL *struct {
		URL    string `json:"url"`
		Detail string `json:"detail,omitempty"`
	} `json:"image_url,omitempty"`
}

type chatWire struct {
	Model               string        `json:"model"`
	Messages            []messageWire `json:"messages"`
	MaxTokens           *int          `json:"max_tokens"`
	MaxCompletionTokens *int          `json:"max_completion_tokens"`
	Stream              bool          `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Tools          json.RawMessage `json:"tools"`
	ToolChoice     json.RawMessage `json:"tool_choice"`
	User           string          `json:"user"`
	ResponseFormat *struct {
		Type string `json:"type"`
	} `json:"response_format"`
	Temperature json.RawMessage `json:"temperature"`
	TopP        json.RawMessage `json:"top_p"`
	Stop        json.RawMessage `json:"stop"`
}

type messageWire struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name"`
	ToolCallID string          `json:"tool_call_id"`
	ToolCalls  []ToolCall      `json:"tool_calls"`
}

// ParseChatRequest parses a chat completion body once. It rejects bodies an
// upstream would reject anyway only where routing depends on the field (model,
// messages, token limits); everything else is left to the upstream.
// Errors wrap errkind.Invalid.
func ParseChatRequest(raw []byte) (*ChatRequest, error) {
	w, ok := parseChatFast(raw)
	if !ok {
		w = chatWire{}
		if err := json.Unmarshal(raw, &w); err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "request body is not a valid chat completion request")
		}
	}
	var problems []error
	if w.Model == "" {
		problems = append(problems, errors.New("model is required"))
	}
	if len(w.Messages) == 0 {
		problems = append(problems, errors.New("messages must not be empty"))
	}
	r := &ChatRequest{
		Raw:         raw,
		Model:       w.Model,
		Stream:      w.Stream,
		Tools:       w.Tools,
		ToolChoice:  w.ToolChoice,
		User:        w.User,
		Temperature: w.Temperature,
		TopP:        w.TopP,
		Stop:        w.Stop,
		Messages:    make([]Message, len(w.Messages)),
	}
	if w.StreamOptions != nil {
		r.IncludeUsage = w.StreamOptions.IncludeUsage
	}
	if w.ResponseFormat != nil {
		r.ResponseFormat = w.ResponseFormat.Type
	}
	switch {
	case w.MaxCompletionTokens != nil:
		r.MaxTokens = *w.MaxCompletionTokens
	case w.MaxTokens != nil:
		r.MaxTokens = *w.MaxTokens
	}
	if r.MaxTokens < 0 {
		problems = append(problems, errors.New("max_tokens must not be negative"))
	}
	for i, m := range w.Messages {
		msg := Message{Role: m.Role, Content: m.Content, Name: m.Name, ToolCallID: m.ToolCallID, ToolCalls: m.ToolCalls}
		if m.Role == "" {
			problems = append(problems, fmt.Errorf("messages[%d].role is required", i))
		}
		if err := msg.parseContent(); err != nil {
			problems = append(problems, fmt.Errorf("messages[%d].content: %w", i, err))
		}
		r.Messages[i] = msg
	}
	if len(problems) > 0 {
		return nil, errkind.Wrap(errkind.Invalid, errors.Join(problems...), "invalid chat completion request")
	}
	return r, nil
}

func (m *Message) parseContent() error {
	c := bytes.TrimSpace(m.Content)
	if len(c) == 0 || c[0] == 'n' {
		return nil
	}
	if c[0] == '"' {
		text, ok := decodeString(c)
		if !ok {
			return errors.New("must be a string or an array of content parts")
		}
		m.Text = text
		return nil
	}
	parts, err := m.Parts()
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, p := range parts {
		switch p.Type {
		case "text":
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(p.Text)
		case "image_url", "input_image":
			m.HasImage = true
		}
	}
	m.Text = b.String()
	return nil
}

// Parts decodes an array-valued content; a string content becomes one text part.
func (m *Message) Parts() ([]ContentPart, error) {
	c := bytes.TrimSpace(m.Content)
	if len(c) == 0 || c[0] == 'n' {
		return nil, nil
	}
	if c[0] == '"' {
		return []ContentPart{{Type: "text", Text: m.Text}}, nil
	}
	var parts []ContentPart
	if err := json.Unmarshal(c, &parts); err != nil {
		return nil, errors.New("must be a string or an array of content parts")
	}
	return parts, nil
}

// EmbeddingRequest is an OpenAI embeddings request: the raw body plus the fields
// routing needs. Build it with ParseEmbeddingRequest.
type EmbeddingRequest struct {
	// Raw is the client's body exactly as received.
	Raw []byte
	// Model is the requested embedding model.
	Model string
	// Inputs are the text inputs; token-array inputs are counted in InputTokens only.
	Inputs []string
	// InputTokens counts inputs given as token arrays, which need no estimation.
	InputTokens int
}

// ParseEmbeddingRequest parses an embeddings body. Errors wrap errkind.Invalid.
func ParseEmbeddingRequest(raw []byte) (*EmbeddingRequest, error) {
	var w struct {
		Model string          `json:"model"`
		Input json.RawMessage `json:"input"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "request body is not a valid embeddings request")
	}
	r := &EmbeddingRequest{Raw: raw, Model: w.Model}
	var problems []error
	if w.Model == "" {
		problems = append(problems, errors.New("model is required"))
	}
	in := bytes.TrimSpace(w.Input)
	switch {
	case len(in) == 0 || in[0] == 'n':
		problems = append(problems, errors.New("input is required"))
	case in[0] == '"':
		var s string
		_ = json.Unmarshal(in, &s)
		r.Inputs = []string{s}
	default:
		var many []json.RawMessage
		if err := json.Unmarshal(in, &many); err != nil {
			problems = append(problems, errors.New("input must be a string or an array"))
			break
		}
		for _, item := range many {
			var s string
			if json.Unmarshal(item, &s) == nil {
				r.Inputs = append(r.Inputs, s)
				continue
			}
			var toks []json.RawMessage
			if json.Unmarshal(item, &toks) == nil {
				r.InputTokens += len(toks)
				continue
			}
			var n json.Number
			if json.Unmarshal(item, &n) == nil {
				r.InputTokens++
				continue
			}
			problems = append(problems, errors.New("input items must be strings or token arrays"))
			break
		}
	}
	if len(problems) > 0 {
		return nil, errkind.Wrap(errkind.Invalid, errors.Join(problems...), "invalid embeddings request")
	}
	return r, nil
}
