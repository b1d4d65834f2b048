package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/tenants"
)

func TestInvoicesPreviewCLI(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "tollgate.db")
	_, err := runCLI(t, dbURL, "tenants", "create", "--name", "Acme")
	require.NoError(t, err)

	// Given a 10% markup and this month's usage: sim-large $1.00 and sim-small
	// $0.0003 (charged $0.00033: rounds down to 0 cents).
	ctx := t.Context()
	logger := logging.New(logging.TestWriter{T: t}, "warn", "text")
	db, err := database.Open(ctx, dbURL, database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	reg := tenants.NewRegistry(db, filepath.Dir(database.SQLitePath(dbURL)), logger)
	t.Cleanup(reg.Close)
	tn, err := reg.Get(ctx, "acme")
	require.NoError(t, err)
	require.NoError(t, reg.SetPlan(ctx, tn.ID, `{"markup_basis_points":1000}`))
	h, err := reg.Handle(tenants.SystemPrincipal(tn, "test"))
	require.NoError(t, err)
	now := time.Now().UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	_, err = ledger.Insert(ctx, h, []ledger.Event{
		{TenantID: string(tn.ID), RequestID: "a", CreatedAt: start.Add(time.Second), ModelUsed: "sim-large", Cost: 1_000_000_000, Status: ledger.StatusOK},
		{TenantID: string(tn.ID), RequestID: "b", CreatedAt: start.Add(2 * time.Second), ModelUsed: "sim-small", Cost: 300_000, Status: ledger.StatusOK},
	})
	require.NoError(t, err)

	// When the preview is asked for as JSON,
	out, err := runCLI(t, dbURL, "invoices", "preview", "--tenant", "acme", "--json")
	require.NoError(t, err)
	var got invoicePreviewOutput
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	// then it has the month's lines, priced with the markup and rounded once each,
	require.Equal(t, "acme", got.Tenant)
	require.Equal(t, start.Format("2006-01"), got.Invoice.Period)
	require.False(t, got.BillingEnabled)
	require.False(t, got.Final)
	require.Equal(t, int64(1000), got.Plan.MarkupBasisPoints)
	require.Len(t, got.Invoice.Lines, 2)
	require.Equal(t, "sim-large", got.Invoice.Lines[0].Model)
	require.Equal(t, int64(110), got.Invoice.Lines[0].AmountCents)
	require.Equal(t, "sim-small", got.Invoice.Lines[1].Model)
	require.Equal(t, int64(330_000), int64(got.Invoice.Lines[1].Charge))
	require.Equal(t, int64(0), got.Invoice.Lines[1].AmountCents)
	require.Equal(t, int64(-330_000), int64(got.Invoice.Lines[1].Rounding))
	require.Equal(t, int64(110), got.Invoice.AmountCents)

	// and as text, with the total and the billing-off note said once.
	text, err := runCLI(t, dbURL, "invoices", "preview", "--tenant", "acme")
	require.NoError(t, err)
	require.Contains(t, text, "Markup 10% on provider cost")
	require.Regexp(t, `sim-large\s+1\s+1\.000000000\s+1\.100000000\s+0\.000000000\s+\$1\.10`, text)
	require.Regexp(t, `TOTAL\s+1\.000300000\s+1\.100330000\s+-0\.000330000\s+\$1\.10`, text)
	require.Contains(t, text, "billing is off")

	// An unknown tenant is one clear error.
	_, err = runCLI(t, dbURL, "invoices", "preview", "--tenant", "nope")
	require.Error(t, err)
}
