// Package config is the only place that reads the environment (and a .env file).
// Everything else receives its slice of Config from cmd/tollgate, so a test can build
// any configuration without touching process state.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"

	"github.com/tollgate-dev/tollgate/internal/seal"
)

// Mode is how the deployment serves tenants.
type Mode string

// Modes.
const (
	// ModeSingleTenant is the self-hosted gateway: one tenant created on first start.
	ModeSingleTenant Mode = "single-tenant"
	// ModeMultiTenant serves many tenants, each provisioned explicitly.
	ModeMultiTenant Mode = "multi-tenant"
)

// Config is the whole configuration tree. Defaults come from Default; Validate
// reports every problem at once, each prefixed with the variable that holds it.
type Config struct {
	// Addr is the listen address of `serve` (TOLLGATE_ADDR). Default ":8080".
	Addr string
	// Mode is single-tenant or multi-tenant (TOLLGATE_MODE). Default: single-tenant
	// with SQLite, multi-tenant with Postgres.
	Mode      Mode
	Database  Database
	Redis     Redis
	Auth      Auth
	Stripe    Stripe
	Providers Providers
	HTTP      HTTP
	Log       Log
	// SpoolDir holds the ledger spool of this process (TOLLGATE_SPOOL_DIR); one
	// process per directory. Default <data dir>/spool.
	SpoolDir string
	// Tier overrides the knobs the host-resource tier would choose; zero keeps the tier's value.
	Tier TierOverrides
	// Worker configures the background worker's schedules, backups and webhooks.
	Worker Worker
	// Telemetry configures OpenTelemetry traces from the standard OTEL_* variables.
	Telemetry Telemetry
	// OIDC configures single sign-on.
	OIDC OIDC
	// Desktop configures `tollgate desktop`.
	Desktop Desktop
	// Env is the raw merged environment (process over .env), kept for components
	// such as tier detection that need to look at deployment markers.
	Env map[string]string
}

// Database configures the control-plane database.
type Database struct {
	// URL is sqlite://path or postgres://... (TOLLGATE_DATABASE_URL).
	// Default "sqlite://./data/tollgate.db".
	URL string
	// MaxOpenConns caps the pool (TOLLGATE_DB_MAX_OPEN_CONNS); 0 means the tier's value.
	MaxOpenConns int
	// MaxIdleConns caps idle connections (TOLLGATE_DB_MAX_IDLE_CONNS); 0 means the tier's value.
	MaxIdleConns int
	// TenantClusters are further Postgres clusters that hold tenant schemas
	// (TOLLGATE_TENANT_DATABASE_URLS, "name=postgres://...,name=postgres://...").
	// The control database is always the cluster named MainCluster. Default none:
	// every tenant lives in the control database, as before placement existed.
	TenantClusters []TenantCluster
}

// MainCluster names the control database as a tenant cluster.
const MainCluster = "main"

// TenantCluster is one entry of TOLLGATE_TENANT_DATABASE_URLS.
type TenantCluster struct {
	// Name is how the placement table refers to the cluster: lowercase letters,
	// digits, '-' and '_', at most 32 characters. It is stored with each tenant, so
	// renaming a cluster strands its tenants.
	Name string
	// URL is the cluster's postgres:// URL (may hold a password: never log it).
	URL string
}

// Redis configures the shared meter.
type Redis struct {
	// URL is empty (in-process meter), redis://host:port, or a comma-separated
	// cluster seed list host:port,host:port (TOLLGATE_REDIS_URL).
	URL string
	// FailOpen lets requests through when Redis is unreachable and no lease is held
	// (TOLLGATE_METER_FAIL_OPEN). Default false: hard budgets never overshoot.
	FailOpen bool
}

// Auth holds the secrets and the bootstrap admin.
type Auth struct {
	// MasterKey seals secrets at rest: provider credentials, webhook secrets and the
	// generated JWT keyring (TOLLGATE_MASTER_KEY). At least 32 bytes when set.
	MasterKey Secret
	// JWTSecret signs session tokens (TOLLGATE_JWT_SECRET). Empty: generated once
	// and kept in the database's settings.
	JWTSecret Secret
	// AdminEmail and AdminPassword create the bootstrap platform admin on first start
	// (TOLLGATE_ADMIN_EMAIL, TOLLGATE_ADMIN_PASSWORD); an empty password is generated
	// and printed once.
	AdminEmail    string
	AdminPassword Secret
}

// Stripe configures invoicing. An empty APIKey turns billing off.
type Stripe struct {
	APIKey        Secret // STRIPE_API_KEY
	APIBase       string // STRIPE_API_BASE; default https://api.stripe.com
	WebhookSecret Secret // STRIPE_WEBHOOK_SECRET
}

