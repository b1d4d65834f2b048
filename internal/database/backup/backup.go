// Package backup backs up and restores Tollgate's databases: SQLite files with
// VACUUM INTO (and a manifest), Postgres with pg_dump; a restore checks every path
// it writes; the data folder's lock keeps a restore off a running server.
package backup

import (
	"context"
	"time"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/migrations"
)

// Config says where and how often backups are taken.
type Config struct {
	// Dir is the folder that receives one timestamped folder per backup.
	Dir string
	// Keep is how many backup folders are kept, newest first. Default 7.
	Keep int
	// Interval is the period of scheduled backups; 0 disables the schedule.
	Interval time.Duration
	// DataDir is the self-host data folder: tollgate.db and tenants/*.db (SQLite).
	DataDir string
}

// Take backs up db into cfg.Dir: SQLite files with VACUUM INTO, Postgres with
// pg_dump. It returns the new backup folder.
func Take(ctx context.Context, db *database.DB, cfg Config, now time.Time) (string, error) {
	if db.Dialect == migrations.DialectPostgres {
		return BackupPostgres(ctx, PostgresBackupInput{DatabaseURL: db.URL, Dest: cfg.Dir, Keep: cfg.Keep, Now: now})
	}
	return BackupSQLite(ctx, SQLiteBackupInput{ControlPath: database.SQLitePath(db.URL), DataDir: cfg.DataDir, Dest: cfg.Dir, Keep: cfg.Keep, Now: now})
}
