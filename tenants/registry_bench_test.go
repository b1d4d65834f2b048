package tenants

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/migrations"
)

// TestProvisioningAtScale creates many tenants on Postgres, then adds one tenant
// migration and runs MigrateAll across all of them, reporting time per tenant.
// It runs with TOLLGATE_BENCH_TENANTS=1000 under `make bench`; the suite runs 20.
func TestProvisioningAtScale(t *testing.T) {
	n := 20
	if v, err := strconv.Atoi(os.Getenv("TOLLGATE_BENCH_TENANTS")); err == nil && v > 0 {
		n = v
	}
	b := setup(t, "postgres")
	ctx := t.Context()

	start := time.Now()
	for i := range n {
		_, err := b.reg.Create(ctx, CreateInput{Name: fmt.Sprintf("tenant %05d", i)})
		require.NoError(t, err)
	}
	create := time.Since(start)

	latest, err := migrations.Latest(migrations.DialectPostgres, migrations.SetTenant)
	require.NoError(t, err)
	b.reg.extraTenantMigrations = []migrations.Migration{{Version: latest + 1, Name: "bench_add_column.sql",
		Up: "ALTER TABLE usage_events ADD COLUMN bench_note TEXT NOT NULL DEFAULT ''; CREATE INDEX usage_events_bench_idx ON usage_events (bench_note);"}}
	start = time.Now()
	res, err := b.reg.MigrateAll(ctx, 4)
	require.NoError(t, err)
	migrate := time.Since(start)
	require.Len(t, res, n)
	for _, r := range res {
		require.Equal(t, latest+1, r.To, r.Tenant.Slug)
	}
	t.Logf("BENCH tenants=%d create: %s total, %s per tenant; migrate up (1 new migration): %s total, %s per tenant",
		n, create.Round(time.Millisecond), (create / time.Duration(n)).Round(time.Microsecond),
		migrate.Round(time.Millisecond), (migrate / time.Duration(n)).Round(time.Microsecond))
}
