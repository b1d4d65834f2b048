package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// replicatedCluster starts a 3-master, 3-replica Redis Cluster of the test's own
// (the shared one must not lose a master) and returns its seeds and script dir.
func replicatedCluster(t *testing.T) (seeds string, dir string) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		testdb.Unavailable(t, "redis-server", err)
	}
	dir = t.TempDir()
	script, err := filepath.Abs("../../scripts/redis-cluster.sh")
	require.NoError(t, err)
	cmd := exec.Command(script, "start", dir)
	cmd.Env = append(os.Environ(), "REPLICAS=1")
	out, err := cmd.Output()
	require.NoError(t, err, "start replicated cluster")
	t.Cleanup(func() { _ = exec.Command(script, "stop", dir).Run() })
	return strings.TrimSpace(string(out)), dir
}

// killMaster kill -9s one master that has a synced replica, and returns its address.
func killMaster(t *testing.T, seeds string) string {
	t.Helper()
	ctx := t.Context()
	first := redis.NewClient(&redis.Options{Addr: strings.Split(seeds, ",")[0]})
	defer first.Close()
	nodes, err := first.ClusterNodes(ctx).Result()
	require.NoError(t, err)
	var masterAddr string
	for _, line := range strings.Split(nodes, "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && strings.Contains(f[2], "master") && !strings.Contains(f[2], "fail") {
			masterAddr = strings.Split(f[1], "@")[0]
			break
		}
	}
	require.NotEmpty(t, masterAddr)
	m := redis.NewClient(&redis.Options{Addr: masterAddr})
	defer m.Close()
	info, err := m.Info(ctx, "server").Result()
	require.NoError(t, err)
	var pid int
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, "process_id:"); ok {
			pid, _ = strconv.Atoi(v)
		}
	}
	require.Positive(t, pid)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	return masterAddr
}

// waitClusterFailover waits until a surviving node has noticed the dead master
// and the cluster is ok again (its replica was promoted).
func waitClusterFailover(t *testing.T, seeds, killed string) {
	t.Helper()
	start := time.Now()
	for _, addr := range strings.Split(seeds, ",") {
		if addr == killed {
			continue
		}
		c := redis.NewClient(&redis.Options{Addr: addr})
		defer c.Close()
		require.Eventually(t, func() bool {
			nodes, err := c.ClusterNodes(t.Context()).Result()
			return err == nil && strings.Contains(nodes, killed) && strings.Contains(nodes, "fail")
		}, 20*time.Second, 20*time.Millisecond, "the dead master is noticed")
		require.Eventually(t, func() bool {
			info, err := c.ClusterInfo(t.Context()).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok")
		}, 20*time.Second, 20*time.Millisecond, "a replica takes over")
		t.Logf("replica took over %s after the kill", time.Since(start).Round(time.Millisecond))
		return
	}
}

// gatewayProcess runs the real binary, so that it can be killed with SIGKILL.
type gatewayProcess struct {
	bin  string
	env  []string
	cmd  *exec.Cmd
	logs *os.File
}

func (g *gatewayProcess) start(t *testing.T, addr string) {
	t.Helper()
	g.cmd = exec.Command(g.bin, "serve")
	g.cmd.Env = g.env
	g.cmd.Stdout, g.cmd.Stderr = g.logs, g.logs
	require.NoError(t, g.cmd.Start())
	// A failed assertion must not leave the gateway running after the test.
	cmd := g.cmd
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_, _ = cmd.Process.Wait()
		}
	})
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 60*time.Second, 50*time.Millisecond)
}

