package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

func decodeKeySecret(t *testing.T, r response) keyWithSecretDTO {
	t.Helper()
	require.Equal(t, 201, r.Status, r.Body)
	var out keyWithSecretDTO
	require.NoError(t, json.Unmarshal([]byte(r.Body), &out))
	return out
}

func TestKeyLifecycle(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, backend)
			a := env.tenant("acme")
			_, dev := env.member(a, access.RoleDeveloper)
			base := "/api/v1/tenants/" + a.Slug

			// Given a developer creates a key with an allowlist and limits
			created := decodeKeySecret(t, env.do("POST", base+"/keys", dev, map[string]any{"name": "chatbot", "scopes": []string{"inference"},
				"models": []string{"sim-small"}, "rpm_limit": 60, "tpm_limit": 10000}))
			require.True(t, apikeys.LooksLikeAPIKey(created.Secret), created.Secret)
			require.Equal(t, created.Secret[:11], created.Key.Prefix)
			require.Equal(t, []string{"sim-small"}, created.Key.Models)
			// The secret is never shown again and not stored in clear.
			list := env.do("GET", base+"/keys", dev, nil)
			require.NotContains(t, list.Body, created.Secret)
			var stored int64
			require.NoError(t, env.db.Gorm.Raw("SELECT count(*) FROM api_keys WHERE hash = ? OR prefix = ?", created.Secret, created.Secret).Scan(&stored).Error)
			require.Zero(t, stored)

			// When it calls /v1, the handler sees the key and its tenant
			who := env.do("GET", "/v1/whoami", created.Secret, nil)
			require.Equal(t, 200, who.Status, who.Body)
			require.Contains(t, who.Body, created.Key.ID)
			require.Contains(t, who.Body, string(a.ID))
			require.Contains(t, who.Body, `"rpm_limit":60`)

			// When it is rotated with a grace period, both keys work
			rotated := decodeKeySecret(t, env.do("POST", base+"/keys/"+created.Key.ID+"/rotate", dev, map[string]int{"grace_seconds": 3600}))
			require.Equal(t, "chatbot", rotated.Key.Name)
			require.Equal(t, []string{"sim-small"}, rotated.Key.Models)
			require.Equal(t, 200, env.do("GET", "/v1/whoami", created.Secret, nil).Status)
			require.Equal(t, 200, env.do("GET", "/v1/whoami", rotated.Secret, nil).Status)
			old := env.do("GET", base+"/keys/"+created.Key.ID, dev, nil)
			require.Contains(t, old.Body, `"expires_at":"`)

			// When the new key is rotated with no grace, the old one stops at once
			third := decodeKeySecret(t, env.do("POST", base+"/keys/"+rotated.Key.ID+"/rotate", dev, map[string]int{"grace_seconds": 0}))
			require.Equal(t, 401, env.do("GET", "/v1/whoami", rotated.Secret, nil).Status)
			require.Equal(t, 200, env.do("GET", "/v1/whoami", third.Secret, nil).Status)

			// When a key is revoked it is refused, with OpenAI's code
			res := env.do("POST", base+"/keys/"+third.Key.ID+"/revoke", dev, nil)
			require.Equal(t, 200, res.Status, res.Body)
			require.Contains(t, res.Body, `"revoked_at":"20`)
			res = env.do("GET", "/v1/whoami", third.Secret, nil)
			require.Equal(t, 401, res.Status)
			require.Contains(t, res.Body, `"code":"invalid_api_key"`)
			// Revoking twice is fine; rotating a revoked key conflicts.
			require.Equal(t, 200, env.do("POST", base+"/keys/"+third.Key.ID+"/revoke", dev, nil).Status)
			require.Equal(t, 409, env.do("POST", base+"/keys/"+third.Key.ID+"/rotate", dev, nil).Status)

			// Scope and shape refusals on /v1
			usageOnly := decodeKeySecret(t, env.do("POST", base+"/keys", dev, map[string]any{"name": "dash", "scopes": []string{"read:usage"}}))
			res = env.do("GET", "/v1/whoami", usageOnly.Secret, nil)
			require.Equal(t, 403, res.Status)
			require.Contains(t, res.Body, "inference")
			for _, bad := range []string{"", "tg_short", "sk-" + created.Secret[3:], created.Secret[:len(created.Secret)-1] + "!", created.Secret + "x"} {
				res := env.do("GET", "/v1/whoami", bad, nil)
				require.Equal(t, 401, res.Status, "%q", bad)
				require.Contains(t, res.Body, "invalid_api_key")
			}

			// Every change is audited
			audit := env.do("GET", base+"/audit", env.superadmin(), nil)
			for _, action := range []string{"key.created", "key.rotated", "key.revoked"} {
				require.Contains(t, audit.Body, action)
			}
			require.NotContains(t, audit.Body, created.Secret)
		})
	}
}

