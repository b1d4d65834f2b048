package worker

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/tenants"
)

// InvoiceScheduleArgs enqueues one invoice run per active tenant. The monthly
// schedule inserts it with an empty Period (the previous month at run time).
type InvoiceScheduleArgs struct {
	// Period is the month to invoice, "YYYY-MM"; empty means the previous month.
	Period string `json:"period,omitempty"`
}

// Kind is the job's stable kind.
func (InvoiceScheduleArgs) Kind() string { return KindInvoiceSchedule }

// InvoiceScheduleWorker fans out the invoice runs.
type InvoiceScheduleWorker struct {
	river.WorkerDefaults[InvoiceScheduleArgs]
	q   *Queue
	fan fanoutFunc
}

// Work inserts the runs and completes itself in one transaction; runs already
// queued or done for the period are skipped by their uniqueness.
func (w *InvoiceScheduleWorker) Work(ctx context.Context, job *river.Job[InvoiceScheduleArgs]) error {
	ctx = logging.WithJobID(ctx, job.ID)
	if w.q.deps.Invoicing == nil || !w.q.deps.Invoicing.Enabled() {
		w.q.logger.InfoContext(ctx, "monthly invoicing skipped: billing is off (self-host mode or STRIPE_API_KEY unset)")
		return nil
	}
	period := job.Args.Period
	if period == "" {
		period = invoicing.PreviousPeriod(w.q.deps.Clock())
	}
	params, err := w.q.perActiveTenant(ctx, func(t tenants.Tenant) river.JobArgs {
		return InvoiceRunArgs{TenantID: string(t.ID), Period: period}
	})
	if err != nil {
		return err
	}
	n, err := w.fan(ctx, job.JobRow, params)
	if err != nil {
		return err
	}
	w.q.logger.InfoContext(ctx, "invoice runs enqueued", "period", period, "tenants", len(params), "new", n)
	return nil
}

// perActiveTenant builds one insert per active tenant.
func (q *Queue) perActiveTenant(ctx context.Context, args func(tenants.Tenant) river.JobArgs) ([]river.InsertManyParams, error) {
	all, err := q.deps.Registry.List(ctx)
	if err != nil {
		return nil, err
	}
	params := make([]river.InsertManyParams, 0, len(all))
	for _, t := range all {
		if t.Status != tenants.StatusActive {
			continue
		}
		params = append(params, river.InsertManyParams{Args: args(t)})
	}
	return params, nil
}

// monthlySchedule fires once a month, on Day at 00:10 UTC (after the ledger's
// last events of the previous month are flushed).
type monthlySchedule struct{ Day int }

// Next returns the first firing after current.
func (s monthlySchedule) Next(current time.Time) time.Time {
	c := current.UTC()
	next := time.Date(c.Year(), c.Month(), s.Day, 0, 10, 0, 0, time.UTC)
	if !next.After(c) {
		next = time.Date(c.Year(), c.Month()+1, s.Day, 0, 10, 0, 0, time.UTC)
	}
	return next
}
