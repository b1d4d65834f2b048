package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// loginAs signs email in with password over HTTP and returns the token pair.
func (e *testEnv) loginAs(email, password string) (tokenResponse, response) {
	e.t.Helper()
	res := e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": password})
	var tr tokenResponse
	if res.Status == 200 {
		require.NoError(e.t, json.Unmarshal([]byte(res.Body), &tr))
	}
	return tr, res
}

// TestCrossTenantTakeoverRefused: tenant A's admin invites bob; later tenant B's
// admin adds bob as admin. A's admin never holds a credential for bob (no password
// in any answer, no way to set or reset his password), and bob joins B only when he,
// signed in as himself, accepts B's invitation. On the old code the invitation
// answer carried a temporary password, and the second tenant's add was direct.
func TestCrossTenantTakeoverRefused(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, backend)
			a, b := env.tenant("acme"), env.tenant("globex")
			_, aAdmin := env.member(a, access.RoleAdmin)
			_, bAdmin := env.member(b, access.RoleOwner)
			aBase, bBase := "/api/v1/tenants/"+a.Slug, "/api/v1/tenants/"+b.Slug

			// Given A's admin invites bob: a one-time link, no password anywhere
			aLink := env.invite(aBase, aAdmin, "bob@x.example", "viewer")
			// and bob opens it himself and chooses his password
			bob := env.acceptNew(aLink, "bob's own secret pw")

			// When B's admin adds bob as admin, that is an invitation too: bob is not a member yet
			bLink := env.invite(bBase, bAdmin, "bob@x.example", "admin")
			f := &fixture{env: env, tokens: map[string]string{"a_admin": aAdmin, "b_admin": bAdmin, "bob": bob.Access},
				vars: map[string]string{"A": a.Slug, "B": b.Slug, "BOB": bob.UserID, "A_TOKEN": linkToken(aLink), "B_TOKEN": linkToken(bLink)}}
			f.run(t, []apiScenario{
				{Name: "bob is not in B before accepting", Caller: "bob", Method: "GET", Path: "/api/v1/tenants/{B}/members", WantStatus: 404},
				{Name: "B's members do not list bob", Caller: "b_admin", Method: "GET", Path: "/api/v1/tenants/{B}/members", WantStatus: 200, DenyBody: []string{"bob@x.example"}},
				{Name: "B lists the pending invitation, without its link", Caller: "b_admin", Method: "GET", Path: "/api/v1/tenants/{B}/invitations", WantStatus: 200,
					WantBody: []string{"bob@x.example"}, DenyBody: []string{"{B_TOKEN}", "url"}},
				// Then A's admin cannot get a credential for bob by any route
				{Name: "A's used link cannot be replayed", Caller: "", Method: "POST", Path: "/api/v1/links/accept",
					Body: `{"token":"{A_TOKEN}","password":"attacker password 1"}`, WantStatus: 404, WantBody: []string{"invalid_link"}, Unchanged: true},
				{Name: "re-inviting bob to A is refused", Caller: "a_admin", Method: "POST", Path: "/api/v1/tenants/{A}/invitations",
					Body: `{"email":"bob@x.example","role":"admin"}`, WantStatus: 409, Unchanged: true},
				{Name: "the old direct add is gone", Caller: "a_admin", Method: "POST", Path: "/api/v1/tenants/{A}/members",
					Body: `{"email":"bob@x.example","role":"admin"}`, WantStatus: 404, DenyBody: []string{"password"}, Unchanged: true},
				{Name: "B's link with A admin's session", Caller: "a_admin", Method: "POST", Path: "/api/v1/links/accept",
					Body: `{"token":"{B_TOKEN}"}`, WantStatus: 403, WantBody: []string{"sign_in_required"}, Unchanged: true},
				{Name: "B's link without a session sets no password", Caller: "", Method: "POST", Path: "/api/v1/links/accept",
					Body: `{"token":"{B_TOKEN}","password":"attacker password 2"}`, WantStatus: 403, WantBody: []string{"sign_in_required"}, Unchanged: true},
				{Name: "A's admin cannot sign bob out", Caller: "a_admin", Method: "POST", Path: "/api/v1/users/{BOB}/sign-out", WantStatus: 403, Unchanged: true},
				{Name: "A's admin cannot disable bob", Caller: "a_admin", Method: "POST", Path: "/api/v1/users/{BOB}/disable", WantStatus: 403, Unchanged: true},
				{Name: "B's link tells bob to sign in", Caller: "", Method: "POST", Path: "/api/v1/links/lookup", Body: `{"token":"{B_TOKEN}"}`, WantStatus: 200,
					WantBody: []string{`"account_exists":true`, `"tenant_slug":"globex"`, `"role":"admin"`}, DenyBody: []string{"password"}},
			})
			// bob's password and session were untouched by all of it
			_, res := env.loginAs("bob@x.example", "bob's own secret pw")
			require.Equal(t, 200, res.Status, res.Body)
			for _, pw := range []string{"attacker password 1", "attacker password 2"} {
				_, res = env.loginAs("bob@x.example", pw)
				require.Equal(t, 401, res.Status)
			}
			require.Equal(t, 200, env.do("GET", "/api/v1/me", bob.Access, nil).Status)

			// When bob, signed in as himself, accepts: he is an admin of B, nothing else changed
			res = env.do("POST", "/api/v1/links/accept", bob.Access, map[string]string{"token": linkToken(bLink)})
			require.Equal(t, 200, res.Status, res.Body)
			require.Contains(t, res.Body, `"tenant_slug":"globex"`)
			require.NotContains(t, res.Body, "session")
			me := env.do("GET", "/api/v1/me", bob.Access, nil)
			require.Contains(t, me.Body, `"tenant_slug":"globex","tenant_name":"globex","role":"admin"`)
			require.Equal(t, 200, env.do("GET", bBase+"/members", bob.Access, nil).Status)
			// and B's link is spent
			require.Equal(t, 404, env.do("POST", "/api/v1/links/accept", bob.Access, map[string]string{"token": linkToken(bLink)}).Status)
			// The audit logs tell the story without secrets
			audit := env.do("GET", bBase+"/audit?limit=200", bAdmin, nil)
			require.Contains(t, audit.Body, "member.invited")
			require.Contains(t, audit.Body, "member.joined")
			require.NotContains(t, audit.Body, linkToken(bLink))
		})
	}
}

