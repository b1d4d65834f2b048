package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"
)

// openAPIDoc is the hand-written OpenAPI 3.1 document of every /api/v1, /v1 and
// /webhooks route. Whoever adds a route adds it here; TestOpenAPIDescribesEveryRoute
// (cmd/tollgate) fails otherwise and names the missing path and method.
//
//go:embed openapi.json
var openAPIDoc []byte

// serveOpenAPI: GET /api/v1/openapi.json.
func serveOpenAPI(c *gin.Context) {
	c.Header("Cache-Control", "no-cache")
	c.Data(http.StatusOK, "application/json", openAPIDoc)
}

// OpenAPIDocument returns the embedded OpenAPI document.
func OpenAPIDocument() []byte { return openAPIDoc }

// DocumentedPrefixes are the route prefixes the OpenAPI document must cover.
func DocumentedPrefixes() []string { return []string{"/api/v1/", "/v1/", "/webhooks/"} }

// OpenAPIPath converts a gin route path to OpenAPI's form: ":id" and "*rest"
// become "{id}" and "{rest}".
func OpenAPIPath(ginPath string) string {
	parts := strings.Split(ginPath, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || strings.HasPrefix(p, "*") {
			parts[i] = "{" + p[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// UndocumentedRoutes returns, sorted, one instruction per route under
// DocumentedPrefixes that the document does not describe, such as
// `GET /api/v1/tenants/:tenant/usage: add paths["/api/v1/tenants/{tenant}/usage"].get to api/openapi.json`.
func UndocumentedRoutes(routes gin.RoutesInfo) ([]string, error) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		return nil, fmt.Errorf("api/openapi.json is not valid JSON: %w", err)
	}
	var missing []string
	for _, r := range routes {
		covered := false
		for _, p := range DocumentedPrefixes() {
			covered = covered || strings.HasPrefix(r.Path+"/", p)
		}
		if !covered {
			continue
		}
		path, method := OpenAPIPath(r.Path), strings.ToLower(r.Method)
		if _, ok := doc.Paths[path][method]; !ok {
			missing = append(missing, fmt.Sprintf("%s %s: add paths[%q].%s to api/openapi.json", r.Method, r.Path, path, method))
		}
	}
	sort.Strings(missing)
	return missing, nil
}
