package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
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
	// MaxTokens is the output limit of one choice: the smaller of max_tokens and
	// max_completion_tokens when both are set (the upstream is sent the smaller
	// in both), either one alone, 0 when absent. MaxTokensParam names the field
	// it came from, for errors.
	MaxTokens      int
	MaxTokensParam string
	// N is the number of choices to generate (1..MaxChoices), 1 when absent.
	N int
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
	// PromptCacheKey is the client's prompt_cache_key: the strongest conversation
	// key for session affinity.
	PromptCacheKey string
	// Conversation is the x-tollgate-conversation header (set by the api layer),
	// the conversation key a client gives explicitly; it wins over the others.
	Conversation string
	// CacheMode is the x-tollgate-cache header (set by the api layer): "on"
	// caches a non-deterministic request, "off" bypasses the response cache.
	CacheMode string
	// ResponseFormat is response_format.type ("json_object", "json_schema"), or "".
	ResponseFormat string
	// Temperature, TopP and Stop are kept raw for providers that translate them.
	Temperature, TopP, Stop json.RawMessage
	// API is the client API the request came through (APIChat, APIResponses,
	// APIMessages); "" means APIChat. The ledger records it.
	API string
	// AnthropicVersion and AnthropicBeta are the client's anthropic-version and
	// anthropic-beta headers, passed on to Anthropic upstreams ("" sends
	// Tollgate's own version and no beta).
	AnthropicVersion, AnthropicBeta string
	// plainRaw, when set, is Raw without Anthropic's cache_control markers: a
	// translated Messages request sends it to OpenAI-compatible upstreams,
	// whose prompt caching is automatic and which may refuse the marker.
	plainRaw []byte
	// PromptTokens is the estimated prompt size in tokens (Prompt.Tokens), set
	// by Estimator.Annotate; 0 means not estimated yet. Routing reads it, and
	// providers use it to estimate usage when an upstream stream ends without
	// reporting any.
	PromptTokens int
	// CachePrefix asks the provider to mark the stable prefix of the prompt
	// for its prompt cache (Anthropic's cache_control breakpoints); set from
	// the tenant's policy (Policy.AnthropicCacheControl), never from the body.
	CachePrefix bool
	// Prompt is the Estimator's full reading: the bounds the reservation uses
	// (ReserveTokens) and the prefix hashes prompt-cache tracking matches on.
	Prompt PromptCount
}

// ReserveTokens is the prompt size to reserve for when m answers: a bound the
// upstream's count cannot exceed (PromptCount.BoundFor), or PromptTokens when
// the request carries no bound (a replayed record, an embeddings input, both
// already bounds).
func (r *ChatRequest) ReserveTokens(m Model) int {
	if r.Prompt.Bound == 0 && r.Prompt.AnyBound == 0 {
		return r.PromptTokens
	}
	return max(r.Prompt.BoundFor(m), r.PromptTokens)
}

// openAIBody is the body an OpenAI-compatible upstream is sent (before the
// model is replaced).
func (r *ChatRequest) openAIBody() []byte {
	if r.plainRaw != nil {
		return r.plainRaw
	}
	return r.Raw
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
	// CacheControl is Anthropic's prompt-caching marker on a part, in
	// OpenRouter's convention; the Anthropic provider puts it on the block.
	CacheControl json.RawMessage `json:"cache_control,omitempty"`
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
	N           *int            `json:"n"`
	// PromptCacheKey is OpenAI's prompt_cache_key.
	PromptCacheKey string `json:"prompt_cache_key"`
}

// MaxChoices is the most choices (n) one chat request may ask for, OpenAI's limit.
const MaxChoices = 128

type messageWire struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content"`
	Name       string          `json:"name"`
	ToolCallID string          `json:"tool_call_id"`
	ToolCalls  []ToolCall      `json:"tool_calls"`
}

