package worker

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/webhook"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/tenants"
)

// AlertDeliveryArgs delivers one budget alert to its tenant's webhook.
type AlertDeliveryArgs struct {
	TenantID string `json:"tenant_id"`
	AlertID  string `json:"alert_id"`
}

// Kind is the job's stable kind.
func (AlertDeliveryArgs) Kind() string { return KindAlertDelivery }

// InsertOpts: one delivery job per alert at a time; retried with River's backoff
// for about a day (attempt^4 seconds: the 10th retry waits ~2.8 hours).
func (AlertDeliveryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 12, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// EnqueueAlert enqueues the delivery of an alert that budget.Record just created.
// The gateway calls it after Record reports created=true; enqueueing the same
// alert again while a delivery is pending or done is a no-op (unique by args).
func EnqueueAlert(ctx context.Context, client Client, tenantID tenants.ID, alertID string) (*rivertype.JobInsertResult, error) {
	if !tenantID.Valid() || alertID == "" {
		return nil, errkind.New(errkind.Invalid, "enqueue alert: tenant id and alert id are required")
	}
	return client.Insert(ctx, AlertDeliveryArgs{TenantID: string(tenantID), AlertID: alertID}, nil)
}

// AlertPayload is the JSON body POSTed to a tenant's webhook.
type AlertPayload struct {
	// Type is always "budget.alert".
	Type     string      `json:"type"`
	TenantID string      `json:"tenant_id"`
	Alert    alertBody   `json:"alert"`
	Budget   *budgetBody `json:"budget,omitempty"`
}

type alertBody struct {
	ID        string    `json:"id"`
	BudgetID  string    `json:"budget_id"`
	PeriodKey string    `json:"period_key"`
	Threshold int       `json:"threshold_percent"`
	SpentNano int64     `json:"spent_nano"`
	SpentUSD  string    `json:"spent_usd"`
	LimitNano int64     `json:"limit_nano"`
	LimitUSD  string    `json:"limit_usd"`
	CreatedAt time.Time `json:"created_at"`
}

type budgetBody struct {
	Scope   string `json:"scope"`
	ScopeID string `json:"scope_id,omitempty"`
	Period  string `json:"period"`
	Hard    bool   `json:"hard"`
}

// AlertDeliveryWorker posts the alert.
type AlertDeliveryWorker struct {
	river.WorkerDefaults[AlertDeliveryArgs]
	q      *Queue
	client *http.Client
}

// Work delivers the alert once: an alert already delivered completes at once; a
// tenant or alert that no longer exists, or a refused (private) address, cancels;
// a failed POST is recorded with budget.MarkDelivered and retried.
func (w *AlertDeliveryWorker) Work(ctx context.Context, job *river.Job[AlertDeliveryArgs]) error {
	ctx = logging.WithJobID(logging.WithTenantID(ctx, job.Args.TenantID), job.ID)
	t, err := w.q.deps.Registry.Get(ctx, job.Args.TenantID)
	if err != nil {
		return cancelIfPermanent(err)
	}
	h, err := w.q.deps.Registry.Handle(tenants.SystemPrincipal(t, "alert delivery"))
	if err != nil {
		return river.JobCancel(err)
	}
	a, err := getAlert(ctx, h, job.Args.AlertID)
	if err != nil {
		return cancelIfPermanent(err)
	}
	if a.DeliveredAt != nil {
		return nil
	}
	hook, err := webhook.Load(ctx, h, w.q.deps.Sealer)
	if errors.Is(err, errkind.NotFound) {
		w.q.logger.InfoContext(ctx, "alert not delivered: tenant has no webhook", "alert_id", a.ID)
		return river.RecordOutput(ctx, map[string]string{"outcome": "no_webhook"})
	}
	if err != nil {
		return cancelIfPermanent(err)
	}
	body, err := json.Marshal(alertPayload(t, a, findBudget(ctx, h, a.BudgetID)))
	if err != nil {
		return err
	}
	_, err = webhook.Post(ctx, w.client, hook, webhook.EventBudgetAlert, a.ID, body, w.q.deps.Clock())
	if markErr := budget.MarkDelivered(ctx, h, a.ID, err); markErr != nil {
		return errors.Join(err, markErr)
	}
	switch {
	case errors.Is(err, webhook.ErrPrivateAddress):
		w.q.metrics.alerts.WithLabelValues("refused").Inc()
		w.q.logger.WarnContext(ctx, "alert webhook refused", "alert_id", a.ID, "error", err)
		return river.JobCancel(err)
	case err != nil:
		w.q.metrics.alerts.WithLabelValues("failed").Inc()
		w.q.logger.WarnContext(ctx, "alert delivery failed; will retry", "alert_id", a.ID, "attempt", job.Attempt, "error", err)
		return err
	}
	w.q.metrics.alerts.WithLabelValues("delivered").Inc()
	w.q.logger.InfoContext(ctx, "alert delivered", "alert_id", a.ID, "threshold", a.Threshold)
	return river.RecordOutput(ctx, map[string]string{"outcome": "delivered"})
}

func alertPayload(t tenants.Tenant, a budget.Alert, b *budget.Budget) AlertPayload {
	p := AlertPayload{Type: webhook.EventBudgetAlert, TenantID: string(t.ID), Alert: alertBody{ID: a.ID, BudgetID: a.BudgetID, PeriodKey: a.PeriodKey,
		Threshold: a.Threshold, SpentNano: int64(a.Spent), SpentUSD: a.Spent.USDString(), LimitNano: int64(a.Limit),
		LimitUSD: a.Limit.USDString(), CreatedAt: a.CreatedAt.UTC()}}
	if b != nil {
		p.Budget = &budgetBody{Scope: string(b.Scope), ScopeID: b.ScopeID, Period: string(b.Period), Hard: b.Hard}
	}
	return p
}

func findBudget(ctx context.Context, h *tenants.Handle, id string) *budget.Budget {
	all, err := budget.List(ctx, h)
	if err != nil {
		return nil
	}
	for _, b := range all {
		if b.ID == id {
			return &b
		}
	}
	return nil
}

// getAlert reads one alert by id (billing/budget lists alerts but has no getter).
func getAlert(ctx context.Context, h *tenants.Handle, id string) (budget.Alert, error) {
	var r struct {
		ID, BudgetID, PeriodKey, LastError        string
		Threshold, SpentNano, LimitNano, Attempts int64
		CreatedAt                                 time.Time
		DeliveredAt                               *time.Time
	}
	err := h.Read(ctx, func(db *gorm.DB) error { return db.Table("alerts").Where("id = ?", id).Take(&r).Error })
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return budget.Alert{}, errkind.New(errkind.NotFound, "alert %q not found", id)
	}
	return budget.Alert{ID: r.ID, BudgetID: r.BudgetID, PeriodKey: r.PeriodKey, Threshold: int(r.Threshold), Spent: billing.NanoUSD(r.SpentNano),
		Limit: billing.NanoUSD(r.LimitNano), CreatedAt: r.CreatedAt, DeliveredAt: r.DeliveredAt, Attempts: int(r.Attempts), LastError: r.LastError}, err
}

// cancelIfPermanent cancels the job for errors a retry cannot fix.
func cancelIfPermanent(err error) error {
	if errors.Is(err, errkind.NotFound) || errors.Is(err, errkind.Invalid) {
		return river.JobCancel(err)
	}
	return err
}
