package stripe

import (
	"context"
	"errors"
	"fmt"

	stripego "github.com/stripe/stripe-go/v76"

	"github.com/tollgate-dev/tollgate/billing/invoice"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// CollectionMethod is how Stripe collects an invoice.
type CollectionMethod string

// Collection methods.
const (
	// CollectionSendInvoice emails the invoice; the customer pays within
	// DaysUntilDue.
	CollectionSendInvoice CollectionMethod = "send_invoice"
	// CollectionChargeAutomatically charges the customer's default payment method.
	CollectionChargeAutomatically CollectionMethod = "charge_automatically"
)

// DefaultDaysUntilDue is the payment term of send_invoice invoices when
// CreateInvoiceInput.DaysUntilDue is 0.
const DefaultDaysUntilDue = 30

// CreateInvoiceInput is a tenant's invoice for one period.
type CreateInvoiceInput struct {
	// TenantID and Period ("YYYY-MM") identify the invoice; both required. They
	// form the idempotency key and the invoice's metadata.
	TenantID string
	Period   string
	// CustomerID is the tenant's Stripe customer ("cus_…"). Required.
	CustomerID string
	// CollectionMethod defaults to CollectionSendInvoice.
	CollectionMethod CollectionMethod
	// DaysUntilDue is the payment term in days for CollectionSendInvoice; 0 means
	// DefaultDaysUntilDue. Must be 0 for CollectionChargeAutomatically.
	DaysUntilDue int64
	// Description is the memo on the invoice. Optional.
	Description string
}

// Validate reports every problem with the input at once, as an errkind.Invalid error.
func (in CreateInvoiceInput) Validate() error {
	errs := validateTenantPeriod(in.TenantID, in.Period)
	if in.CustomerID == "" {
		errs = append(errs, errors.New("customer_id: required"))
	}
	switch in.CollectionMethod {
	case "", CollectionSendInvoice:
		if in.DaysUntilDue < 0 {
			errs = append(errs, fmt.Errorf("days_until_due: must be >= 0, got %d", in.DaysUntilDue))
		}
	case CollectionChargeAutomatically:
		if in.DaysUntilDue != 0 {
			errs = append(errs, errors.New("days_until_due: only for send_invoice"))
		}
	default:
		errs = append(errs, fmt.Errorf("collection_method: want send_invoice or charge_automatically, got %q", in.CollectionMethod))
	}
	if err := errors.Join(errs...); err != nil {
		return errkind.Wrap(errkind.Invalid, err, "invalid invoice input")
	}
	return nil
}

// Invoice is a Stripe invoice as we track it.
type Invoice struct {
	// ID is Stripe's invoice id ("in_…").
	ID string
	// Status is Stripe's status: draft, open, paid, uncollectible or void.
	Status string
	// AmountDueCents is what the customer owes, cents.
	AmountDueCents int64
	// Number is the invoice number; Stripe assigns it at finalization.
	Number string
	// HostedURL is the customer's payment page; set once finalized.
	HostedURL string
}

// CreateInvoice creates a draft invoice that takes in the customer's pending
// invoice items (pending_invoice_items_behavior=include). auto_advance is off so
// Stripe does not finalize it on its own an hour later: FinalizeInvoice does,
// once all items are in. The idempotency key is
// IdempotencyKey(tenant, period, "", "invoice").
func (c *Client) CreateInvoice(ctx context.Context, in CreateInvoiceInput) (Invoice, error) {
	if err := in.Validate(); err != nil {
		return Invoice{}, err
	}
	method := in.CollectionMethod
	if method == "" {
		method = CollectionSendInvoice
	}
	params := &stripego.InvoiceParams{
		Customer:                    stripego.String(in.CustomerID),
		CollectionMethod:            stripego.String(string(method)),
		PendingInvoiceItemsBehavior: stripego.String("include"),
		AutoAdvance:                 stripego.Bool(false),
		Currency:                    stripego.String(invoice.CurrencyUSD),
	}
	if method == CollectionSendInvoice {
		days := in.DaysUntilDue
		if days == 0 {
			days = DefaultDaysUntilDue
		}
		params.DaysUntilDue = stripego.Int64(days)
	}
	if in.Description != "" {
		params.Description = stripego.String(in.Description)
	}
	params.Context = ctx
	params.SetIdempotencyKey(invoice.IdempotencyKey(in.TenantID, in.Period, "", StepInvoice))
	params.AddMetadata(MetadataTenantID, in.TenantID)
	params.AddMetadata(MetadataPeriod, in.Period)
	inv, err := c.invoices.New(params)
	if err != nil {
		return Invoice{}, mapError("create invoice", err)
	}
	c.logger.InfoContext(ctx, "stripe invoice created", "tenant_id", in.TenantID, "period", in.Period, "invoice_id", inv.ID)
	return mapInvoice(inv), nil
}

// FinalizeInvoice finalizes draft invoice id with idempotencyKey (FinalizeKey
// gives the usual one) and turns auto_advance on, so Stripe then collects it:
// charges the card, or emails a send_invoice invoice.
func (c *Client) FinalizeInvoice(ctx context.Context, id, idempotencyKey string) (Invoice, error) {
	var errs []error
	if id == "" {
		errs = append(errs, errors.New("invoice id: required"))
	}
	if idempotencyKey == "" {
		errs = append(errs, errors.New("idempotency key: required"))
	}
	if err := errors.Join(errs...); err != nil {
		return Invoice{}, errkind.Wrap(errkind.Invalid, err, "invalid finalize input")
	}
	params := &stripego.InvoiceFinalizeInvoiceParams{AutoAdvance: stripego.Bool(true)}
	params.Context = ctx
	params.SetIdempotencyKey(idempotencyKey)
	inv, err := c.invoices.FinalizeInvoice(id, params)
	if err != nil {
		return Invoice{}, mapError("finalize invoice", err)
	}
	return mapInvoice(inv), nil
}

func mapInvoice(inv *stripego.Invoice) Invoice {
	return Invoice{
		ID:             inv.ID,
		Status:         string(inv.Status),
		AmountDueCents: inv.AmountDue,
		Number:         inv.Number,
		HostedURL:      inv.HostedInvoiceURL,
	}
}
