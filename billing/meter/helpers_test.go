package meter_test

import (
	"context"
	"strconv"
	"testing"
)

// contextWithCancel derives a cancelable context from the test's, for loops that
// must stop before the test's cleanup runs.
func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}

func itoa(i int) string { return strconv.Itoa(i) }
