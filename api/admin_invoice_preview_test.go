package api

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/invoice"
	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/tenants/access"
)

// withInvoices registers the invoice routes on b's server, billing off (no
// Delivery), as in self-host mode.
func withInvoices(b *adminBundle) {
	logger := logging.New(logging.TestWriter{T: b.t}, "warn", "text")
	svc := invoicing.NewService(b.reg, nil, nil, logger)
	NewInvoices(b.reg, svc, nil, nil).Routes(b.admin.id)(b.engine)
}

func TestInvoicePreview(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := newAdminEnv(t, backend)
			withInvoices(b)
			a := b.tenant("acme")
			_, billingTok := b.member(a, access.RoleBilling)
			_, dev := b.member(a, access.RoleDeveloper)
			// Given a plan with a 25% markup and a $10 fee, and this month's usage:
			// sim-large $3.00 (two requests), sim-small $0.012 (charged $0.015, half a
			// cent: rounds up), plus last month's $7 that this month must not show.
			require.NoError(t, b.reg.SetPlan(t.Context(), a.ID, `{"markup_basis_points":2500,"platform_fee_nano":10000000000}`))
			start := monthStart()
			b.insertEvents(a, []ledger.Event{
				{TenantID: string(a.ID), RequestID: "l1", CreatedAt: start.Add(time.Second), ModelUsed: "sim-large", InputTokens: 100, OutputTokens: 10, Cost: 1_000_000_000, Status: ledger.StatusOK},
				{TenantID: string(a.ID), RequestID: "l2", CreatedAt: start.Add(2 * time.Second), ModelUsed: "sim-large", InputTokens: 200, OutputTokens: 20, Cost: 2_000_000_000, Status: ledger.StatusOK},
				{TenantID: string(a.ID), RequestID: "s1", CreatedAt: start.Add(3 * time.Second), ModelUsed: "sim-small", InputTokens: 50, OutputTokens: 5, Cost: 12_000_000, Status: ledger.StatusOK},
				{TenantID: string(a.ID), RequestID: "old", CreatedAt: start.Add(-time.Hour), ModelUsed: "sim-large", Cost: 7_000_000_000, Status: ledger.StatusOK},
			})
			thisMonth, lastMonth := start.Format("2006-01"), start.AddDate(0, -1, 0).Format("2006-01")
			nextMonth := start.AddDate(0, 1, 0).Format("2006-01")
			f := &fixture{env: b.testEnv, tokens: map[string]string{"billing": billingTok, "dev": dev},
				vars: map[string]string{"A": string(a.ID), "THIS": thisMonth, "LAST": lastMonth, "NEXT": nextMonth}}
			f.run(t, []apiScenario{
				{Name: "upcoming invoice", Caller: "billing", Method: "GET", Path: "/api/v1/tenants/{A}/invoices/preview", WantStatus: 200,
					WantBody: []string{`"period":"{THIS}"`, `"status":"preview"`, `"final":false`, `"billing_enabled":false`, `"markup_basis_points":2500`,
						`"model":"sim-large"`, `"requests":2`, `"cost_nano":3000000000`, `"charge_nano":3750000000`, `"amount_cents":375`,
						`"model":"sim-small"`, `"charge_nano":15000000`, `"amount_cents":2`, `"rounding_nano":5000000`,
						`"kind":"platform_fee"`, `"amount_cents":1000`,
						`"amount_cents":1377`, `"amount_usd":"13.770000000"`, `"charge_usd":"13.765000000"`, `"rounding_usd":"0.005000000"`},
					DenyBody: []string{`"cost_nano":7000000000`}},
				{Name: "last month, ended", Caller: "billing", Method: "GET", Path: "/api/v1/tenants/{A}/invoices/preview?period={LAST}", WantStatus: 200,
					WantBody: []string{`"period":"{LAST}"`, `"final":true`, `"cost_nano":7000000000`, `"amount_cents":1875`}},
				{Name: "a month that has not started", Caller: "billing", Method: "GET", Path: "/api/v1/tenants/{A}/invoices/preview?period={NEXT}", WantStatus: 422,
					WantBody: []string{"has not started"}},
				{Name: "not a month", Caller: "billing", Method: "GET", Path: "/api/v1/tenants/{A}/invoices/preview?period=2026-13", WantStatus: 422,
					WantBody: []string{"YYYY-MM"}},
				{Name: "developers may not read invoices", Caller: "dev", Method: "GET", Path: "/api/v1/tenants/{A}/invoices/preview", WantStatus: 403},
				{Name: "anonymous", Method: "GET", Path: "/api/v1/tenants/{A}/invoices/preview", WantStatus: 401},
			})
		})
	}
}

