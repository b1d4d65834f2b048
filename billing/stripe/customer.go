package stripe

import (
	"context"
	"errors"

	stripego "github.com/stripe/stripe-go/v76"

	"github.com/tollgate-dev/tollgate/billing/invoice"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// EnsureCustomerInput identifies the tenant whose Stripe customer is wanted.
type EnsureCustomerInput struct {
	// TenantID is the tenant. Required; stored as metadata tenant_id and used in
	// the idempotency key.
	TenantID string
	// Name is the customer's display name (the tenant's name). Optional.
	Name string
	// Email receives send_invoice invoices. Optional.
	Email string
	// ExistingCustomerID is the customer id stored for the tenant, "" when none.
	ExistingCustomerID string
}

// Validate reports every problem with the input, as an errkind.Invalid error.
func (in EnsureCustomerInput) Validate() error {
	if in.TenantID == "" {
		return errkind.Wrap(errkind.Invalid, errors.New("tenant_id: required"), "invalid customer input")
	}
	return nil
}

// Customer is the tenant's Stripe customer.
type Customer struct {
	// ID is Stripe's customer id ("cus_…"); store it on the tenant.
	ID string
	// Created is true when this call created the customer.
	Created bool
}

// EnsureCustomer returns the tenant's customer: ExistingCustomerID as is when set
// (no API call; a customer deleted in Stripe then surfaces as NotFound on the
// next item), otherwise a new customer created with the key
// IdempotencyKey(tenant, "", "", "customer"). The caller must store the returned
// id: Stripe forgets idempotency keys after 24 hours.
func (c *Client) EnsureCustomer(ctx context.Context, in EnsureCustomerInput) (Customer, error) {
	if err := in.Validate(); err != nil {
		return Customer{}, err
	}
	if in.ExistingCustomerID != "" {
		return Customer{ID: in.ExistingCustomerID}, nil
	}
	params := &stripego.CustomerParams{}
	params.Context = ctx
	params.SetIdempotencyKey(invoice.IdempotencyKey(in.TenantID, "", "", StepCustomer))
	if in.Name != "" {
		params.Name = stripego.String(in.Name)
	}
	if in.Email != "" {
		params.Email = stripego.String(in.Email)
	}
	params.AddMetadata(MetadataTenantID, in.TenantID)
	cus, err := c.customers.New(params)
	if err != nil {
		return Customer{}, mapError("create customer", err)
	}
	c.logger.InfoContext(ctx, "stripe customer created", "tenant_id", in.TenantID, "customer_id", cus.ID)
	return Customer{ID: cus.ID, Created: true}, nil
}
