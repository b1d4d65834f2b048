package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
)

// ServiceConfig configures the tenant-facing webhook operations.
type ServiceConfig struct {
	// Sealer encrypts webhook secrets at rest (TOLLGATE_MASTER_KEY); nil makes
	// Set refuse (Unavailable), since a secret must never be stored in clear.
	Sealer *seal.Sealer
	// AllowPrivate lets webhooks point at private, loopback and link-local
	// addresses (TOLLGATE_WEBHOOK_ALLOW_PRIVATE). Default false.
	AllowPrivate bool
	// TestTimeout bounds a test delivery; 0 means 5s.
	TestTimeout time.Duration
	// Client overrides the HTTP client of test deliveries (tests); nil means one
	// whose dialer refuses private addresses unless AllowPrivate.
	Client *http.Client
	// Clock stamps test deliveries; nil means time.Now.
	Clock func() time.Time
}

// Service is what a tenant does with its alert webhook: look at it, replace it
// (with a new signing secret, sealed at rest) and send a signed test delivery,
// built and posted exactly as the worker's alert deliveries are.
type Service struct {
	cfg ServiceConfig
}

// NewService returns the webhook service.
func NewService(cfg ServiceConfig) *Service {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.TestTimeout <= 0 {
		cfg.TestTimeout = 5 * time.Second
	}
	return &Service{cfg: cfg}
}

// Get returns the tenant's webhook and whether one is configured. A webhook
// whose secret cannot be opened (no or another master key) is still returned,
// with its URL and creation time and no secret.
func (s *Service) Get(ctx context.Context, h *tenants.Handle) (Webhook, bool, error) {
	w, err := Load(ctx, h, s.cfg.Sealer)
	switch {
	case errkind.Of(err) == errkind.NotFound:
		return Webhook{}, false, nil
	case err != nil && w.URL == "":
		return Webhook{}, false, err
	}
	return Webhook{ID: w.ID, URL: w.URL, CreatedAt: w.CreatedAt}, true, nil
}

// Set checks rawURL (scheme, host, and its addresses unless AllowPrivate),
// generates a new signing secret and replaces the tenant's webhook. The
// returned Webhook carries the secret: callers show it once.
func (s *Service) Set(ctx context.Context, h *tenants.Handle, rawURL string) (Webhook, error) {
	if err := CheckURL(ctx, rawURL, s.cfg.AllowPrivate); err != nil {
		return Webhook{}, err
	}
	if s.cfg.Sealer == nil {
		return Webhook{}, errkind.New(errkind.Unavailable, "webhook secrets are encrypted at rest: the operator must set TOLLGATE_MASTER_KEY first")
	}
	secret, err := NewSecret()
	if err != nil {
		return Webhook{}, err
	}
	return Set(ctx, h, s.cfg.Sealer, SetInput{URL: strings.TrimSpace(rawURL), Secret: secret})
}

// TestResult is the outcome of a test delivery. A failed delivery is a result,
// not an error: the test ran and its answer is data.
type TestResult struct {
	URL        string
	DeliveryID string
	// OK is true when the endpoint answered 2xx.
	OK bool
	// StatusCode is the endpoint's HTTP status; 0 when no answer came.
	StatusCode int
	// Error says why the delivery failed (refused address, timeout, non-2xx).
	Error    string
	Duration time.Duration
}

type testPayload struct {
	Type      string    `json:"type"`
	TenantID  string    `json:"tenant_id"`
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	Message   string    `json:"message"`
}

// Test sends one signed EventTest delivery to the tenant's webhook and reports
// what the endpoint answered. It fails with Conflict (code no_webhook) when no
// webhook is configured.
func (s *Service) Test(ctx context.Context, h *tenants.Handle) (TestResult, error) {
	w, err := Load(ctx, h, s.cfg.Sealer)
	if errkind.Of(err) == errkind.NotFound {
		return TestResult{}, &errkind.Error{Kind: errkind.Conflict, Code: "no_webhook", Message: "no webhook configured: PUT /webhook {url} first"}
	}
	if err != nil {
		return TestResult{}, err
	}
	now := s.cfg.Clock().UTC()
	id := "whd_test_" + strings.ToLower(ulid.Make().String())
	body, err := json.Marshal(testPayload{Type: EventTest, TenantID: string(h.TenantID()), ID: id, CreatedAt: now,
		Message: "Test delivery from Tollgate: budget alerts will arrive here, signed the same way."})
	if err != nil {
		return TestResult{}, err
	}
	client := s.cfg.Client
	if client == nil {
		client = NewClient(s.cfg.TestTimeout, s.cfg.AllowPrivate)
	}
	sctx, cancel := context.WithTimeout(ctx, s.cfg.TestTimeout)
	defer cancel()
	out := TestResult{URL: w.URL, DeliveryID: id}
	start := time.Now()
	status, err := Post(sctx, client, w, EventTest, id, body, now)
	out.Duration = time.Since(start)
	out.StatusCode = status
	out.OK = err == nil
	switch {
	case errkind.Of(err) == errkind.Invalid:
		return TestResult{}, err
	case errors.Is(err, ErrPrivateAddress):
		out.Error = ErrPrivateAddress.Error()
	case status != 0 && err != nil:
		out.Error = fmt.Sprintf("the endpoint answered HTTP %d; deliveries count only 2xx", status)
	case err != nil:
		out.Error = err.Error()
	}
	return out, nil
}
