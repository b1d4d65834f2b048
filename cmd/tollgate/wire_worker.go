package main

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/billing/stripe"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/database/backup"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/worker"
)

// workerParts is what the background worker adds to `serve`: in self-host mode the
// worker runs in-process; its admin routes (jobs, invoices, Stripe webhooks) are
// served by every API replica.
type workerParts struct {
	routes []func(r *gin.Engine)
	// enqueuer enqueues jobs (alert deliveries from the gateway).
	enqueuer *worker.Enqueuer
	// run starts the in-process worker when the mode calls for it; it stops with ctx.
	run func(ctx context.Context)
}

// wireWorker builds the job queue for serve. In single-tenant (self-host) mode the
// queue works jobs in this process, schedules included, and holds a shared lock
// on the data folder (restore refuses while it is held). In multi-tenant mode the
// client only enqueues and lists: `tollgate worker` processes work the jobs.
// ident protects the admin routes; nil registers only the Stripe webhook.
// m is the meter the reconcile job checks: the gateway's own in self-host mode,
// where the counters live in this process.
func wireWorker(ctx context.Context, a *app, ident *api.Identity, m meter.Meter) (workerParts, error) {
	inProcess := a.cfg.Mode == config.ModeSingleTenant
	concurrency := 0
	if inProcess {
		concurrency = max(1, a.cfg.Tier.WorkerConcurrency)
	}
	if !inProcess {
		m = nil // `tollgate worker` processes reconcile against the shared Redis counters
	}
	q, svc, err := openQueue(ctx, a, concurrency, inProcess, m)
	if err != nil {
		return workerParts{}, err
	}
	routes := []func(*gin.Engine){api.NewStripeWebhook(svc, a.cfg.Stripe.WebhookSecret.Reveal()).Register}
	if ident != nil {
		routes = append(routes, api.NewJobs(q.Client()).Routes(ident),
			api.NewInvoices(a.registry, svc, worker.NewEnqueuer(q.Client()), time.Now).Routes(ident))
	}
	return workerParts{routes: routes, enqueuer: worker.NewEnqueuer(q.Client()), run: func(ctx context.Context) {
		defer q.Close()
		if !inProcess {
			<-ctx.Done()
			return
		}
		if err := runQueue(ctx, a, q); err != nil {
			a.logger.ErrorContext(ctx, "in-process worker stopped", "error", err)
		}
	}}, nil
}

// runQueue works jobs until ctx ends, holding the data folder's shared lock on
// SQLite.
func runQueue(ctx context.Context, a *app, q *worker.Queue) error {
	if q.Dialect() == migrations.DialectSQLite {
		unlock, err := backup.LockDataDir(a.cfg.DataDir(), false)
		if err != nil {
			return err
		}
		defer unlock()
	}
	return q.Run(ctx, a.cfg.HTTP.ShutdownGrace)
}

// billingOn reports whether invoices are sent: multi-tenant mode with a Stripe key.
func billingOn(cfg config.Config) bool {
	return cfg.Mode == config.ModeMultiTenant && cfg.Stripe.APIKey != ""
}

// newInvoicing returns the invoicing service, with Stripe delivery only when
// billing is on.
func newInvoicing(a *app) (*invoicing.Service, error) {
	if !billingOn(a.cfg) {
		return invoicing.NewService(a.registry, nil, time.Now, a.logger), nil
	}
	client, err := stripe.New(stripe.Config{APIKey: a.cfg.Stripe.APIKey, APIBase: a.cfg.Stripe.APIBase}, a.logger)
	if err != nil {
		return nil, err
	}
	return invoicing.NewService(a.registry, client, time.Now, a.logger), nil
}

// openQueue opens the job queue with the configured schedules. concurrency 0 is
// an insert-only client (CLI, API replicas). m is the meter reconcile compares
// with; nil means reconcile reports the ledger side only.
func openQueue(ctx context.Context, a *app, concurrency int, periodic bool, m meter.Meter) (*worker.Queue, *invoicing.Service, error) {
	svc, err := newInvoicing(a)
	if err != nil {
		return nil, nil, err
	}
	sealer, err := newSealer(a)
	if err != nil {
		return nil, nil, err
	}
	w := a.cfg.Worker
	var reg prometheus.Registerer
	if concurrency > 0 {
		reg = a.metrics // only a process that works jobs has job metrics to report
	}
	q, err := worker.Open(ctx, worker.Config{
		Concurrency:         concurrency,
		PoolSize:            max(2, min(a.cfg.Database.MaxOpenConns, concurrency+2)),
		Periodic:            periodic,
		InvoiceDay:          w.InvoiceDay,
		ReconcileInterval:   w.ReconcileInterval,
		WebhookAllowPrivate: w.WebhookAllowPrivate,
		Backup:              backup.Config{Dir: w.BackupDir, Keep: w.BackupKeep, Interval: w.BackupInterval, DataDir: a.cfg.DataDir()},
	}, worker.Deps{DB: a.db, Registry: a.registry, Invoicing: svc, Meter: m, Sealer: sealer,
		PurgeKeptPrompts: gateway.PurgeKeptPrompts, Metrics: reg, Logger: a.logger})
	if err != nil {
		return nil, nil, err
	}
	return q, svc, nil
}

// workerMeter is the meter `tollgate worker` reconciles against: the shared Redis
// counters (a plain RedisMeter, no leases). Without Redis the counters live in
// the serving process, which rebuilds them from the ledger at start; the worker
// then reports ledger totals only.
func workerMeter(a *app) (meter.Meter, func(), error) {
	if a.cfg.Redis.URL == "" {
		return nil, func() {}, nil
	}
	client, err := newRedisClient(a)
	if err != nil {
		return nil, nil, err
	}
	return meter.NewRedisMeter(a.logger, client, time.Now, meter.RedisConfig{}), func() { _ = client.Close() }, nil
}
