package api

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/ledger"
)

// Routes are labelled by pattern, misses by "unmatched": raw paths never become labels.
func TestHTTPMetricsLabelByRoutePattern(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m := NewHTTPMetrics(reg)
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(m.Middleware())
	e.GET("/api/v1/keys/:id", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	for _, path := range []string{"/api/v1/keys/k1", "/api/v1/keys/k2", "/nope/123", "/nope/456"} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	require.Equal(t, 2.0, counterValue(t, m.requests.WithLabelValues("/api/v1/keys/:id", "204")))
	require.Equal(t, 2.0, counterValue(t, m.requests.WithLabelValues("unmatched", "404")))
	require.Equal(t, 2, seriesCount(m.requests))
	require.Equal(t, 2, seriesCount(m.duration))

	// A second server on the same registry shares the collectors instead of panicking.
	require.Same(t, m.requests, NewHTTPMetrics(reg).requests)
}

// The per-request cost after the first request of a route and status is a map
// lookup and two atomic updates: no allocation.
func TestHTTPMetricsObserveDoesNotAllocate(t *testing.T) {
	m := NewHTTPMetrics(prometheus.NewRegistry())
	m.observe("/v1/chat/completions", 200, time.Millisecond)
	allocs := testing.AllocsPerRun(1000, func() { m.observe("/v1/chat/completions", 200, time.Millisecond) })
	require.Zero(t, allocs)

	u := NewUsageMetrics(prometheus.NewRegistry())
	ev := ledger.Event{ModelUsed: "sim-small", Status: ledger.StatusOK, InputTokens: 10, OutputTokens: 5, Cost: 42}
	u.Observe(ev)
	require.Zero(t, testing.AllocsPerRun(1000, func() { u.Observe(ev) }))
}

func TestUsageMetricsCountByModel(t *testing.T) {
	t.Parallel()
	u := NewUsageMetrics(prometheus.NewRegistry())
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				u.Observe(ledger.Event{ModelUsed: "sim-large", Status: ledger.StatusOK, InputTokens: 3, CachedTokens: 1, OutputTokens: 2, Cost: 1000})
			}
		})
	}
	wg.Wait()
	u.Observe(ledger.Event{ModelUsed: "sim-large", Status: ledger.StatusAborted})
	require.Equal(t, 800_000.0, counterValue(t, u.cost.WithLabelValues("sim-large")))
	require.Equal(t, 2400.0, counterValue(t, u.tokens.WithLabelValues("sim-large", "input")))
	require.Equal(t, 800.0, counterValue(t, u.tokens.WithLabelValues("sim-large", "cached")))
	require.Equal(t, 1600.0, counterValue(t, u.tokens.WithLabelValues("sim-large", "output")))
	require.Equal(t, 800.0, counterValue(t, u.completed.WithLabelValues("sim-large", "ok")))
	require.Equal(t, 1.0, counterValue(t, u.completed.WithLabelValues("sim-large", "aborted")))
}

func BenchmarkHTTPMetricsMiddleware(b *testing.B) {
	m := NewHTTPMetrics(prometheus.NewRegistry())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.observe("/v1/chat/completions", 200, time.Millisecond)
		}
	})
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	require.NoError(t, c.Write(&m))
	return m.GetCounter().GetValue()
}

func seriesCount(c prometheus.Collector) int {
	ch := make(chan prometheus.Metric, 64)
	go func() { c.Collect(ch); close(ch) }()
	n := 0
	for range ch {
		n++
	}
	return n
}
