package worker

import (
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/tollgate-dev/tollgate/billing/webhook"
)

// workers registers every job's worker.
func (q *Queue) workers(fan fanoutFunc) *river.Workers {
	ws := river.NewWorkers()
	client := q.deps.WebhookClient
	if client == nil {
		client = webhook.NewClient(q.cfg.WebhookTimeout, q.cfg.WebhookAllowPrivate)
	}
	river.AddWorker(ws, &InvoiceRunWorker{q: q})
	river.AddWorker(ws, &InvoiceScheduleWorker{q: q, fan: fan})
	river.AddWorker(ws, &AlertDeliveryWorker{q: q, client: client})
	river.AddWorker(ws, &AlertSweepWorker{q: q})
	river.AddWorker(ws, &ReconcileWorker{q: q})
	river.AddWorker(ws, &ReconcileScheduleWorker{q: q, fan: fan})
	river.AddWorker(ws, &BackupWorker{q: q})
	river.AddWorker(ws, &PromptPurgeWorker{q: q})
	return ws
}

// periodicJobs are the schedules. River runs them on the elected leader only, so
// several workers do not multiply them.
func (q *Queue) periodicJobs() []*river.PeriodicJob {
	jobs := []*river.PeriodicJob{
		river.NewPeriodicJob(monthlySchedule{Day: q.cfg.InvoiceDay}, func() (river.JobArgs, *river.InsertOpts) {
			return InvoiceScheduleArgs{}, nil
		}, &river.PeriodicJobOpts{ID: KindInvoiceSchedule}),
		river.NewPeriodicJob(river.PeriodicInterval(alertSweepInterval), func() (river.JobArgs, *river.InsertOpts) {
			return AlertSweepArgs{}, nil
		}, &river.PeriodicJobOpts{ID: KindAlertSweep, RunOnStart: true}),
	}
	if q.cfg.ReconcileInterval > 0 {
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(q.cfg.ReconcileInterval), func() (river.JobArgs, *river.InsertOpts) {
			return ReconcileScheduleArgs{}, nil
		}, &river.PeriodicJobOpts{ID: KindReconcileSchedule, RunOnStart: true}))
	}
	if q.deps.PurgeKeptPrompts != nil {
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(promptPurgeInterval), func() (river.JobArgs, *river.InsertOpts) {
			return PromptPurgeArgs{}, nil
		}, &river.PeriodicJobOpts{ID: KindPromptPurge, RunOnStart: true}))
	}
	if q.cfg.Backup.Interval > 0 && q.cfg.Backup.Dir != "" {
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(q.cfg.Backup.Interval), func() (river.JobArgs, *river.InsertOpts) {
			return BackupArgs{}, nil
		}, &river.PeriodicJobOpts{ID: KindBackup}))
	}
	return jobs
}

// pendingStates are the states in which a periodic job counts as a duplicate:
// a new one may be inserted once the previous one finished, whatever its outcome.
var pendingStates = []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled}