// TestLinkRefusals: expired, used, revoked and malformed links are refused with
// the same answer and change nothing; an invitation is revoked by its tenant only.
func TestLinkRefusals(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, backend)
			a := env.tenant("acme")
			_, owner := env.member(a, access.RoleOwner)
			_, viewer := env.member(a, access.RoleViewer)
			base := "/api/v1/tenants/" + a.Slug
			expired := env.invite(base, owner, "late@example.com", "viewer")
			require.NoError(t, env.db.Gorm.WithContext(t.Context()).Exec("UPDATE invitations SET expires_at = ? WHERE email = ?",
				time.Now().Add(-time.Minute).UTC(), "late@example.com").Error)
			used := env.invite(base, owner, "used@example.com", "viewer")
			env.acceptNew(used, "")
			revoked := env.invite(base, owner, "gone@example.com", "viewer")
			var pending listResponse[invitationDTO]
			res := env.do("GET", base+"/invitations", owner, nil)
			require.NoError(t, json.Unmarshal([]byte(res.Body), &pending))
			require.Len(t, pending.Data, 1, "only the revocable one is pending: %s", res.Body)
			require.Equal(t, "gone@example.com", pending.Data[0].Email)
			require.Empty(t, pending.Data[0].URL)
			fresh := env.invite(base, owner, "fresh@example.com", "developer")
			f := &fixture{env: env, tokens: map[string]string{"owner": owner, "viewer": viewer}, vars: map[string]string{
				"A": a.Slug, "GONE": pending.Data[0].ID, "EXPIRED": linkToken(expired), "USED": linkToken(used), "REVOKED": linkToken(revoked), "FRESH": linkToken(fresh)}}
			invalid := []string{`"code":"invalid_link"`}
			f.run(t, []apiScenario{
				{Name: "viewer may not revoke", Caller: "viewer", Method: "DELETE", Path: "/api/v1/tenants/{A}/invitations/{GONE}", WantStatus: 403, Unchanged: true},
				{Name: "owner revokes", Caller: "owner", Method: "DELETE", Path: "/api/v1/tenants/{A}/invitations/{GONE}", WantStatus: 204},
				{Name: "revoking twice", Caller: "owner", Method: "DELETE", Path: "/api/v1/tenants/{A}/invitations/{GONE}", WantStatus: 404, Unchanged: true},
				{Name: "expired", Method: "POST", Path: "/api/v1/links/accept", Body: `{"token":"{EXPIRED}","password":"long enough pw"}`, WantStatus: 404, WantBody: invalid, Unchanged: true},
				{Name: "expired lookup", Method: "POST", Path: "/api/v1/links/lookup", Body: `{"token":"{EXPIRED}"}`, WantStatus: 404, WantBody: invalid},
				{Name: "used", Method: "POST", Path: "/api/v1/links/accept", Body: `{"token":"{USED}","password":"long enough pw"}`, WantStatus: 404, WantBody: invalid, Unchanged: true},
				{Name: "revoked", Method: "POST", Path: "/api/v1/links/accept", Body: `{"token":"{REVOKED}","password":"long enough pw"}`, WantStatus: 404, WantBody: invalid, Unchanged: true},
				{Name: "malformed", Method: "POST", Path: "/api/v1/links/accept", Body: `{"token":"tgl_nope","password":"long enough pw"}`, WantStatus: 404, WantBody: invalid, Unchanged: true},
				{Name: "an API-key-looking token", Method: "POST", Path: "/api/v1/links/lookup", Body: `{"token":"tg_abc"}`, WantStatus: 404, WantBody: invalid},
				{Name: "new account without a password", Method: "POST", Path: "/api/v1/links/accept", Body: `{"token":"{FRESH}"}`, WantStatus: 422,
					WantBody: []string{"password_required"}, Unchanged: true},
				{Name: "new account with a short password", Method: "POST", Path: "/api/v1/links/accept", Body: `{"token":"{FRESH}","password":"short"}`, WantStatus: 422, Unchanged: true},
				{Name: "fresh link still works after the refusals", Method: "POST", Path: "/api/v1/links/accept", Body: `{"token":"{FRESH}","password":"long enough pw"}`,
					WantStatus: 200, WantBody: []string{`"session"`, `"role":"developer"`}},
				{Name: "and only once", Method: "POST", Path: "/api/v1/links/accept", Body: `{"token":"{FRESH}","password":"another long pw"}`, WantStatus: 404, WantBody: invalid, Unchanged: true},
			})
			audit := env.do("GET", base+"/audit?limit=200", owner, nil)
			require.Contains(t, audit.Body, "invitation.revoked")
		})
	}
}

