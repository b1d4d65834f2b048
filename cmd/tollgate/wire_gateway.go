package main

import (
	"context"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/billing/reconcile"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/routing/respcache"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// gatewayParts is the request path: providers, routing, the meter, the ledger.
type gatewayParts struct {
	routes  []func(*gin.Engine)
	ready   []api.ReadyCheck
	service *gateway.Service
	catalog *routing.Catalog
	meter   meter.Meter
	ledger  *ledger.Writer
	budgets *budget.Cache
	// policies caches tenants' routing policies; selector replays what-ifs.
	policies  *gateway.PolicyCache
	selector  *routing.Selector
	providers *routing.Registry
	// catalogs serves each tenant's catalog (base + price overrides); the
	// OpenRouter sync swaps its base.
	catalogs *gateway.CatalogCache
	// providerSettings merges stored provider credentials with the environment
	// and rebuilds providers when they change.
	providerSettings *routing.ProviderSettings
	// cacheUnavailable says why the response cache is off ("" when it is available).
	cacheUnavailable string
	// run starts the background loops (ledger flush, lease flush); stop drains them.
	run  func(ctx context.Context)
	stop func(ctx context.Context)
}

// wireGateway builds the /v1 request path for serve.
func wireGateway(ctx context.Context, a *app, keyAuth *apikeys.KeyAuthenticator, feed *tenants.ChangeFeed, acct *accountingParts, sink gateway.Sink) (*gatewayParts, error) {
	// No encoding is loaded at start-up: each loads in the background when the
	// traffic first needs it (~4 MB and 0.2–0.7 s each), so an idle gateway, or
	// one whose models all use one encoding, holds no table it does not use.
	est := routing.NewEstimator(routing.EstimatorConfig{LoadInBackground: true})
	envProviders := routing.ProvidersConfig{
		OpenAI:     routing.ProviderKeyConfig{APIKey: seal.Secret(a.cfg.Providers.OpenAIKey.Reveal()), BaseURL: a.cfg.Providers.OpenAIBaseURL},
		Anthropic:  routing.ProviderKeyConfig{APIKey: seal.Secret(a.cfg.Providers.AnthropicKey.Reveal()), BaseURL: a.cfg.Providers.AnthropicBaseURL},
		OpenRouter: routing.ProviderKeyConfig{APIKey: seal.Secret(a.cfg.Providers.OpenRouterKey.Reveal()), BaseURL: a.cfg.Providers.OpenRouterBaseURL},
		Sim:        a.cfg.Providers.Sim,
		SimConfig:  routing.SimConfig{Latency: a.cfg.Providers.SimLatency},
	}
	providers, err := routing.NewRegistryFromConfig(envProviders, est, a.logger)
	if err != nil {
		return nil, err
	}
	sealer, err := newSealer(a)
	if err != nil {
		return nil, err
	}
	// Stored provider credentials (sealed in settings) fill in what the
	// environment leaves unset; the environment wins field by field.
	providerSettings, err := routing.NewProviderSettings(routing.ProviderSettingsConfig{Env: envProviders, DB: a.db.Gorm,
		Sealer: sealer, Registry: providers, Estimator: est}, a.logger)
	if err != nil {
		return nil, err
	}
	if err := providerSettings.Reload(ctx); err != nil {
		return nil, fmt.Errorf("loading stored provider credentials: %w", err)
	}
	catalog := routing.DefaultCatalog()
	catalogs := gateway.NewCatalogCache(catalog, 0, time.Now)
	orSync, err := routing.NewOpenRouterSync(routing.OpenRouterSyncConfig{Base: catalog, Apply: catalogs.SetBase,
		Enabled: func() bool { _, ok := providers.Provider(routing.OpenRouterProviderName); return ok },
		BaseURL: func(ctx context.Context) string {
			if eff, err := providerSettings.Effective(ctx); err == nil {
				return eff.OpenRouter.BaseURL
			}
			return a.cfg.Providers.OpenRouterBaseURL
		}}, a.logger)
	if err != nil {
		return nil, err
	}
	selector, err := routing.NewSelector(routing.SelectorConfig{Catalog: catalog, Available: providers.Available}, a.logger)
	if err != nil {
		return nil, err
	}
	executor, err := routing.NewExecutor(routing.ExecutorConfig{Registry: providers}, a.logger)
	if err != nil {
		return nil, err
	}
	m, writer := acct.meter, acct.ledger
	budgets := budget.NewCache(0, time.Now)
	budgets.Follow(feed)
	policies := gateway.NewPolicyCache(0, time.Now)
	cache, cacheUnavailable, err := newResponseCache(a, sealer)
	if err != nil {
		return nil, err
	}
	svc, err := gateway.New(gateway.Deps{Cache: cache, Sealer: sealer, Catalog: catalog, Catalogs: catalogs, Selector: selector, Executor: executor, Estimator: est,
		Providers: providers, Meter: m, Budgets: budgets, Policies: policies,
		Ledger: writer, Sink: sink, Tracer: tracer(a), Clock: time.Now, Logger: a.logger})
	if err != nil {
		return nil, err
	}
	ready := []api.ReadyCheck{{
		Name:     "meter",
		Advisory: true,
		Check: func(ctx context.Context) error {
			h := m.Health(ctx)
			if h.State == meter.HealthStateUnavailable {
				return fmt.Errorf("%s", h.Detail)
			}
			return nil
		},
		State: func() string { return string(m.Health(context.WithoutCancel(ctx)).State) },
	}}
	return &gatewayParts{
		routes:    []func(*gin.Engine){api.OpenAIRoutes(api.OpenAIDeps{Keys: keyAuth, Registry: a.registry, Gateway: svc, Refusals: writer})},
		ready:     ready,
		service:   svc,
		catalog:   catalog,
		meter:     m,
		ledger:    writer,
		budgets:   budgets,
		policies:  policies,
		selector:  selector,
		providers: providers,
		catalogs:  catalogs,

		providerSettings: providerSettings,
		cacheUnavailable: cacheUnavailable,
		run: func(ctx context.Context) {
			go writer.Run(ctx)
			// Other replicas' credential changes apply here within 30 s; the
			// OpenRouter sync runs at start and every 24h while it is configured.
			go providerSettings.Run(ctx, 0)
			go orSync.Run(ctx)
			acct.run(ctx)
		},
		stop: func(ctx context.Context) {
			svc.Drain() // alerts still being recorded go in before the databases close
			acct.stop(ctx)
			if err := writer.Close(ctx); err != nil {
				a.logger.WarnContext(ctx, "ledger not fully flushed at shutdown; the spool is replayed on next start", "error", err)
			}
		},
	}, nil
}

// accountingParts are the meter and the ledger writer: the request path settles
// into both, and the worker's reconcile compares them.
type accountingParts struct {
	meter  meter.Meter
	ledger *ledger.Writer
	// run starts the lease flush; stop returns leases and closes Redis.
	run  func(ctx context.Context)
	stop func(ctx context.Context)
}

// wireAccounting opens the ledger writer, then the meter, which recovers a
// tenant's counters when Redis lost them (or after an outage) from the ledger's
// totals. The in-process meter starts empty and is rebuilt from the ledger here.
func wireAccounting(ctx context.Context, a *app) (*accountingParts, error) {
	writer, err := ledger.NewWriter(ledger.WriterConfig{SpoolDir: a.cfg.SpoolDir, BatchSize: a.cfg.Tier.LedgerBatchSize}, a.registry, a.logger)
	if err != nil {
		return nil, err
	}
	m, run, stop, err := newMeter(a, reconcile.LedgerTotals(a.registry, writer, time.Now))
	if err != nil {
		return nil, err
	}
	if a.cfg.Redis.URL == "" {
		if err := reconcile.RebuildAll(ctx, a.registry, writer, m, time.Now()); err != nil {
			return nil, err
		}
	}
	return &accountingParts{meter: m, ledger: writer, run: run, stop: stop}, nil
}

// newMeter picks the meter: in-process without Redis; with Redis (standalone or
// Cluster) the shared counters behind per-instance budget leases.
func newMeter(a *app, ledgerTotals func(context.Context, string) ([]meter.ScopeTotal, error)) (meter.Meter, func(context.Context), func(context.Context), error) {
	noop := func(context.Context) {}
	if a.cfg.Redis.URL == "" {
		return meter.NewMemoryMeter(a.logger, time.Now), noop, noop, nil
	}
	client, err := newRedisClient(a)
	if err != nil {
		return nil, nil, nil, err
	}
	inner := meter.NewRedisMeter(a.logger, client, time.Now, meter.RedisConfig{LedgerTotals: ledgerTotals})
	lm := meter.NewLeaseMeter(a.logger, inner, time.Now, meter.LeaseConfig{FailOpen: a.cfg.Redis.FailOpen, Peers: meter.NewSQLPeers(a.registry.Control())})
	run := func(ctx context.Context) { go func() { _ = lm.Run(ctx) }() }
	stop := func(ctx context.Context) {
		if err := lm.ReturnLeases(ctx); err != nil {
			a.logger.WarnContext(ctx, "returning budget leases failed; they expire on their own", "error", err)
		}
		_ = client.Close()
	}
	return lm, run, stop, nil
}

// newResponseCache is the response cache tenants' policies may enable: in Redis
// (shared by replicas, sealed under TOLLGATE_MASTER_KEY) when TOLLGATE_REDIS_URL
// is set, else in process. Redis without a master key leaves it off and says
// why (policies enabling it are refused).
func newResponseCache(a *app, sealer *seal.Sealer) (*respcache.Cache, string, error) {
	if a.cfg.Redis.URL == "" {
		c, err := respcache.New(respcache.NewMemory(0, nil), sealer, false)
		return c, "", err
	}
	if sealer == nil {
		a.logger.Warn("response cache disabled: " + respcache.ErrNeedsMasterKey.Error())
		return nil, respcache.ErrNeedsMasterKey.Error(), nil
	}
	client, err := newRedisClient(a)
	if err != nil {
		return nil, "", err
	}
	c, err := respcache.New(respcache.NewRedis(client, "tollgate:"), sealer, true)
	return c, "", err
}

// newRedisClient connects to TOLLGATE_REDIS_URL: a Cluster for a seed list, else a
// standalone server. Short timeouts: the lease meter serves from what it holds
// rather than wait on a sick Redis.
func newRedisClient(a *app) (redis.UniversalClient, error) {
	if a.cfg.RedisCluster() {
		return redis.NewClusterClient(&redis.ClusterOptions{Addrs: a.cfg.RedisAddrs(), ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second}), nil
	}
	opts, err := redis.ParseURL(a.cfg.Redis.URL)
	if err != nil {
		return nil, errkind.Wrap(errkind.Invalid, err, "TOLLGATE_REDIS_URL")
	}
	opts.ReadTimeout, opts.WriteTimeout = 2*time.Second, 2*time.Second
	return redis.NewClient(opts), nil
}

// newSealer builds the sealer of provider credentials, webhook secrets and the JWT keyring from
// TOLLGATE_MASTER_KEY; nil when none is configured (storing secrets is then refused).
func newSealer(a *app) (*seal.Sealer, error) {
	if a.cfg.Auth.MasterKey == "" {
		return nil, nil
	}
	return seal.New(seal.Secret(a.cfg.Auth.MasterKey.Reveal()))
}
