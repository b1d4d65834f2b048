package routing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// ResponsesRequest is an OpenAI Responses API request translated into the chat
// request the gateway serves, plus what the answer must echo back.
type ResponsesRequest struct {
	// Chat is the translated chat completion request; its API is APIResponses.
	Chat *ChatRequest
	// Echo holds the request members the Response object repeats.
	Echo ResponsesEcho
}

// ResponsesEcho is what a Response object repeats of its request. Raw members
// are nil when the client sent none.
type ResponsesEcho struct {
	Model             string
	Instructions      json.RawMessage
	MaxOutputTokens   int
	Metadata          json.RawMessage
	ParallelToolCalls *bool
	Temperature       json.RawMessage
	TopP              json.RawMessage
	Text              json.RawMessage
	ToolChoice        json.RawMessage
	Tools             json.RawMessage
	User              string
	Reasoning         json.RawMessage
	PromptCacheKey    string
	SafetyIdentifier  string
	ServiceTier       string
}

// responsesKeys are the top-level members of a Responses request Tollgate
// reads; checkStrict refuses any other (the schema is closed), so nothing a
// client asks for is silently dropped.
var responsesKeys = map[string]bool{
	"model": true, "input": true, "instructions": true, "tools": true, "tool_choice": true, "text": true,
	"max_output_tokens": true, "temperature": true, "top_p": true, "stream": true, "store": true,
	"previous_response_id": true, "parallel_tool_calls": true, "user": true, "metadata": true,
	"reasoning": true, "prompt_cache_key": true, "safety_identifier": true, "service_tier": true,
	"truncation": true, "stream_options": true, "include": true,
}

// responsesRefused are Responses members that need state or features Tollgate
// does not have, with the reason given to the client.
var responsesRefused = map[string]string{
	"background":     "background responses are stored server-side and Tollgate stores no responses; call without it",
	"conversation":   "conversations are stored server-side and Tollgate stores no responses; send the whole conversation in input",
	"prompt":         "prompt templates live in OpenAI's dashboard; send the text in instructions and input",
	"max_tool_calls": "it applies to built-in tools, which Tollgate does not run; only function tools are served",
	"top_logprobs":   "log probabilities are not translated; call without it",
}

var responsesSchema = &keySchema{
	keys: keysOf(responsesKeys), closed: true, refused: responsesRefused, api: "responses",
	children: map[string]*keySchema{
		"input": {keys: []string{"type", "role", "content", "call_id", "name", "arguments", "output", "id", "status"}},
		"text":  {keys: []string{"format", "verbosity"}},
		"tools": {keys: []string{"type", "name", "description", "parameters", "strict"}},
	},
}

func keysOf(known map[string]bool) []string {
	out := make([]string, 0, len(known))
	for k := range known {
		out = append(out, k)
	}
	return out
}

type responsesWire struct {
	Model              string          `json:"model"`
	Input              json.RawMessage `json:"input"`
	Instructions       json.RawMessage `json:"instructions"`
	Tools              json.RawMessage `json:"tools"`
	ToolChoice         json.RawMessage `json:"tool_choice"`
	Text               json.RawMessage `json:"text"`
	MaxOutputTokens    json.RawMessage `json:"max_output_tokens"`
	Temperature        json.RawMessage `json:"temperature"`
	TopP               json.RawMessage `json:"top_p"`
	Stream             *bool           `json:"stream"`
	Store              *bool           `json:"store"`
	PreviousResponseID *string         `json:"previous_response_id"`
	ParallelToolCalls  *bool           `json:"parallel_tool_calls"`
	User               json.RawMessage `json:"user"`
	Metadata           json.RawMessage `json:"metadata"`
	Reasoning          json.RawMessage `json:"reasoning"`
	PromptCacheKey     json.RawMessage `json:"prompt_cache_key"`
	SafetyIdentifier   json.RawMessage `json:"safety_identifier"`
	ServiceTier        json.RawMessage `json:"service_tier"`
	Truncation         *string         `json:"truncation"`
	Include            []string        `json:"include"`
}

