package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/testdb"
)

// Bad config, a duplicate tenant name and a database that is down each give one
// clear error line and change nothing.
func TestCLIErrorsAreOneLineAndChangeNothing(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			url := "sqlite://" + filepath.Join(t.TempDir(), "tollgate.db")
			if backend == "postgres" {
				url = testdb.Postgres(t)
			}
			_, err := runCLI(t, url, "tenants", "create", "--name", "acme")
			require.NoError(t, err)

			// A duplicate name (by slug) is refused and no second tenant appears.
			_, err = runCLI(t, url, "tenants", "create", "--name", "ACME")
			require.Error(t, err)
			require.Contains(t, oneLine(err), "already exists")
			require.NotContains(t, oneLine(err), "\n")
			out, err := runCLI(t, url, "tenants", "list", "--json")
			require.NoError(t, err)
			require.Equal(t, 1, strings.Count(out, `"slug"`), out)

			// migrate status shows the tenant at the latest version.
			out, err = runCLI(t, url, "migrate", "status")
			require.NoError(t, err)
			require.Contains(t, out, "acme")
			require.Contains(t, out, "up to date")
		})
	}

	_, err := runCLI(t, "mysql://root@db/x", "tenants", "list")
	require.ErrorContains(t, err, "TOLLGATE_DATABASE_URL")

	_, err = runCLI(t, "postgres://postgres@127.0.0.1:1/nothing?sslmode=disable", "tenants", "create", "--name", "x")
	require.Error(t, err)
	line := oneLine(err)
	require.Contains(t, line, "not reachable")
	require.Contains(t, line, "TOLLGATE_DATABASE_URL")
	require.NotContains(t, line, "\n")
}
