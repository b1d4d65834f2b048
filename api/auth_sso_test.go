package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/testoidc"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
)

// httptest requests reach the server as http://example.com, so that is the
// callback the provider must know.
const apiSSOCallback = "http://example.com" + ssoCallbackPath

// doWithCookie is do with a Cookie header (the browser binding).
func (e *testEnv) doWithCookie(method, path, cookie string, body any) response {
	e.t.Helper()
	var r *strings.Reader
	req := httptest.NewRequestWithContext(e.t.Context(), method, path, nil)
	if body != nil {
		j, err := json.Marshal(body)
		require.NoError(e.t, err)
		r = strings.NewReader(string(j))
		req = httptest.NewRequestWithContext(e.t.Context(), method, path, r)
		req.Header.Set("Content-Type", "application/json")
	}
	if cookie != "" {
		req.Header.Set("Cookie", ssoCookie+"="+cookie)
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, req)
	return response{Status: w.Code, Body: w.Body.String(), Header: w.Header()}
}

// ssoSignIn runs the browser's part: start, the provider's login form, the
// callback; it returns the callback's redirect and the binding cookie.
func (e *testEnv) ssoSignIn(email, username, password string) (location, cookie string) {
	e.t.Helper()
	res := e.doWithCookie("POST", "/api/v1/auth/sso/start", "", map[string]string{"email": email, "return_to": "/t/alpha/keys"})
	require.Equal(e.t, http.StatusOK, res.Status, res.Body)
	var start ssoStartResponse
	require.NoError(e.t, json.Unmarshal([]byte(res.Body), &start))
	for _, c := range (&http.Response{Header: res.Header}).Cookies() {
		if c.Name == ssoCookie {
			cookie = c.Value
			require.True(e.t, c.HttpOnly)
			require.Equal(e.t, http.SameSiteLaxMode, c.SameSite)
			require.Equal(e.t, ssoCookiePath, c.Path)
		}
	}
	require.NotEmpty(e.t, cookie)
	ctx, cancel := context.WithTimeout(e.t.Context(), 15*time.Second)
	defer cancel()
	cb, err := testoidc.Login(ctx, start.AuthorizeURL, username, password, apiSSOCallback)
	require.NoError(e.t, err)
	res = e.doWithCookie("GET", ssoCallbackPath+"?"+cb.RawQuery, cookie, nil)
	require.Equal(e.t, http.StatusSeeOther, res.Status, res.Body)
	location = res.Header.Get("Location")
	// The same answer brought back again is refused.
	again := e.doWithCookie("GET", ssoCallbackPath+"?"+cb.RawQuery, cookie, nil)
	require.Equal(e.t, http.StatusSeeOther, again.Status)
	require.True(e.t, strings.HasPrefix(again.Header.Get("Location"), "/login?sso_error="), again.Header.Get("Location"))
	return location, cookie
}