// ParseResponsesRequest reads a Responses API body as strictly as
// ParseChatRequest and translates it into a chat request: instructions become
// a system message, input items become messages (function_call items become
// an assistant's tool_calls, function_call_output items tool messages),
// function tools chat tools, text.format a response_format and
// max_output_tokens the output limit. Stored state (store: true,
// previous_response_id, conversations) is refused with a 400 that says why:
// Tollgate keeps no responses.
func ParseResponsesRequest(raw []byte) (*ResponsesRequest, error) {
	if err := checkStrict(raw, responsesSchema); err != nil {
		return nil, err
	}
	var w responsesWire
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "invalid responses request: %v", err)
	}
	var problems []error
	add := func(err error) {
		if err != nil {
			problems = append(problems, err)
		}
	}
	if w.Store != nil && *w.Store {
		add(errkind.InvalidParam("store", "store: true is not supported: Tollgate does not store responses. "+
			"Send store: false (or omit it) and keep the conversation on the client"))
	}
	if w.PreviousResponseID != nil && *w.PreviousResponseID != "" {
		add(errkind.InvalidParam("previous_response_id", "previous_response_id is not supported: Tollgate does not store responses, "+
			"so there is no earlier response to continue. Send the whole conversation in input"))
	}
	if w.Truncation != nil && *w.Truncation != "disabled" {
		add(unsupportedMember("truncation", `only "disabled" is served; the conversation is sent as given`))
	}
	for i, inc := range w.Include {
		// Translated answers carry no reasoning items, so there is no encrypted
		// reasoning to include; anything else would be data Tollgate cannot give.
		if inc != "reasoning.encrypted_content" {
			add(unsupportedMember(fmt.Sprintf("include[%d]", i), fmt.Sprintf("%q is not available through translation; omit it", inc)))
		}
	}
	if w.Model == "" {
		add(errkind.InvalidParam("model", "model is required"))
	}
	echo := ResponsesEcho{Model: w.Model, Instructions: nonNull(w.Instructions), Metadata: nonNull(w.Metadata),
		ParallelToolCalls: w.ParallelToolCalls, Temperature: nonNull(w.Temperature), TopP: nonNull(w.TopP),
		Text: nonNull(w.Text), ToolChoice: nonNull(w.ToolChoice), Tools: nonNull(w.Tools), Reasoning: nonNull(w.Reasoning)}
	body := chatBody{Model: w.Model, Temperature: echo.Temperature, TopP: echo.TopP, ParallelToolCalls: w.ParallelToolCalls}
	body.Stream = w.Stream != nil && *w.Stream
	var err error
	body.MaxCompletionTokens, err = positiveInt(w.MaxOutputTokens, "max_output_tokens")
	add(err)
	echo.MaxOutputTokens = body.MaxCompletionTokens
	for _, f := range []struct {
		raw  json.RawMessage
		name string
		dst  *string
	}{{w.User, "user", &body.User}, {w.PromptCacheKey, "prompt_cache_key", &body.PromptCacheKey},
		{w.SafetyIdentifier, "safety_identifier", &body.SafetyIdentifier}, {w.ServiceTier, "service_tier", &body.ServiceTier}} {
		*f.dst, err = stringOrNull(f.raw, f.name)
		add(err)
	}
	echo.User, echo.PromptCacheKey, echo.SafetyIdentifier, echo.ServiceTier = body.User, body.PromptCacheKey, body.SafetyIdentifier, body.ServiceTier
	if ins, err := stringOrNull(w.Instructions, "instructions"); err != nil {
		add(err)
	} else if ins != "" {
		body.Messages = append(body.Messages, chatBodyMsg{Role: "system", Content: ins})
	}
	msgs, err := responsesInput(w.Input)
	add(err)
	body.Messages = append(body.Messages, msgs...)
	body.Tools, err = responsesTools(w.Tools)
	add(err)
	body.ToolChoice, err = responsesToolChoice(w.ToolChoice)
	add(err)
	body.ResponseFormat, err = responsesFormat(w.Text)
	add(err)
	body.ReasoningEffort, err = responsesReasoning(w.Reasoning)
	add(err)
	if len(problems) > 0 {
		return nil, joinProblems("invalid responses request", problems)
	}
	chat, err := body.parse(APIResponses)
	if err != nil {
		return nil, err
	}
	return &ResponsesRequest{Chat: chat, Echo: echo}, nil
}

type responsesItem struct {
	Type      string          `json:"type"`
	Role      string          `json:"role"`
	Content   json.RawMessage `json:"content"`
	CallID    string          `json:"call_id"`
	Name      string          `json:"name"`
	Arguments string          `json:"arguments"`
	Output    json.RawMessage `json:"output"`
}

type responsesPart struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	ImageURL string `json:"image_url"`
	Detail   string `json:"detail"`
	FileID   string `json:"file_id"`
	Refusal  string `json:"refusal"`
}

