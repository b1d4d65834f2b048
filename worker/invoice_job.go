package worker

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/tenants"
)

// InvoiceRunArgs invoices one tenant for one period. Unique by args: a tenant's
// period has at most one run queued, running or completed at a time.
type InvoiceRunArgs struct {
	// TenantID is the billed tenant's id.
	TenantID string `json:"tenant_id"`
	// Period is the billed month, "YYYY-MM".
	Period string `json:"period"`
}

// Kind is the job's stable kind.
func (InvoiceRunArgs) Kind() string { return KindInvoiceRun }

// InsertOpts makes invoice runs unique by tenant and period.
func (InvoiceRunArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 12, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// InvoiceRunOutput is what a finished invoice run records (visible in the jobs
// list's output).
type InvoiceRunOutput struct {
	InvoiceID       string `json:"invoice_id,omitempty"`
	Status          string `json:"status"`
	AmountCents     int64  `json:"amount_cents"`
	StripeInvoiceID string `json:"stripe_invoice_id,omitempty"`
	Number          string `json:"number,omitempty"`
	HostedURL       string `json:"hosted_url,omitempty"`
	ItemsSent       int    `json:"items_sent"`
	Resumed         bool   `json:"resumed"`
}

// InvoiceRunWorker runs the invoice.
type InvoiceRunWorker struct {
	river.WorkerDefaults[InvoiceRunArgs]
	q *Queue
}

// Timeout bounds one attempt: a tenant's run is a handful of Stripe calls.
func (w *InvoiceRunWorker) Timeout(*river.Job[InvoiceRunArgs]) time.Duration { return 5 * time.Minute }

// Work runs (or resumes) the invoice. Billing off is a no-op; an unknown tenant or
// an invalid period cancels the job; anything else is retried with backoff.
func (w *InvoiceRunWorker) Work(ctx context.Context, job *river.Job[InvoiceRunArgs]) error {
	ctx = logging.WithJobID(logging.WithTenantID(ctx, job.Args.TenantID), job.ID)
	svc := w.q.deps.Invoicing
	if svc == nil || !svc.Enabled() {
		w.q.logger.InfoContext(ctx, "invoice run skipped: billing is off (self-host mode or STRIPE_API_KEY unset)", "period", job.Args.Period)
		w.q.metrics.invoices.WithLabelValues("billing_off").Inc()
		return river.RecordOutput(ctx, InvoiceRunOutput{Status: "billing_off"})
	}
	res, err := svc.Run(ctx, invoicing.RunInput{TenantID: tenants.ID(job.Args.TenantID), Period: job.Args.Period})
	switch {
	case errors.Is(err, invoicing.ErrBillingOff):
		w.q.metrics.invoices.WithLabelValues("billing_off").Inc()
		return river.RecordOutput(ctx, InvoiceRunOutput{Status: "billing_off"})
	case errors.Is(err, errkind.Invalid), errors.Is(err, errkind.NotFound):
		w.q.metrics.invoices.WithLabelValues("failed").Inc()
		w.q.logger.ErrorContext(ctx, "invoice run cancelled", "period", job.Args.Period, "error", err)
		return river.JobCancel(err)
	case err != nil:
		w.q.metrics.invoices.WithLabelValues("failed").Inc()
		w.q.logger.WarnContext(ctx, "invoice run failed; will retry", "period", job.Args.Period, "attempt", job.Attempt, "error", err)
		return err
	}
	w.q.metrics.invoices.WithLabelValues(string(res.Invoice.Status)).Inc()
	inv := res.Invoice
	return river.RecordOutput(ctx, InvoiceRunOutput{InvoiceID: inv.ID, Status: string(inv.Status), AmountCents: inv.AmountCents,
		StripeInvoiceID: inv.StripeInvoiceID, Number: inv.Number, HostedURL: inv.HostedURL, ItemsSent: res.ItemsSent, Resumed: res.Resumed})
}
