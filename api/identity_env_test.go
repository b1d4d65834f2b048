package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
	"github.com/tollgate-dev/tollgate/tenants/audit"
	"github.com/tollgate-dev/tollgate/tenants/sso"
)

// testJWTSecret signs the test environments' sessions (a static keyring), so tests
// can forge tokens with it or with a wrong key.
const testJWTSecret = "test-secret-0123456789abcdef0123456789abcdef"

// testMaxBody is the body limit of test servers (413 above it).
const testMaxBody = 64 << 10

var backends = []string{"sqlite", "postgres"}

// envOptions tune a test environment.
type envOptions struct {
	limits accounts.LoginLimits
	// url reuses an existing database (a second instance); empty creates one.
	url string
	// admin tunes the admin endpoints (webhooks, live feed).
	admin adminOptions
}

// testEnv is one Tollgate API instance over a real database, with the identity and
// admin routes (usage, budgets, routing, live feed: see newTestAdmin) and test-only
// probe routes: one per policy permission and a /v1 route behind RequireAPIKey.
type testEnv struct {
	t        *testing.T
	url      string
	db       *database.DB
	reg      *tenants.Registry
	users    *accounts.Users
	keys     *apikeys.Keys
	sessions *accounts.Sessions
	keyAuth  *apikeys.KeyAuthenticator
	feed     *tenants.ChangeFeed
	handler  http.Handler
	engine   *gin.Engine
	adminAPI *testAdmin
}

func newTestEnv(t *testing.T, backend string, opts ...envOptions) *testEnv {
	t.Helper()
	var o envOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.limits == (accounts.LoginLimits{}) {
		o.limits = accounts.LoginLimits{PerIPPerMinute: 100000, PerIPBurst: 100000, PerAccountPerMinute: 100000, PerAccountBurst: 100000}
	}
	url := o.url
	if url == "" {
		if backend == "postgres" {
			url = testdb.Postgres(t)
		} else {
			url = testdb.SQLite(t)
		}
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
	authz, err := access.NewAuthorizer(db, feed, logger)
	require.NoError(t, err)
	require.NoError(t, authz.Seed(ctx))
	users := accounts.NewUsers(db, accounts.NewHasher(accounts.TestPasswordParams()), feed, logger)
	keys := apikeys.NewKeys(db, feed, logger)
	sealer, err := seal.New("api-test-master-key-0123456789abcdef")
	require.NoError(t, err)
	ssoStore := sso.NewStore(db, reg, users, sso.StoreConfig{Sealer: sealer, AllowInsecure: true})
	sessions := accounts.NewSessions(db, users, accounts.NewStaticKeyring(testJWTSecret),
		accounts.SessionConfig{Limits: o.limits, PasswordGate: ssoStore.PasswordGate}, logger)
	ssoSvc := sso.NewService(db, ssoStore, users, sessions, sso.Config{AllowPrivate: true}, logger)
	keyAuth := apikeys.NewKeyAuthenticator(db, feed, apikeys.KeyAuthConfig{}, logger)
	ident := NewIdentity(IdentityDeps{Registry: reg, Users: users, Sessions: sessions, Keys: keys, KeyAuth: keyAuth,
		Authz: authz, Audit: audit.NewAuditLog(db), Feed: feed, SSO: ssoSvc, Logger: logger})
	go feed.Run(ctx)

	adminAPI := newTestAdmin(t, backend, ident, reg, db, o.admin, logger)
	srv := New(Deps{Config: Config{MaxBodyBytes: testMaxBody, Mode: "multi-tenant"}, Logger: logger,
		Routes: []func(*gin.Engine){ident.Register, adminAPI.admin.Register, func(e *gin.Engine) { registerProbes(e, ident) }}})
	return &testEnv{t: t, url: url, db: db, reg: reg, users: users, keys: keys, sessions: sessions, keyAuth: keyAuth,
		feed: feed, handler: srv.Handler(), engine: srv.Engine(), adminAPI: adminAPI}
}

// benchEnv is the minimal SQLite stack for benchmarks (no HTTP server).
func benchEnv(b *testing.B) *testEnv {
	url := testdb.SQLite(b)
	logger := logging.Discard()
	db, err := database.Open(b.Context(), url, database.Options{})
	require.NoError(b, err)
	b.Cleanup(func() { _ = db.Close() })
	require.NoError(b, migrations.ControlUp(b.Context(), db.SQL, db.Dialect, logger))
	reg := tenants.NewRegistry(db, filepath.Dir(database.SQLitePath(url)), logger)
	b.Cleanup(reg.Close)
	feed := tenants.NewChangeFeed(db, tenants.ChangeFeedConfig{}, logger)
	return &testEnv{url: url, db: db, reg: reg, feed: feed, keys: apikeys.NewKeys(db, feed, logger),
		keyAuth: apikeys.NewKeyAuthenticator(db, feed, apikeys.KeyAuthConfig{}, logger)}
}

// registerProbes adds test-only routes protected exactly as real routes are.
func registerProbes(e *gin.Engine, ident *Identity) {
	ok := func(c *gin.Context) error {
		p, err := principal(c)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, gin.H{"tenant_id": p.TenantID(), "kind": p.Kind()})
		return nil
	}
	g := ident.TenantGroup(e)
	for _, perm := range access.Permissions() {
		g.GET(probePath(perm), ident.Authorize(perm.Resource, perm.Action), h(ok))
	}
	e.GET("/v1/whoami", RequireAPIKey(ident.KeyAuth(), apikeys.ScopeInference), func(c *gin.Context) {
		k, _ := KeyFrom(c)
		p, _ := tenants.PrincipalFrom(c.Request.Context())
		c.JSON(http.StatusOK, gin.H{"key_id": k.ID, "tenant_id": p.TenantID(), "models": k.Models, "rpm_limit": k.RPMLimit})
	})
}

