package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestUsageImportCLI: `usage import` brings an OpenRouter export into a tenant;
// `usage project` and `usage --by api` see it, the served totals do not, a
// second import counts nothing twice, and a malformed file is refused with
// every bad row on its own line and nothing written.
func TestUsageImportCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	url := "sqlite://" + filepath.Join(dir, "tollgate.db")
	_, err := runCLI(t, url, "tenants", "create", "--name", "acme")
	require.NoError(t, err)
	now := time.Now().UTC()
	today := now.Format("2006-01-02")
	export := "generation_id,created_at,model_permaslug,tokens_prompt,tokens_completion,cost_total,user\n"
	for i := range 4 {
		export += fmt.Sprintf("gen-%d,%s 00:00:0%d,openai/gpt-4o-mini,1000,100,0.25,u%d\n", i, today, i, i%2)
	}
	file := filepath.Join(dir, "activity.csv")
	require.NoError(t, os.WriteFile(file, []byte(export), 0o600))

	// A dry run writes nothing.
	out, err := runCLI(t, url, "usage", "import", "--tenant", "acme", "--format", "openrouter", file, "--dry-run")
	require.NoError(t, err)
	require.Contains(t, out, "would import (dry run, nothing written) 4 rows")

	out, err = runCLI(t, url, "usage", "import", "--tenant", "acme", "--format", "openrouter", file, "--json")
	require.NoError(t, err)
	var res struct {
		New, Unchanged int
		Cost           int64 `json:"cost_nano"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.Equal(t, 4, res.New)
	require.Equal(t, int64(1_000_000_000), res.Cost)

	out, err = runCLI(t, url, "usage", "import", "--tenant", "acme", "--format", "openrouter", file)
	require.NoError(t, err)
	require.Contains(t, out, "0 new, 0 updated, 4 unchanged")

	// Projections and breakdowns see the imported $1; served totals do not.
	out, err = runCLI(t, url, "usage", "project", "--tenant", "acme", "--json")
	require.NoError(t, err)
	var p struct {
		Spent         int64 `json:"spent_this_month_nano"`
		ActiveMembers int64 `json:"active_members"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &p))
	require.Equal(t, int64(1_000_000_000), p.Spent)
	require.Equal(t, int64(2), p.ActiveMembers)
	out, err = runCLI(t, url, "usage", "--tenant", "acme", "--by", "api", "--json")
	require.NoError(t, err)
	require.Contains(t, out, `"imported"`)
	out, err = runCLI(t, url, "usage", "--tenant", "acme", "--json")
	require.NoError(t, err)
	require.Contains(t, out, `"requests": 0`)

	// A malformed file: every bad row on its own line, nothing imported.
	bad := export + "gen-8,soon,openai/gpt-4o-mini,1,1,0.1,u\n" + "gen-9," + today + " 01:00:00,openai/gpt-4o-mini,x,1,0.1,u\n"
	require.NoError(t, os.WriteFile(file, []byte(bad), 0o600))
	_, err = runCLI(t, url, "usage", "import", "--tenant", "acme", "--format", "openrouter", file)
	require.Error(t, err)
	lines := strings.Split(errorText(err), "\n")
	require.Equal(t, []string{
		"2 malformed rows; nothing was imported; fix them and import the file again",
		`line 6: created_at "soon" is not a time like 2026-11-26T14:03:00Z or 2026-11-26 14:03:00`,
		`line 7: tokens_prompt "x" is not a whole number from 0 to 1000000000000`,
	}, lines)
	_, err = runCLI(t, url, "usage", "import", "--tenant", "acme", "--format", "openrouter", filepath.Join(dir, "missing.csv"))
	require.ErrorContains(t, err, "cannot read")
}
