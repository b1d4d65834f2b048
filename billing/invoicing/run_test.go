package invoicing_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/invoice"
	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/tenants"
)

// expectedCalls lists the Stripe calls (method, path prefix, idempotency key) a
// fresh run for tn sends, in order.
func expectedCalls(tn tenants.Tenant, inv invoicing.Invoice) []call {
	id := string(tn.ID)
	out := []call{{Method: "POST", Path: "/v1/customers", IdempotencyKey: invoice.IdempotencyKey(id, "", "", "customer")}}
	for _, l := range inv.Lines {
		if l.AmountCents == 0 {
			continue // nothing to bill: no item
		}
		out = append(out, call{Method: "POST", Path: "/v1/invoiceitems", IdempotencyKey: invoice.IdempotencyKey(id, period, l.LineID, "item")})
	}
	out = append(out,
		call{Method: "POST", Path: "/v1/invoices", IdempotencyKey: invoice.IdempotencyKey(id, period, "", "invoice")},
		call{Method: "POST", Path: "/v1/invoices/" + inv.StripeInvoiceID + "/finalize", IdempotencyKey: invoice.IdempotencyKey(id, period, "", "finalize")},
	)
	return out
}

func requireCalls(t *testing.T, want, got []call) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		require.Equal(t, want[i].Method, got[i].Method, "call %d", i)
		require.Equal(t, want[i].Path, got[i].Path, "call %d", i)
		require.Equal(t, want[i].IdempotencyKey, got[i].IdempotencyKey, "call %d", i)
		require.Equal(t, 200, got[i].Status, "call %d %s", i, got[i].Path)
	}
}

func TestRunThreeTenants(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t, testdb.SQLite(t))
	plans := []string{"", `{"markup_basis_points":2500}`, `{"markup_basis_points":1000,"platform_fee_nano":49000000000,
		"model_prices":{"sim-small":{"input_per_million_nano":150000000,"output_per_million_nano":600000000}}}`}
	var tns []tenants.Tenant
	for i, name := range []string{"Acme", "Globex", "Initech"} {
		tns = append(tns, seedTenant(t, b, name, plans[i]))
	}

	for _, tn := range tns {
		// Given a tenant with January usage, when its invoice runs,
		res, err := b.svc.Run(ctx, invoicing.RunInput{TenantID: tn.ID, Period: period})
		require.NoError(t, err)
		// then it sends customer, one item per line, invoice and finalize, each with
		// its derived idempotency key,
		inv := res.Invoice
		require.Equal(t, invoicing.InvoiceStatusFinalized, inv.Status)
		require.NotEmpty(t, inv.StripeInvoiceID)
		requireCalls(t, expectedCalls(tn, inv), b.rec.take())
		require.Equal(t, len(expectedCalls(tn, inv))-3, res.ItemsSent)

		// and stores the invoice with per-line cost, charge and rounding,
		stored, err := invoicing.Get(ctx, handleOf(t, b, tn), period)
		require.NoError(t, err)
		require.Equal(t, invoicing.InvoiceStatusFinalized, stored.Status)
		var cents int64
		for _, l := range stored.Lines {
			require.Equal(t, l.AmountCents > 0, l.StripeItemID != "", "line %s", l.LineID)
			cents += l.AmountCents
			require.Equal(t, int64(l.Rounding), l.AmountCents*10_000_000-int64(l.Charge))
		}
		require.Equal(t, stored.AmountCents, cents)
		// and the customer id on the tenant.
		got, err := b.registry.Get(ctx, string(tn.ID))
		require.NoError(t, err)
		require.NotEmpty(t, got.StripeCustomerID)
	}

	// The platform fee tenant has the fee line; the default plan bills provider cost.
	inv0, err := invoicing.Get(ctx, handleOf(t, b, tns[0]), period)
	require.NoError(t, err)
	require.Len(t, inv0.Lines, 2)
	require.Equal(t, inv0.Cost, inv0.Charge)
	inv2, err := invoicing.Get(ctx, handleOf(t, b, tns[2]), period)
	require.NoError(t, err)
	require.Len(t, inv2.Lines, 3)
	require.Equal(t, invoice.PlatformFeeLineID, inv2.Lines[2].LineID)

	// A rerun of a finished period sends nothing.
	res, err := b.svc.Run(ctx, invoicing.RunInput{TenantID: tns[1].ID, Period: period})
	require.NoError(t, err)
	require.True(t, res.AlreadyDone)
	require.Empty(t, b.rec.take())
}