// Providers holds provider keys and base URLs; a provider with a key is enabled.
type Providers struct {
	OpenAIKey         Secret // OPENAI_API_KEY
	OpenAIBaseURL     string // OPENAI_BASE_URL
	OpenRouterKey     Secret // OPENROUTER_API_KEY
	OpenRouterBaseURL string // OPENROUTER_BASE_URL
	AnthropicKey      Secret // ANTHROPIC_API_KEY
	AnthropicBaseURL  string // ANTHROPIC_BASE_URL
	// Sim enables the simulated provider (TOLLGATE_SIM=1; always on in single-tenant mode).
	Sim bool
	// SimLatency is the simulated provider's answer delay (TOLLGATE_SIM_LATENCY). Default 0.
	SimLatency time.Duration
}

// HTTP configures the server.
type HTTP struct {
	// MaxBodyBytes caps request bodies (TOLLGATE_MAX_BODY_BYTES). Default 4 MiB.
	MaxBodyBytes int64
	// ShutdownGrace is how long SIGTERM waits for in-flight requests
	// (TOLLGATE_SHUTDOWN_GRACE). Default 15s.
	ShutdownGrace time.Duration
	// TrustedProxies lists the proxies (IPs or CIDRs) whose X-Forwarded-For is
	// believed for the client address (TOLLGATE_TRUSTED_PROXIES, comma-separated).
	// Default none: the client address is the TCP peer, so login rate limits and
	// audit IPs cannot be spoofed.
	TrustedProxies []string
	// MetricsToken, when set, makes /metrics answer only requests carrying
	// "Authorization: Bearer <token>" (TOLLGATE_METRICS_TOKEN); others get 401.
	// Default empty: /metrics is open to whoever reaches its listener.
	MetricsToken Secret
	// MetricsAddr, when set, serves /metrics on this separate listener only
	// (TOLLGATE_METRICS_ADDR, e.g. 127.0.0.1:9090) and not on the API's. Default
	// empty: /metrics is served on TOLLGATE_ADDR.
	MetricsAddr string
	// PprofAddr, when set, serves net/http/pprof on this separate listener
	// (TOLLGATE_PPROF_ADDR, e.g. 127.0.0.1:6060) for profiling under load. Default
	// empty: off. It must be a loopback address: profiles expose memory contents.
	PprofAddr string
	// PublicURL is the console's base URL as users reach it (TOLLGATE_PUBLIC_URL,
	// e.g. https://tollgate.example.com), used in invitation and password links.
	// Default empty: the API uses the request's host, the CLI http://localhost:<port>.
	PublicURL string
}

// Log configures slog output.
type Log struct {
	Level  string // TOLLGATE_LOG_LEVEL: debug|info|warn|error. Default info.
	Format string // TOLLGATE_LOG_FORMAT: text|json. Default text.
}

// Worker configures the background job worker.
type Worker struct {
	// BackupDir is where scheduled SQLite backups go (TOLLGATE_BACKUP_DIR).
	// Default "<data dir>/backups".
	BackupDir string
	// BackupKeep is how many backup folders are kept, newest first
	// (TOLLGATE_BACKUP_KEEP). Default 7.
	BackupKeep int
	// BackupInterval is the period of scheduled backups (TOLLGATE_BACKUP_INTERVAL).
	// Default 24h; 0 disables them.
	BackupInterval time.Duration
	// InvoiceDay is the day of the month (1–28, UTC) on which the previous month is
	// invoiced (TOLLGATE_INVOICE_DAY). Default 1.
	InvoiceDay int
	// ReconcileInterval is how often ledger totals are compared with the meter's
	// counters (TOLLGATE_RECONCILE_INTERVAL). Default 15m; 0 disables it.
	ReconcileInterval time.Duration
	// WebhookAllowPrivate lets alert webhooks reach private, loopback and
	// link-local addresses (TOLLGATE_WEBHOOK_ALLOW_PRIVATE=1). Default false.
	WebhookAllowPrivate bool
}

// Telemetry configures OpenTelemetry tracing. Tollgate reads what decides
// whether to export and over which protocol, and the batching (its own batch
// span processor); the OpenTelemetry SDK reads every other standard variable
// itself (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER and
// _ARG, OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION, _INSECURE,
// _CERTIFICATE, ...).
type Telemetry struct {
	// Enabled exports traces over OTLP. It is on when an endpoint is set
	// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or
	// OTEL_TRACES_EXPORTER=otlp, unless OTEL_SDK_DISABLED=true or
	// OTEL_TRACES_EXPORTER=none. Default off: requests get a no-op tracer.
	Enabled bool
	// Protocol is ProtocolGRPC or ProtocolHTTP (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
	// else OTEL_EXPORTER_OTLP_PROTOCOL). Default http/protobuf, as the spec says.
	Protocol string
	// The batching of ended spans, with the SDK's defaults; an invalid value
	// means the default, as in the SDK. BatchDelay is the longest a span
	// waits for its batch (OTEL_BSP_SCHEDULE_DELAY, ms; default 5s).
	// ExportTimeout bounds an upload (OTEL_BSP_EXPORT_TIMEOUT, ms; default
	// 30s; 0: none). MaxQueueSize spans wait at most; more are dropped
	// (OTEL_BSP_MAX_QUEUE_SIZE, default 2048). MaxExportBatchSize spans go in
	// one upload at most (OTEL_BSP_MAX_EXPORT_BATCH_SIZE, default 512, and
	// not above the queue size).
	BatchDelay         time.Duration
	ExportTimeout      time.Duration
	MaxQueueSize       int
	MaxExportBatchSize int
}

