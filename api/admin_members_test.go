package api

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/tenants/access"
)

func TestMembersLifecycle(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, backend)
			a := env.tenant("acme")
			ownerID, owner := env.member(a, access.RoleOwner)
			_, admin := env.member(a, access.RoleAdmin)
			base := "/api/v1/tenants/" + a.Slug

			// Given an admin invites an unknown email, they get a one-time link (and
			// no password); the invitee chooses a password and is signed in
			invited := env.acceptNew(env.invite(base, admin, "New.Person@Example.com", "developer"), "")
			require.Equal(t, "new.person@example.com", invited.Email)
			// Inviting a member again conflicts.
			res := env.do("POST", base+"/invitations", admin, map[string]string{"email": "new.person@example.com", "role": "viewer"})
			require.Equal(t, 409, res.Status, res.Body)
			require.Contains(t, res.Body, "already a member")

			// When an admin tries to hand out or take away owner: 403
			require.Equal(t, 403, env.do("PATCH", base+"/members/"+invited.UserID, admin, map[string]string{"role": "owner"}).Status)
			require.Equal(t, 403, env.do("POST", base+"/invitations", admin, map[string]string{"email": "o2@example.com", "role": "owner"}).Status)
			require.Equal(t, 403, env.do("PATCH", base+"/members/"+ownerID, admin, map[string]string{"role": "viewer"}).Status)
			require.Equal(t, 403, env.do("DELETE", base+"/members/"+ownerID, admin, nil).Status)

			// The last owner can neither be demoted nor removed: 409, nothing changes
			before := env.snapshot()
			res = env.do("PATCH", base+"/members/"+ownerID, owner, map[string]string{"role": "admin"})
			require.Equal(t, 409, res.Status, res.Body)
			require.Contains(t, res.Body, "last owner")
			require.Equal(t, 409, env.do("DELETE", base+"/members/"+ownerID, owner, nil).Status)
			require.Equal(t, before, env.snapshot())

			// With a second owner, the first may step down
			require.Equal(t, 200, env.do("PATCH", base+"/members/"+invited.UserID, owner, map[string]string{"role": "owner"}).Status)
			require.Equal(t, 200, env.do("PATCH", base+"/members/"+ownerID, owner, map[string]string{"role": "viewer"}).Status)
			// and, now a viewer, can no longer manage members (the policy reloaded)
			require.Equal(t, 403, env.do("PATCH", base+"/members/"+invited.UserID, owner, map[string]string{"role": "admin"}).Status)

			// Removing a member takes effect at once
			res = env.do("DELETE", base+"/members/"+ownerID, admin, nil)
			require.Equal(t, 204, res.Status, res.Body)
			require.Equal(t, 404, env.do("GET", base+"/members", owner, nil).Status)
			require.Equal(t, 404, env.do("DELETE", base+"/members/"+ownerID, admin, nil).Status)

			// Every change is in the audit log, with actor, target and client IP
			audit := env.do("GET", base+"/audit?limit=200", admin, nil)
			require.Equal(t, 200, audit.Status)
			for _, action := range []string{"member.invited", "member.joined", "member.role_changed", "member.removed"} {
				require.Contains(t, audit.Body, action)
			}
			require.Contains(t, audit.Body, `"ip":"192.0.2.1"`)
			require.Contains(t, audit.Body, "new.person@example.com")
			require.NotContains(t, audit.Body, "tgl_")
			require.NotContains(t, audit.Body, invitePassword)
		})
	}
}

func TestAuditPagination(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, "sqlite")
	a := env.tenant("acme")
	_, owner := env.member(a, access.RoleOwner)
	for range 7 {
		env.key(a)
	}
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10)
		res := env.do("GET", "/api/v1/tenants/"+a.Slug+"/audit?limit=3&q=key.created&cursor="+cursor, owner, nil)
		require.Equal(t, 200, res.Status, res.Body)
		var page listResponse[auditDTO]
		require.NoError(t, json.Unmarshal([]byte(res.Body), &page))
		for _, e := range page.Data {
			require.Equal(t, "key.created", e.Action)
			seen = append(seen, e.ID)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	require.Len(t, seen, 7)
	for i := 1; i < len(seen); i++ {
		prev, err := strconv.ParseInt(seen[i-1], 10, 64)
		require.NoError(t, err)
		cur, err := strconv.ParseInt(seen[i], 10, 64)
		require.NoError(t, err)
		require.Greater(t, prev, cur, "newest first, no repeats across pages")
	}
}
