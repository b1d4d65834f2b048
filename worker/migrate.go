package worker

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// migrateLockKey is the Postgres advisory lock that serialises River migrations
// when several workers start at once ("tollgate.river" as an int64).
const migrateLockKey int64 = 0x746f6c6c72697665

// migratePostgres applies River's migrations under an advisory lock.
func migratePostgres[TTx any](ctx context.Context, pool *pgxpool.Pool, driver riverdriver.Driver[TTx], logger *slog.Logger) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return errkind.Wrap(errkind.Unavailable, err, "job queue: cannot connect to Postgres")
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
		return fmt.Errorf("river migrate lock: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockKey) }()
	return migrate(ctx, driver, logger)
}

// migrate applies River's pending migrations to the queue's database (Postgres:
// the public schema, through search_path; SQLite: the control-plane file).
func migrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], logger *slog.Logger) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: logger.With("component", "worker.rivermigrate")})
	if err != nil {
		return fmt.Errorf("river migrate: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("river migrate: %w", err)
	}
	for _, v := range res.Versions {
		logger.InfoContext(ctx, "river migration applied", "version", v.Version, "name", v.Name, "duration", v.Duration)
	}
	return nil
}
