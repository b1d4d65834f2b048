//go:build !unix

package backup

import (
	"errors"
	"os"
)

var errWouldBlock = errors.New("would block")

// flock is a no-op where flock(2) does not exist: restore then relies on the
// operator stopping the server first, as documented.
func flock(*os.File, bool) error { return nil }
