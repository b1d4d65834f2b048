package worker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/migrations"
)

// Queue is the job queue of one process: a River client over the control-plane
// database, with Tollgate's workers and schedules when it works jobs.
type Queue struct {
	client  Client
	dialect migrations.Dialect
	cfg     Config
	deps    Deps
	logger  *slog.Logger
	metrics *metrics
	close   func()
}

// Open migrates River's tables (idempotent; serialised by an advisory lock on
// Postgres, so many workers may start at once) and returns the queue. With
// cfg.Concurrency 0 the client only enqueues and lists; otherwise call Run.
func Open(ctx context.Context, cfg Config, deps Deps) (*Queue, error) {
	if deps.DB == nil || deps.Logger == nil {
		return nil, errkind.New(errkind.Invalid, "worker.Open: DB and Logger are required")
	}
	if deps.Clock == nil {
		deps.Clock = time.Now
	}
	cfg = cfg.withDefaults()
	q := &Queue{dialect: deps.DB.Dialect, cfg: cfg, deps: deps, logger: deps.Logger.With("component", "worker")}
	q.metrics = newMetrics(deps.Metrics)
	var err error
	switch deps.DB.Dialect {
	case migrations.DialectPostgres:
		err = q.openPostgres(ctx)
	case migrations.DialectSQLite:
		err = q.openSQLite(ctx)
	default:
		err = errkind.New(errkind.Invalid, "worker: unsupported database dialect %q", deps.DB.Dialect)
	}
	if err != nil {
		return nil, err
	}
	return q, nil
}

func (q *Queue) openPostgres(ctx context.Context) error {
	pcfg, err := pgxpool.ParseConfig(q.deps.DB.URL)
	if err != nil {
		return errkind.Wrap(errkind.Invalid, err, "TOLLGATE_DATABASE_URL: not a Postgres URL River can use")
	}
	pcfg.MaxConns = int32(q.cfg.PoolSize)
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return errkind.Wrap(errkind.Unavailable, err, "job queue: cannot connect to Postgres")
	}
	driver := riverpgxv5.New(pool)
	if err := migratePostgres(ctx, pool, driver, q.deps.Logger); err != nil {
		pool.Close()
		return err
	}
	begin := func(ctx context.Context) (pgx.Tx, func(context.Context) error, func(context.Context), error) {
		tx, err := pool.Begin(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		return tx, tx.Commit, func(ctx context.Context) { _ = tx.Rollback(ctx) }, nil
	}
	client, err := river.NewClient(driver, q.riverConfig(fanoutFor[*riverpgxv5.Driver](begin)))
	if err != nil {
		pool.Close()
		return fmt.Errorf("job queue: %w", err)
	}
	q.client, q.close = client, pool.Close
	return nil
}

func (q *Queue) openSQLite(ctx context.Context) error {
	path := database.SQLitePath(q.deps.DB.URL)
	db, err := sql.Open("sqlite3", database.SQLiteDSN(path))
	if err != nil {
		return err
	}
	// One connection: SQLite has one writer, and River's driver expects to own it.
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return errkind.Wrap(errkind.Unavailable, err, "job queue: cannot open %s", path)
	}
	driver := riversqlite.New(db)
	if err := migrate(ctx, driver, q.deps.Logger); err != nil {
		_ = db.Close()
		return err
	}
	begin := func(ctx context.Context) (*sql.Tx, func(context.Context) error, func(context.Context), error) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return nil, nil, nil, err
		}
		return tx, func(context.Context) error { return tx.Commit() }, func(context.Context) { _ = tx.Rollback() }, nil
	}
	client, err := river.NewClient(driver, q.riverConfig(fanoutFor[*riversqlite.Driver](begin)))
	if err != nil {
		_ = db.Close()
		return fmt.Errorf("job queue: %w", err)
	}
	q.client, q.close = client, func() { _ = db.Close() }
	return nil
}

// riverConfig is the client configuration: workers and queue only when this
// process works jobs, schedules only when asked for.
func (q *Queue) riverConfig(fan fanoutFunc) *river.Config {
	c := &river.Config{
		Logger:            q.deps.Logger.With("component", "worker.river"),
		FetchPollInterval: q.cfg.FetchPollInterval,
		FetchCooldown:     min(100*time.Millisecond, q.cfg.FetchPollInterval),
		// River's default retry policy: exponential backoff (attempt^4 seconds) up to MaxAttempts.
		MaxAttempts: 25,
	}
	if q.cfg.Concurrency <= 0 {
		return c
	}
	c.Workers = q.workers(fan)
	c.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: q.cfg.Concurrency}}
	if q.cfg.Periodic {
		c.PeriodicJobs = q.periodicJobs()
	}
	return c
}

// Client returns the River client, for enqueueing and listing.
func (q *Queue) Client() Client { return q.client }

// Dialect returns the database the queue lives in.
func (q *Queue) Dialect() migrations.Dialect { return q.dialect }

// Run works jobs until ctx is cancelled, then stops fetching and gives running
// jobs up to grace to finish before cancelling them.
func (q *Queue) Run(ctx context.Context, grace time.Duration) error {
	if q.cfg.Concurrency <= 0 {
		return errkind.New(errkind.Invalid, "worker: an insert-only queue cannot run jobs (Concurrency is 0)")
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	q.logger.InfoContext(ctx, "worker started", "database", string(q.dialect), "concurrency", q.cfg.Concurrency, "periodic", q.cfg.Periodic)
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := q.client.Stop(stopCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	q.logger.InfoContext(stopCtx, "worker stopped")
	return nil
}

// Close releases the queue's database pool. Stop the worker (Run returns) first.
func (q *Queue) Close() {
	if q.close != nil {
		q.close()
	}
}

// fanoutFunc enqueues jobs and completes the running job that enqueued them in
// one transaction: either every job is in and the parent is done, or neither.
type fanoutFunc func(ctx context.Context, parent *rivertype.JobRow, params []river.InsertManyParams) (int, error)

// fanoutFor builds a fanoutFunc for one driver; begin opens a transaction on the
// queue's pool and returns it with its commit and rollback.
func fanoutFor[TDriver riverdriver.Driver[TTx], TTx any](begin func(context.Context) (TTx, func(context.Context) error, func(context.Context), error)) fanoutFunc {
	return func(ctx context.Context, parent *rivertype.JobRow, params []river.InsertManyParams) (int, error) {
		client, err := river.ClientFromContextSafely[TTx](ctx)
		if err != nil {
			return 0, err
		}
		tx, commit, rollback, err := begin(ctx)
		if err != nil {
			return 0, err
		}
		defer rollback(ctx)
		inserted := 0
		if len(params) > 0 {
			res, err := client.InsertManyTx(ctx, tx, params)
			if err != nil {
				return 0, err
			}
			for _, r := range res {
				if !r.UniqueSkippedAsDuplicate {
					inserted++
				}
			}
		}
		if _, err := river.JobCompleteTx[TDriver](ctx, tx, &river.Job[fanoutArgs]{JobRow: parent}); err != nil {
			return 0, err
		}
		return inserted, commit(ctx)
	}
}

// fanoutArgs lets JobCompleteTx decode any schedule job's args (all are objects).
type fanoutArgs struct{}

func (fanoutArgs) Kind() string { return "fanout" }
