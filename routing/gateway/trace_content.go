package gateway

import (
	"context"
	"encoding/json"

	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/tollgate-dev/tollgate/routing"
)

// Prompt and completion content goes on the request span only when the tenant's
// routing policy sets trace_content: prompts hold customer data, and a trace
// backend is usually read by more people than the ledger. The shapes follow the
// GenAI conventions' gen_ai.input.messages / gen_ai.output.messages JSON:
// messages of typed parts (text, tool_call, tool_call_response). Image parts
// are left out (their data can be megabytes); the text beside them is kept.

// contentPart is one part of a message in the GenAI conventions' shape.
type contentPart struct {
	Type      string          `json:"type"`
	Content   string          `json:"content,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
	Response  string          `json:"response,omitempty"`
}

// contentMessage is one input or output message in the GenAI conventions' shape.
type contentMessage struct {
	Role         string        `json:"role"`
	Parts        []contentPart `json:"parts"`
	FinishReason string        `json:"finish_reason,omitempty"`
}

// arguments keeps tool-call arguments as JSON when they are JSON, else as a string.
func arguments(s string) json.RawMessage {
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	b, _ := json.Marshal(s)
	return b
}

// traceInput records the request's messages on the request span.
func traceInput(ctx context.Context, req *routing.ChatRequest) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	msgs := make([]contentMessage, 0, len(req.Messages))
	for _, m := range req.Messages {
		cm := contentMessage{Role: m.Role, Parts: []contentPart{}}
		switch {
		case m.Role == "tool":
			cm.Parts = append(cm.Parts, contentPart{Type: "tool_call_response", ID: m.ToolCallID, Response: m.Text})
		case m.Text != "":
			cm.Parts = append(cm.Parts, contentPart{Type: "text", Content: m.Text})
		}
		for _, tc := range m.ToolCalls {
			cm.Parts = append(cm.Parts, contentPart{Type: "tool_call", ID: tc.ID, Name: tc.Function.Name, Arguments: arguments(tc.Function.Arguments)})
		}
		msgs = append(msgs, cm)
	}
	if b, err := json.Marshal(msgs); err == nil {
		span.SetAttributes(semconv.GenAIInputMessagesKey.String(string(b)))
	}
}

// chatCompletionView is the part of an OpenAI chat.completion body that holds
// the answer.
type chatCompletionView struct {
	Choices []struct {
		FinishReason string `json:"finish_reason"`
		Message      struct {
			Role      string             `json:"role"`
			Content   *string            `json:"content"`
			ToolCalls []routing.ToolCall `json:"tool_calls"`
		} `json:"message"`
	} `json:"choices"`
}

// traceOutputBody records the choices of a chat.completion body on the request span.
func traceOutputBody(ctx context.Context, body []byte) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	var v chatCompletionView
	if err := json.Unmarshal(body, &v); err != nil {
		return
	}
	msgs := make([]contentMessage, 0, len(v.Choices))
	for _, c := range v.Choices {
		cm := contentMessage{Role: c.Message.Role, Parts: []contentPart{}, FinishReason: c.FinishReason}
		if cm.Role == "" {
			cm.Role = "assistant"
		}
		if c.Message.Content != nil && *c.Message.Content != "" {
			cm.Parts = append(cm.Parts, contentPart{Type: "text", Content: *c.Message.Content})
		}
		for _, tc := range c.Message.ToolCalls {
			cm.Parts = append(cm.Parts, contentPart{Type: "tool_call", ID: tc.ID, Name: tc.Function.Name, Arguments: arguments(tc.Function.Arguments)})
		}
		msgs = append(msgs, cm)
	}
	if b, err := json.Marshal(msgs); err == nil {
		span.SetAttributes(semconv.GenAIOutputMessagesKey.String(string(b)))
	}
}

// traceOutputText records a streamed answer (its text and tool-call arguments
// as they arrived) on the request span.
func traceOutputText(ctx context.Context, text string) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	b, err := json.Marshal([]contentMessage{{Role: "assistant", Parts: []contentPart{{Type: "text", Content: text}}}})
	if err == nil {
		span.SetAttributes(semconv.GenAIOutputMessagesKey.String(string(b)))
	}
}
