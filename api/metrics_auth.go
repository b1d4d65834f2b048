package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsUnauthorized is the body of a refused scrape, in the API's error shape.
const metricsUnauthorized = `{"error":{"message":"/metrics needs Authorization: Bearer <TOLLGATE_METRICS_TOKEN>","type":"authentication_error","param":null,"code":"invalid_metrics_token"}}`

// MetricsHandler serves reg in Prometheus' text format. With a token
// (TOLLGATE_METRICS_TOKEN) it answers only requests carrying
// "Authorization: Bearer <token>", compared in constant time; others get 401.
// The API listener's /metrics, serve's TOLLGATE_METRICS_ADDR listener and
// `tollgate worker --metrics-addr` all use it.
func MetricsHandler(reg *prometheus.Registry, token string) http.Handler {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	if token == "" {
		return h
	}
	// Hashing both sides makes the comparison constant-time in the length too.
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if !ok || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(metricsUnauthorized))
			return
		}
		h.ServeHTTP(w, r)
	})
}