// OTLP protocols the trace exporter speaks.
const (
	ProtocolGRPC = "grpc"
	ProtocolHTTP = "http/protobuf"
)

// OIDC configures single sign-on. In self-host (single-tenant) mode the
// TOLLGATE_OIDC_* variables name the one identity provider; in multi-tenant mode
// each tenant configures its own in the console and they must stay unset.
type OIDC struct {
	// Issuer is the provider's issuer URL (TOLLGATE_OIDC_ISSUER). Empty: no
	// single sign-on from the environment.
	Issuer string
	// ClientID and ClientSecret are the client registered at the provider
	// (TOLLGATE_OIDC_CLIENT_ID, TOLLGATE_OIDC_CLIENT_SECRET), with redirect URI
	// <public URL>/api/v1/auth/sso/callback.
	ClientID     string
	ClientSecret Secret
	// AllowedDomains are the email domains that may sign in
	// (TOLLGATE_OIDC_ALLOWED_DOMAINS, comma-separated; required with an issuer).
	AllowedDomains []string
	// RoleMapping maps groups of the groups claim to roles a new member gets
	// (TOLLGATE_OIDC_ROLE_MAPPING, "group=role,group=role"; the most powerful wins).
	RoleMapping []OIDCGroupRole
	// DefaultRole is a new member's role when no group is mapped
	// (TOLLGATE_OIDC_DEFAULT_ROLE). Default empty: such a person is refused.
	DefaultRole string
	// GroupsClaim names the ID-token claim with the groups (TOLLGATE_OIDC_GROUPS_CLAIM).
	// Default "groups".
	GroupsClaim string
	// Required turns off password sign-in for members (superadmins excepted)
	// (TOLLGATE_OIDC_REQUIRED=1). Default false.
	Required bool
	// AllowPrivate lets tenants' providers be reached at private or loopback
	// addresses and over http (TOLLGATE_SSO_ALLOW_PRIVATE=1; tests, in-house
	// providers). Default false. The environment's provider always may.
	AllowPrivate bool
}

// OIDCGroupRole is one entry of TOLLGATE_OIDC_ROLE_MAPPING.
type OIDCGroupRole struct {
	Group string
	Role  string
}

// tenantRoles are the roles a mapping may give (kept in step with tenants/access).
var tenantRoles = []string{"owner", "admin", "developer", "viewer", "billing"}

// TierOverrides are explicit values that win over the detected tier's.
type TierOverrides struct {
	WorkerConcurrency int // TOLLGATE_WORKER_CONCURRENCY
	LedgerBatchSize   int // TOLLGATE_LEDGER_BATCH_SIZE
	KeyCacheSize      int // TOLLGATE_KEY_CACHE_SIZE
}

// Desktop configures `tollgate desktop`, the self-host gateway with a tray icon.
type Desktop struct {
	// Browser is the command that opens a URL (TOLLGATE_BROWSER), run with the URL as
	// its last argument; empty uses the platform's opener (xdg-open, open, or the
	// Windows URL handler).
	Browser string
}

// Secret is a configured credential; it is seal.Secret, so it redacts the same way
// everywhere (fmt, slog, JSON).
type Secret = seal.Secret

// Default returns the configuration with every default applied.
func Default() Config {
	return Config{
		Addr:     ":8080",
		Database: Database{URL: "sqlite://./data/tollgate.db"},
		Stripe:   Stripe{APIBase: "https://api.stripe.com"},
		HTTP:     HTTP{MaxBodyBytes: 4 << 20, ShutdownGrace: 15 * time.Second},
		Log:      Log{Level: "info", Format: "text"},
		Auth:     Auth{AdminEmail: "admin@localhost"},
		Env:      map[string]string{},
		Worker:   Worker{BackupKeep: 7, BackupInterval: 24 * time.Hour, InvoiceDay: 1, ReconcileInterval: 15 * time.Minute},
	}
}

// FromOS reads the process environment over a .env file in the working directory
// (the process environment wins), then parses it.
func FromOS() (Config, error) {
	return FromOSWithDotenv(".env")
}

