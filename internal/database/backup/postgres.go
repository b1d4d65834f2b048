package backup

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// ErrPgDumpMissing means pg_dump is not on PATH; the Postgres backup is skipped.
var ErrPgDumpMissing = errors.New("pg_dump not found on PATH; Postgres backup skipped (install the postgresql-client package, or back up with your provider's snapshots)")

// pgDumpFile is the dump's file name inside its backup folder.
const pgDumpFile = "tollgate.pgdump"

// PgDumpCommand returns pg_dump's arguments (after the program name) and extra
// environment for dumping databaseURL to outFile in the custom format (restore
// with pg_restore). The password moves from the URL to PGPASSWORD, so it never
// shows in the process list.
func PgDumpCommand(databaseURL, outFile string) ([]string, []string, error) {
	u, err := url.Parse(databaseURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, nil, errkind.New(errkind.Invalid, "pg_dump: not a postgres:// URL")
	}
	var env []string
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			env = append(env, "PGPASSWORD="+pw)
			u.User = url.User(u.User.Username())
		}
	}
	return []string{"--format=custom", "--no-owner", "--no-privileges", "--file=" + outFile, "--dbname=" + u.String()}, env, nil
}

// PostgresBackupInput is what BackupPostgres dumps and where.
type PostgresBackupInput struct {
	DatabaseURL string
	// Dest is the folder receiving the timestamped backup folder.
	Dest string
	// Keep is how many backup folders to keep, newest first; 0 keeps all.
	Keep int
	Now  time.Time
}

// BackupPostgres runs pg_dump --format=custom of the whole database (control
// schema, every tenant schema and River's tables) into Dest/<UTC timestamp>/,
// atomically like BackupSQLite. Without pg_dump on PATH it returns
// ErrPgDumpMissing.
func BackupPostgres(ctx context.Context, in PostgresBackupInput) (string, error) {
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		return "", ErrPgDumpMissing
	}
	stamp := in.Now.UTC().Format(backupStampLayout)
	final := filepath.Join(in.Dest, stamp)
	tmp := filepath.Join(in.Dest, ".tmp-"+stamp)
	if err := os.MkdirAll(tmp, database.DirMode); err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	// pg_dump writes into an existing file without changing its mode.
	if err := createPrivate(filepath.Join(tmp, pgDumpFile)); err != nil {
		return "", err
	}
	args, env, err := PgDumpCommand(in.DatabaseURL, filepath.Join(tmp, pgDumpFile))
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("pg_dump: %w: %s", err, out)
	}
	if err := writeManifest(tmp, Manifest{CreatedAt: in.Now.UTC(), Kind: "postgres", Files: []string{pgDumpFile}}); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", err
	}
	return final, PruneBackups(in.Dest, in.Keep)
}