// TestAccountLifecycle: change password, sign out everywhere, disable/enable,
// revoke superadmin, delete. Each refusal changes nothing; each change is audited.
func TestAccountLifecycle(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, backend)
			a := env.tenant("acme")
			_, owner := env.member(a, access.RoleOwner)
			root := env.superadmin()
			base := "/api/v1/tenants/" + a.Slug
			u := env.acceptNew(env.invite(base, owner, "carol@example.com", "developer"), "")
			second, res := env.loginAs(u.Email, invitePassword)
			require.Equal(t, 200, res.Status)

			// Change password: the current one is required; a wrong one changes nothing
			f := &fixture{env: env, tokens: map[string]string{"carol": u.Access, "owner": owner, "root": root}, vars: map[string]string{"CAROL": u.UserID}}
			f.run(t, []apiScenario{
				{Name: "wrong current password", Caller: "carol", Method: "POST", Path: "/api/v1/me/password",
					Body: map[string]string{"current_password": "not it at all", "new_password": "a brand new password"}, WantStatus: 422, WantBody: []string{"wrong_password"}, Unchanged: true},
				{Name: "weak new password", Caller: "carol", Method: "POST", Path: "/api/v1/me/password",
					Body: map[string]string{"current_password": invitePassword, "new_password": "short"}, WantStatus: 422, Unchanged: true},
				{Name: "no session", Method: "POST", Path: "/api/v1/me/password",
					Body: map[string]string{"current_password": invitePassword, "new_password": "a brand new password"}, WantStatus: 401, Unchanged: true},
				{Name: "change", Caller: "carol", Method: "POST", Path: "/api/v1/me/password",
					Body: map[string]string{"current_password": invitePassword, "new_password": "a brand new password"}, WantStatus: 204},
			})
			// Then this session lives on, the other one (access and refresh) is dead
			require.Equal(t, 200, env.do("GET", "/api/v1/me", u.Access, nil).Status)
			require.Equal(t, 401, env.do("GET", "/api/v1/me", second.AccessToken, nil).Status)
			require.Equal(t, 401, env.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": second.RefreshToken}).Status)
			_, res = env.loginAs(u.Email, invitePassword)
			require.Equal(t, 401, res.Status)
			third, res := env.loginAs(u.Email, "a brand new password")
			require.Equal(t, 200, res.Status)

			// Sign out everywhere: every refresh and access token of carol dies, this one too
			require.Equal(t, 204, env.do("POST", "/api/v1/me/sign-out-everywhere", u.Access, nil).Status)
			for _, tok := range []string{u.Access, third.AccessToken} {
				require.Equal(t, 401, env.do("GET", "/api/v1/me", tok, nil).Status)
			}
			for _, rt := range []string{u.Refresh, third.RefreshToken} {
				require.Equal(t, 401, env.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": rt}).Status)
			}

			// Disable (superadmin only): sessions die, sign-in and refresh are refused
			fourth, res := env.loginAs(u.Email, "a brand new password")
			require.Equal(t, 200, res.Status)
			f.run(t, []apiScenario{
				{Name: "tenant owner may not disable", Caller: "owner", Method: "POST", Path: "/api/v1/users/{CAROL}/disable", WantStatus: 403, Unchanged: true},
				{Name: "superadmin disables", Caller: "root", Method: "POST", Path: "/api/v1/users/{CAROL}/disable", WantStatus: 200, WantBody: []string{`"disabled_at":"`}},
			})
			require.Equal(t, 401, env.do("GET", "/api/v1/me", fourth.AccessToken, nil).Status)
			require.Equal(t, 401, env.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": fourth.RefreshToken}).Status)
			_, res = env.loginAs(u.Email, "a brand new password")
			require.Equal(t, 401, res.Status)
			// and enabling lets them in again
			require.Equal(t, 200, env.do("POST", "/api/v1/users/"+u.UserID+"/enable", root, nil).Status)
			fifth, res := env.loginAs(u.Email, "a brand new password")
			require.Equal(t, 200, res.Status)

			// Superadmin sign-out of another user
			require.Equal(t, 204, env.do("POST", "/api/v1/users/"+u.UserID+"/sign-out", root, nil).Status)
			require.Equal(t, 401, env.do("GET", "/api/v1/me", fifth.AccessToken, nil).Status)

			// Revoking superadmin: not the last one
			rootMe := env.do("GET", "/api/v1/me", root, nil)
			var me meResponse
			require.NoError(t, json.Unmarshal([]byte(rootMe.Body), &me))
			f.vars["ROOT"] = me.User.ID
			f.run(t, []apiScenario{
				{Name: "last superadmin", Caller: "root", Method: "DELETE", Path: "/api/v1/users/{ROOT}/superadmin", WantStatus: 409, WantBody: []string{"last superadmin"}, Unchanged: true},
				{Name: "grant carol", Caller: "root", Method: "PUT", Path: "/api/v1/users/{CAROL}/superadmin", WantStatus: 204},
				{Name: "revoke carol", Caller: "root", Method: "DELETE", Path: "/api/v1/users/{CAROL}/superadmin", WantStatus: 204},
				{Name: "users list", Caller: "root", Method: "GET", Path: "/api/v1/users?q=carol", WantStatus: 200, WantBody: []string{"carol@example.com", `"superadmin":false`}, DenyBody: []string{"password"}},
				{Name: "owner may not list users", Caller: "owner", Method: "GET", Path: "/api/v1/users", WantStatus: 403},
				{Name: "owner may not delete", Caller: "owner", Method: "DELETE", Path: "/api/v1/users/{CAROL}", WantStatus: 403, Unchanged: true},
				{Name: "no deleting oneself", Caller: "root", Method: "DELETE", Path: "/api/v1/users/{ROOT}", WantStatus: 409, Unchanged: true},
				{Name: "delete carol", Caller: "root", Method: "DELETE", Path: "/api/v1/users/{CAROL}", WantStatus: 204},
				{Name: "carol is gone from the tenant", Caller: "owner", Method: "GET", Path: "/api/v1/tenants/" + a.Slug + "/members", WantStatus: 200, DenyBody: []string{"carol@example.com"}},
			})
			_, res = env.loginAs(u.Email, "a brand new password")
			require.Equal(t, 401, res.Status)

			entries := env.do("GET", base+"/audit?limit=200", owner, nil)
			for _, action := range []string{audit.AuditUserPasswordChanged, audit.AuditUserSignedOut, audit.AuditUserDisabled,
				audit.AuditUserEnabled, audit.AuditMemberRemoved} {
				require.Contains(t, entries.Body, action)
			}
			require.NotContains(t, entries.Body, "a brand new password")
			// The platform log holds the account-level changes; tenant admins cannot read it
			require.Equal(t, 403, env.do("GET", "/api/v1/audit", owner, nil).Status)
			platform := env.do("GET", "/api/v1/audit?limit=200", root, nil)
			require.Equal(t, 200, platform.Status, platform.Body)
			for _, action := range []string{audit.AuditUserSuperadminGranted, audit.AuditUserSuperadminRevoked, audit.AuditUserDeleted,
				audit.AuditUserDisabled, audit.AuditUserPasswordChanged, audit.AuditUserSignedOut} {
				require.Contains(t, platform.Body, `"action":"`+action+`"`)
			}
			require.NotContains(t, platform.Body, audit.AuditMemberInvited, "tenant entries stay in the tenant's log")
		})
	}
}

