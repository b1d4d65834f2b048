package routing

import (
	"bufio"
	"bytes"
	"io"
)

// sseReader reads server-sent events. It reuses its buffers: the returned
// slices are valid until the next call.
type sseReader struct {
	r     *bufio.Reader
	data  []byte
	event []byte
}

// sseReaderSize is the read buffer each in-flight stream holds: chunks are
// usually a few hundred bytes, and a longer line is gathered whole by next, so a
// small buffer costs nothing but memory saved per stream. It is no smaller than
// the transport's read buffer (NewHTTPClient), so its reads bypass that one.
const sseReaderSize = 1 << 10

func newSSEReader(r io.Reader) *sseReader {
	return &sseReader{r: bufio.NewReaderSize(r, sseReaderSize)}
}

// next returns the next event's name (may be empty) and data (data lines joined
// by "\n"). It returns io.EOF when the body ends between events.
func (s *sseReader) next() (event, data []byte, err error) {
	s.data, s.event = s.data[:0], s.event[:0]
	haveData := false
	for {
		line, err := s.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// An over-long line: gather it whole.
			long := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull {
				line, err = s.r.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil && len(line) == 0 {
			if err == io.EOF && haveData {
				return s.event, s.data, nil
			}
			return nil, nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			if haveData || len(s.event) > 0 {
				return s.event, s.data, nil
			}
			continue
		}
		switch {
		case line[0] == ':':
			// comment / keep-alive
		case bytes.HasPrefix(line, []byte("data:")):
			v := bytes.TrimPrefix(line[5:], []byte(" "))
			if haveData {
				s.data = append(s.data, '\n')
			}
			s.data = append(s.data, v...)
			haveData = true
		case bytes.HasPrefix(line, []byte("event:")):
			s.event = append(s.event[:0], bytes.TrimSpace(line[6:])...)
		}
		if err != nil {
			if haveData {
				return s.event, s.data, nil
			}
			return nil, nil, err
		}
	}
}
