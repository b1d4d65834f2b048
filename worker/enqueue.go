package worker

import (
	"context"

	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/internal/jobs"
	"github.com/tollgate-dev/tollgate/tenants"
)

// Enqueuer is how services outside the worker ask for its jobs, without knowing
// the job types: the API's "invoice now" and the request path's alert delivery.
type Enqueuer struct {
	client Client
}

// NewEnqueuer enqueues on client.
func NewEnqueuer(client Client) *Enqueuer { return &Enqueuer{client: client} }

// EnqueueInvoiceRun enqueues the invoice run of in (unique by tenant and period)
// and returns its job; duplicate is true when the run was already queued or done.
func (e *Enqueuer) EnqueueInvoiceRun(ctx context.Context, in invoicing.RunInput) (job jobs.View, duplicate bool, err error) {
	res, err := e.client.Insert(ctx, InvoiceRunArgs{TenantID: string(in.TenantID), Period: in.Period}, nil)
	if err != nil {
		return jobs.View{}, false, err
	}
	return jobs.Map(res.Job), res.UniqueSkippedAsDuplicate, nil
}

// EnqueueAlert enqueues the delivery of a recorded alert. An alert whose enqueue
// fails is still delivered: the alert sweep finds it (SweepAlerts).
func (e *Enqueuer) EnqueueAlert(ctx context.Context, tenantID, alertID string) error {
	_, err := EnqueueAlert(ctx, e.client, tenants.ID(tenantID), alertID)
	return err
}
