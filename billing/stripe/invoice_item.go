package stripe

import (
	"context"
	"errors"
	"fmt"

	stripego "github.com/stripe/stripe-go/v76"

	"github.com/tollgate-dev/tollgate/billing/invoice"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// AddInvoiceItemInput is one invoice line to bill as a pending invoice item.
type AddInvoiceItemInput struct {
	// TenantID, Period ("YYYY-MM") and LineID identify the line; all required.
	// They form the idempotency key and the item's metadata.
	TenantID string
	Period   string
	LineID   string
	// CustomerID is the tenant's Stripe customer ("cus_…"). Required.
	CustomerID string
	// AmountCents is the line's amount in whole US cents (invoice.Line.AmountCents).
	// Must be ≥ 0.
	AmountCents int64
	// Currency is the ISO currency in lower case; "" means "usd", the only one
	// accepted.
	Currency string
	// Description is the text on the customer's invoice. Optional.
	Description string
}

// ItemInput returns the AddInvoiceItemInput for one line of inv.
func ItemInput(inv invoice.Invoice, line invoice.Line, customerID string) AddInvoiceItemInput {
	return AddInvoiceItemInput{
		TenantID:    inv.TenantID,
		Period:      inv.Period,
		LineID:      line.ID,
		CustomerID:  customerID,
		AmountCents: line.AmountCents,
		Currency:    inv.Currency,
		Description: line.Description,
	}
}

// Validate reports every problem with the input at once, as an errkind.Invalid error.
func (in AddInvoiceItemInput) Validate() error {
	var errs []error
	errs = append(errs, validateTenantPeriod(in.TenantID, in.Period)...)
	if in.LineID == "" {
		errs = append(errs, errors.New("line_id: required"))
	}
	if in.CustomerID == "" {
		errs = append(errs, errors.New("customer_id: required"))
	}
	if in.AmountCents < 0 {
		errs = append(errs, fmt.Errorf("amount_cents: must be >= 0, got %d", in.AmountCents))
	}
	if in.Currency != "" && in.Currency != invoice.CurrencyUSD {
		errs = append(errs, fmt.Errorf("currency: only %q is supported, got %q", invoice.CurrencyUSD, in.Currency))
	}
	if err := errors.Join(errs...); err != nil {
		return errkind.Wrap(errkind.Invalid, err, "invalid invoice item input")
	}
	return nil
}

// InvoiceItem is a created Stripe invoice item.
type InvoiceItem struct {
	// ID is Stripe's invoice item id ("ii_…").
	ID string
	// AmountCents is the amount Stripe recorded, cents.
	AmountCents int64
}

// AddInvoiceItem creates a pending invoice item for the customer, to be picked
// up by the next CreateInvoice. The idempotency key is
// IdempotencyKey(tenant, period, line, "item").
func (c *Client) AddInvoiceItem(ctx context.Context, in AddInvoiceItemInput) (InvoiceItem, error) {
	if err := in.Validate(); err != nil {
		return InvoiceItem{}, err
	}
	params := &stripego.InvoiceItemParams{
		Customer: stripego.String(in.CustomerID),
		Amount:   stripego.Int64(in.AmountCents),
		Currency: stripego.String(invoice.CurrencyUSD),
	}
	params.Context = ctx
	params.SetIdempotencyKey(invoice.IdempotencyKey(in.TenantID, in.Period, in.LineID, StepItem))
	if in.Description != "" {
		params.Description = stripego.String(in.Description)
	}
	params.AddMetadata(MetadataTenantID, in.TenantID)
	params.AddMetadata(MetadataPeriod, in.Period)
	params.AddMetadata(MetadataLineID, in.LineID)
	item, err := c.invoiceItems.New(params)
	if err != nil {
		return InvoiceItem{}, mapError("add invoice item", err)
	}
	return InvoiceItem{ID: item.ID, AmountCents: item.Amount}, nil
}

func validateTenantPeriod(tenantID, period string) []error {
	var errs []error
	if tenantID == "" {
		errs = append(errs, errors.New("tenant_id: required"))
	}
	if !invoice.ValidPeriod(period) {
		errs = append(errs, fmt.Errorf("period: want YYYY-MM, got %q", period))
	}
	return errs
}
