package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// BenchmarkRequireAPIKey measures the /v1 authentication middleware with a cached
// key, alone on a bare gin engine: header parse, SHA-256, cache read, principal
// into the context.
func BenchmarkRequireAPIKey(b *testing.B) {
	env := benchEnv(b)
	a, err := env.reg.Create(b.Context(), tenants.CreateInput{Name: "acme"})
	require.NoError(b, err)
	_, secret, err := env.keys.Create(b.Context(), apikeys.CreateKeyInput{TenantID: a.ID, Name: "bench"})
	require.NoError(b, err)

	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.GET("/v1/models", RequireAPIKey(env.keyAuth, apikeys.ScopeInference), func(c *gin.Context) { c.Status(http.StatusNoContent) })
	req := httptest.NewRequest("GET", "/v1/models", nil)
	req.Header.Set("Authorization", "Bearer "+secret.Reveal())
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	require.Equal(b, http.StatusNoContent, w.Code)

	// "none" is the same engine and request without the middleware: the difference
	// is the middleware's cost.
	e.GET("/v1/none", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	bare := httptest.NewRequest("GET", "/v1/none", nil)
	bare.Header = req.Header
	for name, r := range map[string]*http.Request{"none": bare, "require_api_key": req} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				e.ServeHTTP(w, r)
			}
		})
	}
}