// ParseChatRequest parses a chat completion body once, strictly: a body that
// two JSON parsers could read differently (see checkStrict) is refused, so the
// reservation, routing and the upstream all see the same request. Beyond that it
// rejects bodies an upstream would reject anyway only where routing or billing
// depends on the field (model, messages, max_tokens, n); everything else is left
// to the upstream. Errors wrap errkind.Invalid and name the field as their param.
func ParseChatRequest(raw []byte) (*ChatRequest, error) {
	if err := checkStrict(raw, chatSchema); err != nil {
		return nil, err
	}
	return parseCheckedChat(raw)
}

// parseCheckedChat reads a body checkStrict accepted, or one json.Marshal
// wrote (a translator's chatBody: no duplicate or case-variant members, valid
// UTF-8), which needs no second strict scan.
func parseCheckedChat(raw []byte) (*ChatRequest, error) {
	w, err := parseChatFast(raw)
	if err != nil {
		return nil, err
	}
	var problems []error
	if w.Model == "" {
		problems = append(problems, errkind.InvalidParam("model", "model is required"))
	}
	if len(w.Messages) == 0 {
		problems = append(problems, errkind.InvalidParam("messages", "messages must not be empty"))
	}
	r := &ChatRequest{
		Raw:            raw,
		Model:          w.Model,
		Stream:         w.Stream,
		Tools:          w.Tools,
		ToolChoice:     w.ToolChoice,
		User:           w.User,
		PromptCacheKey: w.PromptCacheKey,
		Temperature:    w.Temperature,
		TopP:           w.TopP,
		Stop:           w.Stop,
		Messages:       make([]Message, len(w.Messages)),
		N:              1,
	}
	if w.StreamOptions != nil {
		r.IncludeUsage = w.StreamOptions.IncludeUsage
	}
	if w.ResponseFormat != nil {
		r.ResponseFormat = w.ResponseFormat.Type
	}
	for _, f := range []struct {
		param string
		v     *int
	}{{"max_tokens", w.MaxTokens}, {"max_completion_tokens", w.MaxCompletionTokens}} {
		switch {
		case f.v == nil:
		case *f.v < 1 || *f.v > math.MaxInt32:
			problems = append(problems, errkind.InvalidParam(f.param, "%s must be an integer from 1 to the model's output limit", f.param))
		case r.MaxTokens == 0 || *f.v < r.MaxTokens:
			r.MaxTokens, r.MaxTokensParam = *f.v, f.param
		}
	}
	if w.N != nil {
		if *w.N < 1 || *w.N > MaxChoices {
			problems = append(problems, errkind.InvalidParam("n", "n must be an integer from 1 to %d", MaxChoices))
		} else {
			r.N = *w.N
		}
	}
	for i, m := range w.Messages {
		msg := Message{Role: m.Role, Content: m.Content, Name: m.Name, ToolCallID: m.ToolCallID, ToolCalls: m.ToolCalls}
		if m.Role == "" {
			problems = append(problems, errkind.InvalidParam(fmt.Sprintf("messages[%d].role", i), "messages[%d].role is required", i))
		}
		if err := msg.parseContent(); err != nil {
			problems = append(problems, errkind.InvalidParam(fmt.Sprintf("messages[%d].content", i), "messages[%d].content: %v", i, err))
		}
		r.Messages[i] = msg
	}
	if len(problems) > 0 {
		return nil, joinProblems("invalid chat completion request", problems)
	}
	return r, nil
}

// joinProblems makes one Invalid error of several: every problem in its public
// message, the first one's param as its param.
func joinProblems(what string, problems []error) error {
	msgs := make([]string, len(problems))
	for i, p := range problems {
		msgs[i] = errkind.PublicMessage(p)
	}
	return &errkind.Error{Kind: errkind.Invalid, Param: errkind.ParamOf(problems[0]),
		Message: what + ": " + strings.Join(msgs, "; ")}
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
	// EncodingFormat is how vectors are returned: EncodingFloat (JSON numbers,
	// the default) or EncodingBase64 (little-endian float32, what the official
	// SDKs ask for).
	EncodingFormat string
}