func TestKeyExpiryAndSuspension(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, "sqlite")
	a := env.tenant("acme")
	root := env.superadmin()

	// Given a key that expires in a moment
	exp := time.Now().Add(300 * time.Millisecond)
	k, secret, err := env.keys.Create(t.Context(), apikeys.CreateKeyInput{TenantID: a.ID, Name: "short", ExpiresAt: &exp})
	require.NoError(t, err)
	require.Equal(t, 200, env.do("GET", "/v1/whoami", secret.Reveal(), nil).Status)
	// Then after expiry it is refused, though cached
	time.Sleep(time.Until(exp) + 10*time.Millisecond)
	require.Equal(t, 401, env.do("GET", "/v1/whoami", secret.Reveal(), nil).Status)
	_ = k

	// Given a live key, when its tenant is suspended, it is refused (403) at once
	_, live := env.key(a)
	require.Equal(t, 200, env.do("GET", "/v1/whoami", live, nil).Status)
	require.Equal(t, 200, env.do("POST", "/api/v1/tenants/"+a.Slug+"/suspend", root, nil).Status)
	res := env.do("GET", "/v1/whoami", live, nil)
	require.Equal(t, 403, res.Status, res.Body)
	require.Contains(t, res.Body, "tenant_suspended")
	// and accepted again once resumed
	require.Equal(t, 200, env.do("POST", "/api/v1/tenants/"+a.Slug+"/resume", root, nil).Status)
	require.Equal(t, 200, env.do("GET", "/v1/whoami", live, nil).Status)
}

func TestKeyListPagination(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, backend)
			a := env.tenant("acme")
			_, viewer := env.member(a, access.RoleViewer)
			names := map[string]bool{}
			for i := range 12 {
				name := "svc-" + string(rune('a'+i))
				if i%3 == 0 {
					name = "batch-" + string(rune('a'+i))
				}
				_, _, err := env.keys.Create(t.Context(), apikeys.CreateKeyInput{TenantID: a.ID, Name: name})
				require.NoError(t, err)
				names[name] = true
			}
			// All pages of 5, newest first, no repeats
			var got []keyDTO
			cursor := ""
			for {
				res := env.do("GET", "/api/v1/tenants/"+a.Slug+"/keys?limit=5&cursor="+cursor, viewer, nil)
				require.Equal(t, 200, res.Status, res.Body)
				var page listResponse[keyDTO]
				require.NoError(t, json.Unmarshal([]byte(res.Body), &page))
				got = append(got, page.Data...)
				if page.NextCursor == "" {
					break
				}
				cursor = page.NextCursor
			}
			require.Len(t, got, 12)
			seen := map[string]bool{}
			for i, k := range got {
				require.False(t, seen[k.ID])
				seen[k.ID] = true
				if i > 0 {
					require.False(t, k.CreatedAt.After(got[i-1].CreatedAt))
				}
			}
			// Search by name (case-insensitive) and by prefix
			var page listResponse[keyDTO]
			res := env.do("GET", "/api/v1/tenants/"+a.Slug+"/keys?q=BATCH", viewer, nil)
			require.NoError(t, json.Unmarshal([]byte(res.Body), &page))
			require.Len(t, page.Data, 4)
			res = env.do("GET", "/api/v1/tenants/"+a.Slug+"/keys?q="+got[3].Prefix, viewer, nil)
			require.NoError(t, json.Unmarshal([]byte(res.Body), &page))
			require.Len(t, page.Data, 1)
			require.Equal(t, got[3].ID, page.Data[0].ID)
			// LIKE wildcards are literal
			res = env.do("GET", "/api/v1/tenants/"+a.Slug+"/keys?q=%25", viewer, nil)
			require.NoError(t, json.Unmarshal([]byte(res.Body), &page))
			require.Empty(t, page.Data)
		})
	}
}