// TestRemovedMemberKeys: removing a member revokes the API keys they created (401
// through /v1 from then on) unless the admin keeps them; the member list shows the
// count beforehand.
func TestRemovedMemberKeys(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, backend)
			a := env.tenant("acme")
			_, owner := env.member(a, access.RoleOwner)
			base := "/api/v1/tenants/" + a.Slug
			makeKey := func(token string) string {
				res := env.do("POST", base+"/keys", token, map[string]any{"name": "k-" + string(tenants.NewID())[:6], "scopes": []string{"inference"}})
				require.Equal(t, 201, res.Status, res.Body)
				var k struct {
					Secret string `json:"secret"`
				}
				require.NoError(t, json.Unmarshal([]byte(res.Body), &k))
				require.NotEmpty(t, k.Secret)
				return k.Secret
			}
			goneID, gone := env.member(a, access.RoleDeveloper)
			keptID, kept := env.member(a, access.RoleDeveloper)
			gone1, gone2, kept1, ownerKey := makeKey(gone), makeKey(gone), makeKey(kept), makeKey(owner)
			for _, k := range []string{gone1, gone2, kept1, ownerKey} {
				require.Equal(t, 200, env.do("GET", "/v1/whoami", k, nil).Status)
			}
			var members listResponse[memberDTO]
			require.NoError(t, json.Unmarshal([]byte(env.do("GET", base+"/members", owner, nil).Body), &members))
			counts := map[string]int{}
			for _, m := range members.Data {
				counts[m.UserID] = m.LiveKeys
			}
			require.Equal(t, 2, counts[goneID])
			require.Equal(t, 1, counts[keptID])

			// A bad keep_keys value is refused and changes nothing
			before := env.snapshot()
			require.Equal(t, 422, env.do("DELETE", base+"/members/"+goneID+"?keep_keys=maybe", owner, nil).Status)
			require.Equal(t, before, env.snapshot())

			// When removed by default: their keys answer 401 through /v1 at once
			require.Equal(t, 204, env.do("DELETE", base+"/members/"+goneID, owner, nil).Status)
			for _, k := range []string{gone1, gone2} {
				res := env.do("GET", "/v1/whoami", k, nil)
				require.Equal(t, 401, res.Status, res.Body)
			}
			// When removed with keep_keys=true: the key keeps working
			require.Equal(t, 204, env.do("DELETE", base+"/members/"+keptID+"?keep_keys=true", owner, nil).Status)
			require.Equal(t, 200, env.do("GET", "/v1/whoami", kept1, nil).Status)
			require.Equal(t, 200, env.do("GET", "/v1/whoami", ownerKey, nil).Status)

			audit := env.do("GET", base+"/audit?limit=200&q=key.revoked", owner, nil)
			require.Contains(t, audit.Body, "creator removed")
		})
	}
}

