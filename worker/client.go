package worker

import "github.com/tollgate-dev/tollgate/internal/jobs"

// Client is the part of River's client Tollgate uses (jobs.Client).
type Client = jobs.Client

// Kinds of the jobs this package defines, as stored in River's job table.
const (
	KindInvoiceRun        = "invoice_run"
	KindInvoiceSchedule   = "invoice_schedule"
	KindAlertDelivery     = "alert_delivery"
	KindAlertSweep        = "alert_sweep"
	KindReconcile         = "reconcile"
	KindReconcileSchedule = "reconcile_schedule"
	KindBackup            = "backup"
	KindPromptPurge       = "prompt_purge"
)
