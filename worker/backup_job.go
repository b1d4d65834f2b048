package worker

import (
	"context"
	"errors"

	"github.com/riverqueue/river"

	"github.com/tollgate-dev/tollgate/internal/database/backup"
	"github.com/tollgate-dev/tollgate/internal/logging"
)

// BackupArgs takes one backup of the databases.
type BackupArgs struct{}

// Kind is the job's stable kind.
func (BackupArgs) Kind() string { return KindBackup }

// InsertOpts: one backup pending at a time; a failed backup retries a few times.
func (BackupArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true,
		ByState: pendingStates}}
}

// BackupWorker takes the backup.
type BackupWorker struct {
	river.WorkerDefaults[BackupArgs]
	q *Queue
}

// Work backs up SQLite with VACUUM INTO, or Postgres with pg_dump (skipped with a
// log line when pg_dump is not installed), keeping the newest Backup.Keep.
func (w *BackupWorker) Work(ctx context.Context, job *river.Job[BackupArgs]) error {
	ctx = logging.WithJobID(ctx, job.ID)
	dir, err := w.q.Backup(ctx)
	if errors.Is(err, backup.ErrPgDumpMissing) {
		w.q.logger.WarnContext(ctx, "backup skipped", "reason", err.Error())
		return river.RecordOutput(ctx, map[string]string{"outcome": "skipped", "reason": err.Error()})
	}
	if err != nil {
		return err
	}
	w.q.logger.InfoContext(ctx, "backup written", "dir", dir)
	return river.RecordOutput(ctx, map[string]string{"outcome": "written", "dir": dir})
}

// Backup takes a backup now into the configured folder and returns its path.
func (q *Queue) Backup(ctx context.Context) (string, error) {
	return backup.Take(ctx, q.deps.DB, q.cfg.Backup, q.deps.Clock())
}