func (g *gatewayProcess) signal(sig syscall.Signal) {
	_ = g.cmd.Process.Signal(sig)
	_, _ = g.cmd.Process.Wait()
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tollgate")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// TestChaosRedisFailoverAndGatewayKill runs load while a Redis master dies (its
// replica takes over) and the gateway is killed with SIGKILL and restarted.
//
// It does not run in parallel with the package's other tests: those are load tests
// too, and on a small machine they starved the restarted gateway for longer than
// the run lasts. Go runs a package's sequential tests before releasing its parallel
// ones, so this one has the package to itself.
func TestChaosRedisFailoverAndGatewayKill(t *testing.T) {
	seeds, _ := replicatedCluster(t)
	dbURL := testdb.Postgres(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	env := map[string]string{
		"TOLLGATE_ADDR": addr, "TOLLGATE_DATABASE_URL": dbURL, "TOLLGATE_REDIS_URL": seeds, "TOLLGATE_SIM": "1",
		"TOLLGATE_MODE": "multi-tenant", "TOLLGATE_SPOOL_DIR": filepath.Join(dir, "spool"), "TOLLGATE_LOG_LEVEL": "warn",
		"TOLLGATE_JWT_SECRET": "chaos-jwt-secret-that-is-long-enough-0000000", "TOLLGATE_ADMIN_PASSWORD": "chaos-admin",
	}
	cfg, err := config.Parse(env)
	require.NoError(t, err)
	op, err := openApp(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(op.Close)
	s := &stack{op: op, baseURL: "http://" + addr}
	tn, _, key := s.tenantWithKey(t, "chaos", apikeys.CreateKeyInput{})
	hardLimit := billing.NanoUSD(600_000_000) // $0.60: the load reaches it before the end
	b := s.setBudget(t, tn, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: hardLimit, Hard: true})

	logs, err := os.Create(filepath.Join(dir, "gateway.log"))
	require.NoError(t, err)
	defer logs.Close()
	var envList []string
	for k, v := range env {
		envList = append(envList, k+"="+v)
	}
	g := &gatewayProcess{bin: buildBinary(t), env: append(envList, "PATH="+os.Getenv("PATH")), logs: logs}
	g.start(t, addr)

	// Given steady load from 8 connections
	stop := make(chan struct{})
	loadDone := make(chan *loadResult, 1)
	go func() { loadDone <- fireUntil(t, []string{s.baseURL}, key, 1_000_000, 8, 10, stop) }()

	// When a Redis master dies (its replica takes over)
	time.Sleep(500 * time.Millisecond)
	killed := killMaster(t, seeds)
	t.Logf("killed Redis master %s", killed)
	waitClusterFailover(t, seeds, killed)
	// And the gateway is killed with SIGKILL and restarted
	time.Sleep(500 * time.Millisecond)
	g.signal(syscall.SIGKILL)
	t.Log("killed the gateway with SIGKILL; restarting it")
	g.start(t, addr)
	// Then the load runs on until the budget is spent: at least 3 s, and until a
	// probe is refused by the hard budget (bounded: a slow machine serves fewer
	// requests a second, so a fixed window may end before the limit is reached).
	time.Sleep(3 * time.Second)
	waitBudgetRefusal(t, s.baseURL, key, 30*time.Second)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	load := <-loadDone
	g.signal(syscall.SIGTERM) // graceful: drains the ledger spool and returns leases
	results := []*loadResult{load}

	if raw, err := os.ReadFile(logs.Name()); err == nil {
		lines := strings.Split(string(raw), "\n")
		seen := map[string]bool{}
		for _, l := range lines {
			msg := l
			if i := strings.Index(l, "msg="); i >= 0 {
				msg = l[i:]
				if j := strings.Index(msg, " error="); j > 0 && len(msg) > j+60 {
					msg = msg[:j+60]
				}
			}
			if l != "" && !seen[msg] && len(seen) < 15 {
				seen[msg] = true
				t.Logf("gateway log: %s", l)
			}
		}
	}
	completed := map[string]bool{}
	var okCount, refused int64
	for _, r := range results {
		for id := range r.ids {
			completed[id] = true
		}
		okCount += r.ok.Load()
		refused += r.refused.Load()
		t.Logf("load phase: ok=%d refused=%d other=%v", r.ok.Load(), r.refused.Load(), r.otherStatus)
		require.Empty(t, r.badRefusal)
	}
	h := s.handle(t, tn)
	evs, err := allEvents(t.Context(), h)
	require.NoError(t, err)
	inLedger := map[string]int{}
	var total billing.NanoUSD
	for _, e := range evs {
		inLedger[e.RequestID]++
		total += e.Cost
	}
	t.Logf("completed=%d refused=%d ledger events=%d ledger=$%s limit=$%s", okCount, refused, len(evs), total.USDString(), hardLimit.USDString())
	for id := range completed {
		require.Equal(t, 1, inLedger[id], "completed request %s must be in the ledger exactly once", id)
	}
	require.LessOrEqual(t, total, hardLimit, "spend stayed under the hard limit, Redis outage included")
	require.Positive(t, refused, "the load reached the hard limit")
	// Rollups were not double counted by the spool replay.
	_, rolled, err := ledger.Series(t.Context(), h, ledger.SeriesQuery{})
	require.NoError(t, err)
	require.Equal(t, total, rolled.Cost)

	// The reconcile rebuilds the counters to the ledger's totals.
	rc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: strings.Split(seeds, ",")})
	defer rc.Close()
	rm := meter.NewRedisMeter(op.logger, rc, time.Now, meter.RedisConfig{})
	totals, err := ledger.CounterTotals(t.Context(), h, []budget.Budget{b}, time.Now())
	require.NoError(t, err)
	require.NoError(t, rm.Rebuild(t.Context(), string(tn.ID), totals))
	drift, err := meter.Drift(t.Context(), rm, string(tn.ID), totals)
	require.NoError(t, err)
	for _, d := range drift {
		require.Zero(t, int64(d.Delta), "counter %+v", d)
	}
}

// allEvents reads every ledger event of the tenant.
func allEvents(ctx context.Context, h *tenants.Handle) ([]ledger.Event, error) {
	var out []ledger.Event
	before := time.Time{}
	for {
		page, err := ledger.Recent(ctx, h, before, 500)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < 500 {
			return out, nil
		}
		before = page[len(page)-1].CreatedAt
		if before.IsZero() {
			return nil, fmt.Errorf("paging stalled")
		}
	}
}

// waitBudgetRefusal sends a small request every 250 ms until the hard budget
// refuses one (429 budget_exceeded) or within passes.
func waitBudgetRefusal(t *testing.T, base, key string, within time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/v1/chat/completions",
			strings.NewReader(`{"model":"sim-small","max_tokens":1,"messages":[{"role":"user","content":"probe"}]}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		if resp, err := client.Do(req); err == nil {
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests && strings.Contains(string(raw), "budget_exceeded") {
				return
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("the hard budget refused no probe within %s", within)
}
