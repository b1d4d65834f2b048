package access

import (
	"testing"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/tenants"
)

// testBundle is a migrated control database ("sqlite" or "postgres") and a registry on it.
type testBundle struct {
	reg     *tenants.Registry
	db      *database.DB
	dataDir string
}

func setup(t *testing.T, backend string) *testBundle {
	t.Helper()
	logger := testdb.Logger(t)
	db, dataDir := testdb.ControlDB(t, backend, logger)
	reg := tenants.NewRegistry(db, dataDir, logger)
	t.Cleanup(reg.Close)
	return &testBundle{reg: reg, db: db, dataDir: dataDir}
}

var backends = testdb.Backends
