package worker

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/tenants"
)

// The alert sweep makes every recorded alert's delivery certain. The gateway
// enqueues the delivery right after recording the alert, but that enqueue can
// fail (the queue's database unreachable, the process killed in between) once
// the alert row is committed. The alert row is its own outbox: one never
// attempted (attempts 0, not delivered) and recorded within alertSweepWindow is
// enqueued again, which is a no-op while its delivery job is queued or done
// (AlertDeliveryArgs are unique by args).
const (
	alertSweepInterval = time.Minute
	// alertSweepWindow bounds how far back the sweep looks; it stays under
	// River's retention of completed jobs (24 h), so an alert whose job completed
	// without a delivery (no webhook configured) is not enqueued again.
	alertSweepWindow = 23 * time.Hour
)

// AlertSweepArgs enqueues the deliveries of alerts no job was queued for.
type AlertSweepArgs struct{}

// Kind is the job's stable kind.
func (AlertSweepArgs) Kind() string { return KindAlertSweep }

// InsertOpts: one sweep pending at a time.
func (AlertSweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

// AlertSweepWorker runs the sweep.
type AlertSweepWorker struct {
	river.WorkerDefaults[AlertSweepArgs]
	q *Queue
}

// Work enqueues the deliveries the gateway could not.
func (w *AlertSweepWorker) Work(ctx context.Context, job *river.Job[AlertSweepArgs]) error {
	ctx = logging.WithJobID(ctx, job.ID)
	n, err := w.q.SweepAlerts(ctx)
	if n > 0 {
		w.q.logger.WarnContext(ctx, "queued the delivery of alerts whose enqueue had failed", "alerts", n)
	}
	return err
}

// SweepAlerts enqueues the delivery of every tenant's recent alerts that were
// never attempted, and returns how many had no job yet.
func (q *Queue) SweepAlerts(ctx context.Context) (int, error) {
	all, err := q.deps.Registry.List(ctx)
	if err != nil {
		return 0, err
	}
	since := q.deps.Clock().Add(-alertSweepWindow).UTC()
	n := 0
	var errs []error
	for _, t := range all {
		h, err := q.deps.Registry.Handle(tenants.SystemPrincipal(t, "alert sweep"))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var ids []string
		err = h.Read(ctx, func(db *gorm.DB) error {
			return db.Table("alerts").Where("delivered_at IS NULL AND attempts = 0 AND created_at >= ?", since).
				Order("created_at").Limit(1000).Pluck("id", &ids).Error
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, id := range ids {
			res, err := EnqueueAlert(ctx, q.client, t.ID, id)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !res.UniqueSkippedAsDuplicate {
				n++
			}
		}
	}
	return n, errors.Join(errs...)
}
