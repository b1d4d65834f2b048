package database

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// requireMode fails unless path exists with exactly mode's permission bits.
func requireMode(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, mode, st.Mode().Perm(), "%s is %v", path, st.Mode().Perm())
}

// TestSQLiteFilesArePrivate: the data directory a SQLite database is created in is
// 0700, and the database with its -wal and -shm files 0600, for the control
// database and a tenant's own file alike (the umask would make them 0755/0644).
func TestSQLiteFilesArePrivate(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	control := filepath.Join(dataDir, "tollgate.db")
	db, err := Open(t.Context(), "sqlite://"+control, Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, err = db.SQL.ExecContext(t.Context(), "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('x')")
	require.NoError(t, err)

	tenantFile := filepath.Join(dataDir, "tenants", "t_01.db")
	_, s, err := OpenSQLiteFile(t.Context(), tenantFile, 1)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	_, err = s.ExecContext(t.Context(), "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('x')")
	require.NoError(t, err)

	requireMode(t, dataDir, DirMode)
	requireMode(t, filepath.Join(dataDir, "tenants"), DirMode)
	for _, f := range []string{control, tenantFile} {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			requireMode(t, f+suffix, FileMode)
		}
	}
	require.Equal(t, os.FileMode(0o700), DirMode)
	require.Equal(t, os.FileMode(0o600), FileMode)
}

// TestSQLitePageCacheIsBounded: every SQLite connection Tollgate opens (control
// pool, a tenant's own file) caps its page cache at sqliteCacheKiB, not SQLite's
// 2 MiB default, which the ledger's appends would fill on every connection.
func TestSQLitePageCacheIsBounded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db, err := Open(t.Context(), "sqlite://"+filepath.Join(dir, "tollgate.db"), Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, s, err := OpenSQLiteFile(t.Context(), filepath.Join(dir, "tenants", "t_01.db"), 1)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	for _, pool := range []*sql.DB{db.SQL, s} {
		var pages int
		require.NoError(t, pool.QueryRowContext(t.Context(), "PRAGMA cache_size").Scan(&pages))
		require.Equal(t, -sqliteCacheKiB, pages)
	}
}
