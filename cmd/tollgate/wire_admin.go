package main

import (
	"context"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/webhook"
	"github.com/tollgate-dev/tollgate/internal/tier"
	"github.com/tollgate-dev/tollgate/routing/events"
)

// adminParts is the admin API beyond identity: usage, budgets and alerts, the
// alert webhook, routing, models, system status and the live feed.
type adminParts struct {
	routes []func(*gin.Engine)
	// run runs the live hub (coalesced spend updates) until ctx ends, then closes
	// every live connection.
	run func(ctx context.Context)
}

// wireEvents builds the gateway's event sink: usage metrics, the live feed
// (relayed between replicas through Redis when it is configured) and alert
// deliveries queued on the worker.
func wireEvents(a *app, metrics *metricsParts, hub *api.LiveHub, w workerParts) (*events.Sink, error) {
	cfg := events.Config{Usage: metrics.usage, Live: hub, Alerts: w.enqueuer, Logger: a.logger}
	if a.cfg.Redis.URL != "" {
		client, err := newRedisClient(a)
		if err != nil {
			return nil, err
		}
		cfg.Redis = client
	}
	return events.New(cfg), nil
}

// newLiveHub builds the live-feed hub. It is created before the gateway, which
// reports every completed request and alert to it (gateway.Sink).
func newLiveHub(a *app) *api.LiveHub {
	return api.NewLiveHub(api.LiveConfig{}, a.logger)
}

// wireAdmin builds the admin endpoints over the gateway's caches, meter and
// catalog, so a budget or policy changed here is enforced by this process at once.
func wireAdmin(a *app, ident *api.Identity, gw *gatewayParts, hub *api.LiveHub, budgets *budget.Service) (adminParts, error) {
	sealer, err := newSealer(a)
	if err != nil {
		return adminParts{}, err
	}
	admin := api.NewAdmin(api.AdminDeps{
		Identity:                 ident,
		Registry:                 a.registry,
		Meter:                    gw.meter,
		BudgetService:            budgets,
		Policies:                 gw.policies,
		ResponseCacheUnavailable: gw.cacheUnavailable,
		Sealer:                   sealer,
		Catalog:                  gw.catalog,
		Catalogs:                 gw.catalogs,
		Providers:                gw.providerSettings,
		Selector:                 gw.selector,
		Available:                gw.providers.Available,
		Ledger:                   gw.ledger,
		Live:                     hub,
		Webhooks:                 webhook.ServiceConfig{Sealer: sealer, AllowPrivate: a.cfg.Worker.WebhookAllowPrivate},
		System: api.SystemConfig{
			Mode:            string(a.cfg.Mode),
			Driver:          string(a.cfg.DatabaseDriver()),
			PingDB:          a.db.SQL.PingContext,
			RedisConfigured: a.cfg.Redis.URL != "",
			Tier:            detectTierOnce(a),
			// Queue: the worker exposes no queue summary yet; /system omits it.
		},
		Logger: a.logger,
	})
	return adminParts{routes: []func(*gin.Engine){admin.Register}, run: hub.Run}, nil
}

// detectTierOnce returns a function that classifies the host on first use
// (detectResources: /proc, cgroup files and the environment's deployment
// markers) and then answers from memory: host resources do not change under a
// running process. The knobs shown are the tier's; explicit settings that
// override them are reported by `tollgate config detect`.
func detectTierOnce(a *app) func(ctx context.Context) (tier.Profile, error) {
	var once sync.Once
	var p tier.Profile
	var err error
	return func(ctx context.Context) (tier.Profile, error) {
		once.Do(func() {
			var r tier.Resources
			if r, err = detectResources(context.WithoutCancel(ctx), a.cfg); err == nil {
				p = tier.Classify(r)
			}
		})
		return p, err
	}
}