// responsesInput translates input (a string or a list of items) into messages.
func responsesInput(raw json.RawMessage) ([]chatBodyMsg, error) {
	raw = nonNull(raw)
	if raw == nil {
		return nil, errkind.InvalidParam("input", "input is required: a string or a list of input items")
	}
	if raw[0] == '"' {
		s, _ := decodeString(raw)
		return []chatBodyMsg{{Role: "user", Content: s}}, nil
	}
	var items []responsesItem
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, errkind.InvalidParam("input", "input must be a string or a list of input items")
	}
	if len(items) == 0 {
		return nil, errkind.InvalidParam("input", "input must not be empty")
	}
	var out []chatBodyMsg
	var problems []error
	for i, it := range items {
		p := fmt.Sprintf("input[%d]", i)
		switch it.Type {
		case "", "message":
			m, err := responsesMessage(it, p)
			if err != nil {
				problems = append(problems, err)
				continue
			}
			out = append(out, m)
		case "function_call":
			if it.CallID == "" || it.Name == "" {
				problems = append(problems, errkind.InvalidParam(p+".call_id", "%s: a function_call item needs call_id and name", p))
				continue
			}
			var c chatBodyCall
			c.ID, c.Type = it.CallID, "function"
			c.Function.Name, c.Function.Arguments = it.Name, it.Arguments
			// Calls of one turn belong to one assistant message, after its text.
			if n := len(out); n > 0 && out[n-1].Role == "assistant" {
				out[n-1].ToolCalls = append(out[n-1].ToolCalls, c)
				continue
			}
			out = append(out, chatBodyMsg{Role: "assistant", ToolCalls: []chatBodyCall{c}})
		case "function_call_output":
			if it.CallID == "" {
				problems = append(problems, errkind.InvalidParam(p+".call_id", "%s: a function_call_output item needs call_id", p))
				continue
			}
			text, err := responsesOutputText(it.Output, p+".output")
			if err != nil {
				problems = append(problems, err)
				continue
			}
			out = append(out, chatBodyMsg{Role: "tool", ToolCallID: it.CallID, Content: text})
		case "item_reference":
			problems = append(problems, errkind.InvalidParam(p+".type", "%s: item_reference is not supported: Tollgate does not store responses; send the item itself", p))
		default:
			problems = append(problems, errkind.InvalidParam(p+".type", "%s: input items of type %q are not supported; "+
				"Tollgate serves messages, function_call and function_call_output items", p, it.Type))
		}
	}
	if len(problems) > 0 {
		return nil, joinProblems("invalid input", problems)
	}
	return out, nil
}

func responsesMessage(it responsesItem, p string) (chatBodyMsg, error) {
	switch it.Role {
	case "user", "system", "developer", "assistant":
	default:
		return chatBodyMsg{}, errkind.InvalidParam(p+".role", `%s.role must be "user", "system", "developer" or "assistant"`, p)
	}
	c := nonNull(it.Content)
	if c == nil {
		return chatBodyMsg{}, errkind.InvalidParam(p+".content", "%s.content is required", p)
	}
	if c[0] == '"' {
		s, _ := decodeString(c)
		return chatBodyMsg{Role: it.Role, Content: s}, nil
	}
	var parts []responsesPart
	if err := json.Unmarshal(c, &parts); err != nil {
		return chatBodyMsg{}, errkind.InvalidParam(p+".content", "%s.content must be a string or a list of content parts", p)
	}
	if it.Role == "assistant" {
		var b strings.Builder
		for j, part := range parts {
			switch part.Type {
			case "output_text", "input_text":
				b.WriteString(part.Text)
			case "refusal":
				b.WriteString(part.Refusal)
			default:
				return chatBodyMsg{}, errkind.InvalidParam(fmt.Sprintf("%s.content[%d].type", p, j), "assistant content parts must be output_text or refusal, not %q", part.Type)
			}
		}
		return chatBodyMsg{Role: "assistant", Content: b.String()}, nil
	}
	out := make([]chatBodyPart, 0, len(parts))
	for j, part := range parts {
		pp := fmt.Sprintf("%s.content[%d]", p, j)
		switch part.Type {
		case "input_text", "output_text":
			if len(parts) == 1 {
				return chatBodyMsg{Role: it.Role, Content: part.Text}, nil
			}
			out = append(out, textPart(part.Text, nil))
		case "input_image":
			if part.ImageURL == "" {
				return chatBodyMsg{}, errkind.InvalidParam(pp+".image_url", "%s: images must be given by image_url (a URL or a data: URL); file ids need OpenAI's file storage", pp)
			}
			out = append(out, chatBodyPart{Type: "image_url", ImageURL: &chatBodyImage{URL: part.ImageURL, Detail: part.Detail}})
		default:
			return chatBodyMsg{}, errkind.InvalidParam(pp+".type", "%s: content parts of type %q are not supported; use input_text or input_image", pp, part.Type)
		}
	}
	return chatBodyMsg{Role: it.Role, Content: out}, nil
}

// responsesOutputText reads a function_call_output's output: a string, or a
// list of input_text parts.
func responsesOutputText(raw json.RawMessage, p string) (string, error) {
	raw = nonNull(raw)
	if raw == nil {
		return "", nil
	}
	if raw[0] == '"' {
		s, _ := decodeString(raw)
		return s, nil
	}
	var parts []responsesPart
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", errkind.InvalidParam(p, "%s must be a string or a list of input_text parts", p)
	}
	var b strings.Builder
	for _, part := range parts {
		if part.Type != "input_text" && part.Type != "output_text" {
			return "", errkind.InvalidParam(p, "%s: parts of type %q are not supported in tool outputs; use text", p, part.Type)
		}
		b.WriteString(part.Text)
	}
	return b.String(), nil
}

