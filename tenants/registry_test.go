package tenants

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/migrations"
)

type testBundle struct {
	reg     *Registry
	db      *database.DB
	dataDir string
}

func setup(t *testing.T, backend string) *testBundle {
	t.Helper()
	logger := testdb.Logger(t)
	db, dataDir := testdb.ControlDB(t, backend, logger)
	reg := NewRegistry(db, dataDir, logger)
	t.Cleanup(reg.Close)
	return &testBundle{reg: reg, db: db, dataDir: dataDir}
}

var backends = []string{"sqlite", "postgres"}

func TestCreateTenantsAreIsolated(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			ctx := t.Context()

			// Given two tenants
			acme, err := b.reg.Create(ctx, CreateInput{Name: "acme"})
			require.NoError(t, err)
			globex, err := b.reg.Create(ctx, CreateInput{Name: "globex"})
			require.NoError(t, err)
			require.NotEqual(t, acme.SchemaName, globex.SchemaName)

			// Then both are at the latest tenant migration
			latest, err := migrations.Latest(b.db.Dialect, migrations.SetTenant)
			require.NoError(t, err)
			versions, err := b.reg.Versions(ctx)
			require.NoError(t, err)
			require.Len(t, versions, 2)
			for _, v := range versions {
				require.Equal(t, latest, v.Version, v.Tenant.Slug)
			}

			// When globex writes a usage row through its handle
			gh, err := b.reg.Handle(SystemPrincipal(globex, "test"))
			require.NoError(t, err)
			require.NoError(t, gh.Tx(ctx, func(tx *gorm.DB) error {
				return tx.Exec("INSERT INTO usage_events (request_id, created_at, cost_nano) VALUES (?, ?, ?)", "req-globex", time.Now().UTC(), 42).Error
			}))

			// Then acme's handle sees none of it, even without any WHERE clause
			ah, err := b.reg.Handle(SystemPrincipal(acme, "test"))
			require.NoError(t, err)
			var n int64
			require.NoError(t, ah.Read(ctx, func(db *gorm.DB) error {
				return db.Raw("SELECT count(*) FROM usage_events").Scan(&n).Error
			}))
			require.Zero(t, n)
			require.NoError(t, gh.Read(ctx, func(db *gorm.DB) error {
				return db.Raw("SELECT count(*) FROM usage_events").Scan(&n).Error
			}))
			require.EqualValues(t, 1, n)

			// And a second handle on the same pooled connections does not inherit acme's scope
			require.NoError(t, ah.Tx(ctx, func(tx *gorm.DB) error { return nil }))
			require.NoError(t, gh.Read(ctx, func(db *gorm.DB) error {
				return db.Raw("SELECT count(*) FROM usage_events").Scan(&n).Error
			}))
			require.EqualValues(t, 1, n)
		})
	}
}

func TestCreateTenantDuplicateNameConflicts(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			_, err := b.reg.Create(t.Context(), CreateInput{Name: "acme"})
			require.NoError(t, err)
			_, err = b.reg.Create(t.Context(), CreateInput{Name: "ACME"})
			require.ErrorIs(t, err, errkind.Conflict)
			ts, err := b.reg.List(t.Context())
			require.NoError(t, err)
			require.Len(t, ts, 1)
		})
	}
}

func TestFailedProvisioningLeavesNoHalfTenant(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			b.reg.failAfterMigrate = errors.New("injected failure")
			_, err := b.reg.Create(t.Context(), CreateInput{Name: "acme"})
			require.Error(t, err)

			ts, err := b.reg.List(t.Context())
			require.NoError(t, err)
			require.Empty(t, ts)
			if backend == "postgres" {
				var n int64
				require.NoError(t, b.db.Gorm.Raw("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 't\\_%'").Scan(&n).Error)
				require.Zero(t, n, "no tenant schema may survive a failed provisioning")
			} else {
				entries, _ := os.ReadDir(filepath.Join(b.dataDir, "tenants"))
				require.Empty(t, entries, "no tenant file may survive a failed provisioning")
			}
		})
	}
}

func TestSuspendKeepsData(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	acme, err := b.reg.Create(t.Context(), CreateInput{Name: "acme"})
	require.NoError(t, err)
	s, err := b.reg.SetStatus(t.Context(), acme.ID, StatusSuspended)
	require.NoError(t, err)
	require.Equal(t, StatusSuspended, s.Status)
	require.NotNil(t, s.SuspendedAt)
	got, err := b.reg.Get(t.Context(), "acme")
	require.NoError(t, err)
	require.Equal(t, StatusSuspended, got.Status)
	_, err = b.reg.SetStatus(t.Context(), NewID(), StatusSuspended)
	require.ErrorIs(t, err, errkind.NotFound)
}

func TestMigrateAllIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			for _, n := range []string{"a", "b", "c"} {
				_, err := b.reg.Create(t.Context(), CreateInput{Name: n})
				require.NoError(t, err)
			}
			res, err := b.reg.MigrateAll(t.Context(), 2)
			require.NoError(t, err)
			require.Len(t, res, 3)
			for _, r := range res {
				require.Equal(t, r.From, r.To, "nothing pending after create")
			}
		})
	}
}

func TestSchemaNameValidatorRejectsHostileValues(t *testing.T) {
	t.Parallel()
	good := NewID()
	require.True(t, good.Valid())
	require.True(t, ValidSchemaName(good.SchemaName()))
	for _, bad := range []string{"", "public", "..", "t_", `t_"; DROP SCHEMA public; --`, "T_" + string(good)[:26],
		"t_" + string(good) + "x", "t_" + string(good)[:25] + "'", "pg_catalog", "t_01hzzzzzzzzzzzzzzzzzzzz/",
		"t_" + string(make([]byte, 300))} {
		require.False(t, ValidSchemaName(bad), "%q", bad)
		require.False(t, ID(bad).Valid(), "%q", bad)
		require.Panics(t, func() { quoteSchema(bad) }, "%q", bad)
	}
}

func TestHandleRequiresAuthenticatedTenant(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	_, err := b.reg.Handle(Principal{})
	require.ErrorIs(t, err, errkind.Unauthenticated)
}

func TestSlugify(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"Acme Corp": "acme-corp", "  Globex!! ": "globex", "ÄÖ": "", "a/../b": "a-b"} {
		require.Equal(t, want, Slugify(in), in)
	}
}
