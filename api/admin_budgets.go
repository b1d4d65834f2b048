package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
)

// budgetsAPI serves the tenant's budgets over the budget service.
type budgetsAPI struct {
	registry *tenants.Registry
	svc      *budget.Service
}

func (a *budgetsAPI) register(r adminRoutes) {
	t, id := r.tenant, r.id
	t.GET("/budgets", id.Authorize(access.ResourceBudgets, access.ActionRead), h(a.listBudgets))
	t.POST("/budgets", id.Authorize(access.ResourceBudgets, access.ActionWrite), h(a.setBudget))
	t.POST("/budgets/preview", id.Authorize(access.ResourceBudgets, access.ActionWrite), h(a.previewBudget))
	t.DELETE("/budgets/:id", id.Authorize(access.ResourceBudgets, access.ActionWrite), h(a.deleteBudget))
}

type budgetDTO struct {
	ID string `json:"id"`
	// Scope is tenant, key or member; ScopeID the key or user id (null for tenant).
	Scope   string  `json:"scope"`
	ScopeID *string `json:"scope_id"`
	// ScopeName is the key's name or the member's email; null for the tenant.
	ScopeName *string `json:"scope_name"`
	Period    string  `json:"period"`
	LimitNano int64   `json:"limit_nano"`
	LimitUSD  string  `json:"limit_usd"`
	Hard      bool    `json:"hard"`
	// AlertAt are thresholds in percent of the limit.
	AlertAt []int `json:"alert_at"`
	// DowngradeAt is the percent from which routing picks a cheaper tier; null = never.
	DowngradeAt *int `json:"downgrade_at"`
	// PeriodKey is the current period ("2026-11" or "2026-11-26").
	PeriodKey string `json:"period_key"`
	// Spent is the settled spend of the current period; Reserved is held by
	// requests in flight. Both come from the live meter (or the ledger when the
	// meter cannot answer, SpentSource "ledger").
	SpentNano    int64  `json:"spent_nano"`
	SpentUSD     string `json:"spent_usd"`
	ReservedNano int64  `json:"reserved_nano"`
	ReservedUSD  string `json:"reserved_usd"`
	SpentSource  string `json:"spent_source"`
	// Percent is the settled spend in whole percent of the limit.
	Percent   int64     `json:"percent"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func mapBudget(st budget.Status) budgetDTO {
	b := st.Budget
	out := budgetDTO{ID: b.ID, Scope: string(b.Scope), Period: string(b.Period), LimitNano: int64(b.Limit), LimitUSD: b.Limit.USDString(),
		Hard: b.Hard, AlertAt: b.AlertAt, PeriodKey: st.PeriodKey, SpentNano: int64(st.Spent), SpentUSD: st.Spent.USDString(),
		ReservedNano: int64(st.Reserved), ReservedUSD: st.Reserved.USDString(), SpentSource: st.Source, Percent: st.Percent(),
		CreatedAt: b.CreatedAt.UTC(), UpdatedAt: b.UpdatedAt.UTC()}
	if b.ScopeID != "" {
		id := b.ScopeID
		out.ScopeID = &id
	}
	if st.ScopeName != "" {
		name := st.ScopeName
		out.ScopeName = &name
	}
	if out.AlertAt == nil {
		out.AlertAt = []int{}
	}
	if b.DowngradeAt > 0 {
		d := b.DowngradeAt
		out.DowngradeAt = &d
	}
	return out
}

// listBudgets: GET /api/v1/tenants/{tenant}/budgets.
func (a *budgetsAPI) listBudgets(c *gin.Context) error {
	_, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	sts, err := a.svc.List(c.Request.Context(), hd)
	if err != nil {
		return err
	}
	dtos := make([]budgetDTO, len(sts))
	for i, st := range sts {
		dtos[i] = mapBudget(st)
	}
	c.JSON(http.StatusOK, listResponse[budgetDTO]{Data: dtos})
	return nil
}

type setBudgetRequest struct {
	Scope   string  `json:"scope"`
	ScopeID *string `json:"scope_id"`
	Period  string  `json:"period"`
	// LimitUSD is a decimal string ("12.50"), parsed exactly.
	LimitUSD string `json:"limit_usd"`
	// Hard defaults to true.
	Hard        *bool `json:"hard"`
	AlertAt     []int `json:"alert_at"`
	DowngradeAt *int  `json:"downgrade_at"`
}

// input turns the body into budget.SetInput, reporting every problem at once
// (the limit's parse error alongside the domain's own checks).
func (r setBudgetRequest) input() (budget.SetInput, error) {
	in := budget.SetInput{Scope: meter.Scope(r.Scope), Period: meter.Period(r.Period), Hard: true, AlertAt: r.AlertAt}
	if r.ScopeID != nil {
		in.ScopeID = strings.TrimSpace(*r.ScopeID)
	}
	if r.Hard != nil {
		in.Hard = *r.Hard
	}
	if r.DowngradeAt != nil {
		in.DowngradeAt = *r.DowngradeAt
	}
	var errs []error
	switch limit, err := billing.ParseUSD(strings.TrimSpace(r.LimitUSD)); {
	case r.LimitUSD == "":
		errs = append(errs, errors.New("limit_usd is required, a decimal string like \"250.00\""))
	case err != nil:
		errs = append(errs, fmt.Errorf("limit_usd: %w", err))
	default:
		in.Limit = limit
	}
	if err := in.Validate(); err != nil {
		var ek *errkind.Error
		if errors.As(err, &ek) && ek.Cause != nil {
			err = ek.Cause
		}
		if in.Limit == 0 && len(errs) > 0 {
			// The domain would repeat "limit must be more than 0" for a limit that did not parse.
			err = dropLine(err, "limit must be more than 0")
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return in, errkind.Wrap(errkind.Invalid, err, "invalid budget: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return in, nil
}

func dropLine(err error, line string) error {
	var keep []error
	for _, l := range strings.Split(err.Error(), "\n") {
		if l != line && l != "" {
			keep = append(keep, errors.New(l))
		}
	}
	return errors.Join(keep...)
}

// setBudget: POST /api/v1/tenants/{tenant}/budgets. Creates the budget of
// (scope, scope_id, period), or replaces its values when one exists. scope_id
// names a key by id, prefix or name, a member by id or email.
func (a *budgetsAPI) setBudget(c *gin.Context) error {
	_, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	var req setBudgetRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	in, err := req.input()
	if err != nil {
		return err
	}
	st, created, err := a.svc.Set(c.Request.Context(), hd, actor(c), in)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, mapBudget(st))
	return nil
}

// deleteBudget: DELETE /api/v1/tenants/{tenant}/budgets/{id}.
func (a *budgetsAPI) deleteBudget(c *gin.Context) error {
	_, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	if err := a.svc.Delete(c.Request.Context(), hd, actor(c), c.Param("id")); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}
