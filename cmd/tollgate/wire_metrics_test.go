package main

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
	"github.com/tollgate-dev/tollgate/worker"
)

// scrape reads a Prometheus text exposition into its metric families.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return fams
}

// value returns the value of the family's series whose labels include want.
func value(t *testing.T, f *dto.MetricFamily, want map[string]string) float64 {
	t.Helper()
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && got[k] == v
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	t.Fatalf("%s has no series with %v", f.GetName(), want)
	return 0
}

// Given a self-host server (its job worker in process), when one chat completion
// is served, then /metrics carries every family api.MetricNames lists, with the
// request counted by route pattern, its spend by model, and a healthy meter.
func TestMetricsEndpointExportsEveryFamily(t *testing.T) {
	t.Parallel()
	s := startStack(t, map[string]string{"TOLLGATE_MODE": "single-tenant"})
	_, _, secret := s.tenantWithKey(t, "metrics", apikeys.CreateKeyInput{})

	body := `{"model":"sim-small","max_tokens":16,"messages":[{"role":"user","content":"hello metrics"}]}`
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.baseURL+"/v1/chat/completions", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
	notFound, err := http.Get(s.baseURL + "/v1/no/such/route/12345")
	require.NoError(t, err)
	notFound.Body.Close()

	fams := scrape(t, s.baseURL+"/metrics")
	for _, name := range append(api.MetricNames(), worker.MetricNames()...) {
		_, ok := fams[name]
		require.True(t, ok, "/metrics lacks %s", name)
	}
	require.Equal(t, 1.0, value(t, fams[api.MetricHTTPRequests], map[string]string{"route": "/v1/chat/completions", "status": "200"}))
	require.Equal(t, 1.0, value(t, fams[api.MetricHTTPDuration], map[string]string{"route": "/v1/chat/completions"}))
	require.GreaterOrEqual(t, value(t, fams[api.MetricHTTPRequests], map[string]string{"route": "unmatched"}), 1.0)
	for _, m := range fams[api.MetricHTTPRequests].GetMetric() {
		for _, l := range m.GetLabel() {
			require.NotContains(t, l.GetValue(), "12345", "raw paths must never become labels")
		}
	}
	require.Greater(t, value(t, fams[api.MetricUsageCost], map[string]string{"model": "sim-small"}), 0.0)
	require.Greater(t, value(t, fams[api.MetricUsageTokens], map[string]string{"model": "sim-small", "kind": "input"}), 0.0)
	require.Equal(t, 16.0, value(t, fams[api.MetricUsageTokens], map[string]string{"model": "sim-small", "kind": "output"}))
	require.Equal(t, 1.0, value(t, fams[api.MetricRequestsCompleted], map[string]string{"model": "sim-small", "status": "ok"}))
	require.Equal(t, 0.0, value(t, fams[api.MetricMeterState], nil))
	require.Equal(t, 0.0, value(t, fams[api.MetricLedgerFlushFailures], nil))
	require.Equal(t, 0.0, value(t, fams[worker.MetricReconcileDrift], map[string]string{"scope": "tenant"}))
}

// `tollgate worker --metrics-addr` serves its registry, with the job families.
func TestWorkerMetricsListener(t *testing.T) {
	t.Parallel()
	a := &app{logger: slog.New(slog.NewTextHandler(logging.TestWriter{T: t}, nil))}
	addr, err := serveWorkerMetrics(t.Context(), a, "127.0.0.1:0")
	require.NoError(t, err)
	require.NotNil(t, a.metrics, "job collectors register on the served registry")
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "tollgate_test_total", Help: "test"})
	a.metrics.MustRegister(c)
	c.Inc()
	fams := scrape(t, "http://"+addr+"/metrics")
	require.Contains(t, fams, "go_goroutines")
	require.Contains(t, fams, "tollgate_test_total")
	resp, err := http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	_, err = serveWorkerMetrics(t.Context(), a, addr)
	require.ErrorContains(t, err, "--metrics-addr", "a taken address fails the command at once")
}

// getStatus returns the status of GET url with an optional Authorization header.
func getStatus(t *testing.T, url, auth string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// Given TOLLGATE_METRICS_ADDR and TOLLGATE_METRICS_TOKEN, serve answers /metrics
// only on the metrics listener and only with the token; the API listener has no
// /metrics at all. `tollgate worker` takes the address and token from the same
// variables.
func TestMetricsOwnListenerAndToken(t *testing.T) {
	t.Parallel()
	const token = "scrape-token-0123456789abcdef"
	addr := freeAddr(t)
	s := startStack(t, map[string]string{"TOLLGATE_METRICS_ADDR": addr, "TOLLGATE_METRICS_TOKEN": token})

	require.Equal(t, http.StatusNotFound, getStatus(t, s.baseURL+"/metrics", "Bearer "+token), "not on the API listener")
	require.Equal(t, http.StatusOK, getStatus(t, s.baseURL+"/healthz", ""))
	require.Equal(t, http.StatusUnauthorized, getStatus(t, "http://"+addr+"/metrics", ""))
	require.Equal(t, http.StatusUnauthorized, getStatus(t, "http://"+addr+"/metrics", "Bearer wrong-token-0123456789abcdef"))
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+addr+"/metrics", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), api.MetricLedgerPending, "the serving process's families")

	// The worker's listener takes the token too.
	a := &app{logger: slog.New(slog.NewTextHandler(logging.TestWriter{T: t}, nil))}
	a.cfg.HTTP.MetricsToken = token
	waddr, err := serveWorkerMetrics(t.Context(), a, "127.0.0.1:0")
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, getStatus(t, "http://"+waddr+"/metrics", ""))
	require.Equal(t, http.StatusOK, getStatus(t, "http://"+waddr+"/metrics", "Bearer "+token))
}
