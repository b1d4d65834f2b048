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
	"github.com/tollgate-dev/tollgate/billing/webhook"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/internal/tier"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// AdminDeps are the collaborators of the usage, budget, alert, webhook, routing,
// model, provider, system and live-feed endpoints. NewAdmin hands each resource's
// handlers only the ones they use.
type AdminDeps struct {
	// Identity guards every route (TenantGroup, Authorize); its key and member
	// services name usage events and re-check live sessions, and its audit log
	// records changes.
	Identity *Identity
	Registry *tenants.Registry
	// Meter reports its health on /system.
	Meter meter.Meter
	// Policies is the request path's policy cache; a policy saved here
	// invalidates it so this process enforces the new policy at once.
	Policies *gateway.PolicyCache
	// ResponseCacheUnavailable, when set, says why a policy may not enable the
	// response cache on this deployment (Redis without a master key).
	ResponseCacheUnavailable string
	// Sealer opens the prompts tenants keep (retain_prompts_days) for the
	// what-if; nil refuses policies that keep prompts (no master key).
	Sealer *seal.Sealer
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
	Live *LiveHub
	// Webhooks configures the webhook service; a nil Clock takes Clock.
	Webhooks webhook.ServiceConfig
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

// Admin serves the metering, budget, routing, model, provider, system and
// live-feed parts of the admin API: one small handler struct per resource, each
// holding only what its handlers use and registering its own routes. Handlers are
// thin: bind, build the domain input, call the domain service, map to a DTO.
type Admin struct {
	id        *Identity
	resources []adminResource
}

// adminResource is one resource's handlers.
type adminResource interface {
	register(r adminRoutes)
}

// adminRoutes is where a resource registers: the engine for platform routes,
// the identity layer's tenant group (tenant resolved once from path and
// caller), and the identity layer's guards.
type adminRoutes struct {
	engine *gin.Engine
	tenant *gin.RouterGroup
	id     *Identity
}

// NewAdmin returns the admin endpoints.
func NewAdmin(d AdminDeps) *Admin {
	if d.Clock == nil {
		d.Clock = time.Now
	}
	if d.Available == nil {
		d.Available = func(routing.Model) bool { return true }
	}
	if d.Webhooks.Clock == nil {
		d.Webhooks.Clock = d.Clock
	}
	logger := d.Logger.With("component", "api.admin")
	audit := auditor{log: d.Identity.d.Audit, logger: logger}
	prices := priceCatalog{static: d.Catalog, cache: d.Catalogs}
	return &Admin{id: d.Identity, resources: []adminResource{
		&usageAPI{registry: d.Registry, id: d.Identity, clock: d.Clock},
		&usageImportAPI{registry: d.Registry, prices: prices, clock: d.Clock, audit: audit},
		&budgetsAPI{registry: d.Registry, svc: d.BudgetService},
		&alertsAPI{registry: d.Registry},
		&webhookAPI{registry: d.Registry, svc: webhook.NewService(d.Webhooks), audit: audit},
		&routingAPI{registry: d.Registry, policies: d.Policies, cacheUnavailable: d.ResponseCacheUnavailable, sealer: d.Sealer, prices: prices, selector: d.Selector, clock: d.Clock, audit: audit, id: d.Identity},
		&modelsAPI{registry: d.Registry, prices: prices, available: d.Available, audit: audit},
		&liveAPI{registry: d.Registry, id: d.Identity, hub: d.Live, clock: d.Clock, logger: logger},
		&systemAPI{cfg: d.System, meter: d.Meter, ledger: d.Ledger, live: d.Live},
		&providersAPI{settings: d.Providers, audit: audit},
	}}
}

// Register adds every resource's routes.
func (a *Admin) Register(e *gin.Engine) {
	r := adminRoutes{engine: e, tenant: a.id.TenantGroup(e), id: a.id}
	for _, res := range a.resources {
		res.register(r)
	}
}

// tenantOf extracts the principal (once) and its tenant-scoped handle.
func tenantOf(c *gin.Context, reg *tenants.Registry) (tenants.Principal, *tenants.Handle, error) {
	p, err := principal(c)
	if err != nil {
		return tenants.Principal{}, nil, err
	}
	hd, err := reg.Handle(p)
	return p, hd, err
}

// auditor records admin changes in the audit log. A failed record is logged,
// not returned: the change it describes has already been made.
type auditor struct {
	log    *audit.AuditLog
	logger *slog.Logger
}

// record writes one entry for tenant ("" for platform changes) by the caller.
// Never pass secrets in details.
func (a auditor) record(c *gin.Context, tenant tenants.ID, action, target string, details map[string]any) {
	ctx := c.Request.Context()
	if err := a.log.Record(ctx, tenant, actor(c), action, target, details); err != nil {
		a.logger.ErrorContext(ctx, "audit record failed", "error", err, "action", action, "target", target)
	}
}

// systemAPI serves GET /api/v1/system (superadmin).
type systemAPI struct {
	cfg    SystemConfig
	meter  meter.Meter
	ledger *ledger.Writer
	live   *LiveHub
}

func (a *systemAPI) register(r adminRoutes) {
	id := r.id
	r.engine.GET("/api/v1/system", id.requireSession, id.AuthorizePlatform(access.ActionRead), h(a.system))
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
func (a *systemAPI) system(c *gin.Context) error {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	s := a.cfg
	out := systemDTO{Mode: s.Mode, DB: dbHealthDTO{OK: true, Driver: s.Driver}}
	if s.PingDB != nil {
		if err := s.PingDB(ctx); err != nil {
			out.DB = dbHealthDTO{OK: false, Driver: s.Driver, Error: err.Error()}
		}
	}
	if a.meter != nil {
		mh := a.meter.Health(ctx)
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
	if a.ledger != nil {
		st := a.ledger.Stats()
		out.Ledger = &st
	}
	if a.live != nil {
		st := a.live.Stats()
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
