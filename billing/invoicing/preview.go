package invoicing

import (
	"context"
	"fmt"
	"time"

	"github.com/tollgate-dev/tollgate/billing/invoice"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
)

// PreviewInput names the tenant and month of an invoice preview.
type PreviewInput struct {
	// TenantID is the tenant. Required.
	TenantID tenants.ID
	// Period is "YYYY-MM"; empty means the current month (the upcoming invoice).
	// A future month is refused.
	Period string
}

// Validate reports the problem with the input as an errkind.Invalid error, with
// param "period" when the period is at fault.
func (in PreviewInput) Validate(now time.Time) error {
	if !in.TenantID.Valid() {
		return errkind.New(errkind.Invalid, "invalid invoice preview: tenant_id is not a tenant id")
	}
	if in.Period == "" {
		return nil
	}
	if _, _, err := periodDays(in.Period); err != nil {
		return errkind.InvalidParam("period", "invalid invoice preview: period %q is not a month; use YYYY-MM", in.Period)
	}
	if in.Period > now.UTC().Format("2006-01") {
		return errkind.InvalidParam("period", "invalid invoice preview: period %s has not started; preview this month or an earlier one", in.Period)
	}
	return nil
}

// PreviewResult is the invoice a run would build for the period from the ledger
// as it stands now. Nothing is stored or sent.
type PreviewResult struct {
	// Invoice has no id and no status: it is not stored. Its lines, amounts and
	// rounding are exactly what a run would store for the same ledger.
	Invoice Invoice `json:"invoice"`
	// Plan is the tenant's plan the lines are priced with (markup, fixed model
	// prices, platform fee).
	Plan invoice.Plan `json:"plan"`
	// AsOf is when the ledger was read; a month still running grows after it.
	AsOf time.Time `json:"as_of"`
	// Final is true when the period has ended, so its usage no longer changes
	// (only late ledger writes could still add to it).
	Final bool `json:"final"`
}

// Preview builds the period's invoice with the same code a run uses (build), so
// the preview and the invoice agree line for line. It works whether or not
// billing is on.
func (s *Service) Preview(ctx context.Context, in PreviewInput) (PreviewResult, error) {
	now := s.clock().UTC()
	if err := in.Validate(now); err != nil {
		return PreviewResult{}, err
	}
	if in.Period == "" {
		in.Period = now.Format("2006-01")
	}
	t, h, err := s.handle(ctx, in.TenantID)
	if err != nil {
		return PreviewResult{}, err
	}
	built, plan, err := s.build(ctx, t, h, in.Period)
	if err != nil {
		return PreviewResult{}, err
	}
	return PreviewResult{Invoice: fromBuilt(built), Plan: plan, AsOf: now, Final: in.Period < now.Format("2006-01")}, nil
}

// build prices the period's ledger usage with the tenant's plan: the one path
// from ledger to invoice lines, shared by runs and previews.
func (s *Service) build(ctx context.Context, t tenants.Tenant, h *tenants.Handle, period string) (invoice.Invoice, invoice.Plan, error) {
	usage, err := Usage(ctx, h, period)
	if err != nil {
		return invoice.Invoice{}, invoice.Plan{}, err
	}
	plan, err := ParsePlan(t.Plan)
	if err != nil {
		return invoice.Invoice{}, plan, fmt.Errorf("tenant %s: %w", t.Slug, err)
	}
	built, err := invoice.Build(invoice.BuildInput{TenantID: string(t.ID), Period: period, Usage: usage, Plan: plan})
	return built, plan, err
}

// fromBuilt is the stored shape of a built invoice, before it is stored.
func fromBuilt(inv invoice.Invoice) Invoice {
	out := Invoice{Period: inv.Period, Cost: inv.ProviderCost, Charge: inv.Charge, AmountCents: inv.TotalCents, Rounding: inv.RoundingNano,
		Lines: make([]Line, len(inv.Lines))}
	for i, l := range inv.Lines {
		out.Lines[i] = Line{LineID: l.ID, Kind: l.Kind, Model: l.Model, Description: l.Description, Requests: l.Requests,
			InputTokens: l.InputTokens, CachedTokens: l.CachedInputTokens, CacheWriteTokens: l.CacheWriteInputTokens, OutputTokens: l.OutputTokens, Cost: l.ProviderCost,
			Charge: l.Charge, AmountCents: l.AmountCents, Rounding: l.RoundingNano}
	}
	return out
}
