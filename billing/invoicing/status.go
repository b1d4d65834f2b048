package invoicing

// InvoiceStatus is where an invoice is in its life: the run's progress
// (draft → items_added → finalized), then what Stripe reports by webhook.
type InvoiceStatus string

// Invoice statuses.
const (
	// InvoiceStatusDraft: the row and its lines are stored; no item is known sent.
	InvoiceStatusDraft InvoiceStatus = "draft"
	// InvoiceStatusItemsAdded: every line with an amount has its Stripe item.
	InvoiceStatusItemsAdded InvoiceStatus = "items_added"
	// InvoiceStatusFinalized: the Stripe invoice is finalized and sent for collection.
	InvoiceStatusFinalized InvoiceStatus = "finalized"
	// InvoiceStatusPaid: Stripe reported invoice.paid.
	InvoiceStatusPaid InvoiceStatus = "paid"
	// InvoiceStatusPaymentFailed: Stripe reported invoice.payment_failed (it may retry).
	InvoiceStatusPaymentFailed InvoiceStatus = "payment_failed"
	// InvoiceStatusVoided: Stripe reported invoice.voided.
	InvoiceStatusVoided InvoiceStatus = "voided"
	// InvoiceStatusEmpty: nothing to bill (total 0 cents); nothing was sent to Stripe.
	InvoiceStatusEmpty InvoiceStatus = "empty"
)

// Done reports whether the run has nothing left to do for an invoice in status s.
func (s InvoiceStatus) Done() bool {
	switch s {
	case InvoiceStatusDraft, InvoiceStatusItemsAdded, "":
		return false
	}
	return true
}
