package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
)

// metricsParts are the Prometheus collectors of serve: the Go runtime's, HTTP
// requests, usage by model, the meter's health and the ledger's backlog. Names and
// meanings are in api/metrics.go; infra/monitoring alerts on them.
type metricsParts struct {
	registry *prometheus.Registry
	http     *api.HTTPMetrics
	usage    *api.UsageMetrics
}

// wireMetrics creates the registry /metrics serves and makes it a's registry, so
// that an in-process job worker (self-host mode) registers its collectors there too.
func wireMetrics(a *app) *metricsParts {
	reg := newRegistry()
	a.metrics = reg
	return &metricsParts{registry: reg, http: api.NewHTTPMetrics(reg), usage: api.NewUsageMetrics(reg)}
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// route installs the HTTP metrics middleware. Route groups registered after it are
// measured; /healthz, /readyz and /metrics, registered by api.New before any route
// group, are not, so probes and scrapes do not drown the request rates.
func (m *metricsParts) route(e *gin.Engine) { e.Use(m.http.Middleware()) }

// watch exports the meter's health and the ledger writer's counters.
func (m *metricsParts) watch(ctx context.Context, mt meter.Meter, w *ledger.Writer) {
	api.WatchAccounting(ctx, m.registry, mt, w)
}

// serveWorkerMetrics gives `tollgate worker` a registry (its job collectors go
// there through a.metrics) and serves it on addr at /metrics, with /healthz, until
// ctx ends. It fails at once when addr cannot be bound; it returns the bound address.
func serveWorkerMetrics(ctx context.Context, a *app, addr string) (string, error) {
	reg := newRegistry()
	a.metrics = reg
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("--metrics-addr %s: %w", addr, err)
	}
	serveMetrics(ctx, ln, reg, a)
	return ln.Addr().String(), nil
}

// serveMetrics serves reg at /metrics (behind TOLLGATE_METRICS_TOKEN when set) and
// /healthz on ln, a listener of its own, until ctx ends.
func serveMetrics(ctx context.Context, ln net.Listener, reg *prometheus.Registry, a *app) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", api.MetricsHandler(reg, a.cfg.HTTP.MetricsToken.Reveal()))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go serveUntilDone(ctx, srv, ln, a.logger)
}

func serveUntilDone(ctx context.Context, srv *http.Server, ln net.Listener, logger *slog.Logger) {
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.ErrorContext(ctx, "metrics listener stopped", "error", err)
	}
}
