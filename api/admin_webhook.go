package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/billing/webhook"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
)

// webhookAPI serves the tenant's alert webhook. Storage, checks, signing and
// posting are package webhook's, shared with the worker's alert delivery, so a
// test delivery is byte-for-byte what an alert delivery looks like to the receiver.
type webhookAPI struct {
	registry *tenants.Registry
	svc      *webhook.Service
	audit    auditor
}

func (a *webhookAPI) register(r adminRoutes) {
	t, id := r.tenant, r.id
	t.GET("/webhook", id.Authorize(access.ResourceWebhook, access.ActionRead), h(a.getWebhook))
	t.PUT("/webhook", id.Authorize(access.ResourceWebhook, access.ActionWrite), h(a.setWebhook))
	t.POST("/webhook/test", id.Authorize(access.ResourceWebhook, access.ActionTest), h(a.testWebhook))
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
func (a *webhookAPI) getWebhook(c *gin.Context) error {
	_, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	w, ok, err := a.svc.Get(c.Request.Context(), hd)
	if err != nil {
		return err
	}
	out := webhookDTO{SignatureHeader: webhook.SignatureHeader}
	if ok {
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
func (a *webhookAPI) setWebhook(c *gin.Context) error {
	p, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	var req setWebhookRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	w, err := a.svc.Set(c.Request.Context(), hd, req.URL)
	if err != nil {
		return err
	}
	a.audit.record(c, p.TenantID(), "webhook.set", w.ID, map[string]any{"url": w.URL})
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

// testWebhook: POST /api/v1/tenants/{tenant}/webhook/test. Sends one signed
// "webhook.test" event synchronously and reports what the endpoint answered; a
// failed delivery is a 200 with ok false (the test ran; its result is data).
func (a *webhookAPI) testWebhook(c *gin.Context) error {
	_, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	r, err := a.svc.Test(c.Request.Context(), hd)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, webhookTestDTO{OK: r.OK, URL: r.URL, StatusCode: r.StatusCode, Error: r.Error,
		DurationMS: r.Duration.Milliseconds(), DeliveryID: r.DeliveryID})
	return nil
}
