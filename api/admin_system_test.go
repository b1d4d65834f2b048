package api

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/worker/tier"
)

// adminBundle is a test API instance with the identity routes and the admin
// endpoints over a real database, the in-process meter and the built-in catalog.
type adminBundle struct {
	*testEnv
	admin    *Admin
	hub      *LiveHub
	meter    *meter.MemoryMeter
	budgets  *budget.Cache
	policies *gateway.PolicyCache
}

// adminOptions tune newAdminEnv.
type adminOptions struct {
	webhooks WebhookConfig
	live     LiveConfig
}

// testMasterKey seals webhook secrets in tests.
const testMasterKey = "test-master-key-0123456789abcdef"

func newAdminEnv(t *testing.T, backend string, opts ...adminOptions) *adminBundle {
	t.Helper()
	var o adminOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	url := testdb.SQLite(t)
	if backend == "postgres" {
		url = testdb.Postgres(t)
	}
	ctx := t.Context()
	logger := logging.New(logging.TestWriter{T: t}, "warn", "text")
	db, err := database.Open(ctx, url, database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, migrations.ControlUp(ctx, db.SQL, db.Dialect, logger))
	dataDir := t.TempDir()
	if strings.HasPrefix(url, "sqlite") {
		dataDir = filepath.Dir(database.SQLitePath(url))
	}
	reg := tenants.NewRegistry(db, dataDir, logger)
	t.Cleanup(reg.Close)
	feed := tenants.NewChangeFeed(db, tenants.ChangeFeedConfig{PollInterval: 200 * time.Millisecond}, logger)
	authz, err := tenants.NewAuthorizer(db, feed, logger)
	require.NoError(t, err)
	require.NoError(t, authz.Seed(ctx))
	users := tenants.NewUsers(db, tenants.NewHasher(tenants.TestPasswordParams()), feed, logger)
	keys := tenants.NewKeys(db, feed, logger)
	sessions := tenants.NewSessions(db, users, tenants.NewStaticKeyring(testJWTSecret), tenants.SessionConfig{
		Limits: tenants.LoginLimits{PerIPPerMinute: 100000, PerIPBurst: 100000, PerAccountPerMinute: 100000, PerAccountBurst: 100000}}, logger)
	keyAuth := tenants.NewKeyAuthenticator(db, feed, tenants.KeyAuthConfig{}, logger)
	ident := NewIdentity(IdentityDeps{Registry: reg, Users: users, Sessions: sessions, Keys: keys, KeyAuth: keyAuth,
		Authz: authz, Audit: tenants.NewAuditLog(db), Feed: feed, Logger: logger})
	go feed.Run(ctx)

	catalog := routing.DefaultCatalog()
	selector, err := routing.NewSelector(routing.SelectorConfig{Catalog: catalog}, logger)
	require.NoError(t, err)
	if o.webhooks.Sealer == nil {
		o.webhooks.Sealer, err = routing.NewSealer(testMasterKey)
		require.NoError(t, err)
	}
	b := &adminBundle{hub: NewLiveHub(o.live, logger), meter: meter.NewMemoryMeter(logger, time.Now),
		budgets: budget.NewCache(time.Hour, time.Now), policies: gateway.NewPolicyCache(time.Hour, time.Now)}
	go b.hub.Run(ctx)
	b.admin = NewAdmin(AdminDeps{Identity: ident, Registry: reg, Meter: b.meter, Budgets: b.budgets, Policies: b.policies,
		Catalog: catalog, Selector: selector, Live: b.hub, Webhooks: o.webhooks, Logger: logger,
		System: SystemConfig{Mode: "multi-tenant", Driver: backend, PingDB: db.SQL.PingContext,
			Tier: func(ctx context.Context) (tier.Profile, error) {
				return tier.Classify(tier.Resources{HostCPUs: 4, HostMemoryBytes: 8 << 30}), nil
			}}})
	srv := New(Deps{Config: Config{MaxBodyBytes: testMaxBody, Mode: "multi-tenant"}, Logger: logger,
		Routes: []func(*gin.Engine){ident.Register, b.admin.Register}})
	b.testEnv = &testEnv{t: t, url: url, db: db, reg: reg, users: users, keys: keys, sessions: sessions, keyAuth: keyAuth,
		feed: feed, handler: srv.Handler(), engine: srv.Engine()}
	return b
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
	_, owner := b.member(a, tenants.RoleOwner)
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
	_, viewer := b.member(a, tenants.RoleViewer)
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
