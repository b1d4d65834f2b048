package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/tier"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// AdminDeps are the collaborators of the usage, budget, alert, webhook, routing,
// model, system and live-feed endpoints.
type AdminDeps struct {
	// Identity guards every route (TenantGroup, Authorize); its key and member
	// services check budget scope ids and its audit log records changes.
	Identity *Identity
	Registry *tenants.Registry
	// Meter reports live spend per budget.
	Meter meter.Meter
	// Budgets and Policies are the request path's caches; changes here
	// invalidate them so this process enforces the new values at once.
	Budgets  *budget.Cache
	Policies *gateway.PolicyCache
	// BudgetService creates, lists, previews and deletes budgets.
	BudgetService *budget.Service
	// Catalog is the model catalog; Selector replays what-ifs over it.
	Catalog *routing.Catalog
	// Catalogs is the request path's tenant catalog cache: its base (built-in
	// plus OpenRouter sync) is what prices are listed and validated against, and
	// price changes here invalidate it. Nil uses Catalog.
	Catalogs *gateway.CatalogCache
	// Providers manages stored provider credentials; nil disables /providers (503).
	Providers *routing.ProviderSettings
	Selector  *routing.Selector
	// Available reports whether a configured provider serves a model; nil means all.
	Available func(routing.Model) bool
	// Ledger is this process's ledger writer, for /system; nil omits its stats.
	Ledger *ledger.Writer
	// Live is the live-feed hub; nil disables GET /tenants/{t}/live (503).
	Live     *LiveHub
	Webhooks WebhookConfig
	System   SystemConfig
	// Clock is the time source of default date ranges and what-if windows; nil means time.Now.
	Clock  func() time.Time
	Logger *slog.Logger
}

// SystemConfig is what GET /api/v1/system reports beyond the request path.
type SystemConfig struct {
	// Mode is "single-tenant" or "multi-tenant".
	Mode string
	// Driver is the control-plane database driver ("sqlite", "postgres").
	Driver string
	// PingDB checks the control-plane database; it must honour ctx's deadline.
	PingDB func(ctx context.Context) error
	// RedisConfigured says the meter runs on Redis (TOLLGATE_REDIS_URL set).
	RedisConfigured bool
	// Tier returns the host's scale tier; nil omits it. Called per request, so
	// it should cache (detection reads /proc and cgroup files).
	Tier func(ctx context.Context) (tier.Profile, error)
	// Queue summarises the background job queue; nil omits "queue".
	Queue func(ctx context.Context) (any, error)
}

// Admin serves the metering, budget, routing, model, system and live-feed parts
// of the admin API. Handlers are thin: bind, build the domain input, call the
// domain package, map to a DTO.
type Admin struct {
	d      AdminDeps
	logger *slog.Logger
}

// NewAdmin returns the admin endpoints.
func NewAdmin(d AdminDeps) *Admin {
	if d.Clock == nil {
		d.Clock = time.Now
	}
	if d.Available == nil {
		d.Available = func(routing.Model) bool { return true }
	}
	return &Admin{d: d, logger: d.Logger.With("component", "api.admin")}
}

// Register adds the routes. Every tenant route sits in the identity layer's
// tenant group, so the tenant is resolved once from path and caller.
func (a *Admin) Register(e *gin.Engine) {
	id := a.d.Identity
	t := id.TenantGroup(e)
	t.GET("/usage", id.AuthorizeOrScope(access.ResourceUsage, access.ActionRead, apikeys.ScopeReadUsage), h(a.usage))
	t.GET("/usage/events", id.AuthorizeOrScope(access.ResourceUsage, access.ActionRead, apikeys.ScopeReadUsage), h(a.usageEvents))
	t.GET("/usage.csv", id.AuthorizeOrScope(access.ResourceUsage, access.ActionExport, apikeys.ScopeReadUsage), h(a.usageCSV))

	t.GET("/budgets", id.Authorize(access.ResourceBudgets, access.ActionRead), h(a.listBudgets))
	t.POST("/budgets", id.Authorize(access.ResourceBudgets, access.ActionWrite), h(a.setBudget))
	t.POST("/budgets/preview", id.Authorize(access.ResourceBudgets, access.ActionWrite), h(a.previewBudget))
	t.DELETE("/budgets/:id", id.Authorize(access.ResourceBudgets, access.ActionWrite), h(a.deleteBudget))
	t.GET("/alerts", id.Authorize(access.ResourceAlerts, access.ActionRead), h(a.listAlerts))
	t.GET("/webhook", id.Authorize(access.ResourceWebhook, access.ActionRead), h(a.getWebhook))
	t.PUT("/webhook", id.Authorize(access.ResourceWebhook, access.ActionWrite), h(a.setWebhook))
	t.POST("/webhook/test", id.Authorize(access.ResourceWebhook, access.ActionTest), h(a.testWebhook))

	t.GET("/routing", id.Authorize(access.ResourceRouting, access.ActionRead), h(a.getRouting))
	t.PUT("/routing", id.Authorize(access.ResourceRouting, access.ActionWrite), h(a.putRouting))
	t.POST("/routing/simulate", id.Authorize(access.ResourceRouting, access.ActionSimulate), h(a.simulateRouting))
	t.GET("/models", id.Authorize(access.ResourceModels, access.ActionRead), h(a.listModels))
	t.PUT("/models/:model/price", id.Authorize(access.ResourceModels, access.ActionWrite), h(a.setModelPrice))
	t.DELETE("/models/:model/price", id.Authorize(access.ResourceModels, access.ActionWrite), h(a.deleteModelPrice))

	a.registerLive(e)

	e.GET("/api/v1/system", id.requireSession, id.AuthorizePlatform(access.ActionRead), h(a.system))
	e.GET("/api/v1/providers", id.requireSession, id.AuthorizePlatform(access.ActionManageProviders), h(a.listProviders))
	e.PUT("/api/v1/providers/:name", id.requireSession, id.AuthorizePlatform(access.ActionManageProviders), h(a.setProvider))
	e.DELETE("/api/v1/providers/:name", id.requireSession, id.AuthorizePlatform(access.ActionManageProviders), h(a.deleteProvider))
}