// FromOSWithDotenv is FromOS with an explicit .env path; a missing file is fine.
// OTEL_* variables found only in the .env file are copied into the process
// environment, where the OpenTelemetry SDK reads them, so that .env configures
// tracing like everything else.
func FromOSWithDotenv(path string) (Config, error) {
	env := map[string]string{}
	if path != "" {
		if m, err := godotenv.Read(path); err == nil {
			env = m
		} else if !errors.Is(err, os.ErrNotExist) {
			return Config{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	fromFile := make(map[string]string)
	for k, v := range env {
		if strings.HasPrefix(k, "OTEL_") {
			fromFile[k] = v
		}
	}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
		delete(fromFile, k)
	}
	for k, v := range fromFile {
		if err := os.Setenv(k, v); err != nil {
			return Config{}, fmt.Errorf("%s: %s: %w", path, k, err)
		}
	}
	return Parse(env)
}

// parseTelemetry decides from the standard OTEL_* variables whether traces are
// exported and over which protocol; Validate checks the protocol.
func parseTelemetry(env map[string]string) (Telemetry, error) {
	t := Telemetry{Protocol: ProtocolHTTP}
	if p := strings.TrimSpace(env["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"]); p != "" {
		t.Protocol = p
	} else if p := strings.TrimSpace(env["OTEL_EXPORTER_OTLP_PROTOCOL"]); p != "" {
		t.Protocol = p
	}
	exporter := strings.ToLower(strings.TrimSpace(env["OTEL_TRACES_EXPORTER"]))
	var err error
	switch exporter {
	case "", "otlp", "none":
	default:
		err = fmt.Errorf("OTEL_TRACES_EXPORTER: %q is not supported (use otlp, or none to turn traces off)", exporter)
		exporter = "none"
	}
	endpoint := env["OTEL_EXPORTER_OTLP_ENDPOINT"] != "" || env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] != ""
	t.Enabled = exporter == "otlp" || (exporter == "" && endpoint)
	if strings.EqualFold(strings.TrimSpace(env["OTEL_SDK_DISABLED"]), "true") {
		t.Enabled = false
	}
	count := func(key string, def int) int {
		n, err := strconv.Atoi(strings.TrimSpace(env[key]))
		if err != nil || n <= 0 {
			return def
		}
		return n
	}
	millis := func(key string, def int, zeroOK bool) time.Duration {
		n, err := strconv.Atoi(strings.TrimSpace(env[key]))
		if err != nil || n < 0 || (n == 0 && !zeroOK) {
			n = def
		}
		return time.Duration(n) * time.Millisecond
	}
	t.BatchDelay = millis("OTEL_BSP_SCHEDULE_DELAY", 5000, false)
	t.ExportTimeout = millis("OTEL_BSP_EXPORT_TIMEOUT", 30000, true)
	t.MaxQueueSize = count("OTEL_BSP_MAX_QUEUE_SIZE", 2048)
	t.MaxExportBatchSize = count("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512)
	if t.MaxExportBatchSize > t.MaxQueueSize {
		t.MaxExportBatchSize = min(512, t.MaxQueueSize)
	}
	return t, err
}

// Parse builds a Config from an environment map and validates it.
func Parse(env map[string]string) (Config, error) {
	c := Default()
	c.Env = env
	var errs []error
	str := func(key string, dst *string) {
		if v, ok := env[key]; ok && v != "" {
			*dst = v
		}
	}
	secret := func(key string, dst *Secret) {
		if v, ok := env[key]; ok && v != "" {
			*dst = Secret(v)
		}
	}
	integer := func(key string, dst *int) {
		if v := env[key]; v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				errs = append(errs, fmt.Errorf("%s: %q is not a non-negative integer", key, v))
				return
			}
			*dst = n
		}
	}
	boolean := func(key string, dst *bool) {
		if v := env[key]; v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a boolean (use 1 or 0)", key, v))
				return
			}
			*dst = b
		}
	}
	duration := func(key string, dst *time.Duration) {
		if v := env[key]; v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				errs = append(errs, fmt.Errorf("%s: %q is not a duration like 15s", key, v))
				return
			}
			*dst = d
		}
	}

	str("TOLLGATE_ADDR", &c.Addr)
	var mode string
	str("TOLLGATE_MODE", &mode)
	c.Mode = Mode(mode)
	str("TOLLGATE_DATABASE_URL", &c.Database.URL)
	integer("TOLLGATE_DB_MAX_OPEN_CONNS", &c.Database.MaxOpenConns)
	integer("TOLLGATE_DB_MAX_IDLE_CONNS", &c.Database.MaxIdleConns)
	clusters, cerrs := parseTenantClusters(env["TOLLGATE_TENANT_DATABASE_URLS"])
	c.Database.TenantClusters = clusters
	errs = append(errs, cerrs...)
	str("TOLLGATE_REDIS_URL", &c.Redis.URL)
	boolean("TOLLGATE_METER_FAIL_OPEN", &c.Redis.FailOpen)
	secret("TOLLGATE_MASTER_KEY", &c.Auth.MasterKey)
	secret("TOLLGATE_JWT_SECRET", &c.Auth.JWTSecret)
	str("TOLLGATE_ADMIN_EMAIL", &c.Auth.AdminEmail)
	secret("TOLLGATE_ADMIN_PASSWORD", &c.Auth.AdminPassword)
	secret("STRIPE_API_KEY", &c.Stripe.APIKey)
	str("STRIPE_API_BASE", &c.Stripe.APIBase)
	secret("STRIPE_WEBHOOK_SECRET", &c.Stripe.WebhookSecret)
	secret("OPENAI_API_KEY", &c.Providers.OpenAIKey)
	str("OPENAI_BASE_URL", &c.Providers.OpenAIBaseURL)
	secret("OPENROUTER_API_KEY", &c.Providers.OpenRouterKey)
	str("OPENROUTER_BASE_URL", &c.Providers.OpenRouterBaseURL)
	secret("ANTHROPIC_API_KEY", &c.Providers.AnthropicKey)
	str("ANTHROPIC_BASE_URL", &c.Providers.AnthropicBaseURL)
	boolean("TOLLGATE_SIM", &c.Providers.Sim)
	duration("TOLLGATE_SIM_LATENCY", &c.Providers.SimLatency)
	var maxBody int
	integer("TOLLGATE_MAX_BODY_BYTES", &maxBody)
	if maxBody > 0 {
		c.HTTP.MaxBodyBytes = int64(maxBody)
	}
	duration("TOLLGATE_SHUTDOWN_GRACE", &c.HTTP.ShutdownGrace)
	if v := env["TOLLGATE_TRUSTED_PROXIES"]; v != "" {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.HTTP.TrustedProxies = append(c.HTTP.TrustedProxies, p)
			}
		}
	}
	str("TOLLGATE_PPROF_ADDR", &c.HTTP.PprofAddr)
	secret("TOLLGATE_METRICS_TOKEN", &c.HTTP.MetricsToken)
	str("TOLLGATE_METRICS_ADDR", &c.HTTP.MetricsAddr)
	str("TOLLGATE_PUBLIC_URL", &c.HTTP.PublicURL)
	str("TOLLGATE_SPOOL_DIR", &c.SpoolDir)
	str("TOLLGATE_BROWSER", &c.Desktop.Browser)
	str("TOLLGATE_LOG_LEVEL", &c.Log.Level)
	str("TOLLGATE_LOG_FORMAT", &c.Log.Format)
	integer("TOLLGATE_WORKER_CONCURRENCY", &c.Tier.WorkerConcurrency)
	integer("TOLLGATE_LEDGER_BATCH_SIZE", &c.Tier.LedgerBatchSize)
	integer("TOLLGATE_KEY_CACHE_SIZE", &c.Tier.KeyCacheSize)
	str("TOLLGATE_BACKUP_DIR", &c.Worker.BackupDir)
	integer("TOLLGATE_BACKUP_KEEP", &c.Worker.BackupKeep)
	duration("TOLLGATE_BACKUP_INTERVAL", &c.Worker.BackupInterval)
	integer("TOLLGATE_INVOICE_DAY", &c.Worker.InvoiceDay)
	duration("TOLLGATE_RECONCILE_INTERVAL", &c.Worker.ReconcileInterval)
	boolean("TOLLGATE_WEBHOOK_ALLOW_PRIVATE", &c.Worker.WebhookAllowPrivate)
	var terr error
	if c.Telemetry, terr = parseTelemetry(env); terr != nil {
		errs = append(errs, terr)
	}
	str("TOLLGATE_OIDC_ISSUER", &c.OIDC.Issuer)
	str("TOLLGATE_OIDC_CLIENT_ID", &c.OIDC.ClientID)
	secret("TOLLGATE_OIDC_CLIENT_SECRET", &c.OIDC.ClientSecret)
	for _, d := range strings.Split(env["TOLLGATE_OIDC_ALLOWED_DOMAINS"], ",") {
		if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
			c.OIDC.AllowedDomains = append(c.OIDC.AllowedDomains, d)
		}
	}
	for _, m := range strings.Split(env["TOLLGATE_OIDC_ROLE_MAPPING"], ",") {
		if m = strings.TrimSpace(m); m == "" {
			continue
		}
		g, r, ok := strings.Cut(m, "=")
		if !ok || strings.TrimSpace(g) == "" {
			errs = append(errs, fmt.Errorf("TOLLGATE_OIDC_ROLE_MAPPING: %q is not group=role", m))
			continue
		}
		c.OIDC.RoleMapping = append(c.OIDC.RoleMapping, OIDCGroupRole{Group: strings.TrimSpace(g), Role: strings.TrimSpace(r)})
	}
	str("TOLLGATE_OIDC_DEFAULT_ROLE", &c.OIDC.DefaultRole)
	str("TOLLGATE_OIDC_GROUPS_CLAIM", &c.OIDC.GroupsClaim)
	boolean("TOLLGATE_OIDC_REQUIRED", &c.OIDC.Required)
	boolean("TOLLGATE_SSO_ALLOW_PRIVATE", &c.OIDC.AllowPrivate)

	if c.Mode == "" {
		c.Mode = ModeMultiTenant
		if c.DatabaseDriver() == DriverSQLite {
			c.Mode = ModeSingleTenant
		}
	}
	if c.Mode == ModeSingleTenant {
		c.Providers.Sim = true
	}
	if c.SpoolDir == "" {
		c.SpoolDir = filepath.Join(c.DataDir(), "spool")
	}
	if c.Worker.BackupDir == "" {
		c.Worker.BackupDir = filepath.Join(c.DataDir(), "backups")
	}
	if err := errors.Join(append(errs, c.Validate())...); err != nil {
		return c, err
	}
	return c, nil
}

