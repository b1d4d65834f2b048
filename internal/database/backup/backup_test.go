package backup

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/tenants"
)

func TestSQLiteBackupAndRestore(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dataDir := t.TempDir()
	dbURL := "sqlite://" + filepath.Join(dataDir, "tollgate.db")
	backups := filepath.Join(dataDir, "backups")

	// Given tenants with usage,
	b := setupDB(t, dbURL)
	var want []tenants.Tenant
	for _, name := range []string{"Acme", "Globex"} {
		tn, _ := seedUsage(t, b.registry, name, time.Now(), 4)
		want = append(want, tn)
	}
	// when backed up (three times, keeping two),
	var dir string
	for i := range 3 {
		var err error
		dir, err = Take(ctx, b.db, Config{Dir: backups, Keep: 2, DataDir: dataDir}, time.Date(2026, 2, 1, 0, 0, i, 0, time.UTC))
		require.NoError(t, err)
	}
	all, err := ListBackups(backups)
	require.NoError(t, err)
	require.Equal(t, []string{dir, filepath.Join(backups, "20260201T000001Z")}, all)
	m, err := ReadManifest(dir)
	require.NoError(t, err)
	require.Len(t, m.Files, 3)

	// restore refuses while a server holds the data folder,
	unlock, err := LockDataDir(dataDir, false)
	require.NoError(t, err)
	_, err = RestoreSQLite(ctx, RestoreInput{From: dir, ControlPath: filepath.Join(dataDir, "tollgate.db"), DataDir: dataDir})
	require.ErrorIs(t, err, errkind.Conflict)
	unlock()

	// and after the server stops and the data is wiped,
	b.registry.Close()
	require.NoError(t, b.db.Close())
	for _, pattern := range []string{"tollgate.db*", "tenants/*"} {
		files, _ := filepath.Glob(filepath.Join(dataDir, pattern))
		for _, f := range files {
			require.NoError(t, os.Remove(f))
		}
	}
	restored, err := RestoreSQLite(ctx, RestoreInput{From: dir, ControlPath: filepath.Join(dataDir, "tollgate.db"), DataDir: dataDir})
	require.NoError(t, err)
	require.Len(t, restored, 3)

	// then the same tenants and usage are back.
	db, err := database.Open(ctx, dbURL, database.Options{})
	require.NoError(t, err)
	defer db.Close()
	reg := tenants.NewRegistry(db, dataDir, testLogger(t))
	defer reg.Close()
	got, err := reg.List(ctx)
	require.NoError(t, err)
	require.Len(t, got, 2)
	for i, tn := range want {
		require.Equal(t, tn.ID, got[i].ID)
		h, err := reg.Handle(tenants.SystemPrincipal(got[i], "test"))
		require.NoError(t, err)
		tot, err := ledger.EventTotals(ctx, h, time.Time{})
		require.NoError(t, err)
		require.EqualValues(t, 4, tot.Requests)
		require.EqualValues(t, 10_000_000, tot.Cost)
	}
}

func TestPgDumpCommand(t *testing.T) {
	t.Parallel()
	args, env, err := PgDumpCommand("postgres://tollgate:s3cret@db:5432/tollgate?sslmode=require", "/backups/x/tollgate.pgdump")
	require.NoError(t, err)
	require.Equal(t, []string{"--format=custom", "--no-owner", "--no-privileges", "--file=/backups/x/tollgate.pgdump",
		"--dbname=postgres://tollgate@db:5432/tollgate?sslmode=require"}, args)
	require.Equal(t, []string{"PGPASSWORD=s3cret"}, env)
	for _, a := range args {
		require.NotContains(t, a, "s3cret")
	}
	_, _, err = PgDumpCommand("sqlite://x.db", "f")
	require.Error(t, err)
}

func TestPostgresBackupRestores(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("pg_restore"); err != nil {
		testdb.Unavailable(t, "pg_restore (apt-get install postgresql-client)", err)
	}
	ctx := t.Context()
	src := setupDB(t, testdb.Postgres(t))
	tn, _ := seedUsage(t, src.registry, "Acme", time.Now(), 3)

	dir, err := Take(ctx, src.db, Config{Dir: t.TempDir(), Keep: 7}, time.Now())
	if err != nil && strings.Contains(err.Error(), "pg_dump not found") {
		testdb.Unavailable(t, "pg_dump (apt-get install postgresql-client)", err)
	}
	require.NoError(t, err)
	dump := filepath.Join(dir, pgDumpFile)
	// The dump holds every tenant's data: private like the folder it is in.
	requirePrivateTree(t, dir)

	// pg_restore into a fresh database gives back the tenant and its usage.
	dstURL := testdb.Postgres(t)
	out, err := exec.CommandContext(ctx, "pg_restore", "--no-owner", "--exit-on-error", "--dbname="+dstURL, dump).CombinedOutput()
	require.NoError(t, err, string(out))
	db, err := sql.Open("pgx", dstURL)
	require.NoError(t, err)
	defer db.Close()
	var name string
	require.NoError(t, db.QueryRowContext(ctx, "SELECT name FROM tenants WHERE id = $1", string(tn.ID)).Scan(&name))
	require.Equal(t, "Acme", name)
	var n int
	require.NoError(t, db.QueryRowContext(ctx, `SELECT count(*) FROM "`+tn.SchemaName+`".usage_events`).Scan(&n))
	require.Equal(t, 3, n)
	_ = migrations.DialectPostgres
	_ = context.Background
}
