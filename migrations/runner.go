package migrations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

func gooseDialect(d Dialect) (goose.Dialect, database.Dialect) {
	if d == DialectPostgres {
		return goose.DialectPostgres, database.DialectPostgres
	}
	return goose.DialectSQLite3, database.DialectSQLite3
}

// ControlUp applies pending control-plane migrations. On Postgres it holds goose's
// advisory session lock so concurrent starts (many replicas) migrate once.
func ControlUp(ctx context.Context, db *sql.DB, d Dialect, logger *slog.Logger) error {
	p, err := controlProvider(db, d)
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	for _, r := range results {
		logger.InfoContext(ctx, "control migration applied", "version", r.Source.Version, "duration", r.Duration)
	}
	if err != nil {
		return fmt.Errorf("control migrations: %w", err)
	}
	return nil
}

// ControlVersion returns the applied and the latest control-plane versions.
func ControlVersion(ctx context.Context, db *sql.DB, d Dialect) (current, latest int64, err error) {
	p, err := controlProvider(db, d)
	if err != nil {
		return 0, 0, err
	}
	return p.GetVersions(ctx)
}

func controlProvider(db *sql.DB, d Dialect) (*goose.Provider, error) {
	gd, _ := gooseDialect(d)
	var opts []goose.ProviderOption
	if d == DialectPostgres {
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(gd, db, FS(d, SetControl), opts...)
}

// DBTx is what tenant migrations run on: a *sql.Tx in practice.
type DBTx = database.DBTxConn

// TenantVersion returns the tenant set's applied version in the schema or file q
// points at, 0 when no migration ran yet.
func TenantVersion(ctx context.Context, q DBTx, d Dialect) (int64, error) {
	_, dd := gooseDialect(d)
	store, err := database.NewStore(dd, VersionTable)
	if err != nil {
		return 0, err
	}
	exists, err := tableExists(ctx, q, d)
	if err != nil || !exists {
		return 0, err
	}
	v, err := store.GetLatestVersion(ctx, q)
	if errors.Is(err, database.ErrVersionNotFound) {
		return 0, nil
	}
	return v, err
}

// TenantUp applies every pending tenant migration on tx, which must already point at
// the tenant's schema (Postgres: SET LOCAL search_path) or file (SQLite). It returns
// the versions before and after. The caller commits; a failure rolls back all of it,
// so a tenant is never left half-migrated.
func TenantUp(ctx context.Context, tx DBTx, d Dialect) (from, to int64, err error) {
	ms, err := Load(d, SetTenant)
	if err != nil {
		return 0, 0, err
	}
	return TenantUpWith(ctx, tx, d, ms)
}

// TenantUpWith is TenantUp over an explicit, version-sorted migration list. The
// benchmark of "one new tenant migration across 1,000 tenants" appends one to the
// embedded set with it.
func TenantUpWith(ctx context.Context, tx DBTx, d Dialect, ms []Migration) (from, to int64, err error) {
	_, dd := gooseDialect(d)
	store, err := database.NewStore(dd, VersionTable)
	if err != nil {
		return 0, 0, err
	}
	exists, err := tableExists(ctx, tx, d)
	if err != nil {
		return 0, 0, err
	}
	if !exists {
		if err := store.CreateVersionTable(ctx, tx); err != nil {
			return 0, 0, fmt.Errorf("create version table: %w", err)
		}
		if err := store.Insert(ctx, tx, database.InsertRequest{Version: 0}); err != nil {
			return 0, 0, err
		}
	} else if from, err = store.GetLatestVersion(ctx, tx); err != nil && !errors.Is(err, database.ErrVersionNotFound) {
		return 0, 0, err
	}
	to = from
	for _, m := range ms {
		if m.Version <= from {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.Up); err != nil {
			return from, to, fmt.Errorf("tenant migration %s: %w", m.Name, err)
		}
		if err := store.Insert(ctx, tx, database.InsertRequest{Version: m.Version}); err != nil {
			return from, to, err
		}
		to = m.Version
	}
	return from, to, nil
}

func tableExists(ctx context.Context, q DBTx, d Dialect) (bool, error) {
	var n int
	var err error
	if d == DialectPostgres {
		// to_regclass resolves through the current search_path, i.e. the tenant schema.
		err = q.QueryRowContext(ctx, `SELECT count(*) FROM pg_catalog.pg_class c
			JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relname = $1 AND n.nspname = current_schema()`, VersionTable).Scan(&n)
	} else {
		err = q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?`, VersionTable).Scan(&n)
	}
	return n > 0, err
}