func probePath(p access.Permission) string {
	return "/_probe/" + string(p.Resource) + "/" + string(p.Action)
}

// tenant creates a tenant.
func (e *testEnv) tenant(name string) tenants.Tenant {
	e.t.Helper()
	t, err := e.reg.Create(e.t.Context(), tenants.CreateInput{Name: name})
	require.NoError(e.t, err)
	return t
}

const testPassword = "correct horse battery"

// member creates a user with role in tenant and returns its id and access token.
func (e *testEnv) member(t tenants.Tenant, role access.Role) (string, string) {
	e.t.Helper()
	u, err := e.users.Create(e.t.Context(), accounts.CreateUserInput{Email: fmt.Sprintf("%s-%s@example.com", role, tenants.NewID()),
		Password: testPassword})
	require.NoError(e.t, err)
	require.NoError(e.t, e.users.AddMember(e.t.Context(), t.ID, u.ID, role, audit.CLIActor()))
	return u.ID, e.login(u.Email)
}

// superadmin creates a superadmin and returns its access token.
func (e *testEnv) superadmin() string {
	e.t.Helper()
	u, err := e.users.Create(e.t.Context(), accounts.CreateUserInput{Email: fmt.Sprintf("root-%s@example.com", tenants.NewID()),
		Password: testPassword, Superadmin: true})
	require.NoError(e.t, err)
	return e.login(u.Email)
}

func (e *testEnv) login(email string) string {
	e.t.Helper()
	pair, err := e.sessions.Login(e.t.Context(), accounts.LoginInput{Email: email, Password: testPassword, IP: "192.0.2.1"})
	require.NoError(e.t, err)
	return pair.AccessToken.Reveal()
}

