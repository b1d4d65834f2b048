package api

import (
	"testing"

	"github.com/tollgate-dev/tollgate/tenants/access"
)

// TestNULBytesAreInvalid: a NUL byte in a name, a search or filter parameter, a
// path id or a body string is a 422 in the API's error shape, never a 500 (Postgres
// refuses NUL in text), and changes nothing. Every admin endpoint that takes a
// name, an id or a filter is listed.
func TestNULBytesAreInvalid(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			env := newTestEnv(t, backend)
			a := env.tenant("acme")
			f := &fixture{env: env, tokens: map[string]string{}, vars: map[string]string{"A": string(a.ID)}}
			_, f.tokens["owner"] = env.member(a, access.RoleOwner)
			f.tokens["root"] = env.superadmin()
			k, _ := env.key(a)
			f.vars["KEY"] = k.ID
			nul := []string{`"code":"validation_failed"`, "NUL"}
			var scenarios []apiScenario
			add := func(name, caller, method, path string, body any) {
				scenarios = append(scenarios, apiScenario{Name: name, Caller: caller, Method: method, Path: path, Body: body,
					WantStatus: 422, WantBody: nul, Unchanged: true})
			}
			// Names in bodies.
			add("tenant name", "root", "POST", "/api/v1/tenants", `{"name":"acme\u0000two"}`)
			add("key name", "owner", "POST", "/api/v1/tenants/{A}/keys", `{"name":"ci\u0000"}`)
			add("key model", "owner", "POST", "/api/v1/tenants/{A}/keys", `{"name":"ci","models":["sim-small\u0000"]}`)
			add("invite email", "owner", "POST", "/api/v1/tenants/{A}/invitations", `{"email":"a\u0000@example.com","role":"viewer"}`)
			add("budget scope id", "owner", "POST", "/api/v1/tenants/{A}/budgets", `{"scope":"key","scope_id":"\u0000","period":"day","limit_usd":"1"}`)
			add("webhook url", "owner", "PUT", "/api/v1/tenants/{A}/webhook", `{"url":"https://hooks\u0000.example.com/x"}`)
			add("routing model", "owner", "PUT", "/api/v1/tenants/{A}/routing", `{"tiers":{"economy":["sim-small\u0000"]}}`)
			add("provider base url", "root", "PUT", "/api/v1/providers/openai", `{"api_key":"k","base_url":"https://x\u0000.example/v1"}`)
			add("login email", "", "POST", "/api/v1/auth/login", `{"email":"a\u0000@example.com","password":"pw-long-enough"}`)
			// Searches and filters.
			add("tenant search", "root", "GET", "/api/v1/tenants?q=ac%00me", nil)
			add("member search", "owner", "GET", "/api/v1/tenants/{A}/members?q=%00", nil)
			add("key search", "owner", "GET", "/api/v1/tenants/{A}/keys?q=%00", nil)
			add("audit search", "owner", "GET", "/api/v1/tenants/{A}/audit?q=%00", nil)
			add("usage model filter", "owner", "GET", "/api/v1/tenants/{A}/usage?model=%00", nil)
			add("usage key filter", "owner", "GET", "/api/v1/tenants/{A}/usage?key_id=%00", nil)
			add("usage member filter", "owner", "GET", "/api/v1/tenants/{A}/usage?member_id=%00", nil)
			add("usage export filter", "owner", "GET", "/api/v1/tenants/{A}/usage.csv?model=%00", nil)
			add("usage events cursor", "owner", "GET", "/api/v1/tenants/{A}/usage/events?cursor=%00", nil)
			add("model search", "owner", "GET", "/api/v1/tenants/{A}/models?q=%00", nil)
			// Ids in the path.
			add("tenant in path", "owner", "GET", "/api/v1/tenants/ac%00me/members", nil)
			add("key id", "owner", "GET", "/api/v1/tenants/{A}/keys/%00", nil)
			add("revoke key id", "owner", "POST", "/api/v1/tenants/{A}/keys/%00/revoke", nil)
			add("member id", "owner", "PATCH", "/api/v1/tenants/{A}/members/%00", `{"role":"admin"}`)
			add("budget id", "owner", "DELETE", "/api/v1/tenants/{A}/budgets/%00", nil)
			add("model price", "owner", "PUT", "/api/v1/tenants/{A}/models/sim%00/price", `{"input_per_million_usd":"1","output_per_million_usd":"1"}`)
			add("provider name", "root", "DELETE", "/api/v1/providers/%00", nil)
			f.run(t, scenarios)
		})
	}
}
