package api

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
)

func TestOpenAPIDocumentIsServedAndWellFormed(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, "sqlite")
	res := env.do("GET", "/api/v1/openapi.json", "", nil)
	require.Equal(t, 200, res.Status)
	var doc struct {
		OpenAPI    string                                           `json:"openapi"`
		Paths      map[string]map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas    map[string]json.RawMessage `json:"schemas"`
			Parameters map[string]json.RawMessage `json:"parameters"`
			Responses  map[string]json.RawMessage `json:"responses"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.Body), &doc))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."))
	// Every operation has responses and every $ref resolves.
	for path, ops := range doc.Paths {
		for method, op := range ops {
			require.Contains(t, op, "responses", "%s %s", method, path)
		}
	}
	for _, ref := range strings.Split(res.Body, `"$ref": "#/components/`)[1:] {
		kind, rest, _ := strings.Cut(ref, "/")
		name, _, _ := strings.Cut(rest, `"`)
		var ok bool
		switch kind {
		case "schemas":
			_, ok = doc.Components.Schemas[name]
		case "parameters":
			_, ok = doc.Components.Parameters[name]
		case "responses":
			_, ok = doc.Components.Responses[name]
		}
		require.True(t, ok, "dangling $ref #/components/%s/%s", kind, name)
	}
}

// TestOpenAPIDescribesIdentityRoutes: the identity routes (and the test probes'
// real counterparts) are in the document. The whole engine as serve builds it is
// checked by TestOpenAPIDescribesEveryRoute in cmd/tollgate.
func TestOpenAPIDescribesIdentityRoutes(t *testing.T) {
	t.Parallel()
	env := newTestEnv(t, "sqlite")
	var routes gin.RoutesInfo
	for _, r := range env.engine.Routes() {
		if strings.Contains(r.Path, "/_probe/") || r.Path == "/v1/whoami" {
			continue // test-only routes
		}
		routes = append(routes, r)
	}
	missing, err := UndocumentedRoutes(routes)
	require.NoError(t, err)
	require.Empty(t, missing, "routes missing from api/openapi.json:\n%s", strings.Join(missing, "\n"))

	// The check names the exact path and method to add.
	missing, err = UndocumentedRoutes(gin.RoutesInfo{{Method: "GET", Path: "/api/v1/tenants/:tenant/things/:thing_id"}, {Method: "GET", Path: "/healthz"}})
	require.NoError(t, err)
	require.Equal(t, []string{`GET /api/v1/tenants/:tenant/things/:thing_id: add paths["/api/v1/tenants/{tenant}/things/{thing_id}"].get to api/openapi.json`}, missing)
}
