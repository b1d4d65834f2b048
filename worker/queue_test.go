package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/billing/reconcile"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/jobs"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/tenants"
)

type testBundle struct {
	db       *database.DB
	registry *tenants.Registry
	dataDir  string
}

// setupDB opens dbURL with the control migrations and a registry whose SQLite
// tenant files live next to the control file.
func setupDB(t testing.TB, dbURL string) testBundle {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, dbURL, database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, migrations.ControlUp(ctx, db.SQL, db.Dialect, testLogger(t)))
	dataDir := t.TempDir()
	if db.Dialect == migrations.DialectSQLite {
		dataDir = dirOf(database.SQLitePath(dbURL))
	}
	reg := tenants.NewRegistry(db, dataDir, testLogger(t))
	t.Cleanup(reg.Close)
	return testBundle{db: db, registry: reg, dataDir: dataDir}
}

// startQueue opens a working queue and runs it until the test ends.
func startQueue(t testing.TB, cfg Config, deps Deps) *Queue {
	t.Helper()
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 4
	}
	cfg.FetchPollInterval = 100 * time.Millisecond
	q, err := Open(context.Background(), cfg, deps)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		q.Close()
	})
	return q
}

// insertAndWait enqueues args and waits for the job to finish.
func insertAndWait(t testing.TB, q *Queue, args interface{ Kind() string }) jobs.View {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := q.Client().Insert(ctx, args, nil)
	require.NoError(t, err)
	j, err := WaitJob(ctx, q.Client(), res.Job.ID, 50*time.Millisecond)
	require.NoError(t, err)
	return jobs.Map(j)
}

func seedUsage(t testing.TB, reg *tenants.Registry, name string, at time.Time, n int) (tenants.Tenant, *tenants.Handle) {
	t.Helper()
	ctx := context.Background()
	tn, err := reg.Create(ctx, tenants.CreateInput{Name: name})
	require.NoError(t, err)
	h, err := reg.Handle(tenants.SystemPrincipal(tn, "test"))
	require.NoError(t, err)
	var evs []ledger.Event
	for i := range n {
		evs = append(evs, ledger.Event{TenantID: string(tn.ID), RequestID: fmt.Sprintf("%s-%d", name, i), CreatedAt: at,
			KeyID: "key1", ModelUsed: "sim-small", InputTokens: 100, OutputTokens: 10, Cost: billing.NanoUSD(1_000_000 * (i + 1)), Status: ledger.StatusOK})
	}
	_, err = ledger.Insert(ctx, h, evs)
	require.NoError(t, err)
	return tn, h
}

func TestQueueSQLiteReconcileAndBillingOff(t *testing.T) {
	t.Parallel()
	b := setupDB(t, testdb.SQLite(t))
	now := time.Now().UTC()
	tn, h := seedUsage(t, b.registry, "Acme", now, 5) // 15,000,000 nano-USD today
	ctx := t.Context()
	_, err := budget.Set(ctx, h, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: billing.NanoPerUSD, Hard: true})
	require.NoError(t, err)
	_, err = budget.Set(ctx, h, budget.SetInput{Scope: meter.ScopeKey, ScopeID: "key1", Period: meter.PeriodDay, Limit: billing.NanoPerUSD})
	require.NoError(t, err)
	m := meter.NewMemoryMeter(testLogger(t), time.Now)

	q := startQueue(t, Config{}, Deps{DB: b.db, Registry: b.registry, Meter: m, Logger: testLogger(t),
		Invoicing: invoicing.NewService(b.registry, nil, nil, testLogger(t))})

	// Given a meter that lost its counters, when reconcile runs,
	job := insertAndWait(t, q, ReconcileArgs{TenantID: string(tn.ID)})
	require.Equal(t, "completed", job.State)
	var out reconcile.Report
	require.NoError(t, json.Unmarshal(job.Output, &out))
	// then it reports the drift per counter in the job's output and rebuilds.
	require.True(t, out.Drift)
	require.True(t, out.Rebuilt)
	require.Len(t, out.Rows, 2)
	for _, r := range out.Rows {
		require.EqualValues(t, 15_000_000, r.LedgerNano)
		require.EqualValues(t, -15_000_000, r.DeltaNano)
	}
	u, err := m.Usage(ctx, string(tn.ID), []meter.Limit{{Scope: meter.ScopeTenant, Period: meter.PeriodMonth}, {Scope: meter.ScopeKey, ScopeID: "key1", Period: meter.PeriodDay}})
	require.NoError(t, err)
	require.EqualValues(t, 15_000_000, u[0].Spent)
	require.EqualValues(t, 15_000_000, u[1].Spent)

	// A second reconcile finds nothing.
	job = insertAndWait(t, q, ReconcileArgs{TenantID: string(tn.ID)})
	require.NoError(t, json.Unmarshal(job.Output, &out))
	require.False(t, out.Drift)

	// Billing off: an invoice run is a no-op that says so.
	job = insertAndWait(t, q, InvoiceRunArgs{TenantID: string(tn.ID), Period: "2026-01"})
	require.Equal(t, "completed", job.State)
	require.JSONEq(t, `{"status":"billing_off","amount_cents":0,"items_sent":0,"resumed":false}`, string(job.Output))

	// An unknown tenant cancels the job instead of retrying it.
	job = insertAndWait(t, q, ReconcileArgs{TenantID: string(tenants.NewID())})
	require.Equal(t, "cancelled", job.State)

	// The list shows them, newest first, filterable by state and kind.
	views, _, err := jobs.List(ctx, q.Client(), jobs.ListInput{States: []string{"completed"}, Kinds: []string{KindReconcile}})
	require.NoError(t, err)
	require.Len(t, views, 2)
	require.Greater(t, views[0].ID, views[1].ID)
	_, _, err = jobs.List(ctx, q.Client(), jobs.ListInput{States: []string{"bogus"}})
	require.ErrorContains(t, err, `state "bogus"`)
}

func TestMonthlySchedule(t *testing.T) {
	t.Parallel()
	s := monthlySchedule{Day: 1}
	tests := []struct{ now, want time.Time }{
		{time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 10, 0, 0, time.UTC)},
		{time.Date(2026, 2, 1, 0, 5, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 10, 0, 0, time.UTC)},
		{time.Date(2026, 2, 1, 0, 10, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 10, 0, 0, time.UTC)},
		{time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 10, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, s.Next(tt.now), "after %s", tt.now)
	}
	require.Equal(t, time.Date(2026, 1, 15, 0, 10, 0, 0, time.UTC), monthlySchedule{Day: 15}.Next(time.Date(2026, 1, 14, 0, 0, 0, 0, time.UTC)))
}
