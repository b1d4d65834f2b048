package worker

import (
	"context"

	"github.com/riverqueue/river"

	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/tenants"
)

// ReconcileScheduleArgs enqueues one reconcile per active tenant.
type ReconcileScheduleArgs struct{}

// Kind is the job's stable kind.
func (ReconcileScheduleArgs) Kind() string { return KindReconcileSchedule }

// ReconcileScheduleWorker fans out the reconciles.
type ReconcileScheduleWorker struct {
	river.WorkerDefaults[ReconcileScheduleArgs]
	q   *Queue
	fan fanoutFunc
}

// Work inserts the reconciles and completes itself in one transaction.
func (w *ReconcileScheduleWorker) Work(ctx context.Context, job *river.Job[ReconcileScheduleArgs]) error {
	ctx = logging.WithJobID(ctx, job.ID)
	params, err := w.q.perActiveTenant(ctx, func(t tenants.Tenant) river.JobArgs { return ReconcileArgs{TenantID: string(t.ID)} })
	if err != nil {
		return err
	}
	n, err := w.fan(ctx, job.JobRow, params)
	if err != nil {
		return err
	}
	w.q.logger.DebugContext(ctx, "reconciles enqueued", "tenants", len(params), "new", n)
	return nil
}
