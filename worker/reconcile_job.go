package worker

import (
	"context"

	"github.com/riverqueue/river"

	"github.com/tollgate-dev/tollgate/billing/reconcile"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/tenants"
)

// ReconcileArgs compares one tenant's ledger with the meter's budget counters.
type ReconcileArgs struct {
	TenantID string `json:"tenant_id"`
}

// Kind is the job's stable kind.
func (ReconcileArgs) Kind() string { return KindReconcile }

// InsertOpts: one reconcile per tenant pending at a time; a failed one is not
// retried for long, the next schedule comes soon.
func (ReconcileArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true,
		ByState: pendingStates}}
}

// ReconcileWorker runs a reconcile.
type ReconcileWorker struct {
	river.WorkerDefaults[ReconcileArgs]
	q *Queue
}

// Work computes the ledger's current-period spend per budget counter (tenant,
// key or member × day or month), compares it with the meter and, on any drift,
// rebuilds the counters from the ledger, logs it and counts it in
// tollgate_reconcile_drift_total.
//
// Only counters below the ledger are raised. A counter above it (usage still in an
// API replica's ledger spool or lease, or spend counted twice around a Redis
// recovery) is reported, never lowered: lowering it could let a hard budget pass.
func (w *ReconcileWorker) Work(ctx context.Context, job *river.Job[ReconcileArgs]) error {
	ctx = logging.WithJobID(logging.WithTenantID(ctx, job.Args.TenantID), job.ID)
	t, err := w.q.deps.Registry.Get(ctx, job.Args.TenantID)
	if err != nil {
		return cancelIfPermanent(err)
	}
	h, err := w.q.deps.Registry.Handle(tenants.SystemPrincipal(t, "reconcile"))
	if err != nil {
		return river.JobCancel(err)
	}
	out, err := reconcile.Tenant(ctx, h, w.q.deps.Meter, w.q.deps.Clock())
	if err != nil {
		return err
	}
	if out.Drift {
		byScope := map[string]int64{}
		for _, r := range out.Rows {
			if r.DeltaNano != 0 {
				byScope[r.Scope] += abs(r.DeltaNano)
			}
		}
		for scope, nano := range byScope {
			w.q.metrics.drift.WithLabelValues(scope).Inc()
			w.q.metrics.driftNano.WithLabelValues(scope).Set(float64(nano))
		}
		w.q.logger.WarnContext(ctx, "meter drift against the ledger (counters below it are raised, never lowered)", "counters", len(out.Rows), "rebuilt", out.Rebuilt)
	}
	return river.RecordOutput(ctx, out)
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