func responsesTools(raw json.RawMessage) ([]chatBodyTool, error) {
	if nonNull(raw) == nil {
		return nil, nil
	}
	var tools []struct {
		Type        string          `json:"type"`
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Parameters  json.RawMessage `json:"parameters"`
		Strict      *bool           `json:"strict"`
	}
	if err := json.Unmarshal(raw, &tools); err != nil {
		return nil, errkind.InvalidParam("tools", "tools must be a list of tools")
	}
	out := make([]chatBodyTool, 0, len(tools))
	for i, t := range tools {
		if t.Type != "function" {
			return nil, errkind.InvalidParam(fmt.Sprintf("tools[%d].type", i), "tools of type %q are not supported: "+
				"Tollgate serves function tools (built-in tools run inside OpenAI and cannot be routed to other providers)", t.Type)
		}
		if t.Name == "" {
			return nil, errkind.InvalidParam(fmt.Sprintf("tools[%d].name", i), "tools[%d].name is required", i)
		}
		var ct chatBodyTool
		ct.Type = "function"
		ct.Function.Name, ct.Function.Description, ct.Function.Parameters, ct.Function.Strict = t.Name, t.Description, nonNull(t.Parameters), t.Strict
		out = append(out, ct)
	}
	return out, nil
}

func responsesToolChoice(raw json.RawMessage) (json.RawMessage, error) {
	raw = nonNull(raw)
	if raw == nil {
		return nil, nil
	}
	if raw[0] == '"' {
		s, _ := decodeString(raw)
		switch s {
		case "auto", "none", "required":
			return raw, nil
		}
		return nil, errkind.InvalidParam("tool_choice", `tool_choice must be "auto", "none", "required" or {"type":"function","name":...}`)
	}
	var c struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(raw, &c); err != nil || c.Type != "function" || c.Name == "" {
		return nil, errkind.InvalidParam("tool_choice", `tool_choice must be "auto", "none", "required" or {"type":"function","name":...}; built-in tool choices are not supported`)
	}
	return json.Marshal(map[string]any{"type": "function", "function": map[string]string{"name": c.Name}})
}

// responsesFormat maps text.format to a chat response_format.
func responsesFormat(raw json.RawMessage) (json.RawMessage, error) {
	if nonNull(raw) == nil {
		return nil, nil
	}
	var t struct {
		Format    json.RawMessage `json:"format"`
		Verbosity json.RawMessage `json:"verbosity"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, errkind.InvalidParam("text", "text must be an object")
	}
	if v := nonNull(t.Verbosity); v != nil && !bytes.Equal(v, []byte(`"medium"`)) {
		return nil, unsupportedMember("text.verbosity", "verbosity has no chat completions equivalent on every provider; omit it")
	}
	if nonNull(t.Format) == nil {
		return nil, nil
	}
	var f struct {
		Type        string          `json:"type"`
		Name        string          `json:"name"`
		Schema      json.RawMessage `json:"schema"`
		Description string          `json:"description"`
		Strict      *bool           `json:"strict"`
	}
	if err := json.Unmarshal(t.Format, &f); err != nil {
		return nil, errkind.InvalidParam("text.format", "text.format must be an object")
	}
	switch f.Type {
	case "text":
		return nil, nil
	case "json_object":
		return json.RawMessage(`{"type":"json_object"}`), nil
	case "json_schema":
		if f.Name == "" || nonNull(f.Schema) == nil {
			return nil, errkind.InvalidParam("text.format", "a json_schema text.format needs name and schema")
		}
		js := map[string]any{"name": f.Name, "schema": f.Schema}
		if f.Description != "" {
			js["description"] = f.Description
		}
		if f.Strict != nil {
			js["strict"] = *f.Strict
		}
		return json.Marshal(map[string]any{"type": "json_schema", "json_schema": js})
	}
	return nil, errkind.InvalidParam("text.format.type", `text.format.type must be "text", "json_object" or "json_schema"`)
}

func responsesReasoning(raw json.RawMessage) (string, error) {
	if nonNull(raw) == nil {
		return "", nil
	}
	var r struct {
		Effort  *string         `json:"effort"`
		Summary json.RawMessage `json:"summary"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return "", errkind.InvalidParam("reasoning", "reasoning must be an object")
	}
	if nonNull(r.Summary) != nil {
		return "", unsupportedMember("reasoning.summary", "reasoning summaries are not available through chat completions; omit it")
	}
	if r.Effort == nil {
		return "", nil
	}
	return *r.Effort, nil
}
