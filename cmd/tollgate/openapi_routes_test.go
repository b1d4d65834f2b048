package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/testdb"
)

// TestOpenAPIDescribesEveryRoute builds the server exactly as `serve` does and fails
// for every route under /api/v1, /v1 or /webhooks that api/openapi.json does not
// describe. Adding a route? Add it to the document; the message says where.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse(map[string]string{
		"TOLLGATE_DATABASE_URL":   testdb.SQLite(t),
		"TOLLGATE_ADMIN_PASSWORD": "bootstrap-password-123",
		"TOLLGATE_LOG_LEVEL":      "error",
	})
	require.NoError(t, err)
	a, err := openApp(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(a.Close)
	require.NoError(t, ensureSelfHostTenant(t.Context(), a))
	srv, _, err := buildServer(t.Context(), a, io.Discard)
	require.NoError(t, err)

	routes := srv.Engine().Routes()
	require.NotEmpty(t, routes)
	missing, err := api.UndocumentedRoutes(routes)
	require.NoError(t, err)
	require.Empty(t, missing, "routes the server registers but api/openapi.json does not describe:\n%s", strings.Join(missing, "\n"))
}
