package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/billing/webhook"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// isolationFixture: tenants A and B, each with an owner, an admin, a viewer and keys.
func isolationFixture(t *testing.T, backend string) *fixture {
	env := newTestEnv(t, backend)
	a, b := env.tenant("acme"), env.tenant("globex")
	f := &fixture{env: env, tokens: map[string]string{}, vars: map[string]string{
		"A": string(a.ID), "B": string(b.ID), "A_SLUG": a.Slug, "B_SLUG": b.Slug}}
	_, f.tokens["a_owner"] = env.member(a, access.RoleOwner)
	_, f.tokens["a_admin"] = env.member(a, access.RoleAdmin)
	_, f.tokens["a_viewer"] = env.member(a, access.RoleViewer)
	bOwner, bOwnerToken := env.member(b, access.RoleOwner)
	f.tokens["b_owner"] = bOwnerToken
	f.vars["B_OWNER"] = bOwner
	bViewer, _ := env.member(b, access.RoleViewer)
	f.vars["B_VIEWER"] = bViewer
	bInvite, err := env.users.Invite(t.Context(), accounts.InviteInput{TenantID: b.ID, Email: "pending@example.com", Role: access.RoleAdmin, Actor: audit.CLIActor()})
	require.NoError(t, err)
	f.vars["B_INVITE"] = bInvite.Invitation.ID
	bKey, bSecret := env.key(b, apikeys.ScopeInference, apikeys.ScopeReadUsage)
	f.vars["B_KEY"] = bKey.ID
	f.tokens["b_key"] = bSecret
	aKey, _ := env.key(a)
	f.vars["A_KEY"] = aKey.ID
	_, f.tokens["a_usage_key"] = env.key(a, apikeys.ScopeReadUsage)
	_, f.tokens["a_inference_key"] = env.key(a, apikeys.ScopeInference)
	// B's metering data: a ledger event and a budget that A must never see or change.
	bh, err := env.reg.Handle(tenants.SystemPrincipal(b, "test"))
	require.NoError(t, err)
	_, err = ledger.Insert(t.Context(), bh, []ledger.Event{{TenantID: string(b.ID), RequestID: "b-secret-request", CreatedAt: time.Now().UTC(),
		KeyID: bKey.ID, ModelUsed: "sim-large", InputTokens: 10, OutputTokens: 10, Cost: 123, Status: ledger.StatusOK}})
	require.NoError(t, err)
	bBudget, err := budget.Set(t.Context(), bh, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 1_000_000_000})
	require.NoError(t, err)
	f.vars["B_BUDGET"] = bBudget.ID
	return f
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			f := isolationFixture(t, backend)
			notFound := []string{`"code":"not_found"`}
			f.run(t, []apiScenario{
				// A's admin cannot see or touch B, by id or by slug: 404, never 403.
				{Name: "read B members by id", Caller: "a_admin", Method: "GET", Path: "/api/v1/tenants/{B}/members", WantStatus: 404, WantBody: notFound, DenyBody: []string{"{B_OWNER}"}},
				{Name: "read B members by slug", Caller: "a_admin", Method: "GET", Path: "/api/v1/tenants/{B_SLUG}/members", WantStatus: 404, WantBody: notFound},
				{Name: "invite into B", Caller: "a_admin", Method: "POST", Path: "/api/v1/tenants/{B}/invitations", Body: `{"email":"x@example.com","role":"admin"}`, WantStatus: 404, Unchanged: true},
				{Name: "list B invitations", Caller: "a_admin", Method: "GET", Path: "/api/v1/tenants/{B}/invitations", WantStatus: 404, DenyBody: []string{"{B_INVITE}"}},
				{Name: "revoke B invitation in B", Caller: "a_admin", Method: "DELETE", Path: "/api/v1/tenants/{B}/invitations/{B_INVITE}", WantStatus: 404, Unchanged: true},
				{Name: "revoke B invitation under A", Caller: "a_admin", Method: "DELETE", Path: "/api/v1/tenants/{A}/invitations/{B_INVITE}", WantStatus: 404, Unchanged: true},
				{Name: "disable B owner", Caller: "a_owner", Method: "POST", Path: "/api/v1/users/{B_OWNER}/disable", WantStatus: 403, Unchanged: true},
				{Name: "sign B owner out", Caller: "a_owner", Method: "POST", Path: "/api/v1/users/{B_OWNER}/sign-out", WantStatus: 403, Unchanged: true},
				{Name: "delete B owner", Caller: "a_owner", Method: "DELETE", Path: "/api/v1/users/{B_OWNER}", WantStatus: 403, Unchanged: true},
				{Name: "promote in B", Caller: "a_admin", Method: "PATCH", Path: "/api/v1/tenants/{B}/members/{B_VIEWER}", Body: `{"role":"admin"}`, WantStatus: 404, Unchanged: true},
				{Name: "remove from B", Caller: "a_admin", Method: "DELETE", Path: "/api/v1/tenants/{B}/members/{B_VIEWER}", WantStatus: 404, Unchanged: true},
				{Name: "read B keys", Caller: "a_admin", Method: "GET", Path: "/api/v1/tenants/{B}/keys", WantStatus: 404, DenyBody: []string{"{B_KEY}"}},
				{Name: "create key in B", Caller: "a_admin", Method: "POST", Path: "/api/v1/tenants/{B}/keys", Body: `{"name":"evil"}`, WantStatus: 404, Unchanged: true},
				{Name: "revoke B key under B", Caller: "a_admin", Method: "POST", Path: "/api/v1/tenants/{B}/keys/{B_KEY}/revoke", WantStatus: 404, Unchanged: true},
				{Name: "read B audit", Caller: "a_admin", Method: "GET", Path: "/api/v1/tenants/{B}/audit", WantStatus: 404},
				{Name: "read B usage", Caller: "a_admin", Method: "GET", Path: "/api/v1/tenants/{B}/usage", WantStatus: 404},
				{Name: "read B tenant", Caller: "a_owner", Method: "GET", Path: "/api/v1/tenants/{B}", WantStatus: 404},
				// Metering, budgets, alerts, webhook, routing, models and the live feed of B: 404 too.
				{Name: "read B usage events", Caller: "a_admin", Method: "GET", Path: "/api/v1/tenants/{B}/usage/events", WantStatus: 404, DenyBody: []string{"b-secret-request"}},
				{Name: "export B usage", Caller: "a_owner", Method: "GET", Path: "/api/v1/tenants/{B}/usage.csv", WantStatus: 404, DenyBody: []string{"sim-large"}},
				{Name: "read B budgets", Caller: "a_admin", Method: "GET", Path: "/api/v1/tenants/{B}/budgets", WantStatus: 404, DenyBody: []string{"{B_BUDGET}"}},
				{Name: "create budget in B", Caller: "a_admin", Method: "POST", Path: "/api/v1/tenants/{B}/budgets", Body: `{"scope":"tenant","period":"day","limit_usd":"1"}`, WantStatus: 404, Unchanged: true},
				{Name: "delete B budget under B", Caller: "a_admin", Method: "DELETE", Path: "/api/v1/tenants/{B}/budgets/{B_BUDGET}", WantStatus: 404},
				{Name: "read B alerts", Caller: "a_admin", Method: "GET", Path: "/api/v1/tenants/{B}/alerts", WantStatus: 404},
				{Name: "read B webhook", Caller: "a_owner", Method: "GET", Path: "/api/v1/tenants/{B}/webhook", WantStatus: 404},
				{Name: "set B webhook", Caller: "a_owner", Method: "PUT", Path: "/api/v1/tenants/{B}/webhook", Body: `{"url":"https://203.0.113.9/x"}`, WantStatus: 404},
				{Name: "test B webhook", Caller: "a_owner", Method: "POST", Path: "/api/v1/tenants/{B}/webhook/test", WantStatus: 404},
				{Name: "read B routing", Caller: "a_admin", Method: "GET", Path: "/api/v1/tenants/{B}/routing", WantStatus: 404},
				{Name: "replace B routing", Caller: "a_owner", Method: "PUT", Path: "/api/v1/tenants/{B}/routing", Body: `{"tiers":{"economy":["sim-small"]}}`, WantStatus: 404, Unchanged: true},
				{Name: "simulate over B traffic", Caller: "a_owner", Method: "POST", Path: "/api/v1/tenants/{B}/routing/simulate", Body: `{"policy":{"tiers":{"economy":["sim-small"]}}}`, WantStatus: 404, DenyBody: []string{"before_nano"}},
				{Name: "read B models", Caller: "a_admin", Method: "GET", Path: "/api/v1/tenants/{B}/models", WantStatus: 404},
				{Name: "watch B live", Caller: "a_owner", Method: "GET", Path: "/api/v1/tenants/{B}/live", WantStatus: 404},
				{Name: "B key reads A events", Caller: "b_key", Method: "GET", Path: "/api/v1/tenants/{A}/usage/events", WantStatus: 404},
				{Name: "usage key reads B events", Caller: "a_usage_key", Method: "GET", Path: "/api/v1/tenants/{B}/usage/events", WantStatus: 404},
				// Id guessing: B's ids under A's path are simply not found.
				{Name: "get B key under A", Caller: "a_admin", Method: "GET", Path: "/api/v1/tenants/{A}/keys/{B_KEY}", WantStatus: 404, DenyBody: []string{"prefix"}},
				{Name: "revoke B key under A", Caller: "a_admin", Method: "POST", Path: "/api/v1/tenants/{A}/keys/{B_KEY}/revoke", WantStatus: 404, Unchanged: true},
				{Name: "rotate B key under A", Caller: "a_owner", Method: "POST", Path: "/api/v1/tenants/{A}/keys/{B_KEY}/rotate", WantStatus: 404, Unchanged: true},
				{Name: "promote B member under A", Caller: "a_owner", Method: "PATCH", Path: "/api/v1/tenants/{A}/members/{B_VIEWER}", Body: `{"role":"admin"}`, WantStatus: 404, Unchanged: true},
				{Name: "remove B owner under A", Caller: "a_owner", Method: "DELETE", Path: "/api/v1/tenants/{A}/members/{B_OWNER}", WantStatus: 404, Unchanged: true},
				{Name: "delete B budget under A", Caller: "a_owner", Method: "DELETE", Path: "/api/v1/tenants/{A}/budgets/{B_BUDGET}", WantStatus: 404},
				{Name: "budget on B key under A", Caller: "a_owner", Method: "POST", Path: "/api/v1/tenants/{A}/budgets", Body: `{"scope":"key","scope_id":"{B_KEY}","period":"day","limit_usd":"1"}`, WantStatus: 422},
				{Name: "budget on B member under A", Caller: "a_owner", Method: "POST", Path: "/api/v1/tenants/{A}/budgets", Body: `{"scope":"member","scope_id":"{B_OWNER}","period":"day","limit_usd":"1"}`, WantStatus: 422},
				{Name: "unknown tenant", Caller: "a_admin", Method: "GET", Path: "/api/v1/tenants/nope/members", WantStatus: 404},
				// The tenant comes from the path and the session, never from the body.
				{Name: "body tenant ignored", Caller: "a_admin", Method: "POST", Path: "/api/v1/tenants/{A}/keys", Body: `{"name":"mine","tenant_id":"{B}"}`, WantStatus: 201},
				// API keys: their own tenant's usage with read:usage, nothing else.
				{Name: "usage key reads own usage", Caller: "a_usage_key", Method: "GET", Path: "/api/v1/tenants/{A}/usage", WantStatus: 200, WantBody: []string{`"totals"`}},
				{Name: "usage key reads own usage by slug", Caller: "a_usage_key", Method: "GET", Path: "/api/v1/tenants/{A_SLUG}/usage", WantStatus: 200},
				{Name: "usage key reads B usage", Caller: "a_usage_key", Method: "GET", Path: "/api/v1/tenants/{B}/usage", WantStatus: 404},
				{Name: "B key reads A usage", Caller: "b_key", Method: "GET", Path: "/api/v1/tenants/{A}/usage", WantStatus: 404},
				{Name: "inference key reads usage", Caller: "a_inference_key", Method: "GET", Path: "/api/v1/tenants/{A}/usage", WantStatus: 403, WantBody: []string{"read:usage"}},
				{Name: "usage key lists keys", Caller: "a_usage_key", Method: "GET", Path: "/api/v1/tenants/{A}/keys", WantStatus: 403},
				{Name: "usage key creates key", Caller: "a_usage_key", Method: "POST", Path: "/api/v1/tenants/{A}/keys", Body: `{"name":"x"}`, WantStatus: 403, Unchanged: true},
				{Name: "usage key invites", Caller: "a_usage_key", Method: "POST", Path: "/api/v1/tenants/{A}/invitations", Body: `{"email":"k@example.com","role":"owner"}`, WantStatus: 403, Unchanged: true},
				{Name: "usage key reads audit", Caller: "a_usage_key", Method: "GET", Path: "/api/v1/tenants/{A}/audit", WantStatus: 403},
				{Name: "usage key reads budgets", Caller: "a_usage_key", Method: "GET", Path: "/api/v1/tenants/{A}/budgets", WantStatus: 403},
				{Name: "usage key reads routing", Caller: "a_usage_key", Method: "GET", Path: "/api/v1/tenants/{A}/routing", WantStatus: 403},
				{Name: "usage key opens live feed", Caller: "a_usage_key", Method: "GET", Path: "/api/v1/tenants/{A}/live", WantStatus: 403},
				{Name: "inference key exports usage", Caller: "a_inference_key", Method: "GET", Path: "/api/v1/tenants/{A}/usage.csv", WantStatus: 403, WantBody: []string{"read:usage"}},
				{Name: "usage key on me", Caller: "a_usage_key", Method: "GET", Path: "/api/v1/me", WantStatus: 401},
				{Name: "usage key lists tenants", Caller: "a_usage_key", Method: "GET", Path: "/api/v1/tenants", WantStatus: 401},
				{Name: "usage key creates tenant", Caller: "a_usage_key", Method: "POST", Path: "/api/v1/tenants", Body: `{"name":"evil"}`, WantStatus: 401, Unchanged: true},
				// Roles: a viewer may not create keys; an admin may not suspend tenants.
				{Name: "viewer creates key", Caller: "a_viewer", Method: "POST", Path: "/api/v1/tenants/{A}/keys", Body: `{"name":"x"}`, WantStatus: 403, WantBody: []string{"permission_error"}, Unchanged: true},
				{Name: "viewer replaces routing", Caller: "a_viewer", Method: "PUT", Path: "/api/v1/tenants/{A}/routing", Body: `{"tiers":{"economy":["sim-small"]}}`, WantStatus: 403, WantBody: []string{"permission_error"}},
				{Name: "viewer creates budget", Caller: "a_viewer", Method: "POST", Path: "/api/v1/tenants/{A}/budgets", Body: `{"scope":"tenant","period":"day","limit_usd":"1"}`, WantStatus: 403, WantBody: []string{"permission_error"}},
				{Name: "viewer sets webhook", Caller: "a_viewer", Method: "PUT", Path: "/api/v1/tenants/{A}/webhook", Body: `{"url":"https://203.0.113.9/x"}`, WantStatus: 403},
				{Name: "admin reads system", Caller: "a_admin", Method: "GET", Path: "/api/v1/system", WantStatus: 403},
				{Name: "admin suspends own tenant", Caller: "a_owner", Method: "POST", Path: "/api/v1/tenants/{A}/suspend", WantStatus: 403, Unchanged: true},
				{Name: "admin creates tenant", Caller: "a_admin", Method: "POST", Path: "/api/v1/tenants", Body: `{"name":"mine"}`, WantStatus: 403, Unchanged: true},
				// Tenant lists show only the caller's tenants.
				{Name: "tenant list", Caller: "a_admin", Method: "GET", Path: "/api/v1/tenants", WantStatus: 200, WantBody: []string{"{A}"}, DenyBody: []string{"{B}"}},
				{Name: "me", Caller: "a_admin", Method: "GET", Path: "/api/v1/me", WantStatus: 200, WantBody: []string{"{A}", `"role":"admin"`}, DenyBody: []string{"{B}"}},
				// No credentials.
				{Name: "anonymous", Method: "GET", Path: "/api/v1/tenants/{A}/members", WantStatus: 401},
			})
			// The key created with a foreign tenant_id in its body landed in A.
			page, err := f.env.keys.List(t.Context(), apikeys.ListKeysInput{TenantID: tenants.ID(f.vars["B"]), Query: "mine"})
			require.NoError(t, err)
			require.Empty(t, page.Keys)
			page, err = f.env.keys.List(t.Context(), apikeys.ListKeysInput{TenantID: tenants.ID(f.vars["A"]), Query: "mine"})
			require.NoError(t, err)
			require.Len(t, page.Keys, 1)
			// B's budget, routing policy and webhook are as they were.
			bt, err := f.env.reg.Get(t.Context(), f.vars["B"])
			require.NoError(t, err)
			bh, err := f.env.reg.Handle(tenants.SystemPrincipal(bt, "test"))
			require.NoError(t, err)
			bs, err := budget.List(t.Context(), bh)
			require.NoError(t, err)
			require.Len(t, bs, 1)
			require.Equal(t, f.vars["B_BUDGET"], bs[0].ID)
			_, saved, err := gateway.LoadPolicy(t.Context(), bh)
			require.NoError(t, err)
			require.False(t, saved)
			_, err = webhook.Load(t.Context(), bh, nil)
			require.ErrorIs(t, err, errkind.NotFound)
		})
	}
}

