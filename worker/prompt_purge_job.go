package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/tenants"
)

// promptPurgeInterval is how often kept prompts past their tenant's retention
// are deleted: a prompt outlives retain_prompts_days (or a switch to 0) by at
// most this long.
const promptPurgeInterval = time.Hour

// PromptPurgeArgs deletes, for every tenant, the kept prompts its
// routing policy no longer keeps.
type PromptPurgeArgs struct{}

// Kind is the job's stable kind.
func (PromptPurgeArgs) Kind() string { return KindPromptPurge }

// InsertOpts: one purge pending at a time.
func (PromptPurgeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

// PromptPurgeWorker runs the purge.
type PromptPurgeWorker struct {
	river.WorkerDefaults[PromptPurgeArgs]
	q *Queue
}

// PromptPurgeReport is the job's recorded output: counts only, never content.
type PromptPurgeReport struct {
	// Tenants purged, and the kept prompts deleted across them.
	Tenants int   `json:"tenants"`
	Deleted int64 `json:"deleted"`
}

// Work purges every tenant; one tenant's failure does not stop the
// others and fails the job (retried) once the rest are done.
func (w *PromptPurgeWorker) Work(ctx context.Context, job *river.Job[PromptPurgeArgs]) error {
	ctx = logging.WithJobID(ctx, job.ID)
	out, err := w.q.PurgeKeptPrompts(ctx)
	if out.Deleted > 0 {
		w.q.logger.InfoContext(ctx, "kept prompts past their retention deleted", "tenants", out.Tenants, "deleted", out.Deleted)
	}
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, out)
}

// PurgeKeptPrompts runs Deps.PurgeKeptPrompts for every tenant.
func (q *Queue) PurgeKeptPrompts(ctx context.Context) (PromptPurgeReport, error) {
	var out PromptPurgeReport
	if q.deps.PurgeKeptPrompts == nil {
		return out, nil
	}
	all, err := q.deps.Registry.List(ctx)
	if err != nil {
		return out, err
	}
	now := q.deps.Clock()
	var errs []error
	// Suspended tenants too: retention is a promise about their data, not a
	// service they are refused.
	for _, t := range all {
		h, err := q.deps.Registry.Handle(tenants.SystemPrincipal(t, "prompt_purge"))
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", t.ID, err))
			continue
		}
		n, err := q.deps.PurgeKeptPrompts(ctx, h, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", t.ID, err))
			continue
		}
		out.Tenants++
		out.Deleted += n
	}
	return out, errors.Join(errs...)
}
