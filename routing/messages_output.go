package routing

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// MessageMeta identifies one Messages API answer.
type MessageMeta struct {
	// RequestID is the server's request id; the message id is derived from it.
	RequestID string
	// Model is the model named in the answer: the model that answered.
	Model string
	// PromptTokens is the estimated prompt size, reported in message_start
	// until the final count arrives in message_delta.
	PromptTokens int
}

// messagesUsage is Anthropic's usage object: input_tokens excludes the cached
// and cache-written tokens, which are counted apart.
type messagesUsage struct {
	InputTokens              int `json:"input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	OutputTokens             int `json:"output_tokens"`
}

func toMessagesUsage(u Usage) messagesUsage {
	return messagesUsage{InputTokens: max(u.PromptTokens-u.CachedTokens-u.CacheWriteTokens, 0),
		CacheCreationInputTokens: u.CacheWriteTokens, CacheReadInputTokens: u.CachedTokens, OutputTokens: u.CompletionTokens}
}

type messagesOut struct {
	ID           string          `json:"id"`
	Type         string          `json:"type"`
	Role         string          `json:"role"`
	Model        string          `json:"model"`
	Content      []messagesOutBl `json:"content"`
	StopReason   *string         `json:"stop_reason"`
	StopSequence *string         `json:"stop_sequence"`
	Usage        messagesUsage   `json:"usage"`
}

type messagesOutBl struct {
	Type  string          `json:"type"`
	Text  *string         `json:"text,omitempty"`
	ID    string          `json:"id,omitempty"`
	Name  string          `json:"name,omitempty"`
	Input json.RawMessage `json:"input,omitempty"`
}

func stopOfFinish(finish string) string {
	switch finish {
	case "length":
		return "max_tokens"
	case "tool_calls", "function_call":
		return "tool_use"
	case "content_filter":
		return "refusal"
	}
	return "end_turn"
}

func toolInput(args string) json.RawMessage {
	if a := strings.TrimSpace(args); a != "" && json.Valid([]byte(a)) {
		return json.RawMessage(a)
	}
	return json.RawMessage("{}")
}

// ChatToMessage translates a chat.completion body into an Anthropic Message.
func ChatToMessage(body []byte, meta MessageMeta, u Usage) ([]byte, error) {
	var c completionView
	if err := json.Unmarshal(body, &c); err != nil || len(c.Choices) == 0 {
		return nil, errkind.New(errkind.Unavailable, "the upstream's answer could not be translated to a Message")
	}
	ch := c.Choices[0]
	content := []messagesOutBl{}
	if t := ch.Message.Content; t != nil && *t != "" {
		content = append(content, messagesOutBl{Type: "text", Text: t})
	} else if r := ch.Message.Refusal; r != nil && *r != "" {
		content = append(content, messagesOutBl{Type: "text", Text: r})
	}
	for _, tc := range ch.Message.ToolCalls {
		content = append(content, messagesOutBl{Type: "tool_use", ID: tc.ID, Name: tc.Function.Name, Input: toolInput(tc.Function.Arguments)})
	}
	finish := ""
	if ch.FinishReason != nil {
		finish = *ch.FinishReason
	}
	stop := stopOfFinish(finish)
	return json.Marshal(messagesOut{ID: newID("msg_", meta.RequestID), Type: "message", Role: "assistant", Model: meta.Model,
		Content: content, StopReason: &stop, Usage: toMessagesUsage(u)})
}

// WriteMessages pumps a chat stream to w as Anthropic Messages events
// (message_start, ping, content_block_start/delta/stop, message_delta,
// message_stop). It returns the error the pump ended with, for
// StreamCall.Finish.
func (s *Stream) WriteMessages(w io.Writer, meta MessageMeta) error {
	return s.writeTranslated(w, &messagesTranslator{meta: meta, block: -1})
}

// messagesTranslator turns chat chunks into Anthropic's event sequence: one
// text block per run of text, one tool_use block per tool call, each started
// before its deltas and stopped before the next starts.
type messagesTranslator struct {
	meta     MessageMeta
	block    int  // index of the open block, -1 when none
	nblocks  int  // blocks started so far
	textOpen bool // the open block is text
	finish   string
	usage    *Usage
}

func mev(typ string, fields map[string]any) sseEvent {
	fields["type"] = typ
	return sseEvent{name: typ, data: fields}
}

func (t *messagesTranslator) start() []sseEvent {
	msg := messagesOut{ID: newID("msg_", t.meta.RequestID), Type: "message", Role: "assistant", Model: t.meta.Model,
		Content: []messagesOutBl{}, Usage: messagesUsage{InputTokens: t.meta.PromptTokens}}
	return []sseEvent{mev("message_start", map[string]any{"message": msg}), mev("ping", map[string]any{})}
}

func (t *messagesTranslator) closeBlock() []sseEvent {
	if t.block < 0 {
		return nil
	}
	ev := mev("content_block_stop", map[string]any{"index": t.block})
	t.block, t.textOpen = -1, false
	return []sseEvent{ev}
}

func (t *messagesTranslator) open(block map[string]any, text bool) []sseEvent {
	evs := t.closeBlock()
	t.block, t.textOpen = t.nblocks, text
	t.nblocks++
	return append(evs, mev("content_block_start", map[string]any{"index": t.block, "content_block": block}))
}

func (t *messagesTranslator) chunk(c *completionView) []sseEvent {
	var evs []sseEvent
	if c.Usage != nil {
		u := c.Usage.usage()
		t.usage = &u
	}
	for _, ch := range c.Choices {
		if ch.Index != 0 {
			continue
		}
		if d := ch.Delta.Content; d != nil && *d != "" {
			if !t.textOpen {
				evs = append(evs, t.open(map[string]any{"type": "text", "text": ""}, true)...)
			}
			evs = append(evs, mev("content_block_delta", map[string]any{"index": t.block, "delta": map[string]string{"type": "text_delta", "text": *d}}))
		}
		for _, tc := range ch.Delta.ToolCalls {
			if tc.ID != "" || t.block < 0 || t.textOpen {
				evs = append(evs, t.open(map[string]any{"type": "tool_use", "id": tc.ID, "name": tc.Function.Name, "input": map[string]any{}}, false)...)
			}
			if tc.Function.Arguments != "" {
				evs = append(evs, mev("content_block_delta", map[string]any{"index": t.block,
					"delta": map[string]string{"type": "input_json_delta", "partial_json": tc.Function.Arguments}}))
			}
		}
		if ch.FinishReason != nil {
			t.finish = *ch.FinishReason
		}
	}
	return evs
}

func (t *messagesTranslator) end() []sseEvent {
	evs := t.closeBlock()
	stop := stopOfFinish(t.finish)
	var u messagesUsage
	if t.usage != nil {
		u = toMessagesUsage(*t.usage)
	} else {
		u.InputTokens = t.meta.PromptTokens
	}
	return append(evs,
		mev("message_delta", map[string]any{"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil}, "usage": u}),
		mev("message_stop", map[string]any{}))
}

func (t *messagesTranslator) fail(err error) []sseEvent {
	return []sseEvent{mev("error", map[string]any{"error": map[string]string{"type": "api_error",
		"message": "the upstream stream broke: " + errkind.PublicMessage(err)}})}
}
