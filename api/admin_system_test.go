package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/billing/webhook"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/internal/tier"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
)

// testAdmin is the admin endpoints of a test environment, over the in-process
// meter and the built-in catalog, with the caches the request path would share.
type testAdmin struct {
	admin    *Admin
	hub      *LiveHub
	meter    *meter.MemoryMeter
	budgets  *budget.Cache
	policies *gateway.PolicyCache
	// sealer seals webhook secrets (the admin's and direct domain calls').
	sealer *seal.Sealer
}

// adminOptions tune the admin endpoints of a test environment.
type adminOptions struct {
	webhooks webhook.ServiceConfig
	live     LiveConfig
	// providerEnv is the provider configuration "from the environment" that stored
	// provider settings are merged with.
	providerEnv routing.ProvidersConfig
	// noPromptSealer runs the admin API as a deployment without a master key
	// for kept prompts (retain_prompts_days is refused).
	noPromptSealer bool
}

// testMasterKey seals webhook secrets in tests.
const testMasterKey = "test-master-key-0123456789abcdef"

func newTestAdmin(t *testing.T, backend string, ident *Identity, reg *tenants.Registry, db *database.DB, o adminOptions, logger *slog.Logger) *testAdmin {
	t.Helper()
	catalog := routing.DefaultCatalog()
	selector, err := routing.NewSelector(routing.SelectorConfig{Catalog: catalog}, logger)
	require.NoError(t, err)
	if o.webhooks.Sealer == nil {
		o.webhooks.Sealer, err = seal.New(testMasterKey)
		require.NoError(t, err)
	}
	est := routing.NewEstimator(routing.EstimatorConfig{})
	providerReg, err := routing.NewRegistryFromConfig(routing.ProvidersConfig{Sim: true}, est, logger)
	require.NoError(t, err)
	o.providerEnv.Sim = true
	providers, err := routing.NewProviderSettings(routing.ProviderSettingsConfig{Env: o.providerEnv, DB: db.Gorm,
		Sealer: o.webhooks.Sealer, Registry: providerReg, Estimator: est}, logger)
	require.NoError(t, err)
	ta := &testAdmin{hub: NewLiveHub(o.live, logger), meter: meter.NewMemoryMeter(logger, time.Now),
		budgets: budget.NewCache(time.Hour, time.Now), policies: gateway.NewPolicyCache(time.Hour, time.Now), sealer: o.webhooks.Sealer}
	go ta.hub.Run(t.Context())
	budgets, err := budget.NewService(budget.ServiceDeps{Meter: ta.meter, Cache: ta.budgets, Feed: ident.d.Feed,
		Directory: NewBudgetDirectory(ident.d.Keys, ident.d.Users), Audit: ident.d.Audit, PeriodSpend: ledger.PeriodSpend,
		CounterTotals: ledger.CounterTotals, LimitImpact: ledger.PreviewLimit, Logger: logger})
	require.NoError(t, err)
	promptSealer := o.webhooks.Sealer
	if o.noPromptSealer {
		promptSealer = nil
	}
	ta.admin = NewAdmin(AdminDeps{Identity: ident, Registry: reg, Meter: ta.meter, Policies: ta.policies, BudgetService: budgets, Sealer: promptSealer,
		Catalog: catalog, Selector: selector, Live: ta.hub, Webhooks: o.webhooks, Providers: providers, Logger: logger,
		System: SystemConfig{Mode: "multi-tenant", Driver: backend, PingDB: db.SQL.PingContext,
			Tier: func(ctx context.Context) (tier.Profile, error) {
				return tier.Classify(tier.Resources{HostCPUs: 4, HostMemoryBytes: 8 << 30}), nil
			}}})
	return ta
}

// adminBundle is a test environment seen from the admin endpoints' side.
type adminBundle struct {
	*testEnv
	*testAdmin
}

func newAdminEnv(t *testing.T, backend string, opts ...adminOptions) *adminBundle {
	t.Helper()
	var o adminOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	env := newTestEnv(t, backend, envOptions{admin: o})
	return &adminBundle{testEnv: env, testAdmin: env.adminAPI}
}

// handle returns tenant tn's handle for direct domain calls in tests.
func (b *adminBundle) handle(tn tenants.Tenant) *tenants.Handle {
	b.t.Helper()
	hd, err := b.reg.Handle(tenants.SystemPrincipal(tn, "test"))
	require.NoError(b.t, err)
	return hd
}

// insertEvents writes events straight into tn's ledger (and its rollups).
func (b *adminBundle) insertEvents(tn tenants.Tenant, evs []ledger.Event) {
	b.t.Helper()
	_, err := ledger.Insert(b.t.Context(), b.handle(tn), evs)
	require.NoError(b.t, err)
}

// decode unmarshals a response body.
func decode[T any](t *testing.T, res response) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal([]byte(res.Body), &v), res.Body)
	return v
}

// liveServer serves the bundle over a real listener (WebSockets need one).
func (b *adminBundle) liveServer() *httptest.Server {
	s := httptest.NewServer(b.handler)
	b.t.Cleanup(s.Close)
	return s
}

func TestSystemStatus(t *testing.T) {
	t.Parallel()
	b := newAdminEnv(t, "sqlite")
	a := b.tenant("acme")
	_, owner := b.member(a, access.RoleOwner)
	root := b.superadmin()
	f := &fixture{env: b.testEnv, tokens: map[string]string{"owner": owner, "root": root}}
	f.run(t, []apiScenario{
		{Name: "superadmin reads system", Caller: "root", Method: "GET", Path: "/api/v1/system", WantStatus: 200,
			WantBody: []string{`"mode":"multi-tenant"`, `"db":{"ok":true,"driver":"sqlite"}`, `"meter":{"ok":true,"state":"ok"}`,
				`"redis":{"ok":false,"configured":false}`, `"tier":{"level":2,"name":"Balanced"`, `"live":{`}, DenyBody: []string{`"queue"`}},
		{Name: "tenant owner may not", Caller: "owner", Method: "GET", Path: "/api/v1/system", WantStatus: 403},
		{Name: "anonymous", Method: "GET", Path: "/api/v1/system", WantStatus: 401},
	})
}

func TestModelsCatalog(t *testing.T) {
	t.Parallel()
	b := newAdminEnv(t, "sqlite")
	a := b.tenant("acme")
	_, viewer := b.member(a, access.RoleViewer)
	res := b.do("GET", "/api/v1/tenants/"+string(a.ID)+"/models?q=sim-", viewer, nil)
	require.Equal(t, 200, res.Status, res.Body)
	page := decode[listResponse[catalogModelDTO]](t, res)
	byID := map[string]catalogModelDTO{}
	for _, m := range page.Data {
		byID[m.ID] = m
	}
	require.Len(t, byID, 3, "q filters on id")
	small := byID["sim-small"]
	require.Equal(t, int64(150_000_000), small.InputPerMillionNano)
	require.Equal(t, "0.150000000", small.InputPerMillionUSD)
	require.Equal(t, "0.600000000", small.OutputPerMillionUSD)
	require.Equal(t, "economy", small.Tier)
	require.True(t, small.Enabled)
	require.Equal(t, 128_000, small.ContextWindow)
	require.True(t, small.Capabilities.Tools)
	require.Equal(t, "10.000000000", byID["sim-large"].OutputPerMillionUSD)
}
