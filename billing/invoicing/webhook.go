package invoicing

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/billing/stripe"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
)

// WebhookResult says what ApplyWebhook did with a verified event.
type WebhookResult struct {
	// Applied is true when an invoice's status changed.
	Applied bool `json:"applied"`
	// Reason explains why nothing changed ("not an invoice event", "unknown tenant").
	Reason string `json:"reason,omitempty"`
	// Status is the invoice's status after the event, when one was found.
	Status InvoiceStatus `json:"status,omitempty"`
}

// ApplyWebhook applies a verified Stripe event (stripe.ParseWebhook) to the
// invoice it names. Events about invoices Tollgate did not make, or for unknown
// tenants, change nothing and are not errors: Stripe must not retry them.
// Status moves only forward: a late invoice.finalized never undoes "paid".
func (s *Service) ApplyWebhook(ctx context.Context, up stripe.InvoiceStatusUpdate) (WebhookResult, error) {
	if !up.Handled {
		return WebhookResult{Reason: "event type not handled"}, nil
	}
	id := tenants.ID(up.TenantID)
	if !id.Valid() {
		return WebhookResult{Reason: "invoice has no tollgate tenant"}, nil
	}
	_, h, err := s.handle(ctx, id)
	if errors.Is(err, errkind.NotFound) {
		return WebhookResult{Reason: "unknown tenant"}, nil
	}
	if err != nil {
		return WebhookResult{}, err
	}
	to := map[stripe.WebhookStatus]InvoiceStatus{
		stripe.WebhookStatusFinalized:     InvoiceStatusFinalized,
		stripe.WebhookStatusPaid:          InvoiceStatusPaid,
		stripe.WebhookStatusPaymentFailed: InvoiceStatusPaymentFailed,
		stripe.WebhookStatusVoided:        InvoiceStatusVoided,
	}[up.Status]
	var res WebhookResult
	err = h.Tx(ctx, func(tx *gorm.DB) error {
		var row invoiceRow
		if err := tx.Where("stripe_invoice_id = ?", up.InvoiceID).Take(&row).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				res.Reason = "unknown invoice"
				return nil
			}
			return err
		}
		from := InvoiceStatus(row.Status)
		res.Status = from
		if !forward(from, to) {
			res.Reason = "status " + string(from) + " is not changed by " + up.EventType
			return nil
		}
		res.Applied, res.Status = true, to
		return tx.Model(&invoiceRow{}).Where("id = ?", row.ID).
			Updates(map[string]any{"status": string(to), "updated_at": s.clock().UTC()}).Error
	})
	if err == nil && res.Applied {
		s.logger.InfoContext(ctx, "invoice status from stripe", "tenant_id", id, "stripe_invoice_id", up.InvoiceID,
			"status", res.Status, "event_id", up.EventID)
	}
	return res, err
}

// forward reports whether an invoice may move from status from to status to.
func forward(from, to InvoiceStatus) bool {
	if from == to || to == "" {
		return false
	}
	switch from {
	case InvoiceStatusVoided, InvoiceStatusPaid, InvoiceStatusEmpty:
		return false
	case InvoiceStatusPaymentFailed:
		return to == InvoiceStatusPaid || to == InvoiceStatusVoided
	case InvoiceStatusFinalized:
		return to != InvoiceStatusFinalized
	}
	return true // draft, items_added: Stripe knows better
}
