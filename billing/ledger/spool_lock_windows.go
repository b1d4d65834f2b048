//go:build windows

package ledger

import (
	"os"

	"golang.org/x/sys/windows"
)

// lockSpoolDir takes the spool directory's exclusive lock without waiting
// (LockFileEx); Windows drops it when the process exits.
func lockSpoolDir(f *os.File) error {
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, new(windows.Overlapped))
}
