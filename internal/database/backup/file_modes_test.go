package backup

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/database"
)

// requirePrivateTree fails unless root and every directory under it are 0700 and
// every file 0600.
func requirePrivateTree(t *testing.T, root string) {
	t.Helper()
	n := 0
	require.NoError(t, filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		st, err := os.Stat(path)
		require.NoError(t, err)
		want := database.FileMode
		if d.IsDir() {
			want = database.DirMode
		} else {
			n++
		}
		require.Equal(t, want, st.Mode().Perm(), "%s is %v", path, st.Mode().Perm())
		return nil
	}))
	require.NotZero(t, n, "%s holds files", root)
}

// TestBackupAndRestoreFilesArePrivate: a SQLite backup (its folders, database
// copies and manifest), the data folder's lock and the files a restore writes are
// created 0700/0600: a backup holds everything the database does.
func TestBackupAndRestoreFilesArePrivate(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dataDir := filepath.Join(t.TempDir(), "data")
	dbURL := "sqlite://" + filepath.Join(dataDir, "tollgate.db")
	backups := filepath.Join(t.TempDir(), "backups")
	b := setupDB(t, dbURL)
	seedUsage(t, b.registry, "Acme", time.Now(), 1)

	dir, err := Take(ctx, b.db, Config{Dir: backups, Keep: 2, DataDir: dataDir}, time.Now())
	require.NoError(t, err)
	requirePrivateTree(t, backups)

	b.registry.Close()
	require.NoError(t, b.db.Close())
	restoreTo := filepath.Join(t.TempDir(), "restored")
	restored, err := RestoreSQLite(ctx, RestoreInput{From: dir, ControlPath: filepath.Join(restoreTo, "tollgate.db"), DataDir: restoreTo})
	require.NoError(t, err)
	require.Len(t, restored, 2)
	requirePrivateTree(t, restoreTo)
}