func TestRunResumesAfterCrash(t *testing.T) {
	t.Parallel()
	for _, step := range []invoicing.Step{invoicing.StepDraft, invoicing.StepCustomer, invoicing.StepItems, invoicing.StepInvoice} {
		t.Run(string(step), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			b := setup(t, testdb.SQLite(t))
			var tns []tenants.Tenant
			for _, name := range []string{"Acme", "Globex", "Initech"} {
				tns = append(tns, seedTenant(t, b, name, `{"markup_basis_points":2000}`))
			}
			// Given runs that crash right after the step,
			b.svc.SetFailAfter(step)
			for _, tn := range tns {
				_, err := b.svc.Run(ctx, invoicing.RunInput{TenantID: tn.ID, Period: period})
				require.ErrorContains(t, err, "injected failure")
			}
			first := b.rec.take()
			itemsBefore := countPath(first, "/v1/invoiceitems")

			// when they run again,
			b.svc.SetFailAfter("")
			for _, tn := range tns {
				res, err := b.svc.Run(ctx, invoicing.RunInput{TenantID: tn.ID, Period: period})
				require.NoError(t, err)
				require.Equal(t, invoicing.InvoiceStatusFinalized, res.Invoice.Status)
				require.True(t, res.Resumed)
			}
			second := b.rec.take()

			// then items sent before the crash are not sent again,
			if step == invoicing.StepItems || step == invoicing.StepInvoice {
				require.Equal(t, 6, itemsBefore)
				require.Zero(t, countPath(second, "/v1/invoiceitems"), "no new item after the crash")
			} else {
				require.Zero(t, itemsBefore)
				require.Equal(t, 6, countPath(second, "/v1/invoiceitems"))
			}
			// every call carries a tollgate key, and each item key is used once overall,
			seen := map[string]int{}
			for _, c := range append(first, second...) {
				require.Contains(t, c.IdempotencyKey, "tg-inv-")
				if c.Path == "/v1/invoiceitems" {
					seen[c.IdempotencyKey]++
				}
			}
			for k, n := range seen {
				require.Equal(t, 1, n, "item key %s", k)
			}
			// and each tenant has exactly one invoice for the period.
			for _, tn := range tns {
				all, err := invoicing.List(ctx, handleOf(t, b, tn), true)
				require.NoError(t, err)
				require.Len(t, all, 1)
				require.Equal(t, invoicing.InvoiceStatusFinalized, all[0].Status)
			}
		})
	}
}

func countPath(calls []call, path string) int {
	n := 0
	for _, c := range calls {
		if c.Path == path {
			n++
		}
	}
	return n
}

func TestRunOnPostgres(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	b := setup(t, testdb.Postgres(t))
	tn := seedTenant(t, b, "Umbrella", `{"markup_basis_points":2500}`)
	b.svc.SetFailAfter(invoicing.StepItems)
	_, err := b.svc.Run(ctx, invoicing.RunInput{TenantID: tn.ID, Period: period})
	require.Error(t, err)
	b.svc.SetFailAfter("")
	b.rec.take()
	res, err := b.svc.Run(ctx, invoicing.RunInput{TenantID: tn.ID, Period: period})
	require.NoError(t, err)
	require.Equal(t, invoicing.InvoiceStatusFinalized, res.Invoice.Status)
	require.Zero(t, countPath(b.rec.take(), "/v1/invoiceitems"))
}

func TestRunInputValidate(t *testing.T) {
	t.Parallel()
	id := tenants.NewID()
	tests := []struct {
		name    string
		in      invoicing.RunInput
		wantErr string
	}{
		{"ok", invoicing.RunInput{TenantID: id, Period: "2026-01"}, ""},
		{"bad tenant", invoicing.RunInput{TenantID: "../x", Period: "2026-01"}, "tenant_id"},
		{"bad period", invoicing.RunInput{TenantID: id, Period: "2026-13"}, "period: use YYYY-MM"},
		{"current month", invoicing.RunInput{TenantID: id, Period: "2026-02"}, "has ended"},
		{"future month", invoicing.RunInput{TenantID: id, Period: "2027-01"}, "has ended"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.in.Validate(now)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestBillingOff(t *testing.T) {
	t.Parallel()
	b := setup(t, testdb.SQLite(t))
	tn := seedTenant(t, b, "Acme", "")
	svc := invoicing.NewService(b.registry, nil, func() time.Time { return now }, testLogger(t))
	require.False(t, svc.Enabled())
	_, err := svc.Run(context.Background(), invoicing.RunInput{TenantID: tn.ID, Period: period})
	require.ErrorIs(t, err, invoicing.ErrBillingOff)
	all, err := invoicing.List(t.Context(), handleOf(t, b, tn), false)
	require.NoError(t, err)
	require.Empty(t, all)
}

func TestPreviousPeriodAndPlan(t *testing.T) {
	t.Parallel()
	require.Equal(t, "2025-12", invoicing.PreviousPeriod(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	require.Equal(t, "2026-02", invoicing.PreviousPeriod(time.Date(2026, 3, 31, 23, 59, 0, 0, time.UTC)))
	p, err := invoicing.ParsePlan(`{"markup_basis_points":2500,"platform_fee_nano":1}`)
	require.NoError(t, err)
	require.EqualValues(t, 2500, p.MarkupBasisPoints)
	_, err = invoicing.ParsePlan(`{"markup_bp":2500}`)
	require.Error(t, err)
	p, err = invoicing.ParsePlan("{}")
	require.NoError(t, err)
	require.Zero(t, p.MarkupBasisPoints)
}
