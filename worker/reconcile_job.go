package worker

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
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

// ReconcileRow is one budget counter as the reconcile saw it, recorded in the
// job's output (and so visible in `tollgate jobs list` and GET /api/v1/jobs).
type ReconcileRow struct {
	BudgetID  string `json:"budget_id"`
	Scope     string `json:"scope"`
	ScopeID   string `json:"scope_id,omitempty"`
	Period    string `json:"period"`
	PeriodKey string `json:"period_key"`
	// LedgerNano is the ledger's spend in the period, nano-USD.
	LedgerNano int64 `json:"ledger_nano"`
	// CounterNano is the meter's spent counter, nano-USD (absent without a meter).
	CounterNano *int64 `json:"counter_nano,omitempty"`
	// DeltaNano is CounterNano − LedgerNano, nano-USD.
	DeltaNano int64 `json:"delta_nano"`
}

// ReconcileOutput is the job's recorded output.
type ReconcileOutput struct {
	Meter   bool           `json:"meter"`
	Drift   bool           `json:"drift"`
	Rebuilt bool           `json:"rebuilt"`
	Rows    []ReconcileRow `json:"rows"`
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
// Caveat: usage still in an API replica's ledger spool (normally under a second)
// shows as positive drift; the rebuild then briefly under-counts until the next
// settle, which is why reconcile runs every few minutes rather than continuously.
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
	out, err := Reconcile(ctx, h, w.q.deps.Meter, w.q.deps.Clock())
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
		w.q.logger.WarnContext(ctx, "meter drift corrected from the ledger", "counters", len(out.Rows), "rebuilt", out.Rebuilt)
	}
	return river.RecordOutput(ctx, out)
}

// Reconcile compares the tenant's ledger with m for every budget's current
// period and rebuilds m's counters when any differs. m nil only reports the
// ledger side.
func Reconcile(ctx context.Context, h *tenants.Handle, m meter.Meter, now time.Time) (ReconcileOutput, error) {
	budgets, err := budget.List(ctx, h)
	if err != nil {
		return ReconcileOutput{}, err
	}
	out := ReconcileOutput{Meter: m != nil, Rows: []ReconcileRow{}}
	totals, err := ledger.CounterTotals(ctx, h, budgets, now)
	if err != nil {
		return out, err
	}
	for i, b := range budgets {
		out.Rows = append(out.Rows, ReconcileRow{BudgetID: b.ID, Scope: string(b.Scope), ScopeID: b.ScopeID, Period: string(b.Period),
			PeriodKey: totals[i].PeriodKey, LedgerNano: int64(totals[i].Spent)})
	}
	if m == nil || len(totals) == 0 {
		return out, nil
	}
	tenantID := string(h.TenantID())
	drift, err := meter.Drift(ctx, m, tenantID, totals)
	if err != nil {
		return out, err
	}
	for i, d := range drift {
		c := int64(d.Counter)
		out.Rows[i].CounterNano, out.Rows[i].DeltaNano = &c, int64(d.Delta)
		if d.Delta != 0 {
			out.Drift = true
		}
	}
	if out.Drift {
		if err := m.Rebuild(ctx, tenantID, totals); err != nil {
			return out, err
		}
		out.Rebuilt = true
	}
	return out, nil
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
