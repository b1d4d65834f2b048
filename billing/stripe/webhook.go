package stripe

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// WebhookStatus is the invoice status a webhook event reports.
type WebhookStatus string

// Statuses reported by the handled events.
const (
	// WebhookStatusFinalized: invoice.finalized, the invoice is open.
	WebhookStatusFinalized WebhookStatus = "finalized"
	// WebhookStatusPaid: invoice.paid.
	WebhookStatusPaid WebhookStatus = "paid"
	// WebhookStatusPaymentFailed: invoice.payment_failed; Stripe may retry.
	WebhookStatusPaymentFailed WebhookStatus = "payment_failed"
	// WebhookStatusVoided: invoice.voided.
	WebhookStatusVoided WebhookStatus = "voided"
)

// InvoiceStatusUpdate is what a verified webhook event tells us about an invoice.
type InvoiceStatusUpdate struct {
	// Handled is false for event types we do not act on; the other fields are
	// then empty except EventID and EventType. Answer such events 2xx anyway.
	Handled bool
	// EventID is Stripe's event id ("evt_…"); deduplicate deliveries with it.
	EventID string
	// EventType is Stripe's event type ("invoice.paid").
	EventType string
	// Created is when Stripe created the event; order updates by it.
	Created time.Time
	// InvoiceID is the Stripe invoice ("in_…").
	InvoiceID string
	// Status is the invoice's new status.
	Status WebhookStatus
	// TenantID and Period come from the invoice metadata CreateInvoice set; empty
	// for invoices made outside Tollgate.
	TenantID string
	Period   string
}

// ParseWebhook verifies a webhook delivery (the raw request body and its
// Stripe-Signature header) against the endpoint secret (STRIPE_WEBHOOK_SECRET,
// "whsec_…") and decodes it. The signature must be at most 5 minutes old
// (stripe-go's default tolerance). An event whose API version differs from
// stripe-go's is accepted: we read only the id, status and metadata, which are
// stable across versions. A bad signature or body is an errkind.Invalid error
// (answer 400); invoice.paid, invoice.payment_failed, invoice.voided and
// invoice.finalized yield Handled updates, other types Handled=false.
func ParseWebhook(payload []byte, sigHeader, secret string) (InvoiceStatusUpdate, error) {
	if secret == "" {
		return InvoiceStatusUpdate{}, errkind.New(errkind.Invalid, "stripe webhook: no secret configured (STRIPE_WEBHOOK_SECRET)")
	}
	ev, err := webhook.ConstructEventWithOptions(payload, sigHeader, secret, webhook.ConstructEventOptions{
		IgnoreAPIVersionMismatch: true,
	})
	if err != nil {
		return InvoiceStatusUpdate{}, errkind.Wrap(errkind.Invalid, err, "stripe webhook: verification failed")
	}
	up := InvoiceStatusUpdate{EventID: ev.ID, EventType: string(ev.Type), Created: time.Unix(ev.Created, 0).UTC()}
	status, ok := map[string]WebhookStatus{
		"invoice.finalized":      WebhookStatusFinalized,
		"invoice.paid":           WebhookStatusPaid,
		"invoice.payment_failed": WebhookStatusPaymentFailed,
		"invoice.voided":         WebhookStatusVoided,
	}[string(ev.Type)]
	if !ok {
		return up, nil
	}
	if ev.Data == nil {
		return InvoiceStatusUpdate{}, errkind.New(errkind.Invalid, "stripe webhook %s: no data", ev.ID)
	}
	var obj struct {
		ID       string            `json:"id"`
		Object   string            `json:"object"`
		Metadata map[string]string `json:"metadata"`
	}
	if err := json.Unmarshal(ev.Data.Raw, &obj); err != nil {
		return InvoiceStatusUpdate{}, errkind.Wrap(errkind.Invalid, err, "stripe webhook %s: bad invoice object", ev.ID)
	}
	if obj.Object != "invoice" || obj.ID == "" {
		return InvoiceStatusUpdate{}, errkind.Wrap(errkind.Invalid, errors.New("want an invoice with an id"), "stripe webhook %s: bad invoice object", ev.ID)
	}
	up.Handled = true
	up.InvoiceID = obj.ID
	up.Status = status
	up.TenantID = obj.Metadata[MetadataTenantID]
	up.Period = obj.Metadata[MetadataPeriod]
	return up, nil
}