// tenantHandle extracts the principal (once) and its tenant-scoped handle.
func (a *Admin) tenantHandle(c *gin.Context) (tenants.Principal, *tenants.Handle, error) {
	p, err := principal(c)
	if err != nil {
		return tenants.Principal{}, nil, err
	}
	hd, err := a.d.Registry.Handle(p)
	return p, hd, err
}

type healthDTO struct {
	OK     bool   `json:"ok"`
	State  string `json:"state,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Since is when the state last changed, RFC 3339 UTC; omitted when unknown.
	Since *time.Time `json:"since,omitempty"`
}

type dbHealthDTO struct {
	OK     bool   `json:"ok"`
	Driver string `json:"driver,omitempty"`
	Error  string `json:"error,omitempty"`
}

type redisHealthDTO struct {
	OK         bool   `json:"ok"`
	Configured bool   `json:"configured"`
	State      string `json:"state,omitempty"`
}

type tierDTO struct {
	Level   int        `json:"level"`
	Name    string     `json:"name"`
	Reasons []string   `json:"reasons,omitempty"`
	Knobs   tier.Knobs `json:"knobs"`
	Mode    string     `json:"deployment_mode"`
}

type systemDTO struct {
	Mode  string      `json:"mode"`
	Tier  *tierDTO    `json:"tier,omitempty"`
	DB    dbHealthDTO `json:"db"`
	Meter healthDTO   `json:"meter"`
	// Redis repeats the meter's state for the console's Redis card.
	Redis  redisHealthDTO      `json:"redis"`
	Ledger *ledger.WriterStats `json:"ledger,omitempty"`
	Live   *LiveStats          `json:"live,omitempty"`
	Queue  any                 `json:"queue,omitempty"`
	// Errors lists parts that could not be read (tier detection, queue).
	Errors []string `json:"errors,omitempty"`
}

// system: GET /api/v1/system (superadmin). Every check has a short deadline, so
// a dead dependency shows as not ok instead of hanging the page.
func (a *Admin) system(c *gin.Context) error {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	s := a.d.System
	out := systemDTO{Mode: s.Mode, DB: dbHealthDTO{OK: true, Driver: s.Driver}}
	if s.PingDB != nil {
		if err := s.PingDB(ctx); err != nil {
			out.DB = dbHealthDTO{OK: false, Driver: s.Driver, Error: err.Error()}
		}
	}
	if a.d.Meter != nil {
		mh := a.d.Meter.Health(ctx)
		out.Meter = healthDTO{OK: mh.State != meter.HealthStateUnavailable, State: string(mh.State), Detail: mh.Detail}
		if !mh.Since.IsZero() {
			since := mh.Since.UTC()
			out.Meter.Since = &since
		}
		out.Redis = redisHealthDTO{Configured: s.RedisConfigured, OK: s.RedisConfigured && mh.State == meter.HealthStateOK}
		if s.RedisConfigured {
			out.Redis.State = string(mh.State)
		}
	}
	if a.d.Ledger != nil {
		st := a.d.Ledger.Stats()
		out.Ledger = &st
	}
	if a.d.Live != nil {
		st := a.d.Live.Stats()
		out.Live = &st
	}
	if s.Tier != nil {
		p, err := s.Tier(ctx)
		if err != nil {
			out.Errors = append(out.Errors, "tier: "+err.Error())
		} else {
			out.Tier = &tierDTO{Level: int(p.Tier), Name: p.TierName, Reasons: p.Reasons, Knobs: p.Knobs, Mode: string(p.Resources.Mode)}
		}
	}
	if s.Queue != nil {
		q, err := s.Queue(ctx)
		if err != nil {
			out.Errors = append(out.Errors, "queue: "+err.Error())
		} else {
			out.Queue = q
		}
	}
	c.JSON(http.StatusOK, out)
	return nil
}
