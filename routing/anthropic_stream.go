package routing

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
)

// anthropicChunkSource translates Messages API stream events into OpenAI
// chat.completion.chunk payloads, one or none per event, ending with a usage
// chunk at message_stop.
type anthropicChunkSource struct {
	sse             *sseReader
	provider, model string
	created         int64

	id, upModel string
	toolIndex   map[int]int // Anthropic block index → OpenAI tool_calls index
	usage       anthropicUsage
	mu          sync.Mutex // guards started/usage for partialUsage from another goroutine
	started     bool
	stopped     bool
	finish      string
}

type anthropicEvent struct {
	Type    string `json:"type"`
	Index   int    `json:"index"`
	Message *struct {
		ID    string         `json:"id"`
		Model string         `json:"model"`
		Usage anthropicUsage `json:"usage"`
	} `json:"message"`
	ContentBlock *anthropicBlock `json:"content_block"`
	Delta        *struct {
		Type        string `json:"type"`
		Text        string `json:"text"`
		PartialJSON string `json:"partial_json"`
		StopReason  string `json:"stop_reason"`
	} `json:"delta"`
	Usage *anthropicUsage `json:"usage"`
	Error *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

type chunkOut struct {
	ID      string           `json:"id"`
	Object  string           `json:"object"`
	Created int64            `json:"created"`
	Model   string           `json:"model"`
	Choices []chunkChoiceOut `json:"choices"`
	Usage   *usageWire       `json:"usage,omitempty"`
}

type chunkChoiceOut struct {
	Index        int        `json:"index"`
	Delta        chunkDelta `json:"delta"`
	FinishReason *string    `json:"finish_reason"`
}

type chunkDelta struct {
	Role      string              `json:"role,omitempty"`
	Content   *string             `json:"content,omitempty"`
	ToolCalls []openAIToolCallOut `json:"tool_calls,omitempty"`
}

func (s *anthropicChunkSource) chunk(d chunkDelta, finish *string) ([]byte, error) {
	return json.Marshal(chunkOut{ID: s.id, Object: "chat.completion.chunk", Created: s.created, Model: s.upModel,
		Choices: []chunkChoiceOut{{Delta: d, FinishReason: finish}}})
}

func (s *anthropicChunkSource) next() ([]byte, error) {
	for {
		if s.stopped {
			return nil, io.EOF
		}
		_, data, err := s.sse.next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, transportError(s.provider, s.model, err)
		}
		var ev anthropicEvent
		if err := json.Unmarshal(data, &ev); err != nil {
			return nil, transportError(s.provider, s.model, err)
		}
		switch ev.Type {
		case "message_start":
			if ev.Message != nil {
				s.mu.Lock()
				s.id, s.upModel, s.usage, s.started = ev.Message.ID, ev.Message.Model, ev.Message.Usage, true
				s.mu.Unlock()
			}
			empty := ""
			return s.chunk(chunkDelta{Role: "assistant", Content: &empty}, nil)
		case "content_block_start":
			if ev.ContentBlock != nil && ev.ContentBlock.Type == "tool_use" {
				if s.toolIndex == nil {
					s.toolIndex = map[int]int{}
				}
				idx := len(s.toolIndex)
				s.toolIndex[ev.Index] = idx
				c := openAIToolCallOut{Index: &idx, ID: ev.ContentBlock.ID, Type: "function"}
				c.Function.Name = ev.ContentBlock.Name
				return s.chunk(chunkDelta{ToolCalls: []openAIToolCallOut{c}}, nil)
			}
		case "content_block_delta":
			if ev.Delta == nil {
				continue
			}
			switch ev.Delta.Type {
			case "text_delta":
				t := ev.Delta.Text
				return s.chunk(chunkDelta{Content: &t}, nil)
			case "input_json_delta":
				idx := s.toolIndex[ev.Index]
				c := openAIToolCallOut{Index: &idx}
				c.Function.Arguments = ev.Delta.PartialJSON
				return s.chunk(chunkDelta{ToolCalls: []openAIToolCallOut{c}}, nil)
			}
		case "message_delta":
			if ev.Usage != nil {
				s.mu.Lock()
				s.usage.OutputTokens = ev.Usage.OutputTokens
				// Newer API versions repeat the input counts here, final.
				if ev.Usage.InputTokens > 0 {
					s.usage.InputTokens = ev.Usage.InputTokens
				}
				if ev.Usage.CacheReadInputTokens > 0 {
					s.usage.CacheReadInputTokens = ev.Usage.CacheReadInputTokens
				}
				if ev.Usage.CacheCreationInputTokens > 0 {
					s.usage.CacheCreationInputTokens = ev.Usage.CacheCreationInputTokens
				}
				s.mu.Unlock()
			}
			if ev.Delta != nil && ev.Delta.StopReason != "" {
				f := finishFromStop(ev.Delta.StopReason)
				return s.chunk(chunkDelta{}, &f)
			}
		case "message_stop":
			s.stopped = true
			s.mu.Lock()
			uw := wireUsage(s.usage.usage())
			s.mu.Unlock()
			return json.Marshal(chunkOut{ID: s.id, Object: "chat.completion.chunk", Created: s.created, Model: s.upModel,
				Choices: []chunkChoiceOut{}, Usage: &uw})
		case "error":
			status := http.StatusBadGateway
			if ev.Error != nil && ev.Error.Type == "overloaded_error" {
				status = http.StatusServiceUnavailable
			}
			return nil, &UpstreamError{Provider: s.provider, Model: s.model, StatusCode: status,
				Body: anthropicErrorToOpenAI(data, status)}
		}
		// ping, content_block_stop, thinking deltas: nothing for the client.
	}
}

// partialUsage reports the input tokens from message_start, so a stream cut
// short still bills the real prompt size.
func (s *anthropicChunkSource) partialUsage() (Usage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return Usage{}, false
	}
	u := s.usage.usage()
	u.CompletionTokens = 0
	return u, true
}
