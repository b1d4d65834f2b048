package routing

import (
	"errors"
	"io"
	"sync/atomic"
)

// sentBodies are the bodies of one upstream request: the first, and those the
// transport asks for (GetBody) to send it again on a fresh connection. The
// transport keeps a request until its answer has been read, minutes for a
// stream, and the body is the whole prompt: each body lets go of its bytes
// once it was read to the end, and sent stops handing out new ones once the
// answer began, so that the prompt is not held for as long as the stream.
type sentBodies struct {
	b   atomic.Pointer[[]byte]
	len int
}

func newSentBodies(b []byte) *sentBodies {
	s := &sentBodies{len: len(b)}
	s.b.Store(&b)
	return s
}

// errBodySent refuses to send a request body again after its answer began.
var errBodySent = errors.New("routing: the request body was already sent")

func (s *sentBodies) get() io.ReadCloser {
	b := s.b.Load()
	if b == nil {
		return &sentBody{}
	}
	return &sentBody{rest: *b}
}

// again is the request's GetBody.
func (s *sentBodies) again() (io.ReadCloser, error) {
	if s.b.Load() == nil {
		return nil, errBodySent
	}
	return s.get(), nil
}

// sent lets go of the bytes: the request got its answer (or failed for good).
func (s *sentBodies) sent() { s.b.Store(nil) }

// sentBody reads a request body once and then lets go of it. Only the
// transport's writer reads it; Close may come from another goroutine and so
// changes nothing.
type sentBody struct{ rest []byte }

func (b *sentBody) Read(p []byte) (int, error) {
	if len(b.rest) == 0 {
		b.rest = nil
		return 0, io.EOF
	}
	n := copy(p, b.rest)
	b.rest = b.rest[n:]
	if len(b.rest) == 0 {
		b.rest = nil
		return n, io.EOF
	}
	return n, nil
}

func (b *sentBody) Close() error { return nil }
