package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
)

// Delivery states of an alert's webhook delivery.
const (
	AlertDeliveryDelivered = "delivered"
	AlertDeliveryPending   = "pending"
	AlertDeliveryFailed    = "failed"
)

// alertDTO is one alert that fired: a row of GET alerts and the data of a live
// "alert" message.
type alertDTO struct {
	ID        string `json:"id"`
	BudgetID  string `json:"budget_id"`
	PeriodKey string `json:"period_key"`
	// Threshold is the percent of the limit reached.
	Threshold int       `json:"threshold"`
	SpentNano int64     `json:"spent_nano"`
	SpentUSD  string    `json:"spent_usd"`
	LimitNano int64     `json:"limit_nano"`
	LimitUSD  string    `json:"limit_usd"`
	CreatedAt time.Time `json:"created_at"`
	// Scope and Period of the budget, when it still exists.
	Scope   string `json:"scope,omitempty"`
	ScopeID string `json:"scope_id,omitempty"`
	Period  string `json:"period,omitempty"`
	Message string `json:"message"`
	// Delivered and DeliveryStatus report the webhook delivery (pending until the
	// worker tried; failed while retrying after an error).
	Delivered      bool       `json:"delivered"`
	DeliveredAt    *time.Time `json:"delivered_at"`
	DeliveryStatus string     `json:"delivery_status"`
	Attempts       int        `json:"attempts"`
	LastError      string     `json:"last_error,omitempty"`
}

// mapAlert maps an alert; b is its budget, or nil when it was deleted since.
func mapAlert(a budget.Alert, b *budget.Budget) alertDTO {
	out := alertDTO{ID: a.ID, BudgetID: a.BudgetID, PeriodKey: a.PeriodKey, Threshold: a.Threshold, SpentNano: int64(a.Spent),
		SpentUSD: a.Spent.USDString(), LimitNano: int64(a.Limit), LimitUSD: a.Limit.USDString(), CreatedAt: a.CreatedAt.UTC(),
		Delivered: a.DeliveredAt != nil, Attempts: a.Attempts, LastError: a.LastError, DeliveryStatus: AlertDeliveryPending}
	if a.DeliveredAt != nil {
		at := a.DeliveredAt.UTC()
		out.DeliveredAt = &at
		out.DeliveryStatus = AlertDeliveryDelivered
	} else if a.LastError != "" {
		out.DeliveryStatus = AlertDeliveryFailed
	}
	what := "a budget"
	if b != nil {
		out.Scope, out.ScopeID, out.Period = string(b.Scope), b.ScopeID, string(b.Period)
		what = fmt.Sprintf("the %s %s budget", b.Scope, b.Period)
		if b.ScopeID != "" {
			what = fmt.Sprintf("the %s budget of %s %s", b.Period, b.Scope, b.ScopeID)
		}
	}
	out.Message = fmt.Sprintf("Spend reached %d%% of %s ($%s of $%s) in %s.", a.Threshold, what, a.Spent.USDString(), a.Limit.USDString(), a.PeriodKey)
	return out
}

// alertsAPI serves the tenant's budget alerts.
type alertsAPI struct {
	registry *tenants.Registry
}

func (a *alertsAPI) register(r adminRoutes) {
	r.tenant.GET("/alerts", r.id.Authorize(access.ResourceAlerts, access.ActionRead), h(a.listAlerts))
}

// listAlerts: GET /api/v1/tenants/{tenant}/alerts?limit=, newest first. Alerts
// fire at most once per budget, period and threshold, so the list is short; it
// is one page (next_cursor always empty) of up to limit (default 100, max 200).
func (a *alertsAPI) listAlerts(c *gin.Context) error {
	_, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	alerts, err := budget.ListAlerts(ctx, hd, limit)
	if err != nil {
		return err
	}
	bs, err := budget.List(ctx, hd)
	if err != nil {
		return err
	}
	byID := make(map[string]*budget.Budget, len(bs))
	for i := range bs {
		byID[bs[i].ID] = &bs[i]
	}
	out := listResponse[alertDTO]{Data: make([]alertDTO, len(alerts))}
	for i, al := range alerts {
		out.Data[i] = mapAlert(al, byID[al.BudgetID])
	}
	c.JSON(http.StatusOK, out)
	return nil
}
