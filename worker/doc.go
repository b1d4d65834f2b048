// Package worker is Tollgate's background worker: a durable River job queue with
// the jobs that keep billing honest and data safe.
//
// The queue lives in the control-plane database: Postgres (riverpgxv5, River's
// own migrations in the public schema) in multi-tenant deployments, where any
// number of `tollgate worker` processes share it and River's row locking ensures
// a job runs once at a time; SQLite (riversqlite, one connection) in self-host
// mode, where `tollgate serve` runs the worker in-process.
//
// Jobs, one file each (args with a stable Kind, IDs only; a worker embedding
// river.WorkerDefaults):
//
//	invoice_run          one tenant's invoice for one period (unique by args)
//	invoice_schedule     periodic, monthly: one invoice_run per active tenant
//	alert_delivery       POST a budget alert to the tenant's webhook (billing/webhook)
//	alert_sweep          periodic, every minute: queue alerts whose enqueue failed
//	reconcile            billing/reconcile for one tenant: ledger vs meter, rebuild on drift
//	reconcile_schedule   periodic: one reconcile per active tenant
//	backup               periodic: internal/database/backup (VACUUM INTO or pg_dump)
//	prompt_purge         periodic, hourly: delete kept prompts past each tenant's retain_prompts_days
//
// The domain work is in the owning packages; worker holds the queue, the jobs,
// their schedules, sizing and metrics. Other packages enqueue through Enqueuer,
// so the API does not import worker.
//
// Retries use River's default backoff; a job cancels itself (river.JobCancel) on
// permanent errors (a tenant that does not exist, invalid input) and snoozes on
// "not yet" states.
package worker