// TestInvoiceReconcilesWithUsage: an invoice's lines add up, to the cent, to the
// usage page of the same month, with the invoice's rounding rule (each model's
// cost rounded half-up to cents once).
func TestInvoiceReconcilesWithUsage(t *testing.T) {
	t.Parallel()
	b := newAdminEnv(t, "sqlite")
	withInvoices(b)
	a := b.tenant("acme")
	_, owner := b.member(a, access.RoleOwner)
	// Given a month of awkward amounts over three models and several days (the
	// default plan: provider cost, no markup, no fee).
	start := monthStart()
	now := time.Now().UTC()
	var evs []ledger.Event
	models := []string{"sim-small", "sim-large", "gpt-4o-mini"}
	for i := range 60 {
		at := start.Add(time.Duration(i) * 37 * time.Minute)
		if at.After(now) {
			at = start.Add(time.Duration(i) * time.Second)
		}
		evs = append(evs, ledger.Event{TenantID: string(a.ID), RequestID: fmt.Sprintf("r%02d", i), CreatedAt: at, ModelUsed: models[i%3],
			InputTokens: int64(100 + i), OutputTokens: int64(i), Cost: billing.NanoUSD(1_234_567 + int64(i)*3_333_331), Status: ledger.StatusOK})
	}
	b.insertEvents(a, evs)
	period := start.Format("2006-01")

	// When the preview and the usage page are read for the same month,
	inv := decode[invoicePreviewDTO](t, b.do("GET", "/api/v1/tenants/"+string(a.ID)+"/invoices/preview?period="+period, owner, nil))
	last := start.AddDate(0, 1, -1).Format("2006-01-02")
	usage := decode[usageDTO](t, b.do("GET", "/api/v1/tenants/"+string(a.ID)+"/usage?from="+start.Format("2006-01-02")+"&to="+last+"&group_by=model", owner, nil))

	// then the lines carry the usage total exactly, and their amounts are the
	// usage's per-model costs rounded half-up to cents.
	require.Len(t, inv.Lines, 3)
	var lineCost, lineCents, usageCents int64
	var lineReqs int64
	for _, l := range inv.Lines {
		lineCost += l.CostNano
		lineCents += l.AmountCents
		lineReqs += l.Requests
	}
	for _, p := range usage.Series {
		usageCents += invoice.RoundHalfUpCents(billing.NanoUSD(p.CostNano))
	}
	require.Equal(t, usage.Totals.CostNano, lineCost)
	require.Equal(t, usage.Totals.Requests, lineReqs)
	require.Equal(t, usageCents, lineCents)
	require.Equal(t, lineCents, inv.AmountCents)
	require.Equal(t, usage.Totals.CostNano, inv.CostNano)
	// The invoice's rounding is the whole difference between billed cents and cost.
	require.Equal(t, lineCents*int64(billing.NanoPerCent)-usage.Totals.CostNano, inv.RoundingNano)
	t.Logf("month %s: %d requests, usage %s USD, invoice %d cents (rounding %d nano)", period, lineReqs, usage.Totals.CostUSD, inv.AmountCents, inv.RoundingNano)
}
