package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/frontend"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// selfHostTenantName is the one tenant of single-tenant mode.
const selfHostTenantName = "default"

func newServeCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway, the admin API and the console",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			return serve(cmd.Context(), cfg, nil)
		},
	}
}

// serve runs until ctx is cancelled (SIGINT/SIGTERM). ready, when non-nil, receives
// the bound address once the server listens (tests use it).
func serve(ctx context.Context, cfg config.Config, ready chan<- string) error {
	var hooks serveHooks
	if ready != nil {
		hooks.ready = func(addr string, _ serverParts) { ready <- addr }
	}
	return serveWith(ctx, cfg, hooks)
}

// serveHooks let a caller that runs serve in-process (tests, `tollgate desktop`)
// observe it.
type serveHooks struct {
	// ready, when set, is called once the server listens, with the bound address
	// and the parts the desktop tray reads.
	ready func(addr string, parts serverParts)
	// out receives one-time notices (the generated admin password); nil is stdout.
	out io.Writer
}

// serveWith is serve with hooks.
func serveWith(ctx context.Context, cfg config.Config, hooks serveHooks) error {
	a, err := openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	tuneGC(a)
	if cfg.Mode == config.ModeSingleTenant {
		if err := ensureSelfHostTenant(ctx, a); err != nil {
			return err
		}
	}
	if _, err := a.registry.MigratePending(ctx, 4); err != nil {
		return err
	}

	stopTracing, err := wireTracing(ctx, a)
	if err != nil {
		return err
	}
	// Deferred before the loops' stop, so it runs after it: spans of requests
	// drained at shutdown are flushed too.
	defer stopTracing()
	out := hooks.out
	if out == nil {
		out = os.Stdout
	}
	parts, err := buildServerParts(ctx, a, out)
	if err != nil {
		return err
	}
	srv, start := parts.srv, parts.start
	loopCtx, cancelLoops := context.WithCancel(ctx)
	if cfg.HTTP.PprofAddr != "" {
		go servePprof(loopCtx, cfg.HTTP.PprofAddr, a.logger)
	}
	stopped := make(chan struct{})
	go func() { start(loopCtx); close(stopped) }()
	defer func() { cancelLoops(); <-stopped }()
	bound := make(chan string, 1)
	go func() {
		addr, ok := <-bound
		if !ok {
			return
		}
		a.logger.Info("tollgate listening", "url", "http://"+displayAddr(addr), "mode", cfg.Mode,
			"database", string(cfg.DatabaseDriver()), "console_built", frontend.Built())
		if hooks.ready != nil {
			hooks.ready(addr, parts)
		}
	}()
	err = srv.Serve(ctx, cfg.Addr, cfg.HTTP.ShutdownGrace, bound)
	close(bound)
	if err != nil {
		return errkind.Wrap(errkind.Unavailable, err, "cannot serve on TOLLGATE_ADDR=%s", cfg.Addr)
	}
	return nil
}

// buildServer assembles the HTTP server exactly as serve runs it (every route group,
// console, health, metrics) and returns start, which runs the background loops
// until ctx ends. TestOpenAPIDescribesEveryRoute builds the server through it, so
// every route wired here must be described in api/openapi.json. out receives
// one-time notices (the generated bootstrap admin password).
func buildServer(ctx context.Context, a *app, out io.Writer) (*api.Server, func(ctx context.Context), error) {
	p, err := buildServerParts(ctx, a, out)
	return p.srv, p.start, err
}

// serverParts is the assembled server with the services `tollgate desktop` reads
// in-process (its tray signs the owner in, shows spend, makes a key).
type serverParts struct {
	srv *api.Server
	// start runs the background loops until its ctx ends, then drains.
	start    func(ctx context.Context)
	registry *tenants.Registry
	sessions *accounts.Sessions
	users    *accounts.Users
	keys     *apikeys.Keys
	budgets  *budget.Service
	// adminEmail is the bootstrap admin's (TOLLGATE_ADMIN_EMAIL).
	adminEmail string
}

// buildServerParts is buildServer returning the parts.
func buildServerParts(ctx context.Context, a *app, out io.Writer) (serverParts, error) {
	srv, start, identity, budgets, err := assembleServer(ctx, a, out)
	if err != nil {
		return serverParts{}, err
	}
	return serverParts{srv: srv, start: start, registry: a.registry, sessions: identity.sessions, users: identity.services.users,
		keys: identity.services.keys, budgets: budgets, adminEmail: a.cfg.Auth.AdminEmail}, nil
}

