package routing

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// ResponseMeta identifies one Response object: its id (from the server's
// request id), creation time and the request members it echoes.
type ResponseMeta struct {
	// RequestID is the server's request id; the response id is derived from it.
	RequestID string
	// CreatedAt is the Unix time the request arrived.
	CreatedAt int64
	// Echo is what the request asked for.
	Echo ResponsesEcho
}

func (m ResponseMeta) id() string { return newID("resp_", m.RequestID) }

// responseObject is OpenAI's Response object, members in the API's order.
type responseObject struct {
	ID                 string          `json:"id"`
	Object             string          `json:"object"`
	CreatedAt          int64           `json:"created_at"`
	Status             string          `json:"status"`
	Error              any             `json:"error"`
	IncompleteDetails  any             `json:"incomplete_details"`
	Instructions       json.RawMessage `json:"instructions"`
	MaxOutputTokens    *int            `json:"max_output_tokens"`
	Metadata           json.RawMessage `json:"metadata"`
	Model              string          `json:"model"`
	Output             []any           `json:"output"`
	ParallelToolCalls  bool            `json:"parallel_tool_calls"`
	PreviousResponseID *string         `json:"previous_response_id"`
	Reasoning          json.RawMessage `json:"reasoning"`
	ServiceTier        *string         `json:"service_tier,omitempty"`
	Store              bool            `json:"store"`
	Temperature        json.RawMessage `json:"temperature"`
	Text               json.RawMessage `json:"text"`
	ToolChoice         json.RawMessage `json:"tool_choice"`
	Tools              json.RawMessage `json:"tools"`
	TopP               json.RawMessage `json:"top_p"`
	Truncation         string          `json:"truncation"`
	Usage              *responsesUsage `json:"usage"`
	User               *string         `json:"user"`
}

