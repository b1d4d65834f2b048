// Package gateway is the request path behind /v1: it chooses the model (routing),
// reserves the worst-case cost against every budget that applies (billing/meter),
// forwards with retries and fallbacks (routing.Executor), settles to the actual cost,
// appends the usage to the tenant's ledger (billing/ledger) and raises budget
// alerts. Nothing here takes a global lock or a database round trip per request:
// budgets and policies are cached, the meter is in memory or leased, and the ledger
// append is a local write.
package gateway

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/respcache"
	"github.com/tollgate-dev/tollgate/tenants"
)

// Sink receives what the console's live feed shows. Implementations must not block.
type Sink interface {
	// Usage is called once per completed request, after it reached the ledger spool.
	Usage(tenantID string, e ledger.Event)
	// Alert is called once when a budget threshold is first reached in a period.
	Alert(ctx context.Context, tenantID string, a budget.Alert, b budget.Budget)
}

// Deps are the service's collaborators.
type Deps struct {
	// Catalog is the base catalog; Catalogs, when set, serves each tenant's
	// catalog (base plus price overrides) and takes precedence.
	Catalog   *routing.Catalog
	Catalogs  *CatalogCache
	Selector  *routing.Selector
	Executor  *routing.Executor
	Estimator *routing.Estimator
	Providers *routing.Registry
	Meter     meter.Meter
	Budgets   *budget.Cache
	Policies  *PolicyCache
	Ledger    *ledger.Writer
	// Cache is the response cache; nil disables it whatever the policies say.
	Cache *respcache.Cache
	// Sealer seals the prompts of tenants that keep them (retain_prompts_days);
	// nil keeps none whatever the policies say (no master key).
	Sealer *seal.Sealer
	// Sink may be nil.
	Sink Sink
	// Tracer opens the reserve, upstream and settle spans under the request span
	// the API edge started; nil means no tracing.
	Tracer trace.Tracer
	Clock  func() time.Time
	Logger *slog.Logger
}

// Service runs requests through routing, the meter and the ledger.
type Service struct {
	d      Deps
	logger *slog.Logger
	pace   *paceTracker
	alerts *alertTracker
	// background counts work a request leaves behind (recording alerts), so that
	// shutdown can wait for it before the databases close.
	background sync.WaitGroup
}

// Drain waits for the work requests left behind (alerts being recorded), for a
// shutdown; call it after the server stopped taking requests.
func (s *Service) Drain() { s.background.Wait() }

// New returns the service.
func New(d Deps) (*Service, error) {
	if d.Catalogs == nil && d.Catalog != nil {
		d.Catalogs = NewCatalogCache(d.Catalog, 0, d.Clock)
	}
	if d.Catalogs == nil || d.Selector == nil || d.Executor == nil || d.Estimator == nil || d.Meter == nil ||
		d.Budgets == nil || d.Policies == nil || d.Ledger == nil || d.Logger == nil || d.Providers == nil {
		return nil, errors.New("gateway: missing dependency")
	}
	if d.Clock == nil {
		d.Clock = time.Now
	}
	if d.Tracer == nil {
		d.Tracer = noop.NewTracerProvider().Tracer("")
	}
	return &Service{d: d, logger: d.Logger.With("component", "routing.gateway"), pace: newPaceTracker(), alerts: newAlertTracker()}, nil
}

// Caller is the authenticated API key a request came with.
type Caller struct {
	Handle *tenants.Handle
	// KeyID is the API key's id; MemberID the user who owns it, when known.
	KeyID    string
	MemberID string
	// KeyName and MemberEmail name the key and its owner in refusals and route
	// explanations; either may be empty.
	KeyName     string
	MemberEmail string
	// Models is the key's model allowlist; empty allows every model.
	Models []string
	// RequestsPerMinute and TokensPerMinute are the key's rate limits; 0 means none.
	RequestsPerMinute int64
	TokensPerMinute   int64
	// OnRate, when set, receives the key's rate windows after each reservation,
	// allowed or refused (the API edge turns them into x-ratelimit-* headers).
	OnRate func([]meter.RateUsage)
}

func (c Caller) tenantID() string { return string(c.Handle.TenantID()) }

func (c Caller) allows(model string) bool {
	if len(c.Models) == 0 {
		return true
	}
	for _, m := range c.Models {
		if m == model {
			return true
		}
	}
	return false
}

// Models lists the tenant's catalog models this caller may use and a provider can serve.
func (s *Service) Models(ctx context.Context, c Caller) ([]routing.Model, error) {
	cat, err := s.catalog(ctx, c)
	if err != nil {
		return nil, err
	}
	var out []routing.Model
	for _, m := range cat.Models() {
		if s.d.Providers.Available(m) && c.allows(m.ID) {
			out = append(out, m)
		}
	}
	return out, nil
}

// catalog is the caller's tenant catalog: its prices are what selection,
// reservation and settlement use.
func (s *Service) catalog(ctx context.Context, c Caller) (*routing.Catalog, error) {
	cat, err := s.d.Catalogs.For(ctx, c.Handle)
	if err != nil {
		return nil, errkind.Wrap(errkind.Unavailable, err, "model prices unavailable")
	}
	return cat, nil
}