// The embeddings encoding formats.
const (
	EncodingFloat  = "float"
	EncodingBase64 = "base64"
)

// embeddingKeys are the members of an embeddings request Tollgate reads.
var embeddingKeys = [...]string{"model", "input", "encoding_format", "dimensions", "user"}

// ParseEmbeddingRequest parses an embeddings body, as strictly as
// ParseChatRequest. Errors wrap errkind.Invalid and name the field.
func ParseEmbeddingRequest(raw []byte) (*EmbeddingRequest, error) {
	if err := checkStrict(raw, embeddingSchema); err != nil {
		return nil, err
	}
	var buf [3]topLevelSpan
	spans, _, err := scanTopLevel(buf[:], raw, embeddingKeys[:3]...)
	if err != nil {
		return nil, errkind.New(errkind.Invalid, "request body must be a JSON object")
	}
	val := func(i int) []byte {
		if spans[i].start < 0 {
			return nil
		}
		return raw[spans[i].start:spans[i].end]
	}
	r := &EmbeddingRequest{Raw: raw}
	var problems []error
	model, ok := decodeString(val(0))
	r.Model = model
	switch {
	case !ok:
		problems = append(problems, errkind.InvalidParam("model", "model must be a string"))
	case model == "":
		problems = append(problems, errkind.InvalidParam("model", "model is required"))
	}
	format, ok := decodeString(val(2))
	switch {
	case ok && (format == "" || format == EncodingFloat):
		r.EncodingFormat = EncodingFloat
	case ok && format == EncodingBase64:
		r.EncodingFormat = EncodingBase64
	default:
		problems = append(problems, errkind.InvalidParam("encoding_format", `encoding_format must be "float" or "base64"`))
	}
	in := val(1)
	switch {
	case len(in) == 0 || in[0] == 'n':
		problems = append(problems, errkind.InvalidParam("input", "input is required"))
	case in[0] == '"':
		s, _ := decodeString(in)
		r.Inputs = []string{s}
	default:
		var many []json.RawMessage
		if err := json.Unmarshal(in, &many); err != nil {
			problems = append(problems, errkind.InvalidParam("input", "input must be a string or an array"))
			break
		}
		for i, item := range many {
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
			problems = append(problems, errkind.InvalidParam(fmt.Sprintf("input[%d]", i), "input items must be strings or token arrays"))
			break
		}
	}
	if len(problems) > 0 {
		return nil, joinProblems("invalid embeddings request", problems)
	}
	return r, nil
}

// ForSettlement returns what settling a request reads of it, without its
// prompt: the body, the messages' content, tools and sampling fields are left
// out (the leading system messages keep their roles, which NoteServed counts).
// A stream holds it instead of r for as long as it lasts, so that a long
// prompt is not kept in memory for minutes after the upstream received it.
func (r *ChatRequest) ForSettlement() *ChatRequest {
	s := &ChatRequest{Model: r.Model, MaxTokens: r.MaxTokens, MaxTokensParam: r.MaxTokensParam, N: r.N,
		Stream: r.Stream, IncludeUsage: r.IncludeUsage, User: r.User, PromptCacheKey: r.PromptCacheKey,
		Conversation: r.Conversation, CacheMode: r.CacheMode, ResponseFormat: r.ResponseFormat, API: r.API,
		AnthropicVersion: r.AnthropicVersion, AnthropicBeta: r.AnthropicBeta, PromptTokens: r.PromptTokens,
		CachePrefix: r.CachePrefix, Prompt: r.Prompt}
	if n := systemPrefixEnd(r); n > 0 {
		s.Messages = make([]Message, n)
		for i := range s.Messages {
			s.Messages[i].Role = r.Messages[i].Role
		}
	}
	return s
}
