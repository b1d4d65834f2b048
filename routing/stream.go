package routing

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
)

// chunkSource yields OpenAI chat.completion.chunk payloads (JSON without the
// "data: " framing) from one upstream stream. next returns io.EOF at the end.
type chunkSource interface {
	next() ([]byte, error)
}

// partialUsager is implemented by sources that learn part of the usage before
// the end (Anthropic reports input tokens at message_start).
type partialUsager interface {
	partialUsage() (Usage, bool)
}

// Stream is an open streaming chat completion. The api layer pumps it to the
// client with WriteTo (or Next in a loop) and must always Close it; Close cancels
// the upstream request if it is still running and fixes the final Usage.
//
// Every event Next returns is a complete SSE event ("data: {...}\n\n"); the last
// is "data: [DONE]\n\n". Tollgate always asks upstream for usage; the final usage
// chunk reaches the client only when the client set stream_options.include_usage.
// A Stream is not safe for concurrent use, except that Close may be called from
// another goroutine to abort.
type Stream struct {
	src              chunkSource
	body             io.Closer
	cancel           context.CancelFunc
	provider, model  string
	clientWantsUsage bool
	promptTokens     int
	countTokens      func(string) int

	buf     []byte
	pending []byte // a chunk read ahead by prime, not yet returned
	content strings.Builder
	usage   Usage
	gotUse  bool
	started bool
	done    bool
	err     error

	record   bool
	recorded []string

	closeOnce sync.Once
	onClose   func() // set by the Executor to end its attempt context
}

// streamConfig holds what a provider hands to newStream.
type streamConfig struct {
	src          chunkSource
	body         io.Closer
	cancel       context.CancelFunc
	provider     string
	model        string
	req          *ChatRequest
	countTokens  func(string) int
	promptTokens int
}

func newStream(c streamConfig) *Stream {
	pt := c.promptTokens
	if pt == 0 && c.req != nil {
		pt = c.req.PromptTokens
	}
	return &Stream{
		src: c.src, body: c.body, cancel: c.cancel, provider: c.provider, model: c.model,
		clientWantsUsage: c.req != nil && c.req.IncludeUsage,
		promptTokens:     pt, countTokens: c.countTokens,
	}
}

// Record keeps a copy of every chunk payload (the usage chunk included), for
// the response cache. Call it before the first Next.
func (s *Stream) Record() { s.record = true }

// Recorded returns the recorded payloads when the stream ended complete (the
// upstream's [DONE] after its usage); false for a cut or broken stream.
func (s *Stream) Recorded() ([]string, bool) {
	if !s.record || !s.done || !s.gotUse || !errors.Is(s.err, io.EOF) {
		return nil, false
	}
	return s.recorded, true
}

// sliceSource replays recorded payloads.
type sliceSource struct{ chunks []string }

func (r *sliceSource) next() ([]byte, error) {
	if len(r.chunks) == 0 {
		return nil, io.EOF
	}
	c := r.chunks[0]
	r.chunks = r.chunks[1:]
	return []byte(c), nil
}

// NewReplayStream is a stream of recorded payloads (Stream.Recorded), shaped
// like the live one: the usage chunk reaches the client only when req asked
// for it.
func NewReplayStream(chunks []string, provider, model string, req *ChatRequest) *Stream {
	return newStream(streamConfig{src: &sliceSource{chunks: chunks}, provider: provider, model: model, req: req})
}

// Provider is the registry name of the provider serving the stream.
func (s *Stream) Provider() string { return s.provider }

// UpstreamModel is the upstream model id the stream was opened for.
func (s *Stream) UpstreamModel() string { return s.model }

// Content is the text and tool-call arguments streamed so far, in order. Call
// it after the consumer stopped reading.
func (s *Stream) Content() string { return s.content.String() }

// Started reports whether any event has been handed to the consumer. After that
// the executor never retries or falls back: the client has seen output.
func (s *Stream) Started() bool { return s.started }

