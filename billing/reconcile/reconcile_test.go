package reconcile

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/tenants"
)

// setup opens a SQLite control database with one tenant, a monthly tenant
// budget, and a ledger writer whose spool holds n usage events not yet flushed.
func setup(t *testing.T, n int) (*tenants.Registry, *tenants.Handle, *ledger.Writer) {
	t.Helper()
	ctx := t.Context()
	logger := logging.New(logging.TestWriter{T: t}, "warn", "text")
	dbURL := testdb.SQLite(t)
	db, err := database.Open(ctx, dbURL, database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, migrations.ControlUp(ctx, db.SQL, db.Dialect, logger))
	reg := tenants.NewRegistry(db, filepath.Dir(database.SQLitePath(dbURL)), logger)
	t.Cleanup(reg.Close)
	tn, err := reg.Create(ctx, tenants.CreateInput{Name: "Acme"})
	require.NoError(t, err)
	h, err := reg.Handle(tenants.SystemPrincipal(tn, "test"))
	require.NoError(t, err)
	_, err = budget.Set(ctx, h, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: billing.NanoPerUSD, Hard: true})
	require.NoError(t, err)
	w, err := ledger.NewWriter(ledger.WriterConfig{SpoolDir: t.TempDir()}, reg, logger)
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close(context.WithoutCancel(ctx)) })
	for i := range n {
		require.NoError(t, w.Append(ledger.Event{TenantID: string(tn.ID), RequestID: fmt.Sprintf("r%d", i), CreatedAt: time.Now().UTC(),
			KeyID: "key1", ModelUsed: "sim-small", Cost: 1_000_000, Status: ledger.StatusOK}))
	}
	return reg, h, w
}

// TestRebuildAllThenReconcile: an empty in-process meter is rebuilt from the
// spooled ledger at start; a reconcile then finds no drift, and after the meter
// drifts it finds and repairs it.
func TestRebuildAllThenReconcile(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	reg, h, w := setup(t, 3)
	m := meter.NewMemoryMeter(logging.New(logging.TestWriter{T: t}, "warn", "text"), time.Now)

	require.NoError(t, RebuildAll(ctx, reg, w, m, time.Now()))
	rep, err := Tenant(ctx, h, m, time.Now())
	require.NoError(t, err)
	require.True(t, rep.Meter)
	require.False(t, rep.Drift)
	require.Len(t, rep.Rows, 1)
	require.Equal(t, int64(3_000_000), rep.Rows[0].LedgerNano)
	require.Equal(t, int64(3_000_000), *rep.Rows[0].CounterNano)

	// The counter loses its spend (Redis flushed, say): drift, rebuilt.
	m = meter.NewMemoryMeter(logging.New(logging.TestWriter{T: t}, "warn", "text"), time.Now)
	rep, err = Tenant(ctx, h, m, time.Now())
	require.NoError(t, err)
	require.True(t, rep.Drift)
	require.True(t, rep.Rebuilt)
	require.Equal(t, int64(-3_000_000), rep.Rows[0].DeltaNano)
	rep, err = Tenant(ctx, h, m, time.Now())
	require.NoError(t, err)
	require.False(t, rep.Drift)

	// Without a meter only the ledger side is reported.
	rep, err = Tenant(ctx, h, nil, time.Now())
	require.NoError(t, err)
	require.False(t, rep.Meter)
	require.Nil(t, rep.Rows[0].CounterNano)
}

// TestImportedHistoryNeverRaisesCounters: imported history of this month (a
// usage export from another gateway) is in the ledger's analytics but never in
// the spend the meter is rebuilt from or reconciled against.
func TestImportedHistoryNeverRaisesCounters(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	reg, h, w := setup(t, 2)
	now := time.Now().UTC()
	// Given $5 of imported history today, on a key and a member,
	_, err := ledger.Import(ctx, h, ledger.ImportInput{ID: "imp1", Format: "openrouter", Now: now, Rows: []ledger.ImportedRow{{
		Key: "k1", ContentHash: "c1", Format: "openrouter", CreatedAt: now, Model: "gpt-4o", KeyID: "key1", MemberID: "m1",
		Requests: 1, InputTokens: 100, OutputTokens: 10, Cost: 5 * billing.NanoPerUSD}}})
	require.NoError(t, err)
	_, err = budget.Set(ctx, h, budget.SetInput{Scope: meter.ScopeKey, ScopeID: "key1", Period: meter.PeriodDay, Limit: billing.NanoPerUSD})
	require.NoError(t, err)

	// when an empty meter is rebuilt and then reconciled,
	m := meter.NewMemoryMeter(logging.New(logging.TestWriter{T: t}, "warn", "text"), time.Now)
	require.NoError(t, RebuildAll(ctx, reg, w, m, now))
	rep, err := Tenant(ctx, h, m, now)
	require.NoError(t, err)
	// then every counter holds the served $0.002 only, with no drift.
	require.False(t, rep.Drift)
	require.Len(t, rep.Rows, 2)
	for _, r := range rep.Rows {
		require.Equal(t, int64(2_000_000), r.LedgerNano, r.Scope)
		require.Equal(t, int64(2_000_000), *r.CounterNano, r.Scope)
	}
}
