package api

import (
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/logging"
)

// TestConsoleSecurityHeaders: every console response (index, SPA routes, assets,
// the not-built page) carries the CSP, X-Frame-Options: DENY, nosniff and
// Referrer-Policy: no-referrer; API responses (JSON, errors, health) carry nosniff.
func TestConsoleSecurityHeaders(t *testing.T) {
	t.Parallel()
	console := fstest.MapFS{
		"index.html":         {Data: []byte("<!doctype html><div id=root></div>")},
		"assets/app-abc1.js": {Data: []byte("console.log('tollgate');")},
	}
	built := New(Deps{Config: Config{MaxBodyBytes: 1 << 20}, Logger: logging.Discard(), Console: console})
	notBuilt := New(Deps{Config: Config{MaxBodyBytes: 1 << 20}, Logger: logging.Discard()})
	get := func(srv *Server, method, path, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
		return rec
	}
	for name, rec := range map[string]*httptest.ResponseRecorder{
		"index":        get(built, "GET", "/", ""),
		"spa route":    get(built, "GET", "/t/acme/keys", ""),
		"asset":        get(built, "GET", "/assets/app-abc1.js", ""),
		"missing file": get(built, "GET", "/assets/nope.js", ""),
		"not built":    get(notBuilt, "GET", "/", ""),
	} {
		h := rec.Header()
		csp := h.Get("Content-Security-Policy")
		for _, directive := range []string{"default-src 'self'", "script-src 'self'", "img-src 'self' data:",
			"connect-src 'self' ws: wss:", "frame-ancestors 'none'", "base-uri 'self'", "form-action 'self'", "object-src 'none'"} {
			require.Contains(t, csp, directive, name)
		}
		require.NotContains(t, csp, "unsafe-eval", name)
		require.NotContains(t, strings.SplitN(csp, "script-src", 2)[1], "unsafe-inline", name)
		require.Equal(t, "DENY", h.Get("X-Frame-Options"), name)
		require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), name)
		require.Equal(t, "no-referrer", h.Get("Referrer-Policy"), name)
	}
	for name, rec := range map[string]*httptest.ResponseRecorder{
		"api miss":    get(built, "GET", "/api/v1/nope", ""),
		"v1 miss":     get(built, "GET", "/v1/nope", ""),
		"healthz":     get(built, "GET", "/healthz", ""),
		"readyz":      get(built, "GET", "/readyz", ""),
		"NUL refusal": get(built, "GET", "/api/v1/tenants?q=%00", ""),
		"too large":   get(New(Deps{Config: Config{MaxBodyBytes: 4}, Logger: logging.Discard()}), "POST", "/api/v1/auth/login", `{"email":"x"}`),
	} {
		require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), name)
		require.Contains(t, rec.Header().Get("Content-Type"), "application/json", name)
	}
}
