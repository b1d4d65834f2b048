package backup

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/tenants"
)

func testLogger(t testing.TB) *slog.Logger {
	return logging.New(logging.TestWriter{T: t}, "warn", "text")
}

type testBundle struct {
	db       *database.DB
	registry *tenants.Registry
}

// setupDB opens and migrates the control database at dbURL with a tenant registry.
func setupDB(t testing.TB, dbURL string) testBundle {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, dbURL, database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, migrations.ControlUp(ctx, db.SQL, db.Dialect, testLogger(t)))
	dataDir := t.TempDir()
	if db.Dialect == migrations.DialectSQLite {
		dataDir = filepath.Dir(database.SQLitePath(dbURL))
	}
	reg := tenants.NewRegistry(db, dataDir, testLogger(t))
	t.Cleanup(reg.Close)
	return testBundle{db: db, registry: reg}
}

// seedUsage creates a tenant named name with n usage events at at.
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
