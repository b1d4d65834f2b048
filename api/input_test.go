package api

import (
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/tenants/access"
)

// TestBadInputChangesNothing: oversized, malformed and invalid bodies are refused
// with 413, 400 and 422 in the one error shape, and the database is untouched.
func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, backend)
			a := env.tenant("acme")
			f := &fixture{env: env, tokens: map[string]string{}, vars: map[string]string{"A": string(a.ID)}}
			_, f.tokens["owner"] = env.member(a, access.RoleOwner)
			viewer, _ := env.member(a, access.RoleViewer)
			f.vars["VIEWER"] = viewer
			k, _ := env.key(a)
			f.vars["KEY"] = k.ID
			huge := `{"name":"` + strings.Repeat("x", testMaxBody+10) + `"}`
			errShape := []string{`"error":{`, `"message":`, `"type":`, `"code":`}
			f.run(t, []apiScenario{
				{Name: "oversized key", Caller: "owner", Method: "POST", Path: "/api/v1/tenants/{A}/keys", Body: huge, WantStatus: 413, WantBody: errShape, Unchanged: true},
				{Name: "oversized invite", Caller: "owner", Method: "POST", Path: "/api/v1/tenants/{A}/invitations", Body: huge, WantStatus: 413, Unchanged: true},
				{Name: "oversized login", Method: "POST", Path: "/api/v1/auth/login", Body: huge, WantStatus: 413, Unchanged: true},
				{Name: "malformed key", Caller: "owner", Method: "POST", Path: "/api/v1/tenants/{A}/keys", Body: `{"name":`, WantStatus: 400, WantBody: []string{"malformed_body"}, Unchanged: true},
				{Name: "wrong type", Caller: "owner", Method: "POST", Path: "/api/v1/tenants/{A}/keys", Body: `{"name":42}`, WantStatus: 400, Unchanged: true},
				{Name: "malformed invite", Caller: "owner", Method: "POST", Path: "/api/v1/tenants/{A}/invitations", Body: `[]`, WantStatus: 400, Unchanged: true},
				{Name: "malformed role change", Caller: "owner", Method: "PATCH", Path: "/api/v1/tenants/{A}/members/{VIEWER}", Body: `nope`, WantStatus: 400, Unchanged: true},
				{Name: "malformed rotate", Caller: "owner", Method: "POST", Path: "/api/v1/tenants/{A}/keys/{KEY}/rotate", Body: `{"grace_seconds":"soon"}`, WantStatus: 400, Unchanged: true},
				{Name: "malformed login", Method: "POST", Path: "/api/v1/auth/login", Body: `{"email":`, WantStatus: 400, Unchanged: true},
				{Name: "every key problem at once", Caller: "owner", Method: "POST", Path: "/api/v1/tenants/{A}/keys",
					Body:       `{"name":"","scopes":["admin"],"rpm_limit":-1,"tpm_limit":-5,"expires_at":"2001-01-01T00:00:00Z","models":[""]}`,
					WantStatus: 422, WantBody: []string{"validation_failed", "name is required", `unknown scope \"admin\"`, "rpm_limit", "tpm_limit", "expires_at must be in the future", "is not a model name"},
					Unchanged: true},
				{Name: "bad invite", Caller: "owner", Method: "POST", Path: "/api/v1/tenants/{A}/invitations", Body: `{"email":"not-an-email","role":"god"}`,
					WantStatus: 422, WantBody: []string{"email is not a valid address", "role must be one of"}, Unchanged: true},
				{Name: "bad role", Caller: "owner", Method: "PATCH", Path: "/api/v1/tenants/{A}/members/{VIEWER}", Body: `{"role":"root"}`, WantStatus: 422, Unchanged: true},
				{Name: "bad grace", Caller: "owner", Method: "POST", Path: "/api/v1/tenants/{A}/keys/{KEY}/rotate", Body: `{"grace_seconds":-1}`, WantStatus: 422, Unchanged: true},
				{Name: "bad limit", Caller: "owner", Method: "GET", Path: "/api/v1/tenants/{A}/keys?limit=100000", WantStatus: 422},
				{Name: "bad cursor", Caller: "owner", Method: "GET", Path: "/api/v1/tenants/{A}/keys?cursor=%27%3B--", WantStatus: 422, WantBody: []string{"cursor"}},
				{Name: "bad audit cursor", Caller: "owner", Method: "GET", Path: "/api/v1/tenants/{A}/audit?cursor=abc", WantStatus: 422},
				{Name: "empty login", Method: "POST", Path: "/api/v1/auth/login", Body: `{}`, WantStatus: 422, WantBody: []string{"email is required", "password is required"}, Unchanged: true},
				{Name: "bad tenant", Caller: "owner", Method: "POST", Path: "/api/v1/tenants", Body: `{"name":"!!!"}`, WantStatus: 403, Unchanged: true},
			})
			root := env.superadmin()
			f.tokens["root"] = root
			f.run(t, []apiScenario{
				{Name: "invalid tenant name", Caller: "root", Method: "POST", Path: "/api/v1/tenants", Body: `{"name":"!!!"}`, WantStatus: 422, Unchanged: true},
				{Name: "duplicate tenant", Caller: "root", Method: "POST", Path: "/api/v1/tenants", Body: `{"name":"ACME"}`, WantStatus: 409, Unchanged: true},
			})
		})
	}
}
