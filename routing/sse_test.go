package routing

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSSEReaderReadsLinesLongerThanItsBuffer: a data line several times the read
// buffer (a large tool-call chunk) arrives whole, and the events around it too.
func TestSSEReaderReadsLinesLongerThanItsBuffer(t *testing.T) {
	long := strings.Repeat("x", 5*sseReaderSize+17)
	body := "data: first\n\n" +
		"event: delta\r\ndata: " + long + "\r\n\r\n" +
		": keep-alive\n" +
		"data: a\ndata: b\n\n" +
		"data: last"
	r := newSSEReader(strings.NewReader(body))
	type ev struct{ event, data string }
	var got []ev
	for {
		e, d, err := r.next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		got = append(got, ev{string(e), string(d)})
	}
	require.Equal(t, []ev{{"", "first"}, {"delta", long}, {"", "a\nb"}, {"", "last"}}, got)
}
