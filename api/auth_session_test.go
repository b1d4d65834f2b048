package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
)

func decodeTokens(t *testing.T, r response) tokenResponse {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	var tok tokenResponse
	require.NoError(t, json.Unmarshal([]byte(r.Body), &tok))
	require.Equal(t, "Bearer", tok.TokenType)
	require.Positive(t, tok.ExpiresIn)
	return tok
}

func TestSessionLifecycle(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, backend)
			a := env.tenant("acme")
			uid, _ := env.member(a, access.RoleDeveloper)
			u, err := env.users.Get(t.Context(), uid)
			require.NoError(t, err)

			// Given a user signs in (email is case-insensitive)
			first := decodeTokens(t, env.do("POST", "/api/v1/auth/login", "", map[string]string{"email": " " + upper(u.Email), "password": testPassword}))
			me := env.do("GET", "/api/v1/me", first.AccessToken, nil)
			require.Equal(t, 200, me.Status)
			require.Contains(t, me.Body, `"role":"developer"`)
			require.Contains(t, me.Body, a.Slug)

			// When the refresh token is exchanged, a new pair comes back
			second := decodeTokens(t, env.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": first.RefreshToken}))
			require.NotEqual(t, first.RefreshToken, second.RefreshToken)
			require.Equal(t, 200, env.do("GET", "/api/v1/me", second.AccessToken, nil).Status)

			// When the old refresh token is presented again (stolen and replayed)
			replay := env.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": first.RefreshToken})
			require.Equal(t, 401, replay.Status)

			// Then the whole family is revoked: the newest tokens die too
			require.Equal(t, 401, env.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": second.RefreshToken}).Status)
			require.Equal(t, 401, env.do("GET", "/api/v1/me", second.AccessToken, nil).Status)
			require.Equal(t, 401, env.do("GET", "/api/v1/me", first.AccessToken, nil).Status)

			// And a new login starts a fresh, working session; logout ends it
			third := decodeTokens(t, env.do("POST", "/api/v1/auth/login", "", map[string]string{"email": u.Email, "password": testPassword}))
			require.Equal(t, 200, env.do("GET", "/api/v1/me", third.AccessToken, nil).Status)
			require.Equal(t, 204, env.do("POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": third.RefreshToken}).Status)
			require.Equal(t, 401, env.do("GET", "/api/v1/me", third.AccessToken, nil).Status)
			require.Equal(t, 401, env.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": third.RefreshToken}).Status)
			// Logout is idempotent and reveals nothing about unknown tokens.
			require.Equal(t, 204, env.do("POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": "tgr_unknown"}).Status)

			// Wrong password and unknown user look the same.
			wrong := env.do("POST", "/api/v1/auth/login", "", map[string]string{"email": u.Email, "password": "wrong password!"})
			unknown := env.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "nobody@example.com", "password": "wrong password!"})
			require.Equal(t, 401, wrong.Status)
			require.Equal(t, wrong.Body, unknown.Body)
		})
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func TestLoginRateLimited(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, "sqlite", envOptions{limits: accounts.LoginLimits{PerAccountPerMinute: 3, PerAccountBurst: 3, PerIPPerMinute: 10, PerIPBurst: 10}})
	a := env.tenant("acme")
	uid, _ := env.member(a, access.RoleViewer) // uses one account attempt (service login)
	u, err := env.users.Get(t.Context(), uid)
	require.NoError(t, err)

	// Per account: the bucket (3) is spent by the setup login and two wrong guesses;
	// then even the right password is refused until it refills.
	for range 2 {
		require.Equal(t, 401, env.do("POST", "/api/v1/auth/login", "", map[string]string{"email": u.Email, "password": "wrong password!"}).Status)
	}
	res := env.do("POST", "/api/v1/auth/login", "", map[string]string{"email": u.Email, "password": testPassword})
	require.Equal(t, http.StatusTooManyRequests, res.Status, res.Body)
	require.Contains(t, res.Body, "rate_limit")
	retry, err := strconv.Atoi(res.Header.Get("Retry-After"))
	require.NoError(t, err)
	require.Positive(t, retry)

	// Per IP: many accounts from one address are refused too.
	refused := 0
	for i := range 12 {
		r := env.do("POST", "/api/v1/auth/login", "", map[string]string{"email": "spray" + strconv.Itoa(i) + "@example.com", "password": "guess guess guess"})
		if r.Status == http.StatusTooManyRequests {
			refused++
			require.NotEmpty(t, r.Header.Get("Retry-After"))
		}
	}
	require.Positive(t, refused)
}