func TestSSOOverHTTPSignsInAMemberConfinedToTheTenant(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, "sqlite")
	ctx := t.Context()
	op := testoidc.Start(t, testoidc.Options{
		Users:   []testoidc.User{{ID: "u1", Username: "ada", Password: "ada-pw", Email: "ada@alpha.test", EmailVerified: true, Groups: []string{"platform-team"}}},
		Clients: []testoidc.Client{{ID: "alpha-client", Secret: "alpha-secret-value", RedirectURIs: []string{apiSSOCallback}}},
	})
	alpha, beta := env.tenant("alpha"), env.tenant("beta")
	_, owner := env.member(alpha, access.RoleOwner)
	_, adminTok := env.member(alpha, access.RoleAdmin)
	_, devTok := env.member(alpha, access.RoleDeveloper)
	base := "/api/v1/tenants/" + string(alpha.ID) + "/sso"

	// Given alpha's admin configures its provider (the secret is write-only)
	settings := map[string]any{"issuer": op.Issuer, "client_id": "alpha-client", "client_secret": "alpha-secret-value",
		"allowed_domains": []string{"alpha.test"}, "role_mapping": []map[string]string{{"group": "platform-team", "role": "developer"}},
		"enabled": true}
	res := env.do("PUT", base, devTok, settings)
	require.Equal(t, http.StatusForbidden, res.Status, "a developer may not change SSO")
	res = env.do("GET", base, devTok, nil)
	require.Equal(t, http.StatusForbidden, res.Status, "a developer may not read SSO settings")
	settings["role_mapping"] = []map[string]string{{"group": "platform-team", "role": "owner"}}
	res = env.do("PUT", base, adminTok, settings)
	require.Equal(t, http.StatusForbidden, res.Status, "an admin may not map a group to owner: %s", res.Body)
	settings["role_mapping"] = []map[string]string{{"group": "platform-team", "role": "developer"}}
	res = env.do("PUT", base, adminTok, settings)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.NotContains(t, res.Body, "alpha-secret-value")
	res = env.do("GET", base, owner, nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.NotContains(t, res.Body, "alpha-secret-value")
	var got ssoSettingsDTO
	require.NoError(t, json.Unmarshal([]byte(res.Body), &got))
	require.True(t, got.Configured)
	require.True(t, got.ClientSecretSet)
	require.Equal(t, apiSSOCallback, got.RedirectURL)
	require.Equal(t, []string{"alpha.test"}, got.AllowedDomains)
	res = env.do("GET", "/api/v1/tenants/"+string(alpha.ID)+"/audit", owner, nil)
	require.Contains(t, res.Body, "sso.set")
	require.NotContains(t, res.Body, "alpha-secret-value")

	// When ada signs in through it
	loc, cookie := env.ssoSignIn("ada@alpha.test", "ada", "ada-pw")
	require.True(t, strings.HasPrefix(loc, "/login/sso#"), loc)
	frag, err := url.ParseQuery(strings.TrimPrefix(loc, "/login/sso#"))
	require.NoError(t, err)
	require.Equal(t, "/t/alpha/keys", frag.Get("next"))
	res = env.doWithCookie("POST", "/api/v1/auth/sso/exchange", "", map[string]string{"handoff": frag.Get("handoff")})
	require.Equal(t, http.StatusUnauthorized, res.Status, "the hand-off needs the browser's cookie")
	res = env.doWithCookie("POST", "/api/v1/auth/sso/exchange", cookie, map[string]string{"handoff": frag.Get("handoff")})
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	var pair tokenResponse
	require.NoError(t, json.Unmarshal([]byte(res.Body), &pair))

	// Then she is a developer of alpha, with a session that reaches alpha only
	res = env.do("GET", "/api/v1/me", pair.AccessToken, nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	var me meResponse
	require.NoError(t, json.Unmarshal([]byte(res.Body), &me))
	require.Equal(t, string(alpha.ID), me.SessionTenant)
	require.Len(t, me.Memberships, 1)
	require.Equal(t, "developer", me.Memberships[0].Role)
	res = env.do("GET", "/api/v1/tenants/"+string(alpha.ID)+"/keys", pair.AccessToken, nil)
	require.Equal(t, http.StatusOK, res.Status, res.Body)

	// And even once her account also belongs to beta, the SSO session does not reach it
	u, err := env.users.FindByEmail(ctx, "ada@alpha.test")
	require.NoError(t, err)
	require.NoError(t, env.db.Gorm.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES (?, ?, ?, ?)",
			string(beta.ID), u.ID, "viewer", tenants.NowUTC()).Error; err != nil {
			return err
		}
		return access.AssignRoleTx(tx, u.ID, access.RoleViewer, string(beta.ID))
	}))
	env.feed.Deliver(ctx, tenants.Change{Kind: tenants.ChangeRBAC})
	res = env.do("GET", "/api/v1/tenants/"+string(beta.ID)+"/keys", pair.AccessToken, nil)
	require.Equal(t, http.StatusNotFound, res.Status, res.Body)
	res = env.do("GET", "/api/v1/tenants", pair.AccessToken, nil)
	require.Equal(t, http.StatusOK, res.Status)
	require.NotContains(t, res.Body, string(beta.ID))
	res = env.do("PUT", "/api/v1/tenants/"+string(beta.ID)+"/sso", pair.AccessToken, settings)
	require.Equal(t, http.StatusNotFound, res.Status)
	// Refreshed, it stays confined.
	res = env.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": pair.RefreshToken})
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	var pair2 tokenResponse
	require.NoError(t, json.Unmarshal([]byte(res.Body), &pair2))
	res = env.do("GET", "/api/v1/tenants/"+string(beta.ID)+"/keys", pair2.AccessToken, nil)
	require.Equal(t, http.StatusNotFound, res.Status, res.Body)

	// When alpha requires SSO, its members' passwords stop working
	devID, _ := env.member(alpha, access.RoleViewer) // signs in with a password while SSO is optional
	settings["required"] = true
	delete(settings, "client_secret")
	res = env.do("PUT", base, owner, settings)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	dev, err := env.users.Get(ctx, devID)
	require.NoError(t, err)
	res = env.do("POST", "/api/v1/auth/login", "", map[string]string{"email": dev.Email, "password": testPassword})
	require.Equal(t, http.StatusForbidden, res.Status, res.Body)
	require.Contains(t, res.Body, "sso_required")
	_, err = env.sessions.Login(ctx, accounts.LoginInput{Email: dev.Email, Password: testPassword, IP: "192.0.2.9"})
	require.Error(t, err)
}

func TestSSOInfoAndUnknownDomain(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, "sqlite")
	res := env.do("GET", "/api/v1/auth/sso", "", nil)
	require.Equal(t, http.StatusOK, res.Status)
	require.JSONEq(t, `{"enabled":true,"source":"tenant"}`, res.Body)
	res = env.doWithCookie("POST", "/api/v1/auth/sso/start", "", map[string]string{"email": "who@nowhere.test"})
	require.Equal(t, http.StatusNotFound, res.Status, res.Body)
	require.Contains(t, res.Body, "single sign-on is not set up for nowhere.test")
	require.Empty(t, res.Header.Get("Set-Cookie"))
	// A callback with no state the server issued changes nothing and says why.
	res = env.doWithCookie("GET", ssoCallbackPath+"?state=x&code=y", "z", nil)
	require.Equal(t, http.StatusSeeOther, res.Status)
	require.Contains(t, res.Header.Get("Location"), "/login?sso_error=")
}
