package invoicing

import (
	"context"
	"errors"
	"fmt"

	"github.com/tollgate-dev/tollgate/billing/invoice"
	"github.com/tollgate-dev/tollgate/billing/stripe"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
)

// Run invoices one tenant for one period, resuming a stored unfinished run (see
// the package doc). It returns ErrBillingOff when no Delivery is configured. A
// failure part-way leaves the progress stored; calling Run again continues it.
func (s *Service) Run(ctx context.Context, in RunInput) (RunResult, error) {
	if err := in.Validate(s.clock()); err != nil {
		return RunResult{}, err
	}
	if s.delivery == nil {
		return RunResult{}, ErrBillingOff
	}
	t, h, err := s.handle(ctx, in.TenantID)
	if err != nil {
		return RunResult{}, err
	}
	var res RunResult
	inv, err := getByPeriod(ctx, h, in.Period)
	switch {
	case errors.Is(err, errkind.NotFound):
		if inv, err = s.draft(ctx, t, h, in.Period); err != nil {
			return res, err
		}
	case err != nil:
		return res, err
	default:
		res.Resumed = !inv.Status.Done()
		res.AlreadyDone = inv.Status.Done()
	}
	if err := s.checkpoint(StepDraft); err != nil {
		return res, err
	}
	if inv.Status.Done() {
		res.Invoice = inv
		return res, nil
	}
	s.logger.InfoContext(ctx, "invoice run", "tenant_id", t.ID, "period", in.Period, "invoice_id", inv.ID,
		"status", inv.Status, "amount_cents", inv.AmountCents, "resumed", res.Resumed)

	customerID, err := s.customer(ctx, t)
	if err != nil {
		return res, err
	}
	if err := s.checkpoint(StepCustomer); err != nil {
		return res, err
	}
	sent, err := s.items(ctx, t, h, &inv, customerID)
	res.ItemsSent = sent
	if err != nil {
		return res, err
	}
	if err := s.checkpoint(StepItems); err != nil {
		return res, err
	}
	if inv.StripeInvoiceID == "" {
		si, err := s.delivery.CreateInvoice(ctx, stripe.CreateInvoiceInput{TenantID: string(t.ID), Period: in.Period, CustomerID: customerID,
			Description: fmt.Sprintf("Tollgate usage %s", in.Period)})
		if err != nil {
			return res, err
		}
		inv.StripeInvoiceID = si.ID
		if err := update(ctx, h, inv.ID, map[string]any{"stripe_invoice_id": si.ID}, s.clock().UTC()); err != nil {
			return res, err
		}
	}
	if err := s.checkpoint(StepInvoice); err != nil {
		return res, err
	}
	fin, err := s.delivery.FinalizeInvoice(ctx, inv.StripeInvoiceID, stripe.FinalizeKey(string(t.ID), in.Period))
	if err != nil {
		return res, err
	}
	inv.Status, inv.Number, inv.HostedURL = InvoiceStatusFinalized, fin.Number, fin.HostedURL
	if err := update(ctx, h, inv.ID, map[string]any{"status": string(inv.Status), "number": fin.Number, "hosted_url": fin.HostedURL}, s.clock().UTC()); err != nil {
		return res, err
	}
	if err := s.checkpoint(StepFinalize); err != nil {
		return res, err
	}
	s.logger.InfoContext(ctx, "invoice finalized", "tenant_id", t.ID, "period", in.Period, "invoice_id", inv.ID,
		"stripe_invoice_id", inv.StripeInvoiceID, "amount_cents", inv.AmountCents, "items_sent", sent)
	res.Invoice = inv
	return res, nil
}

// draft builds the invoice from the ledger and the plan and stores it.
func (s *Service) draft(ctx context.Context, t tenants.Tenant, h *tenants.Handle, period string) (Invoice, error) {
	built, _, err := s.build(ctx, t, h, period)
	if err != nil {
		return Invoice{}, err
	}
	return createDraft(ctx, h, built, s.clock().UTC())
}

// customer returns the tenant's Stripe customer id, creating the customer and
// storing its id on the tenant the first time.
func (s *Service) customer(ctx context.Context, t tenants.Tenant) (string, error) {
	if t.StripeCustomerID != "" {
		return t.StripeCustomerID, nil
	}
	c, err := s.delivery.EnsureCustomer(ctx, stripe.EnsureCustomerInput{TenantID: string(t.ID), Name: t.Name, Email: t.BillingEmail})
	if err != nil {
		return "", err
	}
	if err := s.registry.SetStripeCustomer(ctx, t.ID, c.ID); err != nil {
		return "", err
	}
	return c.ID, nil
}

// items sends every line that has an amount and no recorded item, recording each
// item id as soon as Stripe returns it, then marks the invoice items_added.
func (s *Service) items(ctx context.Context, t tenants.Tenant, h *tenants.Handle, inv *Invoice, customerID string) (int, error) {
	sent := 0
	for i, l := range inv.Lines {
		if l.StripeItemID != "" || l.AmountCents <= 0 {
			continue
		}
		item, err := s.delivery.AddInvoiceItem(ctx, stripe.AddInvoiceItemInput{TenantID: string(t.ID), Period: inv.Period, LineID: l.LineID,
			CustomerID: customerID, AmountCents: l.AmountCents, Currency: invoice.CurrencyUSD, Description: l.Description})
		if err != nil {
			return sent, err
		}
		sent++
		inv.Lines[i].StripeItemID = item.ID
		if err := setItemID(ctx, h, inv.ID, l.LineID, item.ID); err != nil {
			return sent, err
		}
	}
	if inv.Status == InvoiceStatusDraft {
		inv.Status = InvoiceStatusItemsAdded
		if err := update(ctx, h, inv.ID, map[string]any{"status": string(inv.Status)}, s.clock().UTC()); err != nil {
			return sent, err
		}
	}
	return sent, nil
}
