// Package database opens the control-plane database from a URL: SQLite (WAL, busy
// timeout, foreign keys) or Postgres (pgx, pooled). It is plumbing only: which rows
// live where is the business of the domain packages.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/migrations"
)

// Options configure a pool.
type Options struct {
	// MaxOpenConns caps open connections; 0 means 10 for Postgres, 4 for SQLite.
	MaxOpenConns int
	// MaxIdleConns caps idle connections; 0 means MaxOpenConns.
	MaxIdleConns int
}

// DB is an open database with its dialect.
type DB struct {
	Gorm    *gorm.DB
	SQL     *sql.DB
	Dialect migrations.Dialect
	// URL is the URL it was opened from (may hold a password: never log it).
	URL string
}

// Open connects to the database named by rawURL and checks it answers. A database
// that is down gives an Unavailable error whose message says which URL to check.
func Open(ctx context.Context, rawURL string, opts Options) (*DB, error) {
	var (
		dialector gorm.Dialector
		dialect   migrations.Dialect
	)
	switch {
	case strings.HasPrefix(rawURL, "sqlite:"):
		path := SQLitePath(rawURL)
		if err := PrepareSQLiteFile(path); err != nil {
			return nil, errkind.Wrap(errkind.Unavailable, err, "cannot create the database file %s", path)
		}
		dialector = sqlite.Open(SQLiteDSN(path))
		dialect = migrations.DialectSQLite
		if opts.MaxOpenConns == 0 {
			opts.MaxOpenConns = 4
		}
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		dialector = postgres.New(postgres.Config{DSN: rawURL})
		dialect = migrations.DialectPostgres
		if opts.MaxOpenConns == 0 {
			opts.MaxOpenConns = 10
		}
	default:
		return nil, errkind.New(errkind.Invalid, "TOLLGATE_DATABASE_URL: unsupported database URL (use sqlite://path or postgres://...)")
	}
	if opts.MaxIdleConns == 0 || opts.MaxIdleConns > opts.MaxOpenConns {
		opts.MaxIdleConns = opts.MaxOpenConns
	}
	g, err := gorm.Open(dialector, &gorm.Config{
		Logger:                 gormlogger.Discard,
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
	})
	if err != nil {
		return nil, errkind.Wrap(errkind.Unavailable, rootCause(err), "database %s is not reachable (is it running? check TOLLGATE_DATABASE_URL)", Redact(rawURL))
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(opts.MaxOpenConns)
	sqlDB.SetMaxIdleConns(opts.MaxIdleConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	// A Postgres backend caches the catalog entries of every relation it touched and
	// never drops them: with schema-per-tenant that is ~65 KB per tenant served, so
	// a pooled connection that served 3,000 tenants holds ~200 MB (docs/scale.md).
	// Recycling connections bounds it to the tenants served in 10 minutes, at the
	// cost of one reconnect per connection every 10 minutes.
	sqlDB.SetConnMaxLifetime(10 * time.Minute)
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, errkind.Wrap(errkind.Unavailable, rootCause(err), "database %s is not reachable (is it running? check TOLLGATE_DATABASE_URL)", Redact(rawURL))
	}
	return &DB{Gorm: g, SQL: sqlDB, Dialect: dialect, URL: rawURL}, nil
}

// Close closes the pool.
func (d *DB) Close() error { return d.SQL.Close() }

// OpenSQLiteFile opens one more SQLite file with the same settings, for a tenant's
// own database file in SQLite mode.
func OpenSQLiteFile(ctx context.Context, path string, maxOpen int) (*gorm.DB, *sql.DB, error) {
	if err := PrepareSQLiteFile(path); err != nil {
		return nil, nil, err
	}
	g, err := gorm.Open(sqlite.Open(SQLiteDSN(path)), &gorm.Config{Logger: gormlogger.Discard, SkipDefaultTransaction: true})
	if err != nil {
		return nil, nil, err
	}
	s, err := g.DB()
	if err != nil {
		return nil, nil, err
	}
	if maxOpen <= 0 {
		maxOpen = 4
	}
	s.SetMaxOpenConns(maxOpen)
	s.SetMaxIdleConns(maxOpen)
	if err := s.PingContext(ctx); err != nil {
		_ = s.Close()
		return nil, nil, err
	}
	return g, s, nil
}

// Modes of the files and directories Tollgate creates: they hold usage, hashed
// keys, sealed secrets and backups of them, for the service's user alone.
const (
	// DirMode is the mode of created directories (data, tenants, backups, spool).
	DirMode os.FileMode = 0o700
	// FileMode is the mode of created files (databases, backups, spool segments).
	FileMode os.FileMode = 0o600
)

// PrepareSQLiteFile creates path's directory (DirMode) and an empty database file
// (FileMode) when they are missing. SQLite creates its -wal and -shm files with the
// database file's mode, so all three stay private whatever the umask. An
// in-memory path is left alone.
func PrepareSQLiteFile(path string) error {
	if path == "" || strings.HasPrefix(path, ":memory:") || strings.Contains(path, "mode=memory") {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), DirMode); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, FileMode)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// SQLitePath returns the file path of a sqlite: URL.
func SQLitePath(rawURL string) string {
	p := strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite://"), "sqlite:")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p
}

// SQLiteDSN is the mattn DSN with the pragmas Tollgate relies on: WAL so readers do
// not block the writer, a busy timeout instead of immediate SQLITE_BUSY, immediate
// write transactions so two writers queue instead of deadlocking, foreign keys, and
// a page cache of sqliteCacheKiB per connection.
func SQLiteDSN(path string) string {
	return fmt.Sprintf("file:%s?_journal_mode=WAL&_busy_timeout=10000&_foreign_keys=on&_synchronous=NORMAL&_txlock=immediate&_cache_size=-%d", path, sqliteCacheKiB)
}

// sqliteCacheKiB bounds each connection's page cache (SQLite's default is 2 MiB).
// Self-host keeps up to nine connections (control pool, tenant file pool, job
// queue), and the ledger's appends fill the writer's cache with pages it never
// reads again, so at the default the C heap grew by megabytes under load. A page
// that falls out is read back from the OS's file cache, not the disk.
const sqliteCacheKiB = 512

// Redact hides the password of a database URL.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil {
		return rawURL
	}
	return u.Redacted()
}

// IsUniqueViolation reports whether err is a unique-constraint violation on either
// backend, so stores can turn it into a Conflict.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var liteErr sqlite3.Error
	if errors.As(err, &liteErr) {
		return liteErr.ExtendedCode == sqlite3.ErrConstraintUnique || liteErr.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	return errors.Is(err, gorm.ErrDuplicatedKey)
}

// rootCause shortens a driver's multi-line connection error to its last line
// ("dial tcp 127.0.0.1:5432: connect: connection refused"), so the CLI prints one line.
func rootCause(err error) error {
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if i := strings.LastIndex(last, "dial error: "); i >= 0 {
		last = last[i+len("dial error: "):]
	}
	return errors.New(last)
}