func TestJWTRefusals(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, backend)
			a := env.tenant("acme")
			uid, _ := env.member(a, access.RoleOwner)
			u, err := env.users.Get(t.Context(), uid)
			require.NoError(t, err)
			pair, err := env.sessions.Login(t.Context(), accounts.LoginInput{Email: u.Email, Password: testPassword, IP: "192.0.2.1"})
			require.NoError(t, err)
			valid := pair.AccessToken.Reveal()
			family := familyOf(t, valid)
			kid := accounts.NewStaticKeyring(testJWTSecret).Current()

			forge := func(method jwt.SigningMethod, key any, kid string, mutate func(*accounts.SessionClaims)) string {
				now := time.Now()
				c := accounts.SessionClaims{RegisteredClaims: jwt.RegisteredClaims{Issuer: "tollgate", Subject: uid,
					IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute))}, Family: family}
				if mutate != nil {
					mutate(&c)
				}
				tok := jwt.NewWithClaims(method, c)
				tok.Header["kid"] = kid
				s, err := tok.SignedString(key)
				require.NoError(t, err)
				return s
			}
			// Sanity: a token forged with the right key and claims is accepted.
			require.Equal(t, 200, env.do("GET", "/api/v1/me", forge(jwt.SigningMethodHS256, []byte(testJWTSecret), kid, nil), nil).Status)
			require.Equal(t, 200, env.do("GET", "/api/v1/me", valid, nil).Status)

			// Logout revokes the session family: the access token dies with it.
			require.Equal(t, 204, env.do("POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": pair.RefreshToken.Reveal()}).Status)

			none := func() string {
				tok := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.RegisteredClaims{Issuer: "tollgate", Subject: uid,
					ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))})
				tok.Header["kid"] = kid
				s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
				require.NoError(t, err)
				return s
			}()
			// A fresh, live session to forge against (the first family is revoked).
			live, err := env.sessions.Login(t.Context(), accounts.LoginInput{Email: u.Email, Password: testPassword, IP: "192.0.2.1"})
			require.NoError(t, err)
			family = familyOf(t, live.AccessToken.Reveal())
			for name, tok := range map[string]string{
				"revoked by logout": valid,
				"expired": forge(jwt.SigningMethodHS256, []byte(testJWTSecret), kid, func(c *accounts.SessionClaims) {
					c.IssuedAt = jwt.NewNumericDate(time.Now().Add(-time.Hour))
					c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Minute))
				}),
				"no expiry":         forge(jwt.SigningMethodHS256, []byte(testJWTSecret), kid, func(c *accounts.SessionClaims) { c.ExpiresAt = nil }),
				"wrong key":         forge(jwt.SigningMethodHS256, []byte("another-secret-0123456789abcdef0123456789"), kid, nil),
				"unknown kid":       forge(jwt.SigningMethodHS256, []byte(testJWTSecret), "k-unknown", nil),
				"HS512 not allowed": forge(jwt.SigningMethodHS512, []byte(testJWTSecret), kid, nil),
				"alg none":          none,
				"wrong issuer":      forge(jwt.SigningMethodHS256, []byte(testJWTSecret), kid, func(c *accounts.SessionClaims) { c.Issuer = "evil" }),
				"other user's family": forge(jwt.SigningMethodHS256, []byte(testJWTSecret), kid, func(c *accounts.SessionClaims) {
					c.Subject = "01aaaaaaaaaaaaaaaaaaaaaaaa"
				}),
				"malformed":          "not.a.jwt",
				"garbage":            "eyJhbGciOiJIUzI1NiJ9." + strings.Repeat("A", 40),
				"tampered signature": live.AccessToken.Reveal()[:len(live.AccessToken.Reveal())-2] + "xx",
			} {
				res := env.do("GET", "/api/v1/me", tok, nil)
				require.Equal(t, http.StatusUnauthorized, res.Status, "%s: %s", name, res.Body)
				require.Contains(t, res.Body, "authentication_error", name)
			}
			require.Equal(t, 200, env.do("GET", "/api/v1/me", live.AccessToken.Reveal(), nil).Status)
		})
	}
}

func familyOf(t *testing.T, token string) string {
	t.Helper()
	var c accounts.SessionClaims
	_, _, err := jwt.NewParser().ParseUnverified(token, &c)
	require.NoError(t, err)
	return c.Family
}
