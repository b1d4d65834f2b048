package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// runCLI runs the root command with args against dbURL and returns stdout.
func runCLI(t *testing.T, dbURL string, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"--database-url", dbURL, "--env-file", ""}, args...))
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}

// TestConfigDetectOnThisMachine reads the real host (the colleague's table tests
// cover faked readings): cores and memory are found, a tier and its knobs chosen.
func TestConfigDetectOnThisMachine(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "tollgate.db")
	out, err := runCLI(t, dbURL, "config", "detect", "--json")
	require.NoError(t, err)
	var got struct {
		Mode           string `json:"mode"`
		DatabaseDriver string `json:"database_driver"`
		Billing        bool   `json:"billing"`
		Tier           struct {
			Tier      int      `json:"tier"`
			TierName  string   `json:"tier_name"`
			Reasons   []string `json:"reasons"`
			Resources struct {
				HostCPUs        int    `json:"host_cpus"`
				HostMemoryBytes uint64 `json:"host_memory_bytes"`
				Mode            string `json:"mode"`
			} `json:"resources"`
			Knobs struct {
				WorkerConcurrency int `json:"worker_concurrency"`
				DBMaxOpenConns    int `json:"db_max_open_conns"`
				LedgerBatchSize   int `json:"ledger_batch_size"`
			} `json:"knobs"`
		} `json:"tier"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	require.Equal(t, "single-tenant", got.Mode)
	require.Equal(t, "sqlite", got.DatabaseDriver)
	require.False(t, got.Billing)
	require.Positive(t, got.Tier.Resources.HostCPUs)
	require.Positive(t, got.Tier.Resources.HostMemoryBytes)
	require.Contains(t, []string{"desktop", "container", "kubernetes"}, got.Tier.Resources.Mode)
	require.GreaterOrEqual(t, got.Tier.Tier, 1)
	require.LessOrEqual(t, got.Tier.Tier, 4)
	require.NotEmpty(t, got.Tier.TierName)
	require.NotEmpty(t, got.Tier.Reasons)
	require.Positive(t, got.Tier.Knobs.WorkerConcurrency)
	require.Positive(t, got.Tier.Knobs.DBMaxOpenConns)
	require.Positive(t, got.Tier.Knobs.LedgerBatchSize)
	t.Logf("this machine: %d CPUs, %d MiB, %s → tier %d %s", got.Tier.Resources.HostCPUs, got.Tier.Resources.HostMemoryBytes>>20,
		got.Tier.Resources.Mode, got.Tier.Tier, got.Tier.TierName)

	text, err := runCLI(t, dbURL, "config", "detect")
	require.NoError(t, err)
	for _, want := range []string{"tier ", "cpus ", "memory ", "knobs ", "why "} {
		require.Contains(t, text, want)
	}
}

func TestConfigEnvRefusesToOverwrite(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "tollgate.db")
	envPath := filepath.Join(t.TempDir(), ".env")
	_, err := runCLI(t, dbURL, "config", "env", "--target", "container", "--out", envPath)
	require.NoError(t, err)
	body, err := os.ReadFile(envPath)
	require.NoError(t, err)
	require.Contains(t, string(body), "TOLLGATE_MODE=multi-tenant")
	require.Contains(t, string(body), "TOLLGATE_WORKER_CONCURRENCY=")

	_, err = runCLI(t, dbURL, "config", "env", "--target", "desktop", "--out", envPath)
	require.ErrorContains(t, err, "--force")
	_, err = runCLI(t, dbURL, "config", "env", "--target", "desktop", "--out", envPath, "--force")
	require.NoError(t, err)
	body, err = os.ReadFile(envPath)
	require.NoError(t, err)
	require.Contains(t, string(body), "TOLLGATE_MODE=single-tenant")
	_, err = runCLI(t, dbURL, "config", "env", "--target", "mainframe")
	require.ErrorContains(t, err, "desktop, container or kubernetes")
}

func TestInvoicesRunSaysBillingIsOff(t *testing.T) {
	t.Parallel()
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "tollgate.db")
	out, err := runCLI(t, dbURL, "invoices", "run")
	require.NoError(t, err)
	require.Contains(t, out, "billing is off")
}

func TestBackupRestoreCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbURL := "sqlite://" + filepath.Join(dir, "tollgate.db")
	_, err := runCLI(t, dbURL, "tenants", "create", "--name", "Acme")
	require.NoError(t, err)
	out, err := runCLI(t, dbURL, "backup", "--dir", filepath.Join(dir, "bk"))
	require.NoError(t, err)
	backupDir := strings.TrimSpace(strings.TrimPrefix(out, "backup written to"))
	_, err = runCLI(t, dbURL, "tenants", "create", "--name", "Globex")
	require.NoError(t, err)
	out, err = runCLI(t, dbURL, "restore", "--from", backupDir)
	require.NoError(t, err)
	require.Contains(t, out, "restored 2 database files")
	out, err = runCLI(t, dbURL, "tenants", "list", "--json")
	require.NoError(t, err)
	require.Contains(t, out, "Acme")
	require.NotContains(t, out, "Globex")
}