// TestResetLink: the operator's reset link (CreateResetLink, as `tollgate users
// reset-password` makes it) signs the user out at once; its holder sets a new
// password, once.
func TestResetLink(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, "sqlite")
	a := env.tenant("acme")
	uid, token := env.member(a, access.RoleViewer)
	u, err := env.users.Get(t.Context(), uid)
	require.NoError(t, err)
	link, err := env.users.CreateResetLink(t.Context(), accounts.CreateResetLinkInput{Email: u.Email, Actor: audit.CLIActor()})
	require.NoError(t, err)
	require.Contains(t, link.Path(), "/reset/tgl_")
	require.Equal(t, 401, env.do("GET", "/api/v1/me", token, nil).Status)

	res := env.do("POST", "/api/v1/links/lookup", "", map[string]string{"token": link.Token.Reveal()})
	require.Equal(t, 200, res.Status)
	require.Contains(t, res.Body, `"purpose":"reset"`)
	res = env.do("POST", "/api/v1/links/accept", "", map[string]string{"token": link.Token.Reveal(), "password": "my fresh password"})
	require.Equal(t, 200, res.Status, res.Body)
	require.Contains(t, res.Body, `"access_token"`)
	_, res = env.loginAs(u.Email, testPassword)
	require.Equal(t, 401, res.Status)
	_, res = env.loginAs(u.Email, "my fresh password")
	require.Equal(t, 200, res.Status)
	require.Equal(t, 404, env.do("POST", "/api/v1/links/accept", "", map[string]string{"token": link.Token.Reveal(), "password": "again a password"}).Status)
}

