package routing

import (
	"encoding/json"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// The client APIs a request can arrive through. The ledger records which one
// each request used; a ChatRequest's API is one of the first three.
const (
	APIChat       = "chat"
	APIResponses  = "responses"
	APIMessages   = "messages"
	APIEmbeddings = "embeddings"
)

// chatBody is an OpenAI chat completion request built by a translator (the
// Responses and Messages endpoints). It is marshalled and then read by
// ParseChatRequest like any client body, so a translated request takes exactly
// the path of a chat request: one reading, one reservation, one upstream body.
type chatBody struct {
	Model               string          `json:"model"`
	Messages            []chatBodyMsg   `json:"messages"`
	MaxCompletionTokens int             `json:"max_completion_tokens,omitempty"`
	Stream              bool            `json:"stream,omitempty"`
	StreamOptions       *chatBodyOpts   `json:"stream_options,omitempty"`
	Tools               []chatBodyTool  `json:"tools,omitempty"`
	ToolChoice          json.RawMessage `json:"tool_choice,omitempty"`
	ParallelToolCalls   *bool           `json:"parallel_tool_calls,omitempty"`
	ResponseFormat      json.RawMessage `json:"response_format,omitempty"`
	Temperature         json.RawMessage `json:"temperature,omitempty"`
	TopP                json.RawMessage `json:"top_p,omitempty"`
	Stop                []string        `json:"stop,omitempty"`
	User                string          `json:"user,omitempty"`
	ReasoningEffort     string          `json:"reasoning_effort,omitempty"`
	PromptCacheKey      string          `json:"prompt_cache_key,omitempty"`
	SafetyIdentifier    string          `json:"safety_identifier,omitempty"`
	ServiceTier         string          `json:"service_tier,omitempty"`
}

type chatBodyOpts struct {
	IncludeUsage bool `json:"include_usage"`
}

// chatBodyMsg is one message; Content is a string, an array of parts, or null.
type chatBodyMsg struct {
	Role       string         `json:"role"`
	Content    any            `json:"content"`
	ToolCallID string         `json:"tool_call_id,omitempty"`
	ToolCalls  []chatBodyCall `json:"tool_calls,omitempty"`
	Name       string         `json:"name,omitempty"`
}

type chatBodyCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

// chatBodyPart is a content part. CacheControl is Anthropic's prompt-caching
// marker, carried in OpenRouter's convention (on the part) so the Anthropic
// provider can put it back on the block.
type chatBodyPart struct {
	Type         string          `json:"type"`
	Text         *string         `json:"text,omitempty"`
	ImageURL     *chatBodyImage  `json:"image_url,omitempty"`
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

type chatBodyImage struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

type chatBodyTool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description,omitempty"`
		Parameters  json.RawMessage `json:"parameters,omitempty"`
		Strict      *bool           `json:"strict,omitempty"`
	} `json:"function"`
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
}

func textPart(s string, cacheControl json.RawMessage) chatBodyPart {
	return chatBodyPart{Type: "text", Text: &s, CacheControl: nonNull(cacheControl)}
}

// parse marshals the body and reads it back as a chat request, tagged with the
// API it came through. A problem here is Tollgate's translation at fault, not
// the client's, but it is still reported as the 400 ParseChatRequest words.
func (b *chatBody) parse(api string) (*ChatRequest, error) {
	if b.Stream {
		b.StreamOptions = &chatBodyOpts{IncludeUsage: true}
	}
	raw, err := json.Marshal(b)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "request cannot be translated to a chat completion")
	}
	req, err := parseCheckedChat(raw)
	if err != nil {
		return nil, err
	}
	req.API = api
	if plain, ok := b.withoutCacheControl(); ok {
		if req.plainRaw, err = json.Marshal(plain); err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "request cannot be translated to a chat completion")
		}
	}
	return req, nil
}

// withoutCacheControl returns a copy of b with every cache_control marker
// removed, and whether there was any.
func (b *chatBody) withoutCacheControl() (*chatBody, bool) {
	found := false
	c := *b
	c.Messages = make([]chatBodyMsg, len(b.Messages))
	for i, m := range b.Messages {
		if parts, ok := m.Content.([]chatBodyPart); ok {
			cp := make([]chatBodyPart, len(parts))
			for j, p := range parts {
				found = found || p.CacheControl != nil
				p.CacheControl = nil
				cp[j] = p
			}
			m.Content = cp
		}
		c.Messages[i] = m
	}
	c.Tools = make([]chatBodyTool, len(b.Tools))
	for i, t := range b.Tools {
		found = found || t.CacheControl != nil
		t.CacheControl = nil
		c.Tools[i] = t
	}
	if len(c.Tools) == 0 {
		c.Tools = nil
	}
	return &c, found
}

// unsupportedMember is the 400 for a member Tollgate knows but does not serve,
// with the reason.
func unsupportedMember(param, why string) error {
	return errkind.InvalidParam(param, "%s is not supported by Tollgate: %s", param, why)
}

// unknownMember is the 400 for a member Tollgate does not know at all.
func unknownMember(param, api string) error {
	return errkind.InvalidParam(param, "unknown member %q in a %s request; remove it (Tollgate refuses members it cannot honour rather than ignoring them)", param, api)
}

// stringOrNull decodes a string member; null and absent are "".
func stringOrNull(raw json.RawMessage, param string) (string, error) {
	if len(nonNull(raw)) == 0 {
		return "", nil
	}
	s, ok := decodeString(raw)
	if !ok {
		return "", errkind.InvalidParam(param, "%s must be a string", param)
	}
	return s, nil
}

// positiveInt decodes an optional integer from 1 to 2^31-1; absent or null is 0.
func positiveInt(raw json.RawMessage, param string) (int, error) {
	if len(nonNull(raw)) == 0 {
		return 0, nil
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil || n < 1 || n > 1<<31-1 {
		return 0, errkind.InvalidParam(param, "%s must be an integer from 1 to the model's output limit", param)
	}
	return int(n), nil
}

// newID makes a response id in the style of the API being answered.
func newID(prefix, requestID string) string {
	return prefix + strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(requestID))
}
