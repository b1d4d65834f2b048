package testdb

import (
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/migrations"
)

// Backends are the databases every store test runs on.
var Backends = []string{"sqlite", "postgres"}

// ControlDB opens a fresh control-plane database on backend ("sqlite" or
// "postgres"), applies the control migrations, closes it when the test ends, and
// returns it with the directory tenant files go to (the SQLite file's, or a temp
// dir on Postgres).
func ControlDB(t *testing.T, backend string, logger *slog.Logger) (*database.DB, string) {
	t.Helper()
	url := SQLite(t)
	if backend == "postgres" {
		url = Postgres(t)
	}
	db, err := database.Open(t.Context(), url, database.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", backend, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := migrations.ControlUp(t.Context(), db.SQL, db.Dialect, logger); err != nil {
		t.Fatalf("control migrations on %s: %v", backend, err)
	}
	if backend == "postgres" {
		return db, t.TempDir()
	}
	return db, filepath.Dir(database.SQLitePath(url))
}

// Logger is a logger that writes through t.Log.
func Logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(logWriter{t}, nil))
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
