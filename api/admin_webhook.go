package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/oklog/ulid/v2"

	"github.com/tollgate-dev/tollgate/billing/webhook"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
)

// WebhookConfig configures the alert webhook endpoints. Storage, checks, signing
// and posting are package webhook's, shared with the worker's alert delivery, so
// a test delivery is byte-for-byte what an alert delivery looks like to the receiver.
type WebhookConfig struct {
	// Sealer encrypts webhook secrets at rest (TOLLGATE_MASTER_KEY); nil makes
	// PUT webhook answer 503, since a secret must never be stored in clear.
	Sealer *seal.Sealer
	// AllowPrivate lets webhooks point at private, loopback and link-local
	// addresses (TOLLGATE_WEBHOOK_ALLOW_PRIVATE). Default false.
	AllowPrivate bool
	// TestTimeout bounds a test delivery; 0 means 5s.
	TestTimeout time.Duration
	// Client overrides the HTTP client of test deliveries (tests); nil means one
	// whose dialer refuses private addresses unless AllowPrivate.
	Client *http.Client
}

type webhookDTO struct {
	// URL is "" when no webhook is configured.
	URL        string     `json:"url"`
	Configured bool       `json:"configured"`
	CreatedAt  *time.Time `json:"created_at,omitempty"`
	// Secret is the signing secret, present only in the answer to PUT (shown once).
	Secret string `json:"secret,omitempty"`
	// SignatureHeader names the header carrying "t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">".
	SignatureHeader string `json:"signature_header"`
}

// getWebhook: GET /api/v1/tenants/{tenant}/webhook. The secret is never shown again.
func (a *Admin) getWebhook(c *gin.Context) error {
	_, hd, err := a.tenantHandle(c)
	if err != nil {
		return err
	}
	w, err := webhook.Load(c.Request.Context(), hd, a.d.Webhooks.Sealer)
	out := webhookDTO{SignatureHeader: webhook.SignatureHeader}
	switch {
	case errkind.Of(err) == errkind.NotFound:
	case err != nil && w.URL == "":
		return err
	default:
		// An unreadable secret (no or another master key) still shows the URL.
		at := w.CreatedAt.UTC()
		out.URL, out.Configured, out.CreatedAt = w.URL, true, &at
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type setWebhookRequest struct {
	URL string `json:"url"`
}

// setWebhook: PUT /api/v1/tenants/{tenant}/webhook {url}. Every PUT generates a
// new signing secret, encrypted at rest and shown once in this answer.
func (a *Admin) setWebhook(c *gin.Context) error {
	p, hd, err := a.tenantHandle(c)
	if err != nil {
		return err
	}
	var req setWebhookRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request.Context()
	if err := webhook.CheckURL(ctx, req.URL, a.d.Webhooks.AllowPrivate); err != nil {
		return err
	}
	if a.d.Webhooks.Sealer == nil {
		return errkind.New(errkind.Unavailable, "webhook secrets are encrypted at rest: the operator must set TOLLGATE_MASTER_KEY first")
	}
	secret, err := webhook.NewSecret()
	if err != nil {
		return err
	}
	w, err := webhook.Set(ctx, hd, a.d.Webhooks.Sealer, webhook.SetInput{URL: strings.TrimSpace(req.URL), Secret: secret})
	if err != nil {
		return err
	}
	a.audit(c, p, "webhook.set", w.ID, map[string]any{"url": w.URL})
	at := w.CreatedAt.UTC()
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, webhookDTO{URL: w.URL, Configured: true, CreatedAt: &at, Secret: w.Secret.Reveal(), SignatureHeader: webhook.SignatureHeader})
	return nil
}

type webhookTestDTO struct {
	// OK is true when the endpoint answered 2xx.
	OK  bool   `json:"ok"`
	URL string `json:"url"`
	// StatusCode is the endpoint's HTTP status; 0 when no answer came.
	StatusCode int `json:"status_code"`
	// Error says why the delivery failed (refused address, timeout, non-2xx).
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	DeliveryID string `json:"delivery_id"`
}

type webhookTestPayload struct {
	Type      string    `json:"type"`
	TenantID  string    `json:"tenant_id"`
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	Message   string    `json:"message"`
}

// testWebhook: POST /api/v1/tenants/{tenant}/webhook/test. Sends one signed
// "webhook.test" event synchronously and reports what the endpoint answered; a
// failed delivery is a 200 with ok false (the test ran; its result is data).
func (a *Admin) testWebhook(c *gin.Context) error {
	p, hd, err := a.tenantHandle(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	w, err := webhook.Load(ctx, hd, a.d.Webhooks.Sealer)
	if errkind.Of(err) == errkind.NotFound {
		return &errkind.Error{Kind: errkind.Conflict, Code: "no_webhook", Message: "no webhook configured: PUT /webhook {url} first"}
	}
	if err != nil {
		return err
	}
	now := a.d.Clock().UTC()
	id := "whd_test_" + strings.ToLower(ulid.Make().String())
	body, err := json.Marshal(webhookTestPayload{Type: webhook.EventTest, TenantID: string(p.TenantID()), ID: id, CreatedAt: now,
		Message: "Test delivery from Tollgate: budget alerts will arrive here, signed the same way."})
	if err != nil {
		return err
	}
	timeout := a.d.Webhooks.TestTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	client := a.d.Webhooks.Client
	if client == nil {
		client = webhook.NewClient(timeout, a.d.Webhooks.AllowPrivate)
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out := webhookTestDTO{URL: w.URL, DeliveryID: id}
	start := time.Now()
	status, err := webhook.Post(sctx, client, w, webhook.EventTest, id, body, now)
	out.DurationMS = time.Since(start).Milliseconds()
	out.StatusCode = status
	out.OK = err == nil
	switch {
	case errkind.Of(err) == errkind.Invalid:
		return err
	case errors.Is(err, webhook.ErrPrivateAddress):
		out.Error = webhook.ErrPrivateAddress.Error()
	case status != 0 && err != nil:
		out.Error = fmt.Sprintf("the endpoint answered HTTP %d; deliveries count only 2xx", status)
	case err != nil:
		out.Error = err.Error()
	}
	c.JSON(http.StatusOK, out)
	return nil
}
