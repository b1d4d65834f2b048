package invoicing

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/tollgate-dev/tollgate/billing/stripe"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
)

// Delivery sends an invoice to the payment provider. It is a seam with two real
// cases: Stripe (*stripe.Client satisfies it) and none, in self-host mode or
// without STRIPE_API_KEY, where the Service is built with a nil Delivery.
type Delivery interface {
	// EnsureCustomer returns the tenant's customer, creating it when needed.
	EnsureCustomer(ctx context.Context, in stripe.EnsureCustomerInput) (stripe.Customer, error)
	// AddInvoiceItem adds one line as a pending invoice item.
	AddInvoiceItem(ctx context.Context, in stripe.AddInvoiceItemInput) (stripe.InvoiceItem, error)
	// CreateInvoice creates the draft invoice that takes in the pending items.
	CreateInvoice(ctx context.Context, in stripe.CreateInvoiceInput) (stripe.Invoice, error)
	// FinalizeInvoice finalizes the draft invoice id.
	FinalizeInvoice(ctx context.Context, id, idempotencyKey string) (stripe.Invoice, error)
}

// ErrBillingOff is returned by Run when no Delivery is configured (self-host
// mode, or no STRIPE_API_KEY): nothing is invoiced and nothing is stored.
var ErrBillingOff = errors.New("billing is off (self-host mode or STRIPE_API_KEY unset)")

// Step names a point of the run, for progress logs and failure-injection tests.
type Step string

// Steps of a run, in order.
const (
	StepDraft    Step = "draft"
	StepCustomer Step = "customer"
	StepItems    Step = "items"
	StepInvoice  Step = "invoice"
	StepFinalize Step = "finalize"
)

// Service runs invoices and applies Stripe's status updates.
type Service struct {
	registry *tenants.Registry
	delivery Delivery
	logger   *slog.Logger
	clock    func() time.Time
	// failAfter, set by tests, fails the run right after the step completed, as
	// a crash there would.
	failAfter Step
}

// NewService returns the invoicing service. delivery nil turns billing off; clock
// nil means time.Now.
func NewService(registry *tenants.Registry, delivery Delivery, clock func() time.Time, logger *slog.Logger) *Service {
	if clock == nil {
		clock = time.Now
	}
	return &Service{registry: registry, delivery: delivery, clock: clock, logger: logger.With("component", "billing.invoicing")}
}

// Enabled reports whether invoices are sent (a Delivery is configured).
func (s *Service) Enabled() bool { return s.delivery != nil }

// PreviousPeriod is the period the schedule would invoice now, by the service's clock.
func (s *Service) PreviousPeriod() string { return PreviousPeriod(s.clock()) }

// RunInput names the tenant and period to invoice.
type RunInput struct {
	// TenantID is the billed tenant. Required.
	TenantID tenants.ID
	// Period is the billed month, "YYYY-MM". Required; it must have ended.
	Period string
}

// Validate reports every problem with the input as an errkind.Invalid error.
func (in RunInput) Validate(now time.Time) error {
	var errs []error
	if !in.TenantID.Valid() {
		errs = append(errs, errors.New("tenant_id: not a tenant id"))
	}
	if _, _, err := periodDays(in.Period); err != nil {
		errs = append(errs, errors.New("period: use YYYY-MM"))
	} else if in.Period >= now.UTC().Format("2006-01") {
		errs = append(errs, errors.New("period: only a month that has ended can be invoiced"))
	}
	if err := errors.Join(errs...); err != nil {
		return errkind.Wrap(errkind.Invalid, err, "invalid invoice run")
	}
	return nil
}

// RunResult is what a run did.
type RunResult struct {
	Invoice Invoice `json:"invoice"`
	// ItemsSent counts the invoice items this call sent (0 on a resumed run whose
	// items were all recorded).
	ItemsSent int `json:"items_sent"`
	// Resumed is true when the run found a stored, unfinished invoice.
	Resumed bool `json:"resumed"`
	// AlreadyDone is true when the period's invoice was already complete.
	AlreadyDone bool `json:"already_done"`
}

func (s *Service) handle(ctx context.Context, id tenants.ID) (tenants.Tenant, *tenants.Handle, error) {
	t, err := s.registry.Get(ctx, string(id))
	if err != nil {
		return t, nil, err
	}
	h, err := s.registry.Handle(tenants.SystemPrincipal(t, "invoicing"))
	return t, h, err
}

func (s *Service) checkpoint(step Step) error {
	if s.failAfter == step {
		return errkind.New(errkind.Unavailable, "injected failure after step %s", step)
	}
	return nil
}