type responsesUsage struct {
	InputTokens        int `json:"input_tokens"`
	InputTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokens        int `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	TotalTokens int `json:"total_tokens"`
}

func toResponsesUsage(u Usage) *responsesUsage {
	r := &responsesUsage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens, TotalTokens: u.TotalTokens()}
	r.InputTokensDetails.CachedTokens = u.CachedTokens
	return r
}

type responsesMessageItem struct {
	Type    string                `json:"type"`
	ID      string                `json:"id"`
	Status  string                `json:"status"`
	Role    string                `json:"role"`
	Content []responsesTextOutput `json:"content"`
}

type responsesTextOutput struct {
	Type        string  `json:"type"`
	Text        *string `json:"text,omitempty"`
	Refusal     *string `json:"refusal,omitempty"`
	Annotations []any   `json:"annotations"`
	Logprobs    []any   `json:"logprobs,omitempty"`
}

type responsesCallItem struct {
	Type      string `json:"type"`
	ID        string `json:"id"`
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
	Status    string `json:"status"`
}

func outputText(s string) responsesTextOutput {
	return responsesTextOutput{Type: "output_text", Text: &s, Annotations: []any{}, Logprobs: []any{}}
}

func or(raw json.RawMessage, def string) json.RawMessage {
	if raw == nil {
		return json.RawMessage(def)
	}
	return raw
}

// object builds the Response with this status, output and usage.
func (m ResponseMeta) object(model, status string, output []any, u *Usage, incomplete string) responseObject {
	e := m.Echo
	o := responseObject{
		ID: m.id(), Object: "response", CreatedAt: m.CreatedAt, Status: status, Instructions: e.Instructions,
		Metadata: or(e.Metadata, "{}"), Model: model, Output: output, ParallelToolCalls: e.ParallelToolCalls == nil || *e.ParallelToolCalls,
		Reasoning: or(e.Reasoning, `{"effort":null,"summary":null}`), Temperature: e.Temperature,
		Text: or(e.Text, `{"format":{"type":"text"}}`), ToolChoice: or(e.ToolChoice, `"auto"`), Tools: or(e.Tools, "[]"),
		TopP: e.TopP, Truncation: "disabled",
	}
	if o.Output == nil {
		o.Output = []any{}
	}
	if e.MaxOutputTokens > 0 {
		n := e.MaxOutputTokens
		o.MaxOutputTokens = &n
	}
	if e.User != "" {
		o.User = &e.User
	}
	if e.ServiceTier != "" {
		o.ServiceTier = &e.ServiceTier
	}
	if u != nil {
		o.Usage = toResponsesUsage(*u)
	}
	if incomplete != "" {
		o.IncompleteDetails = map[string]string{"reason": incomplete}
	}
	return o
}

// statusOfFinish maps a chat finish_reason to a Response status and the
// incomplete_details reason.
func statusOfFinish(finish string) (string, string) {
	switch finish {
	case "length":
		return "incomplete", "max_output_tokens"
	case "content_filter":
		return "incomplete", "content_filter"
	}
	return "completed", ""
}

// ChatToResponse translates a chat.completion body into a Response object.
// model is the catalog model that answered; u the usage billed.
func ChatToResponse(body []byte, meta ResponseMeta, model string, u Usage) ([]byte, error) {
	var c completionView
	if err := json.Unmarshal(body, &c); err != nil || len(c.Choices) == 0 {
		return nil, errkind.New(errkind.Unavailable, "the upstream's answer could not be translated to a Response")
	}
	ch := c.Choices[0]
	var output []any
	msgID := newID("msg_", meta.RequestID)
	var content []responsesTextOutput
	if ch.Message.Content != nil && *ch.Message.Content != "" {
		content = append(content, outputText(*ch.Message.Content))
	}
	if ch.Message.Refusal != nil && *ch.Message.Refusal != "" {
		content = append(content, responsesTextOutput{Type: "refusal", Refusal: ch.Message.Refusal, Annotations: []any{}})
	}
	if len(content) > 0 {
		output = append(output, responsesMessageItem{Type: "message", ID: msgID, Status: "completed", Role: "assistant", Content: content})
	}
	for i, tc := range ch.Message.ToolCalls {
		output = append(output, responsesCallItem{Type: "function_call", ID: fmt.Sprintf("fc_%s_%d", strings.TrimPrefix(msgID, "msg_"), i),
			CallID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments, Status: "completed"})
	}
	finish := ""
	if ch.FinishReason != nil {
		finish = *ch.FinishReason
	}
	status, reason := statusOfFinish(finish)
	return json.Marshal(meta.object(model, status, output, &u, reason))
}

// WriteResponses pumps a chat stream to w as Responses API events
// (response.created … response.completed). It returns the error the pump
// ended with, for StreamCall.Finish.
func (s *Stream) WriteResponses(w io.Writer, meta ResponseMeta, model string) error {
	t := &responsesTranslator{meta: meta, model: model, msgID: newID("msg_", meta.RequestID)}
	return s.writeTranslated(w, t)
}

// responsesTranslator turns chat chunks into the Responses event sequence:
// a message item with one output_text part for text, one function_call item
// per tool call, each opened (added) before its deltas and closed (done)
// before the next item opens, and response.completed with the usage.
type responsesTranslator struct {
	meta  ResponseMeta
	model string
	msgID string
	seq   int

	output  []any
	text    strings.Builder
	msgOpen bool
	msgIdx  int
	call    *responsesCallItem // the function call being streamed
	callIdx int
	ncalls  int
	finish  string
	usage   *Usage
}

func (t *responsesTranslator) ev(typ string, fields map[string]any) sseEvent {
	fields["type"] = typ
	fields["sequence_number"] = t.seq
	t.seq++
	return sseEvent{name: typ, data: fields}
}

func (t *responsesTranslator) start() []sseEvent {
	o := t.meta.object(t.model, "in_progress", nil, nil, "")
	return []sseEvent{
		t.ev("response.created", map[string]any{"response": o}),
		t.ev("response.in_progress", map[string]any{"response": o}),
	}
}

func (t *responsesTranslator) openMessage() []sseEvent {
	t.msgOpen, t.msgIdx = true, len(t.output)
	t.output = append(t.output, nil)
	item := responsesMessageItem{Type: "message", ID: t.msgID, Status: "in_progress", Role: "assistant", Content: []responsesTextOutput{}}
	empty := outputText("")
	empty.Logprobs = nil
	return []sseEvent{
		t.ev("response.output_item.added", map[string]any{"output_index": t.msgIdx, "item": item}),
		t.ev("response.content_part.added", map[string]any{"item_id": t.msgID, "output_index": t.msgIdx, "content_index": 0, "part": empty}),
	}
}

func (t *responsesTranslator) closeMessage() []sseEvent {
	if !t.msgOpen {
		return nil
	}
	t.msgOpen = false
	text := t.text.String()
	part := outputText(text)
	item := responsesMessageItem{Type: "message", ID: t.msgID, Status: "completed", Role: "assistant", Content: []responsesTextOutput{part}}
	t.output[t.msgIdx] = item
	return []sseEvent{
		t.ev("response.output_text.done", map[string]any{"item_id": t.msgID, "output_index": t.msgIdx, "content_index": 0, "text": text, "logprobs": []any{}}),
		t.ev("response.content_part.done", map[string]any{"item_id": t.msgID, "output_index": t.msgIdx, "content_index": 0, "part": part}),
		t.ev("response.output_item.done", map[string]any{"output_index": t.msgIdx, "item": item}),
	}
}

func (t *responsesTranslator) closeCall() []sseEvent {
	if t.call == nil {
		return nil
	}
	c := *t.call
	c.Status = "completed"
	t.output[t.callIdx] = c
	t.call = nil
	return []sseEvent{
		t.ev("response.function_call_arguments.done", map[string]any{"item_id": c.ID, "output_index": t.callIdx, "name": c.Name, "arguments": c.Arguments}),
		t.ev("response.output_item.done", map[string]any{"output_index": t.callIdx, "item": c}),
	}
}

func (t *responsesTranslator) chunk(c *completionView) []sseEvent {
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
			evs = append(evs, t.closeCall()...)
			if !t.msgOpen {
				evs = append(evs, t.openMessage()...)
			}
			t.text.WriteString(*d)
			evs = append(evs, t.ev("response.output_text.delta", map[string]any{"item_id": t.msgID, "output_index": t.msgIdx,
				"content_index": 0, "delta": *d, "logprobs": []any{}}))
		}
		for _, tc := range ch.Delta.ToolCalls {
			if tc.ID != "" || t.call == nil {
				evs = append(evs, t.closeMessage()...)
				evs = append(evs, t.closeCall()...)
				t.callIdx = len(t.output)
				t.output = append(t.output, nil)
				t.call = &responsesCallItem{Type: "function_call", ID: fmt.Sprintf("fc_%s_%d", strings.TrimPrefix(t.msgID, "msg_"), t.ncalls),
					CallID: tc.ID, Name: tc.Function.Name, Status: "in_progress"}
				t.ncalls++
				evs = append(evs, t.ev("response.output_item.added", map[string]any{"output_index": t.callIdx, "item": *t.call}))
			}
			if tc.Function.Arguments != "" {
				t.call.Arguments += tc.Function.Arguments
				evs = append(evs, t.ev("response.function_call_arguments.delta", map[string]any{"item_id": t.call.ID,
					"output_index": t.callIdx, "delta": tc.Function.Arguments}))
			}
		}
		if ch.FinishReason != nil {
			t.finish = *ch.FinishReason
		}
	}
	return evs
}

func (t *responsesTranslator) end() []sseEvent {
	evs := append(t.closeMessage(), t.closeCall()...)
	status, reason := statusOfFinish(t.finish)
	typ := "response.completed"
	if status == "incomplete" {
		typ = "response.incomplete"
	}
	return append(evs, t.ev(typ, map[string]any{"response": t.meta.object(t.model, status, t.output, t.usage, reason)}))
}

func (t *responsesTranslator) fail(err error) []sseEvent {
	o := t.meta.object(t.model, "failed", compact(t.output), t.usage, "")
	o.Error = map[string]string{"code": "server_error", "message": "the upstream stream broke: " + errkind.PublicMessage(err)}
	return []sseEvent{t.ev("response.failed", map[string]any{"response": o})}
}

// compact drops the slots of items that never finished.
func compact(items []any) []any {
	out := []any{}
	for _, it := range items {
		if it != nil {
			out = append(out, it)
		}
	}
	return out
}