// prime reads the first chunk ahead so that an upstream that accepts the request
// and then fails immediately can still be retried before the client sees anything.
func (s *Stream) prime() error {
	p, err := s.src.next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			s.done = true
			return nil
		}
		return err
	}
	s.pending = append([]byte(nil), p...)
	return nil
}

// Next returns the next SSE event, valid until the following call, or io.EOF
// after "data: [DONE]". Any other error means the upstream stream broke; the
// consumer should stop and Close.
func (s *Stream) Next() ([]byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	for {
		if s.done {
			s.err = io.EOF
			if !s.started {
				s.started = true
			}
			return s.frame([]byte("[DONE]")), nil
		}
		var payload []byte
		if s.pending != nil {
			payload, s.pending = s.pending, nil
		} else {
			p, err := s.src.next()
			if errors.Is(err, io.EOF) {
				s.done = true
				continue
			}
			if err != nil {
				s.err = err
				return nil, err
			}
			payload = p
		}
		if s.record {
			s.recorded = append(s.recorded, string(payload))
		}
		if choices, usage, ok := readChunk(payload, &s.content); ok && usage != nil {
			var w usageWire
			if json.Unmarshal(usage, &w) == nil {
				s.usage, s.gotUse = w.usage(), true
				if choices == 0 && !s.clientWantsUsage {
					continue
				}
			}
		}
		s.started = true
		return s.frame(payload), nil
	}
}

func (s *Stream) frame(payload []byte) []byte {
	s.buf = append(s.buf[:0], "data: "...)
	s.buf = append(s.buf, payload...)
	s.buf = append(s.buf, '\n', '\n')
	return s.buf
}

// WriteTo pumps the whole stream to w, flushing after every event when w is an
// http.ResponseWriter (or anything with Flush). It returns at the end of the
// stream, on a broken upstream, or when a write fails (client gone). It does
// not Close the stream and sets no headers: the caller sets
// Content-Type: text/event-stream and the x-tollgate-* headers first.
func (s *Stream) WriteTo(w io.Writer) (int64, error) {
	var rc *http.ResponseController
	flusher, canFlush := w.(interface{ Flush() })
	if rw, ok := w.(http.ResponseWriter); ok && !canFlush {
		rc = http.NewResponseController(rw)
	}
	var total int64
	for {
		ev, err := s.Next()
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		n, werr := w.Write(ev)
		total += int64(n)
		if werr != nil {
			return total, werr
		}
		switch {
		case canFlush:
			flusher.Flush()
		case rc != nil:
			if ferr := rc.Flush(); ferr != nil && !errors.Is(ferr, http.ErrNotSupported) {
				return total, ferr
			}
		}
	}
}

// Close cancels the upstream request if it is still running, releases the
// connection and fixes the final usage. It is idempotent and safe to call from
// another goroutine.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() {
		if s.cancel != nil {
			s.cancel()
		}
		if s.body != nil {
			_ = s.body.Close()
		}
		if s.onClose != nil {
			s.onClose()
		}
	})
	return nil
}

// Usage is the stream's usage. After the stream ended with the upstream's final
// usage chunk it is exactly what the upstream reported. Otherwise (the client
// left early, the upstream broke or never sent usage) it is an estimate: the
// prompt tokens counted by the estimator (or reported at stream start) plus the
// streamed content counted with the same tokenizer, with Estimated set. Call it
// after the consumer stopped reading (typically after Close).
func (s *Stream) Usage() Usage {
	if s.gotUse {
		return s.usage
	}
	u := Usage{PromptTokens: s.promptTokens, Estimated: true}
	if p, ok := s.src.(partialUsager); ok {
		if pu, ok := p.partialUsage(); ok && pu.PromptTokens > 0 {
			u.PromptTokens, u.CachedTokens, u.CacheWriteTokens = pu.PromptTokens, pu.CachedTokens, pu.CacheWriteTokens
		}
	}
	if s.content.Len() > 0 {
		if s.countTokens != nil {
			u.CompletionTokens = s.countTokens(s.content.String())
		} else {
			u.CompletionTokens = upperBoundTokens(s.content.String())
		}
	}
	return u
}