// Driver names a database backend.
type Driver string

// Drivers.
const (
	DriverSQLite   Driver = "sqlite"
	DriverPostgres Driver = "postgres"
)

// DatabaseDriver returns the backend named by Database.URL's scheme, or "" when unknown.
func (c Config) DatabaseDriver() Driver {
	switch {
	case strings.HasPrefix(c.Database.URL, "sqlite://"), strings.HasPrefix(c.Database.URL, "sqlite:"):
		return DriverSQLite
	case strings.HasPrefix(c.Database.URL, "postgres://"), strings.HasPrefix(c.Database.URL, "postgresql://"):
		return DriverPostgres
	}
	return ""
}

// SQLitePath returns the file path of a sqlite:// URL.
func (c Config) SQLitePath() string {
	p := strings.TrimPrefix(strings.TrimPrefix(c.Database.URL, "sqlite://"), "sqlite:")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	return p
}

// DataDir is where self-host files live (SQLite databases, backups): the directory
// of the SQLite file, or ./data with Postgres.
func (c Config) DataDir() string {
	if c.DatabaseDriver() == DriverSQLite {
		return filepath.Dir(c.SQLitePath())
	}
	return "data"
}

// RedisAddrs returns the Redis addresses: one for standalone, several for a cluster
// seed list, none for the in-process meter.
func (c Config) RedisAddrs() []string {
	if c.Redis.URL == "" {
		return nil
	}
	if strings.HasPrefix(c.Redis.URL, "redis://") || strings.HasPrefix(c.Redis.URL, "rediss://") {
		return []string{c.Redis.URL}
	}
	var out []string
	for _, a := range strings.Split(c.Redis.URL, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// RedisCluster reports whether TOLLGATE_REDIS_URL is a cluster seed list.
func (c Config) RedisCluster() bool {
	return c.Redis.URL != "" && !strings.HasPrefix(c.Redis.URL, "redis://") && !strings.HasPrefix(c.Redis.URL, "rediss://")
}

// Validate reports every problem, each prefixed with its variable.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if _, _, err := splitHostPort(c.Addr); err != nil {
		bad("TOLLGATE_ADDR", "%q is not a listen address like :8080 or 127.0.0.1:8080", c.Addr)
	}
	switch c.Mode {
	case ModeSingleTenant, ModeMultiTenant:
	default:
		bad("TOLLGATE_MODE", "unknown mode %q (use single-tenant or multi-tenant)", c.Mode)
	}
	switch c.DatabaseDriver() {
	case DriverSQLite:
		if c.SQLitePath() == "" {
			bad("TOLLGATE_DATABASE_URL", "sqlite URL has no file path (use sqlite://./data/tollgate.db)")
		}
	case DriverPostgres:
		if u, err := url.Parse(c.Database.URL); err != nil || u.Host == "" {
			bad("TOLLGATE_DATABASE_URL", "not a valid postgres URL (use postgres://user@host:5432/db)")
		}
	default:
		bad("TOLLGATE_DATABASE_URL", "unsupported database URL %q (use sqlite://path or postgres://user@host:5432/db)", redactURL(c.Database.URL))
	}
	if c.Redis.URL != "" {
		if c.RedisCluster() {
			for _, a := range c.RedisAddrs() {
				if _, port, err := splitHostPort(a); err != nil || port == "" {
					bad("TOLLGATE_REDIS_URL", "%q is not host:port (use redis://host:6379 or a comma-separated cluster seed list)", a)
				}
			}
		} else if u, err := url.Parse(c.Redis.URL); err != nil || u.Host == "" {
			bad("TOLLGATE_REDIS_URL", "not a valid redis URL (use redis://host:6379)")
		}
	}
	errs = append(errs, c.validateTenantClusters()...)
	for key, v := range map[string]string{
		"OPENAI_BASE_URL":     c.Providers.OpenAIBaseURL,
		"OPENROUTER_BASE_URL": c.Providers.OpenRouterBaseURL,
		"ANTHROPIC_BASE_URL":  c.Providers.AnthropicBaseURL,
		"STRIPE_API_BASE":     c.Stripe.APIBase,
		"TOLLGATE_PUBLIC_URL": c.HTTP.PublicURL,
	} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(key, "%q is not an http(s) URL", v)
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("TOLLGATE_LOG_LEVEL", "unknown level %q (use debug, info, warn or error)", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("TOLLGATE_LOG_FORMAT", "unknown format %q (use text or json)", c.Log.Format)
	}
	if c.Mode == ModeSingleTenant && c.DatabaseDriver() == DriverPostgres {
		// Allowed: a single tenant on Postgres still gets its own schema.
	}
	if c.Worker.BackupKeep < 1 {
		bad("TOLLGATE_BACKUP_KEEP", "must be at least 1, got %d", c.Worker.BackupKeep)
	}
	if c.Worker.InvoiceDay < 1 || c.Worker.InvoiceDay > 28 {
		bad("TOLLGATE_INVOICE_DAY", "must be a day of the month from 1 to 28, got %d", c.Worker.InvoiceDay)
	}
	if c.Worker.BackupInterval != 0 && c.Worker.BackupInterval < time.Minute {
		bad("TOLLGATE_BACKUP_INTERVAL", "must be 0 (off) or at least 1m, got %s", c.Worker.BackupInterval)
	}
	if c.Worker.ReconcileInterval != 0 && c.Worker.ReconcileInterval < time.Minute {
		bad("TOLLGATE_RECONCILE_INTERVAL", "must be 0 (off) or at least 1m, got %s", c.Worker.ReconcileInterval)
	}
	for _, p := range c.HTTP.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				bad("TOLLGATE_TRUSTED_PROXIES", "%q is not an IP address or CIDR", p)
			}
		}
	}
	if c.HTTP.PprofAddr != "" {
		host, _, err := splitHostPort(c.HTTP.PprofAddr)
		ip, ipErr := netip.ParseAddr(strings.Trim(host, "[]"))
		if err != nil || (host != "localhost" && (ipErr != nil || !ip.IsLoopback())) {
			bad("TOLLGATE_PPROF_ADDR", "%q must be a loopback host:port such as 127.0.0.1:6060", c.HTTP.PprofAddr)
		}
	}
	if c.HTTP.MetricsAddr != "" {
		if _, _, err := splitHostPort(c.HTTP.MetricsAddr); err != nil {
			bad("TOLLGATE_METRICS_ADDR", "%q is not a listen address like 127.0.0.1:9090", c.HTTP.MetricsAddr)
		} else if c.HTTP.MetricsAddr == c.Addr {
			bad("TOLLGATE_METRICS_ADDR", "%q is TOLLGATE_ADDR; use another port (or leave it empty to serve /metrics on the API listener)", c.HTTP.MetricsAddr)
		}
	}
	if t := c.HTTP.MetricsToken.Reveal(); t != "" && (len(t) < 16 || strings.ContainsAny(t, " \t\r\n")) {
		bad("TOLLGATE_METRICS_TOKEN", "use at least 16 characters without spaces (e.g. openssl rand -hex 16)")
	}
	if c.Auth.MasterKey != "" && len(c.Auth.MasterKey) < 32 {
		bad("TOLLGATE_MASTER_KEY", "too short (%d bytes): use at least 32 bytes (e.g. openssl rand -hex 32); it derives the key that seals provider credentials, webhook secrets and session signing keys", len(c.Auth.MasterKey))
	}
	if c.Telemetry.Enabled && c.Telemetry.Protocol != ProtocolGRPC && c.Telemetry.Protocol != ProtocolHTTP {
		bad("OTEL_EXPORTER_OTLP_PROTOCOL", "%q is not supported for traces (use grpc or http/protobuf)", c.Telemetry.Protocol)
	}
	errs = append(errs, c.OIDC.validate(c.Mode)...)
	if c.Auth.JWTSecret != "" && len(c.Auth.JWTSecret) < 32 {
		bad("TOLLGATE_JWT_SECRET", "too short: use at least 32 characters (e.g. openssl rand -hex 32)")
	}
	return errors.Join(errs...)
}