func assembleServer(ctx context.Context, a *app, out io.Writer) (*api.Server, func(ctx context.Context), identityParts, *budget.Service, error) {
	fail := func(err error) (*api.Server, func(ctx context.Context), identityParts, *budget.Service, error) {
		return nil, nil, identityParts{}, nil, err
	}
	identity, err := wireIdentity(ctx, a, out)
	if err != nil {
		return fail(err)
	}
	metrics := wireMetrics(a)
	acct, err := wireAccounting(ctx, a)
	if err != nil {
		return fail(err)
	}
	metrics.watch(ctx, acct.meter, acct.ledger)
	worker, err := wireWorker(ctx, a, identity.identity, acct.meter)
	if err != nil {
		return fail(err)
	}
	hub := newLiveHub(a)
	sink, err := wireEvents(a, metrics, hub, worker)
	if err != nil {
		return fail(err)
	}
	gw, err := wireGateway(ctx, a, identity.keyAuth, identity.feed, acct, sink)
	if err != nil {
		return fail(err)
	}
	budgets, err := wireBudgets(ctx, a, identity.services, gw)
	if err != nil {
		return fail(err)
	}
	admin, err := wireAdmin(a, identity.identity, gw, hub, budgets)
	if err != nil {
		return fail(err)
	}
	// The metrics middleware goes first so that every route group after it is
	// measured; the tracing middleware next, so that every /v1 route is traced.
	routes := append([]func(*gin.Engine){metrics.route}, tracingRoute(a)...)
	routes = append(routes, identity.routes...)
	routes = append(routes, worker.routes...)
	routes = append(routes, gw.routes...)
	routes = append(routes, admin.routes...)

	var console fs.FS
	if frontend.Built() {
		console, _ = fs.Sub(frontend.Dist, "dist")
	}
	// TOLLGATE_METRICS_ADDR moves /metrics off the API listener onto its own; a
	// taken address fails start-up instead of silently serving no metrics.
	apiMetrics, metricsLn := metrics.registry, net.Listener(nil)
	if a.cfg.HTTP.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", a.cfg.HTTP.MetricsAddr); err != nil {
			return fail(errkind.Wrap(errkind.Unavailable, err, "cannot serve /metrics on TOLLGATE_METRICS_ADDR=%s", a.cfg.HTTP.MetricsAddr))
		}
		apiMetrics = nil
	}
	srv := api.New(api.Deps{
		Config: api.Config{MaxBodyBytes: a.cfg.HTTP.MaxBodyBytes, Mode: string(a.cfg.Mode), TrustedProxies: a.cfg.HTTP.TrustedProxies,
			MetricsToken: a.cfg.HTTP.MetricsToken.Reveal()},
		Logger:  a.logger,
		Metrics: apiMetrics,
		Ready: append([]api.ReadyCheck{{Name: "database", Check: func(ctx context.Context) error {
			return a.db.SQL.PingContext(ctx)
		}}}, gw.ready...),
		Console: console,
		Routes:  routes,
	})
	// start blocks until ctx ends, then drains what must not be lost (ledger, leases).
	start := func(ctx context.Context) {
		if metricsLn != nil {
			serveMetrics(ctx, metricsLn, metrics.registry, a)
			a.logger.InfoContext(ctx, "metrics listening", "url", "http://"+metricsLn.Addr().String()+"/metrics")
		}
		go identity.run(ctx)
		go worker.run(ctx)
		go admin.run(ctx)
		go sink.Run(ctx)
		gw.run(ctx)
		<-ctx.Done()
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		gw.stop(stopCtx)
	}
	return srv, start, identity, budgets, nil
}

// ensureSelfHostTenant creates the one tenant of single-tenant mode on first start.
func ensureSelfHostTenant(ctx context.Context, a *app) error {
	_, err := a.registry.Get(ctx, selfHostTenantName)
	if errors.Is(err, errkind.NotFound) {
		_, err = a.registry.Create(ctx, tenants.CreateInput{Name: selfHostTenantName})
		if err == nil {
			a.logger.Info("created the self-host tenant", "slug", selfHostTenantName)
		}
	}
	return err
}

func displayAddr(addr string) string {
	if strings.HasPrefix(addr, "[::]:") {
		return "localhost:" + strings.TrimPrefix(addr, "[::]:")
	}
	if strings.HasPrefix(addr, "0.0.0.0:") {
		return "localhost:" + strings.TrimPrefix(addr, "0.0.0.0:")
	}
	return addr
}
