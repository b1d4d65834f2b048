package routing

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSentBodyLetsGo: a request body reads whole, again while the answer has
// not begun, and holds no reference to the prompt once read or answered.
func TestSentBodyLetsGo(t *testing.T) {
	s := newSentBodies([]byte(`{"model":"m"}`))
	first := s.get()
	b, err := io.ReadAll(first)
	require.NoError(t, err)
	require.Equal(t, `{"model":"m"}`, string(b))
	require.Nil(t, first.(*sentBody).rest)

	again, err := s.again()
	require.NoError(t, err)
	b, err = io.ReadAll(again)
	require.NoError(t, err)
	require.Equal(t, `{"model":"m"}`, string(b))

	s.sent()
	_, err = s.again()
	require.ErrorIs(t, err, errBodySent)
}
