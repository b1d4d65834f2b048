//go:build unix

package ledger

import (
	"os"
	"syscall"
)

// lockSpoolDir takes the spool directory's exclusive lock without waiting; the
// kernel drops it when the process exits.
func lockSpoolDir(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}
