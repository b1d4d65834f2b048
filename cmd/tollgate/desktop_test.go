package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/meter"
)

func TestHealthURL(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		":8080":          "http://127.0.0.1:8080/healthz",
		"0.0.0.0:9000":   "http://127.0.0.1:9000/healthz",
		"[::]:8080":      "http://[::1]:8080/healthz",
		"10.0.0.5:8080":  "http://10.0.0.5:8080/healthz",
		"127.0.0.1:1234": "http://127.0.0.1:1234/healthz",
	} {
		require.Equal(t, want, healthURL(addr), addr)
	}
}

// The healthcheck command exits 0 on a 200 and fails on anything else or no answer.
func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	var status atomic.Int32
	status.Store(http.StatusOK)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(status.Load()))
	}))
	t.Cleanup(ts.Close)
	srv := ts.URL
	run := func(args ...string) error {
		cmd := newRootCmd()
		cmd.SetArgs(append([]string{"healthcheck", "--env-file="}, args...))
		cmd.SetOut(&bytes.Buffer{})
		return cmd.ExecuteContext(t.Context())
	}
	require.NoError(t, run("--url", srv+"/healthz"))
	status.Store(http.StatusServiceUnavailable)
	require.ErrorContains(t, run("--url", srv+"/healthz"), "status 503")
	require.Error(t, run("--url", "http://127.0.0.1:1/healthz", "--timeout", "500ms"))
}

func TestDesktopSummaryText(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Today $0.00 · no budget set", desktopSummary{}.String())
	s := desktopSummary{Today: 420_000_000, Budget: &desktopBudget{Period: meter.PeriodMonth, Spent: 3_100_000_000, Limit: 50 * billing.NanoUSD(1_000_000_000)}}
	require.Equal(t, "Today $0.42 · budget $3.10 of $50.00 this month", s.String())
	require.Equal(t, "$0.000123", usd(123_456))
	require.Equal(t, "$0.10", usd(100_000_000))
	require.Equal(t, "$12.34", usd(12_345_678_901))
}

func TestSnippet(t *testing.T) {
	t.Parallel()
	require.Equal(t, "export OPENAI_BASE_URL=http://127.0.0.1:1/v1\nexport OPENAI_API_KEY=tg_x\n", snippet("linux", "http://127.0.0.1:1/v1", "tg_x"))
	require.Contains(t, snippet("windows", "http://127.0.0.1:1/v1", "tg_x"), `$env:OPENAI_API_KEY="tg_x"`)
}

// One instance per user: a second lock on the same directory is refused until the
// first is released.
func TestDesktopLockIsExclusive(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	release, err := lockDesktop(dir)
	require.NoError(t, err)
	_, err = lockDesktop(dir)
	require.ErrorIs(t, err, errDesktopRunning)
	release()
	release2, err := lockDesktop(dir)
	require.NoError(t, err)
	release2()
}

// A second start reaches the running instance only with the token in its 0600
// state file.
func TestDesktopControlHandover(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opened := make(chan struct{}, 1)
	c, err := startControl(func() { opened <- struct{}{} })
	require.NoError(t, err)
	t.Cleanup(c.close)
	require.NoError(t, writeDesktopState(dir, desktopState{PID: -1, Control: c.addr(), Token: "wrong"}))
	require.ErrorContains(t, tryOpen(t.Context(), dir), "401")
	require.NoError(t, writeDesktopState(dir, desktopState{PID: -1, Control: c.addr(), Token: c.token}))
	require.NoError(t, tryOpen(t.Context(), dir))
	select {
	case <-opened:
	case <-time.After(5 * time.Second):
		t.Fatal("the running instance was not asked to open the console")
	}
}

func TestFreeLoopbackAddrReusesAFreePort(t *testing.T) {
	t.Parallel()
	addr, err := freeLoopbackAddr("")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(addr, "127.0.0.1:"), addr)
	again, err := freeLoopbackAddr("http://" + addr)
	require.NoError(t, err)
	require.Equal(t, addr, again, "a free previous port is reused")
	require.Equal(t, "", hostOfURL("http://example.com:80"))
}

// `config env --target kubernetes --cpus 4 --memory 4Gi` sizes for the pod (tier 2)
// whatever this machine is, and writes the ConfigMap and Secret of infra/k8s.
func TestConfigEnvKubernetesSizesForThePod(t *testing.T) {
	t.Parallel()
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		cmd := newRootCmd()
		cmd.SetArgs(append([]string{"config", "env", "--env-file=", "--target", "kubernetes"}, args...))
		cmd.SetOut(&out)
		err := cmd.ExecuteContext(t.Context())
		return out.String(), err
	}
	out, err := run("--cpus", "4", "--memory", "4Gi")
	require.NoError(t, err)
	require.Contains(t, out, "# Sized as tier 2 Balanced because:")
	require.Contains(t, out, "kind: ConfigMap\nmetadata:\n  name: tollgate-config\n  namespace: tollgate")
	require.Contains(t, out, "kind: Secret\nmetadata:\n  name: tollgate-secrets\n  namespace: tollgate")
	require.Contains(t, out, `TOLLGATE_WORKER_CONCURRENCY: "8"`)
	out, err = run("--cpus", "8", "--memory", "16Gi")
	require.NoError(t, err)
	require.Contains(t, out, "tier 3 High-performance")
	_, err = run("--cpus", "4")
	require.ErrorContains(t, err, "--cpus and --memory go together")
	_, err = run("--cpus", "4", "--memory", "lots")
	require.ErrorContains(t, err, "--memory")
}
