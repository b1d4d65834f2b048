package apikeys

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/tenants"
)

// testBundle is a migrated control database ("sqlite" or "postgres") and a registry on it.
type testBundle struct {
	reg     *tenants.Registry
	db      *database.DB
	dataDir string
}

func setup(t *testing.T, backend string) *testBundle {
	t.Helper()
	var url string
	if backend == "postgres" {
		url = testdb.Postgres(t)
	} else {
		url = testdb.SQLite(t)
	}
	db, err := database.Open(t.Context(), url, database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	logger := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	require.NoError(t, migrations.ControlUp(t.Context(), db.SQL, db.Dialect, logger))
	dataDir := filepath.Dir(database.SQLitePath(url))
	if backend == "postgres" {
		dataDir = t.TempDir()
	}
	reg := tenants.NewRegistry(db, dataDir, logger)
	t.Cleanup(reg.Close)
	return &testBundle{reg: reg, db: db, dataDir: dataDir}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

var backends = []string{"sqlite", "postgres"}