// clusterName is the shape of a tenant cluster's name.
var clusterName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// parseTenantClusters reads "name=url,name=url". Postgres URLs carry options after
// '?' joined by '&', never ',', so the comma is a safe separator.
func parseTenantClusters(v string) ([]TenantCluster, []error) {
	var out []TenantCluster
	var errs []error
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		name, u, ok := strings.Cut(item, "=")
		if !ok {
			errs = append(errs, fmt.Errorf("TOLLGATE_TENANT_DATABASE_URLS: %q is not name=postgres://...", redactURL(item)))
			continue
		}
		out = append(out, TenantCluster{Name: strings.TrimSpace(name), URL: strings.TrimSpace(u)})
	}
	return out, errs
}

// validateTenantClusters checks names and URLs, and that no cluster is configured
// twice: two names for one database would let a move "copy" a schema onto itself
// and then drop it.
func (c Config) validateTenantClusters() []error {
	var errs []error
	if len(c.Database.TenantClusters) == 0 {
		return nil
	}
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("TOLLGATE_TENANT_DATABASE_URLS: %s", fmt.Sprintf(format, args...)))
	}
	if c.DatabaseDriver() != DriverPostgres {
		bad("tenant clusters need TOLLGATE_DATABASE_URL on Postgres (SQLite keeps one file per tenant); unset it")
		return errs
	}
	names := map[string]bool{MainCluster: true}
	urls := map[string]bool{normalizeDBURL(c.Database.URL): true}
	for _, tc := range c.Database.TenantClusters {
		switch {
		case tc.Name == MainCluster:
			bad("%q is the control database's cluster name; choose another name", MainCluster)
		case !clusterName.MatchString(tc.Name):
			bad("cluster name %q must be 1-32 lowercase letters, digits, '-' or '_'", tc.Name)
		case names[tc.Name]:
			bad("cluster %q is listed twice", tc.Name)
		}
		names[tc.Name] = true
		u, err := url.Parse(tc.URL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			bad("cluster %q: %q is not a postgres URL (use postgres://user@host:5432/db)", tc.Name, redactURL(tc.URL))
			continue
		}
		if n := normalizeDBURL(tc.URL); urls[n] {
			bad("cluster %q points at a database already configured (the control database or another cluster); each cluster needs its own database", tc.Name)
		} else {
			urls[n] = true
		}
	}
	return errs
}

