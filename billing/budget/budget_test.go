package budget

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/tenants"
)

func setup(t *testing.T, backend string) *tenants.Handle {
	t.Helper()
	url := testdb.SQLite(t)
	if backend == "postgres" {
		url = testdb.Postgres(t)
	}
	logger := slog.New(slog.NewTextHandler(logging.TestWriter{T: t}, nil))
	db, err := database.Open(t.Context(), url, database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, migrations.ControlUp(t.Context(), db.SQL, db.Dialect, logger))
	reg := tenants.NewRegistry(db, t.TempDir(), logger)
	t.Cleanup(reg.Close)
	tn, err := reg.Create(t.Context(), tenants.CreateInput{Name: "acme"})
	require.NoError(t, err)
	h, err := reg.Handle(tenants.SystemPrincipal(tn, "test"))
	require.NoError(t, err)
	return h
}

func TestBudgetLifecycleAndAlertsFireOnce(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			h := setup(t, backend)
			ctx := t.Context()

			// Given a hard monthly tenant budget of $0.05
			b, err := Set(ctx, h, SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 50_000_000, Hard: true, DowngradeAt: 80})
			require.NoError(t, err)
			require.Equal(t, DefaultAlertAt, b.AlertAt)

			// When it is set again, it is replaced, not duplicated
			b2, err := Set(ctx, h, SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 60_000_000, Hard: true, AlertAt: []int{90, 50}})
			require.NoError(t, err)
			require.Equal(t, b.ID, b2.ID)
			require.Equal(t, []int{50, 90}, b2.AlertAt)
			all, err := List(ctx, h)
			require.NoError(t, err)
			require.Len(t, all, 1)

			// Then thresholds are reached in integer arithmetic
			require.Equal(t, []int{50}, Reached(b2, 30_000_000))
			require.Empty(t, Reached(b2, 29_999_999))

			// And each alert is recorded once per period and threshold
			_, created, err := Record(ctx, h, Alert{BudgetID: b2.ID, PeriodKey: "2026-11", Threshold: 50, Spent: 30_000_000, Limit: b2.Limit})
			require.NoError(t, err)
			require.True(t, created)
			_, created, err = Record(ctx, h, Alert{BudgetID: b2.ID, PeriodKey: "2026-11", Threshold: 50, Spent: 31_000_000, Limit: b2.Limit})
			require.NoError(t, err)
			require.False(t, created)
			_, created, err = Record(ctx, h, Alert{BudgetID: b2.ID, PeriodKey: "2026-12", Threshold: 50})
			require.NoError(t, err)
			require.True(t, created, "a new period fires again")
			alerts, err := ListAlerts(ctx, h, 10)
			require.NoError(t, err)
			require.Len(t, alerts, 2)

			require.NoError(t, Delete(ctx, h, b2.ID))
			require.ErrorIs(t, Delete(ctx, h, b2.ID), errkind.NotFound)
		})
	}
}

func TestSetInputValidation(t *testing.T) {
	t.Parallel()
	for _, in := range []SetInput{
		{Scope: "galaxy", Period: meter.PeriodDay, Limit: 1},
		{Scope: meter.ScopeKey, Period: meter.PeriodDay, Limit: 1},
		{Scope: meter.ScopeTenant, ScopeID: "x", Period: meter.PeriodDay, Limit: 1},
		{Scope: meter.ScopeTenant, Period: "year", Limit: 1},
		{Scope: meter.ScopeTenant, Period: meter.PeriodDay, Limit: 0},
		{Scope: meter.ScopeTenant, Period: meter.PeriodDay, Limit: 1, AlertAt: []int{0}},
		{Scope: meter.ScopeTenant, Period: meter.PeriodDay, Limit: 1, DowngradeAt: 101},
	} {
		require.ErrorIs(t, in.Validate(), errkind.Invalid, "%+v", in)
	}
}

func TestApplicable(t *testing.T) {
	t.Parallel()
	all := []Budget{{Scope: meter.ScopeTenant}, {Scope: meter.ScopeKey, ScopeID: "k1"}, {Scope: meter.ScopeKey, ScopeID: "k2"}, {Scope: meter.ScopeMember, ScopeID: "u1"}}
	require.Len(t, Applicable(all, "k1", ""), 2)
	require.Len(t, Applicable(all, "k1", "u1"), 3)
	require.Len(t, Applicable(all, "k3", ""), 1)
	require.Equal(t, []Budget{all[0], all[1], all[3]}, Applicable(all, "k1", "u1"), "in order")
	require.Nil(t, Applicable(all[1:], "k3", ""))

	// All apply: the same budgets, and an append cannot write into all.
	tenantOnly := []Budget{{ID: "a", Scope: meter.ScopeTenant}, {ID: "b", Scope: meter.ScopeTenant, Period: meter.PeriodDay}, {ID: "c"}}[:2]
	got := Applicable(tenantOnly, "k1", "u1")
	require.Equal(t, tenantOnly, got)
	_ = append(got, Budget{ID: "x"})
	require.Equal(t, "c", tenantOnly[:3][2].ID)
}

func TestCacheServesWithinTTL(t *testing.T) {
	t.Parallel()
	h := setup(t, "sqlite")
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	c := NewCache(time.Second, func() time.Time { return now })
	bs, err := c.For(t.Context(), h)
	require.NoError(t, err)
	require.Empty(t, bs)
	_, err = Set(t.Context(), h, SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodDay, Limit: billing.NanoPerUSD})
	require.NoError(t, err)
	bs, _ = c.For(t.Context(), h)
	require.Empty(t, bs, "cached within the TTL")
	now = now.Add(2 * time.Second)
	bs, _ = c.For(t.Context(), h)
	require.Len(t, bs, 1)
}
