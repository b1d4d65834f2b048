// Package api is Tollgate's HTTP surface: the Gin router and its middleware, the
// admin REST API under /api/v1, the OpenAI-compatible API under /v1, health and
// metrics endpoints, and the embedded console.
package api

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
)

// ReadyCheck is one dependency /readyz checks.
type ReadyCheck struct {
	// Name appears in the /readyz body ("database", "redis").
	Name string
	// Check returns nil when the dependency can serve. It must honour ctx's deadline.
	Check func(ctx context.Context) error
	// State optionally reports a degraded-but-serving state ("degraded: serving from lease").
	State func() string
	// Advisory checks are reported but never make the instance unready: an instance
	// that can still answer (with clear 503s, or from budget leases) is better in the
	// load balancer than out of it, where every replica would drop out together.
	Advisory bool
}

// Config is the part of the configuration the HTTP layer needs.
type Config struct {
	// MaxBodyBytes caps request bodies; over it the request gets 413.
	MaxBodyBytes int64
	// Mode is "single-tenant" or "multi-tenant" (shown by /readyz and /api/v1/system).
	Mode string
	// TrustedProxies are the proxies whose X-Forwarded-For gives the client address;
	// empty trusts none.
	TrustedProxies []string
	// MetricsToken, when set, is the bearer token /metrics requires
	// (TOLLGATE_METRICS_TOKEN); empty leaves /metrics open.
	MetricsToken string
}

// Deps are the server's collaborators, wired by cmd/tollgate.
type Deps struct {
	Config Config
	Logger *slog.Logger
	// Metrics is the Prometheus registry /metrics serves; nil serves no /metrics on
	// this server (TOLLGATE_METRICS_ADDR serves it on a listener of its own).
	Metrics *prometheus.Registry
	// Ready lists the dependencies /readyz checks.
	Ready []ReadyCheck
	// Console is the built console (index.html at its root), or nil when not built.
	Console fs.FS
	// Routes registers further route groups (admin API, OpenAI API) on the engine.
	Routes []func(r *gin.Engine)
}

// Server is the HTTP server.
type Server struct {
	deps   Deps
	engine *gin.Engine
}

// New builds the router with its middleware and every route.
func New(deps Deps) *Server {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = false
	e.ContextWithFallback = true
	// Route on the escaped path so a path parameter may hold an encoded slash:
	// synced OpenRouter model ids ("x-ai/grok-4") in /models/{model}/price.
	e.UseRawPath = true
	// Only configured proxies may set the client address: login rate limits and the
	// audit log key on it.
	if err := e.SetTrustedProxies(deps.Config.TrustedProxies); err != nil {
		deps.Logger.Error("ignoring TOLLGATE_TRUSTED_PROXIES", "error", err)
		_ = e.SetTrustedProxies(nil)
	}
	e.Use(noSniff(), requestID(deps.Logger), recovery(), accessLog(), bodyLimit(deps.Config.MaxBodyBytes), refuseNULInURL())
	s := &Server{deps: deps, engine: e}
	s.registerHealth(e)
	for _, register := range deps.Routes {
		register(e)
	}
	s.registerConsole(e)
	return s
}

// Handler returns the http.Handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Engine exposes the gin engine (for route listing in tests and the OpenAPI check).
func (s *Server) Engine() *gin.Engine { return s.engine }

// Serve listens on addr until ctx is cancelled, then drains in-flight requests for
// up to grace before closing. ready, when non-nil, receives the bound address.
func (s *Server) Serve(ctx context.Context, addr string, grace time.Duration, ready chan<- string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.deps.Logger.Info("shutting down: draining in-flight requests", "grace", grace)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
