package api

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
)

// cellRequest turns one permission into a real request (or the permission's probe
// route where the endpoint belongs to another owner), with fresh targets so cells
// do not depend on each other.
func cellRequest(t *testing.T, env *testEnv, a tenants.Tenant, perm access.Permission) (method, path string, body any, okStatus int) {
	t.Helper()
	base := "/api/v1/tenants/" + string(a.ID)
	victim := func() string {
		id, _ := env.member(a, access.RoleViewer)
		return id
	}
	freshKey := func() string {
		k, _ := env.key(a)
		return k.ID
	}
	switch perm {
	case access.Permission{Resource: access.ResourceTenant, Action: access.ActionRead}:
		return "GET", base, nil, 200
	case access.Permission{Resource: access.ResourceMembers, Action: access.ActionRead}:
		return "GET", base + "/members", nil, 200
	case access.Permission{Resource: access.ResourceMembers, Action: access.ActionCreate}:
		return "POST", base + "/invitations", map[string]string{"email": "new-" + string(tenants.NewID()) + "@example.com", "role": "viewer"}, 201
	case access.Permission{Resource: access.ResourceMembers, Action: access.ActionUpdate}:
		return "PATCH", base + "/members/" + victim(), map[string]string{"role": "developer"}, 200
	case access.Permission{Resource: access.ResourceMembers, Action: access.ActionDelete}:
		return "DELETE", base + "/members/" + victim(), nil, 204
	case access.Permission{Resource: access.ResourceMembers, Action: access.ActionManageOwners}:
		return "PATCH", base + "/members/" + victim(), map[string]string{"role": "owner"}, 200
	case access.Permission{Resource: access.ResourceKeys, Action: access.ActionRead}:
		return "GET", base + "/keys", nil, 200
	case access.Permission{Resource: access.ResourceKeys, Action: access.ActionCreate}:
		return "POST", base + "/keys", map[string]string{"name": "cell"}, 201
	case access.Permission{Resource: access.ResourceKeys, Action: access.ActionRevoke}:
		return "POST", base + "/keys/" + freshKey() + "/revoke", nil, 200
	case access.Permission{Resource: access.ResourceKeys, Action: access.ActionRotate}:
		return "POST", base + "/keys/" + freshKey() + "/rotate", map[string]int{"grace_seconds": 60}, 201
	case access.Permission{Resource: access.ResourceAudit, Action: access.ActionRead}:
		return "GET", base + "/audit", nil, 200
	case access.Permission{Resource: access.ResourcePlatform, Action: access.ActionManageUsers}:
		return "POST", "/api/v1/users/" + victim() + "/disable", nil, 200
	case access.Permission{Resource: access.ResourcePlatform, Action: access.ActionManageTenants}:
		return "POST", "/api/v1/tenants", map[string]string{"name": "t-" + string(tenants.NewID())[:10]}, 201
	}
	return "GET", base + probePath(perm), nil, 200
}

// TestRBACMatrixEveryCell walks every (role, permission) cell of the policy over
// HTTP: allowed cells succeed, denied cells answer 403 and change nothing. A
// superadmin (member of no tenant) passes every cell.
func TestRBACMatrixEveryCell(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, backend)
			a := env.tenant("acme")
			env.member(a, access.RoleOwner) // another owner, so owner cells never hit the last-owner rule
			tokens := map[access.Role]string{}
			for _, r := range access.TenantRoles() {
				_, tokens[r] = env.member(a, r)
			}
			tokens[access.RoleSuperadmin] = env.superadmin()
			cells := access.PolicyMatrix()
			for _, p := range access.Permissions() {
				cells = append(cells, access.PolicyCell{Permission: p, Role: access.RoleSuperadmin, Allowed: true})
			}
			for _, cell := range cells {
				name := fmt.Sprintf("%s %s:%s", cell.Role, cell.Resource, cell.Action)
				method, path, body, okStatus := cellRequest(t, env, a, cell.Permission)
				before := env.snapshot()
				res := env.do(method, path, tokens[cell.Role], body)
				if cell.Allowed {
					require.Equal(t, okStatus, res.Status, "%s: %s %s: %s", name, method, path, res.Body)
					continue
				}
				require.Equal(t, http.StatusForbidden, res.Status, "%s: %s %s: %s", name, method, path, res.Body)
				require.Equal(t, before, env.snapshot(), "%s: a refused request changed the database", name)
			}
		})
	}
}

// rbacMarkdown renders the policy as the table in docs/rbac.md.
func rbacMarkdown() string {
	var b strings.Builder
	b.WriteString("| resource:action |")
	for _, r := range access.TenantRoles() {
		b.WriteString(" " + string(r) + " |")
	}
	b.WriteString(" superadmin |\n|---|")
	for range access.TenantRoles() {
		b.WriteString("---|")
	}
	b.WriteString("---|\n")
	verdict := map[access.Permission]map[access.Role]bool{}
	for _, c := range access.PolicyMatrix() {
		if verdict[c.Permission] == nil {
			verdict[c.Permission] = map[access.Role]bool{}
		}
		verdict[c.Permission][c.Role] = c.Allowed
	}
	for _, p := range access.Permissions() {
		fmt.Fprintf(&b, "| `%s:%s` |", p.Resource, p.Action)
		for _, r := range access.TenantRoles() {
			if verdict[p][r] {
				b.WriteString(" ✅ |")
			} else {
				b.WriteString(" — |")
			}
		}
		b.WriteString(" ✅ |\n")
	}
	return b.String()
}

// TestRBACDocMatchesPolicy keeps docs/rbac.md's table equal to the seeded policy.
func TestRBACDocMatchesPolicy(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/rbac.md")
	require.NoError(t, err)
	require.Contains(t, string(doc), rbacMarkdown(),
		"docs/rbac.md is out of date with tenants/rbac_policy.go; replace its table with:\n%s", rbacMarkdown())
}
