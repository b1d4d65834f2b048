package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
)

type budgetDTO struct {
	ID string `json:"id"`
	// Scope is tenant, key or member; ScopeID the key or user id (null for tenant).
	Scope     string  `json:"scope"`
	ScopeID   *string `json:"scope_id"`
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
	SpentNano    int64     `json:"spent_nano"`
	SpentUSD     string    `json:"spent_usd"`
	ReservedNano int64     `json:"reserved_nano"`
	ReservedUSD  string    `json:"reserved_usd"`
	SpentSource  string    `json:"spent_source"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func mapBudget(b budget.Budget, now time.Time, spent, reserved billing.NanoUSD, source string) budgetDTO {
	out := budgetDTO{ID: b.ID, Scope: string(b.Scope), Period: string(b.Period), LimitNano: int64(b.Limit), LimitUSD: b.Limit.USDString(),
		Hard: b.Hard, AlertAt: b.AlertAt, PeriodKey: b.Period.Key(now), SpentNano: int64(spent), SpentUSD: spent.USDString(),
		ReservedNano: int64(reserved), ReservedUSD: reserved.USDString(), SpentSource: source, CreatedAt: b.CreatedAt.UTC(), UpdatedAt: b.UpdatedAt.UTC()}
	if b.ScopeID != "" {
		id := b.ScopeID
		out.ScopeID = &id
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

// budgetDTOs adds each budget's live spend: one meter call for all of them, or,
// when the meter cannot answer (Redis down), the ledger's rollups.
func (a *Admin) budgetDTOs(ctx context.Context, hd *tenants.Handle, bs []budget.Budget) ([]budgetDTO, error) {
	now := a.d.Clock()
	out := make([]budgetDTO, len(bs))
	limits := make([]meter.Limit, len(bs))
	for i, b := range bs {
		limits[i] = b.MeterLimit()
	}
	var usage []meter.ScopeUsage
	var err error
	if len(bs) > 0 {
		usage, err = a.d.Meter.Usage(ctx, string(hd.TenantID()), limits)
	}
	if err != nil {
		a.logger.WarnContext(ctx, "meter usage unavailable; budgets show ledger spend", "error", err)
	}
	for i, b := range bs {
		if err == nil && i < len(usage) {
			out[i] = mapBudget(b, now, usage[i].Spent, usage[i].Reserved, "meter")
			continue
		}
		spent, lerr := ledger.PeriodSpend(ctx, hd, b, now)
		if lerr != nil {
			return nil, lerr
		}
		out[i] = mapBudget(b, now, spent, 0, "ledger")
	}
	return out, nil
}

// listBudgets: GET /api/v1/tenants/{tenant}/budgets.
func (a *Admin) listBudgets(c *gin.Context) error {
	_, hd, err := a.tenantHandle(c)
	if err != nil {
		return err
	}
	bs, err := budget.List(c.Request.Context(), hd)
	if err != nil {
		return err
	}
	dtos, err := a.budgetDTOs(c.Request.Context(), hd, bs)
	if err != nil {
		return err
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

// checkScope makes sure a key or member scope names a key or member of this
// tenant: another tenant's key id is refused exactly like an unknown one.
func (a *Admin) checkScope(ctx context.Context, tenant tenants.ID, in budget.SetInput) error {
	var err error
	switch in.Scope {
	case meter.ScopeKey:
		_, err = a.d.Identity.d.Keys.Get(ctx, tenant, in.ScopeID)
	case meter.ScopeMember:
		_, err = a.d.Identity.d.Users.Membership(ctx, tenant, in.ScopeID)
	}
	if errkind.Of(err) == errkind.NotFound {
		return &errkind.Error{Kind: errkind.Invalid, Code: "unknown_scope_id",
			Message: fmt.Sprintf("invalid budget: scope_id %q is not a %s of this tenant", in.ScopeID, in.Scope)}
	}
	return err
}

// setBudget: POST /api/v1/tenants/{tenant}/budgets. Creates the budget of
// (scope, scope_id, period), or replaces its values when one exists.
func (a *Admin) setBudget(c *gin.Context) error {
	p, hd, err := a.tenantHandle(c)
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
	ctx := c.Request.Context()
	if err := a.checkScope(ctx, p.TenantID(), in); err != nil {
		return err
	}
	b, err := budget.Set(ctx, hd, in)
	if err != nil {
		return err
	}
	a.d.Budgets.Invalidate(p.TenantID())
	created := b.CreatedAt.Equal(b.UpdatedAt)
	if created {
		a.seedCounter(ctx, hd, b)
	}
	a.audit(c, p, "budget.set", b.ID, map[string]any{"scope": string(b.Scope), "scope_id": b.ScopeID, "period": string(b.Period),
		"limit_usd": b.Limit.USDString(), "hard": b.Hard})
	dtos, err := a.budgetDTOs(ctx, hd, []budget.Budget{b})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.JSON(status, dtos[0])
	return nil
}

// seedCounter starts a new budget's meter counter at the ledger's spend of the
// period so far: without it a budget created mid-month would start at zero and
// let the tenant spend its limit again.
func (a *Admin) seedCounter(ctx context.Context, hd *tenants.Handle, b budget.Budget) {
	totals, err := ledger.CounterTotals(ctx, hd, []budget.Budget{b}, a.d.Clock())
	if err == nil {
		err = a.d.Meter.Rebuild(ctx, string(hd.TenantID()), totals)
	}
	if err != nil {
		a.logger.WarnContext(ctx, "seeding a new budget's counter from the ledger failed; the reconcile job will correct it",
			"error", err, "budget_id", b.ID)
	}
}

// deleteBudget: DELETE /api/v1/tenants/{tenant}/budgets/{id}.
func (a *Admin) deleteBudget(c *gin.Context) error {
	p, hd, err := a.tenantHandle(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if err := budget.Delete(c.Request.Context(), hd, id); err != nil {
		return err
	}
	a.d.Budgets.Invalidate(p.TenantID())
	a.audit(c, p, "budget.delete", id, nil)
	c.Status(http.StatusNoContent)
	return nil
}

// audit records an admin change. The change is already committed, so a failed
// audit write is logged rather than turned into an error the client would retry.
func (a *Admin) audit(c *gin.Context, p tenants.Principal, action, target string, details map[string]any) {
	ctx := c.Request.Context()
	if err := a.d.Identity.d.Audit.Record(ctx, p.TenantID(), actor(c), action, target, details); err != nil {
		a.logger.ErrorContext(ctx, "audit record failed", "error", err, "action", action, "target", target)
	}
}
