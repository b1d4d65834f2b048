package backup

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// lockFileName is the lock file in the data folder. Processes that use the
// SQLite databases (serve, worker) hold a shared lock on it; restore takes an
// exclusive one, so it refuses to replace files under a running server.
const lockFileName = ".tollgate.lock"

// ErrDataDirInUse means another process holds the data folder.
var ErrDataDirInUse = errors.New("the data folder is in use by a running tollgate (serve or worker); stop it first")

// LockDataDir takes a shared (exclusive=false) or exclusive lock on dataDir's
// lock file without waiting, and returns its release. The lock is advisory
// (flock) and dies with the process.
func LockDataDir(dataDir string, exclusive bool) (func(), error) {
	if err := os.MkdirAll(dataDir, database.DirMode); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dataDir, lockFileName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := flock(f, exclusive); err != nil {
		_ = f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, errkind.Wrap(errkind.Conflict, ErrDataDirInUse, "cannot lock %s", dataDir)
		}
		return nil, err
	}
	return func() { _ = f.Close() }, nil
}
