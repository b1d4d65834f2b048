// Package stripe is Tollgate's small domain client for Stripe invoicing: it
// ensures a customer per tenant, adds one invoice item per invoice line, creates
// and finalizes the invoice, and verifies webhooks.
//
// Every call takes ctx (sent as params.Context) and an explicit idempotency key
// derived from tenant, period and line (invoice.IdempotencyKey), so an invoice
// run that crashes and reruns within Stripe's 24-hour key window sends nothing
// twice. The client never touches stripe-go's global state (stripe.Key,
// stripe.SetBackend): it owns clients of the three resources it uses over a
// backend built for its own URL, which is how tests point it at stripe-mock.
// (stripe-go's client.API would link every resource package of the API, ~130,
// into the binary.)
package stripe

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	stripego "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/customer"
	"github.com/stripe/stripe-go/v76/invoice"
	"github.com/stripe/stripe-go/v76/invoiceitem"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
)

// DefaultAPIBase is Stripe's API origin, used when Config.APIBase is empty.
const DefaultAPIBase = "https://api.stripe.com"

// Config holds what the client needs from internal/config.
type Config struct {
	// APIKey is the secret key (STRIPE_API_KEY), "sk_live_…" or "sk_test_…".
	// Required. Never logged: it is a seal.Secret.
	APIKey seal.Secret
	// APIBase is the API origin (STRIPE_API_BASE), without "/v1". Empty means
	// DefaultAPIBase; tests use stripe-mock's "http://127.0.0.1:PORT".
	APIBase string
	// HTTPClient sends the requests; tests inject a recording RoundTripper. nil
	// means a client with a 80 s timeout (stripe-go's own default).
	HTTPClient *http.Client
	// MaxNetworkRetries is how often stripe-go retries a failed request (network
	// errors, 409 lock timeouts, 429, 5xx) with the same idempotency key.
	// 0 means stripe-go's default of 2; a negative value means no retries.
	MaxNetworkRetries int
}

// LogValue prints the config; the API key redacts itself (seal.Secret).
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("api_key", c.APIKey), slog.String("api_base", c.APIBase))
}

// Validate reports every problem with the config, as an errkind.Invalid error.
func (c Config) Validate() error {
	var errs []error
	if c.APIKey == "" {
		errs = append(errs, errors.New("STRIPE_API_KEY: required"))
	}
	if c.APIBase != "" {
		u, err := url.Parse(c.APIBase)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, errors.New("STRIPE_API_BASE: want an http(s) origin such as https://api.stripe.com"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return errkind.Wrap(errkind.Invalid, err, "invalid Stripe config")
	}
	return nil
}

// Client is the Stripe domain client. It is safe for concurrent use.
type Client struct {
	customers    *customer.Client
	invoices     *invoice.Client
	invoiceItems *invoiceitem.Client
	logger       *slog.Logger
}

// New returns a client for cfg. logger is required (sub-logger
// "component=billing.stripe"); stripe-go's own request logging goes through it.
func New(cfg Config, logger *slog.Logger) (*Client, error) {
	if logger == nil {
		return nil, errkind.New(errkind.Invalid, "stripe.New: logger is required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base := cfg.APIBase
	if base == "" {
		base = DefaultAPIBase
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 80 * time.Second}
	}
	retries := int64(cfg.MaxNetworkRetries)
	switch {
	case retries == 0:
		retries = stripego.DefaultMaxNetworkRetries
	case retries < 0:
		retries = 0
	}
	logger = logger.With("component", "billing.stripe")
	backend := stripego.GetBackendWithConfig(stripego.APIBackend, &stripego.BackendConfig{
		URL:               stripego.String(base),
		HTTPClient:        httpClient,
		LeveledLogger:     &leveledLogger{logger: logger},
		MaxNetworkRetries: stripego.Int64(retries),
		EnableTelemetry:   stripego.Bool(false),
	})
	key := cfg.APIKey.Reveal()
	return &Client{
		customers:    &customer.Client{B: backend, Key: key},
		invoices:     &invoice.Client{B: backend, Key: key},
		invoiceItems: &invoiceitem.Client{B: backend, Key: key},
		logger:       logger,
	}, nil
}
