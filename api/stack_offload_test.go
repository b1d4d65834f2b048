package api

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOffStack(t *testing.T) {
	v, err := offStack(func() (int, error) { return 7, errors.New("e") })
	require.Equal(t, 7, v)
	require.EqualError(t, err, "e")

	// A panic reaches the caller's goroutine, where the recovery middleware is.
	require.PanicsWithValue(t, http.ErrAbortHandler, func() {
		_, _ = offStack(func() (int, error) { panic(http.ErrAbortHandler) })
	})
	func() {
		defer func() {
			r := recover()
			require.NotNil(t, r)
			require.Contains(t, r, "boom")
			require.Contains(t, r, "TestOffStack")
		}()
		_, _ = offStack(func() (int, error) { panic("boom") })
	}()
}
