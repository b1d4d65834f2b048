package config

import "slices"

// knownEnv lists every variable Parse reads. known_env_test.go checks it against
// the names in this package's source, so a new variable cannot be missed here.
var knownEnv = []string{
	"ANTHROPIC_API_KEY",
	"ANTHROPIC_BASE_URL",
	"OPENAI_API_KEY",
	"OPENAI_BASE_URL",
	"OPENROUTER_API_KEY",
	"OPENROUTER_BASE_URL",
	"STRIPE_API_BASE",
	"STRIPE_API_KEY",
	"STRIPE_WEBHOOK_SECRET",
	"TOLLGATE_ADDR",
	"TOLLGATE_ADMIN_EMAIL",
	"TOLLGATE_ADMIN_PASSWORD",
	"TOLLGATE_BACKUP_DIR",
	"TOLLGATE_BACKUP_INTERVAL",
	"TOLLGATE_BACKUP_KEEP",
	"TOLLGATE_BROWSER",
	"TOLLGATE_DATABASE_URL",
	"TOLLGATE_DB_MAX_IDLE_CONNS",
	"TOLLGATE_DB_MAX_OPEN_CONNS",
	"TOLLGATE_INVOICE_DAY",
	"TOLLGATE_JWT_SECRET",
	"TOLLGATE_KEY_CACHE_SIZE",
	"TOLLGATE_LEDGER_BATCH_SIZE",
	"TOLLGATE_LOG_FORMAT",
	"TOLLGATE_LOG_LEVEL",
	"TOLLGATE_MASTER_KEY",
	"TOLLGATE_MAX_BODY_BYTES",
	"TOLLGATE_METER_FAIL_OPEN",
	"TOLLGATE_METRICS_ADDR",
	"TOLLGATE_METRICS_TOKEN",
	"TOLLGATE_MODE",
	"TOLLGATE_PPROF_ADDR",
	"TOLLGATE_PUBLIC_URL",
	"TOLLGATE_RECONCILE_INTERVAL",
	"TOLLGATE_REDIS_URL",
	"TOLLGATE_SHUTDOWN_GRACE",
	"TOLLGATE_SIM",
	"TOLLGATE_SIM_LATENCY",
	"TOLLGATE_SPOOL_DIR",
	"TOLLGATE_TRUSTED_PROXIES",
	"TOLLGATE_WEBHOOK_ALLOW_PRIVATE",
	"TOLLGATE_WORKER_CONCURRENCY",
}

// KnownEnv returns, sorted, the name of every environment variable Parse reads.
// Deployment files (compose, Kubernetes manifests) are tested against it so that a
// misspelt variable fails a test instead of being silently ignored.
func KnownEnv() []string { return slices.Clone(knownEnv) }