// normalizeDBURL is host:port/database of a postgres URL, for spotting the same
// database under two names.
func normalizeDBURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	return strings.ToLower(u.Hostname()) + ":" + port + u.Path
}

// validate reports the problems of the single sign-on variables.
func (o OIDC) validate(mode Mode) []error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	set := o.Issuer != "" || o.ClientID != "" || o.ClientSecret != "" || len(o.AllowedDomains) > 0 || len(o.RoleMapping) > 0 ||
		o.DefaultRole != "" || o.Required
	if !set {
		return nil
	}
	if mode == ModeMultiTenant {
		bad("TOLLGATE_OIDC_ISSUER", "the TOLLGATE_OIDC_* variables configure self-host mode only; in multi-tenant mode each tenant sets its identity provider in the console (Settings → Single sign-on)")
		return errs
	}
	if u, err := url.Parse(o.Issuer); o.Issuer == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("TOLLGATE_OIDC_ISSUER", "%q is not the provider's issuer URL (like https://login.example.com)", o.Issuer)
	}
	if o.ClientID == "" {
		bad("TOLLGATE_OIDC_CLIENT_ID", "required with TOLLGATE_OIDC_ISSUER")
	}
	if o.ClientSecret == "" {
		bad("TOLLGATE_OIDC_CLIENT_SECRET", "required with TOLLGATE_OIDC_ISSUER")
	}
	if len(o.AllowedDomains) == 0 {
		bad("TOLLGATE_OIDC_ALLOWED_DOMAINS", "required with TOLLGATE_OIDC_ISSUER: the email domains that may sign in, like example.com")
	}
	for _, m := range o.RoleMapping {
		if !slices.Contains(tenantRoles, m.Role) {
			bad("TOLLGATE_OIDC_ROLE_MAPPING", "%q maps to unknown role %q (use owner, admin, developer, viewer or billing)", m.Group, m.Role)
		}
	}
	if o.DefaultRole != "" && !slices.Contains(tenantRoles, o.DefaultRole) {
		bad("TOLLGATE_OIDC_DEFAULT_ROLE", "unknown role %q (use owner, admin, developer, viewer or billing, or leave empty to refuse unmapped people)", o.DefaultRole)
	}
	return errs
}

func splitHostPort(addr string) (string, string, error) {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "", "", errors.New("missing port")
	}
	port := addr[i+1:]
	if _, err := strconv.Atoi(port); err != nil {
		return "", "", errors.New("bad port")
	}
	return addr[:i], port, nil
}

// redactURL hides a password in a URL so errors can be printed.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// OneLine renders a Validate/Parse error as one line for the CLI.
func OneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
