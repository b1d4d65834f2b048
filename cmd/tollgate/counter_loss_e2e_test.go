package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/internal/testredis"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// deleteTenantCounters deletes every Redis key of the tenant (its counters,
// reservations, leases and epoch) from every master: the data loss a FLUSHALL or a
// failover that dropped writes causes, limited to this test's own tenant.
func deleteTenantCounters(t *testing.T, rc *redis.ClusterClient, tenantID tenants.ID) int {
	t.Helper()
	var n int
	err := rc.ForEachMaster(t.Context(), func(ctx context.Context, c *redis.Client) error {
		keys, err := c.Keys(ctx, "tollgate:{t:"+string(tenantID)+"}*").Result()
		if err != nil || len(keys) == 0 {
			return err
		}
		n += len(keys)
		return c.Del(ctx, keys...).Err()
	})
	require.NoError(t, err)
	return n
}

// A Redis Cluster that silently loses a tenant's counters mid-load (no outage, so no
// reconnect to react to) does not reset the hard budget: the next operation finds
// the epoch gone and the counters come back from the flushed ledger plus the live
// reservations and leases before the tenant is served again.
func TestHardBudgetHoldsWhenRedisLosesCounters(t *testing.T) {
	t.Parallel()
	seeds := testredis.Seeds(t)
	s := startStack(t, clusterEnv(t, testdb.Postgres(t)))
	tn, _, key := s.tenantWithKey(t, "counter-loss", apikeys.CreateKeyInput{})
	s.setBudget(t, tn, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: fiveCents, Hard: true})
	rc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: seeds})
	defer rc.Close()

	// Given 50 connections of load on a $0.05 hard budget
	done := make(chan *loadResult, 1)
	go func() { done <- fire(t, []string{s.baseURL}, key, 600, 50, 7) }()
	// When the tenant's counters vanish from Redis several times while it runs
	losses := 0
	var res *loadResult
	for res == nil {
		select {
		case res = <-done:
		case <-time.After(150 * time.Millisecond):
			if deleteTenantCounters(t, rc, tn.ID) > 0 {
				losses++
			}
		}
	}
	// Then the ledger stays within the limit and every refusal has the 429 shape
	recoveries := value(t, scrape(t, s.baseURL+"/metrics")[api.MetricMeterRecoveries], nil)
	s.stop()
	tot := ledgerTotal(t, s, tn)
	t.Logf("losses=%d ok=%d refused=%d other=%v ledger=$%s limit=$%s", losses, res.ok.Load(), res.refused.Load(),
		res.otherStatus, tot.Cost.USDString(), fiveCents.USDString())
	require.Positive(t, losses)
	require.Positive(t, recoveries, "each loss found at the next operation is a recovery, counted for operators")
	require.LessOrEqual(t, tot.Cost, fiveCents, "spend passed the hard budget after Redis lost the counters")
	require.Positive(t, res.refused.Load())
	require.Empty(t, res.badRefusal)
	require.Equal(t, res.usageCost, tot.Cost)
}

// redisServer is a throwaway standalone redis-server without persistence, so a
// restart loses everything, as a crashed cache node does.
type redisServer struct {
	port int
	cmd  *exec.Cmd
}

func startRedisServer(t *testing.T, port int) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (Debian package redis-server)")
	}
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir())
	require.NoError(t, cmd.Start())
	r := &redisServer{port: port, cmd: cmd}
	t.Cleanup(r.kill)
	c := redis.NewClient(&redis.Options{Addr: r.addr()})
	defer c.Close()
	require.Eventually(t, func() bool { return c.Ping(t.Context()).Err() == nil }, 10*time.Second, 20*time.Millisecond)
	return r
}

func (r *redisServer) addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

// kill stops this server by its own PID.
func (r *redisServer) kill() {
	if r.cmd.Process != nil && r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	}
}

// A Redis restart mid-load (an outage, then an empty server) does not let the
// counters restart too low: replica A has requests in flight (slow answers) when
// Redis dies and comes back empty; replica B then serves fast requests. B must see
// A's in-flight reservations and leases, and the ledger's spend, before it spends.
func TestHardBudgetHoldsAcrossRedisRestart(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	var port int
	_, err := fmt.Sscanf(addr[strings.LastIndex(addr, ":")+1:], "%d", &port)
	require.NoError(t, err)
	srv := startRedisServer(t, port)
	dbURL := testdb.Postgres(t)
	env := func(latency string) map[string]string {
		return map[string]string{"TOLLGATE_DATABASE_URL": dbURL, "TOLLGATE_REDIS_URL": "redis://" + srv.addr(),
			"TOLLGATE_SIM": "1", "TOLLGATE_SIM_LATENCY": latency}
	}
	slow, fast := startStack(t, env("600ms")), startStack(t, env("0s"))
	tn, _, key := slow.tenantWithKey(t, "redis-restart", apikeys.CreateKeyInput{})
	slow.setBudget(t, tn, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: fiveCents, Hard: true})

	// Given both replicas served the tenant once (its counters exist in Redis)
	warm := fire(t, []string{slow.baseURL, fast.baseURL}, key, 2, 2, 10)
	require.Equal(t, int64(2), warm.ok.Load())
	// And 40 slow requests in flight on replica A, holding most of a $0.05 budget
	slowDone := make(chan *loadResult, 1)
	go func() { slowDone <- fire(t, []string{slow.baseURL}, key, 40, 40, 11) }()
	// When Redis dies and comes back empty while they are in flight
	time.Sleep(250 * time.Millisecond)
	srv.kill()
	time.Sleep(100 * time.Millisecond)
	startRedisServer(t, port)
	// And replica B serves fast requests meanwhile
	fastRes := fire(t, []string{fast.baseURL}, key, 300, 20, 12)
	slowRes := <-slowDone

	// Then the ledger stays within the limit
	slow.stop()
	fast.stop()
	tot := ledgerTotal(t, slow, tn)
	t.Logf("slow: ok=%d refused=%d other=%v; fast: ok=%d refused=%d other=%v; ledger=$%s limit=$%s",
		slowRes.ok.Load(), slowRes.refused.Load(), slowRes.otherStatus, fastRes.ok.Load(), fastRes.refused.Load(),
		fastRes.otherStatus, tot.Cost.USDString(), fiveCents.USDString())
	require.LessOrEqual(t, tot.Cost, fiveCents, "spend passed the hard budget after a Redis restart")
	require.Positive(t, fastRes.refused.Load())
	require.Empty(t, append(slowRes.badRefusal, fastRes.badRefusal...))
	require.Equal(t, warm.usageCost+slowRes.usageCost+fastRes.usageCost, tot.Cost)
}
