package api

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// TestMetricsToken: with TOLLGATE_METRICS_TOKEN set, /metrics answers 401 in the
// API's error shape unless the request carries "Authorization: Bearer <token>";
// without it, /metrics stays open.
func TestMetricsToken(t *testing.T) {
	t.Parallel()
	const token = "scrape-token-0123456789abcdef"
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "tollgate_test_scrapes_total", Help: "test"})
	reg.MustRegister(c)
	get := func(srv *Server, auth string) (int, string, http.Header) {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		b, _ := io.ReadAll(rec.Body)
		return rec.Code, string(b), rec.Header()
	}
	logger := slog.New(slog.DiscardHandler)
	guarded := New(Deps{Config: Config{MaxBodyBytes: 1 << 20, MetricsToken: token}, Logger: logger, Metrics: reg})
	for name, auth := range map[string]string{
		"no header":            "",
		"wrong token":          "Bearer scrape-token-0123456789abcdeX",
		"token prefix":         "Bearer scrape-token",
		"token plus more":      "Bearer " + token + "x",
		"not a bearer":         "Basic " + token,
		"token without scheme": token,
	} {
		status, body, h := get(guarded, auth)
		require.Equal(t, http.StatusUnauthorized, status, name)
		require.Contains(t, body, `"type":"authentication_error"`, name)
		require.NotContains(t, body, "tollgate_test_scrapes_total", name)
		require.Equal(t, `Bearer realm="metrics"`, h.Get("WWW-Authenticate"), name)
	}
	status, body, _ := get(guarded, "Bearer "+token)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "tollgate_test_scrapes_total")

	open := New(Deps{Config: Config{MaxBodyBytes: 1 << 20}, Logger: logger, Metrics: reg})
	status, body, _ = get(open, "")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "tollgate_test_scrapes_total")

	// No registry (TOLLGATE_METRICS_ADDR set): no /metrics on this server at all.
	status, _, _ = get(New(Deps{Config: Config{MaxBodyBytes: 1 << 20}, Logger: logger}), "")
	require.Equal(t, http.StatusNotFound, status)
}