// key creates an API key in tenant and returns it with its secret.
func (e *testEnv) key(t tenants.Tenant, scopes ...string) (apikeys.APIKey, string) {
	e.t.Helper()
	k, secret, err := e.keys.Create(e.t.Context(), apikeys.CreateKeyInput{TenantID: t.ID, Name: "k-" + string(tenants.NewID())[:6],
		Scopes: scopes, Actor: audit.CLIActor()})
	require.NoError(e.t, err)
	return k, secret.Reveal()
}

type response struct {
	Status int
	Body   string
	Header http.Header
}

// do sends a request to the in-process handler. body may be a string (sent as is)
// or any value (JSON-encoded); token "" sends no Authorization header.
func (e *testEnv) do(method, path, token string, body any) response {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(e.t, err)
		r = bytes.NewReader(j)
	}
	req := httptest.NewRequestWithContext(e.t.Context(), method, path, r)
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, req)
	return response{Status: w.Code, Body: w.Body.String(), Header: w.Header()}
}

// snapshot renders the identity tables, so a refused request can be shown to have
// changed nothing. Login bookkeeping (refresh tokens) and last_used_at are left out.
func (e *testEnv) snapshot() string {
	e.t.Helper()
	var b strings.Builder
	for _, q := range []string{
		"SELECT id, status FROM tenants ORDER BY id",
		"SELECT id, email, superadmin, password_hash, disabled_at IS NULL FROM users ORDER BY id",
		"SELECT tenant_id, user_id, role FROM memberships ORDER BY tenant_id, user_id",
		"SELECT id, tenant_id, name, scopes, revoked_at IS NULL, expires_at IS NULL FROM api_keys ORDER BY id",
		"SELECT count(*) FROM audit_log",
		"SELECT id, tenant_id, email, role, accepted_at IS NULL, revoked_at IS NULL FROM invitations ORDER BY id",
		"SELECT ptype, v0, v1, v2, v3 FROM casbin_rule ORDER BY ptype, v0, v1, v2, v3",
	} {
		rows, err := e.db.SQL.QueryContext(e.t.Context(), q)
		require.NoError(e.t, err)
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(e.t, rows.Scan(ptrs...))
			fmt.Fprintln(&b, vals...)
		}
		require.NoError(e.t, rows.Err())
		_ = rows.Close()
	}
	return b.String()
}

// invitePassword is the password invitees choose in tests.
const invitePassword = "invitee chose this one"

// invite has caller invite email to the tenant at base (/api/v1/tenants/X) and
// returns the one-time link.
func (e *testEnv) invite(base, caller, email, role string) string {
	e.t.Helper()
	res := e.do("POST", base+"/invitations", caller, map[string]string{"email": email, "role": role})
	require.Equal(e.t, 201, res.Status, res.Body)
	require.NotContains(e.t, strings.ToLower(res.Body), "password")
	var inv invitationDTO
	require.NoError(e.t, json.Unmarshal([]byte(res.Body), &inv))
	require.Contains(e.t, inv.URL, "/invite/tgl_")
	return inv.URL
}

// linkToken is the token of a one-time link URL.
func linkToken(url string) string { return url[strings.LastIndex(url, "/")+1:] }

// accepted is a user who accepted a link, with the session it started.
type accepted struct {
	UserID, Email, Access, Refresh string
}

// acceptNew accepts an invitation for a new account with invitePassword (or pw).
func (e *testEnv) acceptNew(url, pw string) accepted {
	e.t.Helper()
	if pw == "" {
		pw = invitePassword
	}
	res := e.do("POST", "/api/v1/links/accept", "", map[string]string{"token": linkToken(url), "password": pw})
	require.Equal(e.t, 200, res.Status, res.Body)
	var out acceptLinkResponse
	require.NoError(e.t, json.Unmarshal([]byte(res.Body), &out))
	require.NotNil(e.t, out.Session)
	u, err := e.users.FindByEmail(e.t.Context(), out.Email)
	require.NoError(e.t, err)
	return accepted{UserID: u.ID, Email: u.Email, Access: out.Session.AccessToken, Refresh: out.Session.RefreshToken}
}
