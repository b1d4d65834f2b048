package worker

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/database/backup"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
)

// Config sizes the worker and sets its schedules.
type Config struct {
	// Concurrency is how many jobs this process runs at once (River's MaxWorkers);
	// the tier's WorkerConcurrency. 0 makes an insert-only client that works no
	// jobs (the CLI and API replicas that only enqueue and list).
	Concurrency int
	// FetchPollInterval is how often the queue is polled for new jobs. Default
	// 1s; at least 100ms (River's SQLite driver has no LISTEN/NOTIFY).
	FetchPollInterval time.Duration
	// PoolSize caps the Postgres connections of the queue's own pool. Default 4.
	PoolSize int
	// Periodic registers the schedules (invoices, reconcile, backups). Off for
	// insert-only clients and in tests that drive jobs by hand.
	Periodic bool
	// InvoiceDay is the day of the month (1–28, UTC) the previous month is invoiced.
	// Default 1.
	InvoiceDay int
	// ReconcileInterval is how often every tenant is reconciled; 0 disables it.
	ReconcileInterval time.Duration
	// Backup configures scheduled backups.
	Backup backup.Config
	// WebhookAllowPrivate lets alert webhooks reach private, loopback and
	// link-local addresses (TOLLGATE_WEBHOOK_ALLOW_PRIVATE). Default false.
	WebhookAllowPrivate bool
	// WebhookTimeout bounds one webhook delivery. Default 10s.
	WebhookTimeout time.Duration
}

// Deps are the worker's collaborators, wired by cmd/tollgate.
type Deps struct {
	// DB is the control-plane database; the queue lives in it.
	DB       *database.DB
	Registry *tenants.Registry
	// Invoicing runs invoices; its Delivery is nil when billing is off.
	Invoicing *invoicing.Service
	// Meter is the budget meter the reconcile job compares with the ledger. nil
	// makes reconcile report ledger totals only (no meter in this process).
	Meter meter.Meter
	// Sealer opens webhook secrets (AES-GCM under TOLLGATE_MASTER_KEY). nil means
	// alerts cannot be delivered to webhooks that have a secret.
	Sealer *seal.Sealer
	// WebhookClient overrides the HTTP client alerts are posted with (tests). nil
	// means a client whose dialer refuses private addresses (see Config).
	WebhookClient *http.Client
	// PurgeKeptPrompts deletes what one tenant's routing policy no longer
	// keeps (kept prompts older than retain_prompts_days, or all of them when
	// it is 0) and returns how many rows went; cmd wires the routing
	// gateway's, which worker may not import. nil disables the prompt_purge job.
	PurgeKeptPrompts func(ctx context.Context, h *tenants.Handle, now time.Time) (int64, error)
	// Metrics receives the worker's collectors; nil registers none.
	Metrics prometheus.Registerer
	// Clock is the time source of schedules and periods; nil means time.Now.
	Clock  func() time.Time
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.FetchPollInterval < 100*time.Millisecond {
		c.FetchPollInterval = time.Second
	}
	if c.PoolSize <= 0 {
		c.PoolSize = 4
	}
	if c.InvoiceDay < 1 || c.InvoiceDay > 28 {
		c.InvoiceDay = 1
	}
	if c.Backup.Keep <= 0 {
		c.Backup.Keep = 7
	}
	if c.WebhookTimeout <= 0 {
		c.WebhookTimeout = 10 * time.Second
	}
	return c
}
