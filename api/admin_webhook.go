package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/oklog/ulid/v2"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/worker"
)

// WebhookConfig configures the alert webhook endpoints. Storage and signing are
// the worker's (worker.SetWebhook, worker.LoadWebhook, worker.Sign), so a test
// delivery is byte-for-byte what an alert delivery looks like to the receiver.
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

// webhookSecretPrefix marks Tollgate webhook signing secrets.
const webhookSecretPrefix = "whsec_"

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
	w, err := worker.LoadWebhook(c.Request.Context(), hd, a.d.Webhooks.Sealer)
	out := webhookDTO{SignatureHeader: worker.SignatureHeader}
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

// checkWebhookURL validates what a tenant may point alerts at: http(s), no
// credentials in the URL, and (unless the operator allows it) no private,
// loopback or link-local host. Names are resolved here for a clear error now;
// the worker checks the resolved address again at every delivery, so DNS that
// changes later is refused then.
func (a *Admin) checkWebhookURL(ctx context.Context, raw string) error {
	var errs []error
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case raw == "":
		errs = append(errs, errors.New("url is required"))
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "":
		errs = append(errs, errors.New("url must be an absolute http:// or https:// URL"))
	case u.User != nil:
		errs = append(errs, errors.New("url must not carry credentials; the signature authenticates deliveries"))
	case len(raw) > 2048:
		errs = append(errs, errors.New("url must be at most 2048 characters"))
	case !a.d.Webhooks.AllowPrivate:
		// "localhost." and "127.0.0.1." are the same hosts as without the dot.
		host := strings.TrimRight(strings.ToLower(u.Hostname()), ".")
		if ip, perr := netip.ParseAddr(host); perr == nil {
			if !worker.PublicAddr(ip) {
				errs = append(errs, worker.ErrPrivateAddress)
			}
			break
		}
		if worker.PrivateHostname(host) {
			errs = append(errs, worker.ErrPrivateAddress)
			break
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		// A name that does not resolve yet is accepted: delivery will say why it fails.
		if addrs, lerr := net.DefaultResolver.LookupNetIP(rctx, "ip", host); lerr == nil {
			for _, ip := range addrs {
				if !worker.PublicAddr(ip) {
					errs = append(errs, fmt.Errorf("%w (%s resolves to %s)", worker.ErrPrivateAddress, host, ip))
					break
				}
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return errkind.Wrap(errkind.Invalid, err, "invalid webhook: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
}

// newWebhookSecret returns a fresh signing secret: 32 random bytes.
func newWebhookSecret() (seal.Secret, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return seal.Secret(webhookSecretPrefix + base64.RawURLEncoding.EncodeToString(b[:])), nil
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
	if err := a.checkWebhookURL(ctx, req.URL); err != nil {
		return err
	}
	if a.d.Webhooks.Sealer == nil {
		return errkind.New(errkind.Unavailable, "webhook secrets are encrypted at rest: the operator must set TOLLGATE_MASTER_KEY first")
	}
	secret, err := newWebhookSecret()
	if err != nil {
		return err
	}
	w, err := worker.SetWebhook(ctx, hd, a.d.Webhooks.Sealer, worker.SetWebhookInput{URL: strings.TrimSpace(req.URL), Secret: secret})
	if err != nil {
		return err
	}
	a.audit(c, p, "webhook.set", w.ID, map[string]any{"url": w.URL})
	at := w.CreatedAt.UTC()
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, webhookDTO{URL: w.URL, Configured: true, CreatedAt: &at, Secret: w.Secret.Reveal(), SignatureHeader: worker.SignatureHeader})
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
	w, err := worker.LoadWebhook(ctx, hd, a.d.Webhooks.Sealer)
	if errkind.Of(err) == errkind.NotFound {
		return &errkind.Error{Kind: errkind.Conflict, Code: "no_webhook", Message: "no webhook configured: PUT /webhook {url} first"}
	}
	if err != nil {
		return err
	}
	now := a.d.Clock().UTC()
	id := "whd_test_" + strings.ToLower(ulid.Make().String())
	body, err := json.Marshal(webhookTestPayload{Type: "webhook.test", TenantID: string(p.TenantID()), ID: id, CreatedAt: now,
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
		client = worker.NewWebhookClient(timeout, a.d.Webhooks.AllowPrivate)
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out := webhookTestDTO{URL: w.URL, DeliveryID: id}
	start := time.Now()
	req, err := http.NewRequestWithContext(sctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return errkind.Wrap(errkind.Invalid, err, "the stored webhook URL is not usable; PUT a new one")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Tollgate-Webhook/1")
	req.Header.Set("X-Tollgate-Event", "webhook.test")
	req.Header.Set("X-Tollgate-Delivery", id)
	req.Header.Set(worker.SignatureHeader, worker.Sign(w.Secret.Reveal(), now, body))
	resp, err := client.Do(req)
	out.DurationMS = time.Since(start).Milliseconds()
	switch {
	case err != nil:
		out.Error = err.Error()
		if errors.Is(err, worker.ErrPrivateAddress) {
			out.Error = worker.ErrPrivateAddress.Error()
		}
	default:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		out.StatusCode = resp.StatusCode
		out.OK = resp.StatusCode >= 200 && resp.StatusCode <= 299
		if !out.OK {
			out.Error = fmt.Sprintf("the endpoint answered HTTP %d; deliveries count only 2xx", resp.StatusCode)
		}
	}
	c.JSON(http.StatusOK, out)
	return nil
}
