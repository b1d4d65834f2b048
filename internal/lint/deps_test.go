package lint

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBinaryDependencies keeps test support and unused database drivers out of the
// binary: the Casbin gorm adapter once linked MySQL and SQL Server, and a test helper
// in a production package linked package testing.
func TestBinaryDependencies(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	cmd := exec.CommandContext(t.Context(), "go", "list", "-deps", "./cmd/tollgate")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	banned := []string{"testing", "github.com/stretchr/testify", "github.com/go-sql-driver/mysql",
		"github.com/microsoft/go-mssqldb", "github.com/denisenko/mssqldb", "gorm.io/driver/mysql", "gorm.io/driver/sqlserver",
		"github.com/casbin/casbin/v3"}
	for _, dep := range strings.Fields(string(out)) {
		for _, b := range banned {
			require.False(t, dep == b || strings.HasPrefix(dep, b+"/"), "the binary links %s", dep)
		}
	}

	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	require.Contains(t, string(mod), "github.com/casbin/casbin/v2 ", "DESIGN.md names Casbin v2")
	require.NotContains(t, string(mod), "github.com/casbin/casbin/v3")
	require.NotContains(t, string(mod), "github.com/casbin/gorm-adapter")
}
