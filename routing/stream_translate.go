package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

// completionView is the part of an OpenAI chat.completion (or of one
// chat.completion.chunk) the answer translators read.
type completionView struct {
	ID      string `json:"id"`
	Model   string `json:"model"`
	Choices []struct {
		Index   int `json:"index"`
		Message struct {
			Content   *string    `json:"content"`
			Refusal   *string    `json:"refusal"`
			ToolCalls []ToolCall `json:"tool_calls"`
		} `json:"message"`
		Delta struct {
			Content   *string `json:"content"`
			Refusal   *string `json:"refusal"`
			ToolCalls []struct {
				Index    int    `json:"index"`
				ID       string `json:"id"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *usageWire `json:"usage"`
}

// sseEvent is one translated server-sent event: its name and JSON data.
type sseEvent struct {
	name string
	data any
}

// streamTranslator turns the chat chunks of a Stream into another API's events.
type streamTranslator interface {
	// start opens the answer, before the first chunk.
	start() []sseEvent
	// chunk translates one chat.completion.chunk payload.
	chunk(c *completionView) []sseEvent
	// end closes the answer after the last chunk.
	end() []sseEvent
	// fail reports an upstream that broke after the answer started.
	fail(err error) []sseEvent
}

// nextChunk returns the next chat.completion.chunk payload, or io.EOF after
// the last one.
func (s *Stream) nextChunk() ([]byte, error) {
	ev, err := s.Next()
	if err != nil {
		return nil, err
	}
	p := bytes.TrimSuffix(bytes.TrimPrefix(ev, []byte("data: ")), []byte("\n\n"))
	if bytes.Equal(p, []byte("[DONE]")) {
		return nil, io.EOF
	}
	return p, nil
}

// writeTranslated pumps the stream through t to w as server-sent events,
// flushing after each chunk's events. It returns the error the pump ended with
// (a broken upstream or a failed write), which the caller passes to Finish.
func (s *Stream) writeTranslated(w io.Writer, t streamTranslator) error {
	var rc *http.ResponseController
	flusher, canFlush := w.(interface{ Flush() })
	if rw, ok := w.(http.ResponseWriter); ok && !canFlush {
		rc = http.NewResponseController(rw)
	}
	var buf bytes.Buffer
	write := func(evs []sseEvent) error {
		if len(evs) == 0 {
			return nil
		}
		buf.Reset()
		for _, ev := range evs {
			data, err := json.Marshal(ev.data)
			if err != nil {
				return err
			}
			buf.WriteString("event: ")
			buf.WriteString(ev.name)
			buf.WriteString("\ndata: ")
			buf.Write(data)
			buf.WriteString("\n\n")
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
		switch {
		case canFlush:
			flusher.Flush()
		case rc != nil:
			if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
				return err
			}
		}
		return nil
	}
	if err := write(t.start()); err != nil {
		return err
	}
	for {
		p, err := s.nextChunk()
		if errors.Is(err, io.EOF) {
			return write(t.end())
		}
		if err != nil {
			_ = write(t.fail(err))
			return err
		}
		var c completionView
		if json.Unmarshal(p, &c) != nil {
			continue
		}
		if err := write(t.chunk(&c)); err != nil {
			return err
		}
	}
}
