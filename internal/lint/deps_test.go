package lint

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBinaryDependencies keeps test support, unused database drivers and unused
// API surface out of the binary: the Casbin gorm adapter once linked MySQL and SQL
// Server, a test helper in a production package linked package testing, and
// stripe-go's client.API linked ~130 resource packages (every page of the binary
// start-up touches is resident memory, so size is memory).
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
		"github.com/casbin/casbin/v3", "github.com/stripe/stripe-go/v76/client", "github.com/pkoukk/tiktoken-go-loader"}
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