// TestKeyRevocationAcrossInstances: two API servers share one Postgres database. A
// key cached by instance 2 is revoked through instance 1 and must be refused by
// instance 2 within a second (LISTEN/NOTIFY).
func TestKeyRevocationAcrossInstances(t *testing.T) {
	t.Parallel()
	one := newTestEnv(t, "postgres")
	two := newTestEnv(t, "postgres", envOptions{url: one.url})
	srv1, srv2 := httptest.NewServer(one.handler), httptest.NewServer(two.handler)
	t.Cleanup(srv1.Close)
	t.Cleanup(srv2.Close)
	a := one.tenant("acme")
	_, owner := one.member(a, access.RoleOwner)

	call := func(srv *httptest.Server, method, path, token string) int {
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := srv.Client().Do(req)
		require.NoError(t, err)
		_ = res.Body.Close()
		return res.StatusCode
	}
	for round := range 3 {
		// Given a key created on instance 1 and cached by instance 2
		k, secret := one.key(a)
		require.Equal(t, 200, call(srv2, "GET", "/v1/whoami", secret))
		require.Equal(t, 200, call(srv2, "GET", "/v1/whoami", secret))

		// When instance 1 revokes it
		start := time.Now()
		require.Equal(t, 200, call(srv1, "POST", "/api/v1/tenants/"+a.Slug+"/keys/"+k.ID+"/revoke", owner))

		// Then instance 2 refuses it within a second
		for call(srv2, "GET", "/v1/whoami", secret) != 401 {
			require.Less(t, time.Since(start), time.Second, "round %d: instance 2 still accepts a revoked key", round)
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("round %d: revocation visible on instance 2 after %s", round, time.Since(start))
	}

	// A suspended tenant's keys are refused on the other instance too.
	_, secret := one.key(a)
	require.Equal(t, 200, call(srv2, "GET", "/v1/whoami", secret))
	start := time.Now()
	require.Equal(t, 200, call(srv1, "POST", "/api/v1/tenants/"+a.Slug+"/suspend", one.superadmin()))
	for call(srv2, "GET", "/v1/whoami", secret) != 403 {
		require.Less(t, time.Since(start), time.Second, "instance 2 still accepts a suspended tenant's key")
		time.Sleep(5 * time.Millisecond)
	}
}

// TestKeyRevocationFromAnotherProcessSQLite: on SQLite the CLI is another process
// writing the same file; the server's poll must see its revocation within a second.
func TestKeyRevocationFromAnotherProcessSQLite(t *testing.T) {
	t.Parallel()
	server := newTestEnv(t, "sqlite")
	cli := newTestEnv(t, "sqlite", envOptions{url: server.url}) // a second, independent stack: the "CLI"
	a := server.tenant("acme")
	k, secret := server.key(a)
	require.Equal(t, 200, server.do("GET", "/v1/whoami", secret, nil).Status)

	start := time.Now()
	_, err := cli.keys.Revoke(t.Context(), apikeys.RevokeKeyInput{TenantID: a.ID, KeyID: k.ID, Actor: audit.CLIActor()})
	require.NoError(t, err)
	for server.do("GET", "/v1/whoami", secret, nil).Status != 401 {
		require.Less(t, time.Since(start), time.Second, "server still accepts a key revoked by another process")
		time.Sleep(10 * time.Millisecond)
	}
}