// TestChangePasswordThrottled: wrong current passwords count against the sign-in
// limits, so a stolen access token is no faster password oracle than the login form.
func TestChangePasswordThrottled(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, "sqlite", envOptions{limits: accounts.LoginLimits{PerIPPerMinute: 1000, PerIPBurst: 1000, PerAccountPerMinute: 1, PerAccountBurst: 3}})
	a := env.tenant("acme")
	_, token := env.member(a, access.RoleViewer) // the sign-in is attempt 1
	wrong := map[string]string{"current_password": "guess number one", "new_password": "a brand new password"}
	for range 2 {
		require.Equal(t, 422, env.do("POST", "/api/v1/me/password", token, wrong).Status)
	}
	before := env.snapshot()
	res := env.do("POST", "/api/v1/me/password", token, wrong)
	require.Equal(t, 429, res.Status, res.Body)
	require.NotEmpty(t, res.Header.Get("Retry-After"))
	require.Equal(t, before, env.snapshot())
}

// TestUsersPage: the platform's user list pages by email and searches email or name.
func TestUsersPage(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, "sqlite")
	root := env.superadmin()
	for i := range 5 {
		_, err := env.users.Create(t.Context(), accounts.CreateUserInput{Email: "pager-" + string(rune('a'+i)) + "@example.com", Name: "Pat"})
		require.NoError(t, err)
	}
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5)
		res := env.do("GET", "/api/v1/users?q=pager-&limit=2&cursor="+cursor, root, nil)
		require.Equal(t, 200, res.Status, res.Body)
		var page listResponse[platformUserDTO]
		require.NoError(t, json.Unmarshal([]byte(res.Body), &page))
		for _, u := range page.Data {
			seen = append(seen, u.Email)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	require.Equal(t, []string{"pager-a@example.com", "pager-b@example.com", "pager-c@example.com", "pager-d@example.com", "pager-e@example.com"}, seen)
	res := env.do("GET", "/api/v1/users?q=PAT", root, nil)
	require.Equal(t, 200, res.Status)
	require.Equal(t, 5, strings.Count(res.Body, `"name":"Pat"`))
	require.Equal(t, 422, env.do("GET", "/api/v1/users?cursor=!!", root, nil).Status)
}
