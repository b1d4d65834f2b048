package meter_test

import (
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/billing/meter/metertest"
	"github.com/tollgate-dev/tollgate/internal/testredis"
)

// newLeaseMeter starts a LeaseMeter over client with its flush loop, stopped (leases
// returned) when the test ends.
func newLeaseMeter(t *testing.T, client redis.UniversalClient, clock meter.Clock, cfg meter.LeaseConfig) *meter.LeaseMeter {
	t.Helper()
	return newLeaseMeterWith(t, client, clock, meter.RedisConfig{KeyPrefix: testredis.Prefix(t)}, cfg)
}

// newLeaseMeterWith is newLeaseMeter over a RedisMeter configured by rc.
func newLeaseMeterWith(t *testing.T, client redis.UniversalClient, clock meter.Clock, rc meter.RedisConfig, cfg meter.LeaseConfig) *meter.LeaseMeter {
	t.Helper()
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = 20 * time.Millisecond
	}
	inner := meter.NewRedisMeter(testLogger(t), client, clock, rc)
	m := meter.NewLeaseMeter(testLogger(t), inner, clock, cfg)
	var wg sync.WaitGroup
	ctx, cancel := contextWithCancel(t)
	wg.Go(func() { _ = m.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return m
}

func TestLeaseMeterClusterConformance(t *testing.T) {
	t.Parallel()
	metertest.RunConformance(t, func(t *testing.T, clock meter.Clock) func() meter.Meter {
		client := testredis.Cluster(t)
		return func() meter.Meter { return newLeaseMeter(t, client, clock, meter.LeaseConfig{}) }
	})
}

// Two replicas share one cluster: each leases chunks of the same $0.05 budget.
func TestLeaseMeterTwoReplicasNoOvershoot(t *testing.T) {
	t.Parallel()
	client := testredis.Cluster(t)
	clock := metertest.NewClock()
	a := newLeaseMeter(t, client, clock.Now, meter.LeaseConfig{})
	b := newLeaseMeter(t, client, clock.Now, meter.LeaseConfig{})
	metertest.NoOvershoot(t, a, b)
	require.Positive(t, a.Stats().LocalReserves+b.Stats().LocalReserves)
}

func TestLeaseMeterCrashedInstanceLeaseExpires(t *testing.T) {
	t.Parallel()
	client := testredis.Cluster(t)
	clock := metertest.NewClock()
	ctx := t.Context()
	limits := []meter.Limit{{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 1_000, Hard: true}}
	inner := meter.NewRedisMeter(testLogger(t), client, clock.Now, meter.RedisConfig{KeyPrefix: testredis.Prefix(t)})
	// Given an instance that leases the whole budget and crashes (no Run, no return),
	crashed := meter.NewLeaseMeter(testLogger(t), inner, clock.Now, meter.LeaseConfig{ChunkDivisor: 1, LeaseTTL: 10 * time.Second})
	d, err := crashed.Reserve(ctx, meter.ReserveInput{TenantID: "acme", RequestID: "r1", Amount: 100, Limits: limits})
	require.NoError(t, err)
	require.True(t, d.Allowed)
	survivor := meter.NewLeaseMeter(testLogger(t), inner, clock.Now, meter.LeaseConfig{LeaseTTL: 10 * time.Second})
	d, err = survivor.Reserve(ctx, meter.ReserveInput{TenantID: "acme", RequestID: "r2", Amount: 100, Limits: limits})
	require.NoError(t, err)
	require.False(t, d.Allowed, "the crashed instance holds the whole budget")
	require.Equal(t, meter.DecisionReasonBudgetExceeded, d.Reason)
	// when its lease TTL passes,
	clock.Advance(11 * time.Second)
	// then its unused budget is back for the survivor.
	d, err = survivor.Reserve(ctx, meter.ReserveInput{TenantID: "acme", RequestID: "r2", Amount: 1_000, Limits: limits})
	require.NoError(t, err)
	require.True(t, d.Allowed, "%+v", d.Refusal)
}

// The outage test: Redis becomes unreachable; the instance keeps serving from its
// lease, then refuses with meter_unavailable, and never passes its lease.
func TestLeaseMeterOutageServesFromLeaseThenRefuses(t *testing.T) {
	t.Parallel()
	client, sw := testredis.ClusterWithSwitch(t)
	clock := metertest.NewClock()
	ctx := t.Context()
	const limit = billing.NanoPerUSD // $1, leased a quarter at a time
	const cost = billing.NanoPerCent // $0.01 per request
	limits := []meter.Limit{{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: limit, Hard: true}}
	m := newLeaseMeter(t, client, clock.Now, meter.LeaseConfig{ChunkDivisor: 4, RetryAfter: 50 * time.Millisecond})
	n := 0
	request := func() meter.Decision {
		n++
		id := "r" + itoa(n)
		d, err := m.Reserve(ctx, meter.ReserveInput{TenantID: "acme", RequestID: id, Amount: cost, Limits: limits})
		require.NoError(t, err)
		if d.Allowed {
			_, err = m.Settle(ctx, meter.SettleInput{TenantID: "acme", RequestID: id, Actual: cost})
			require.NoError(t, err)
		}
		return d
	}
	// Given a lease taken while Redis is up,
	require.True(t, request().Allowed)
	require.Equal(t, meter.HealthStateOK, m.Health(ctx).State)
	// when Redis becomes unreachable,
	sw.SetDown(true)
	require.Eventually(t, func() bool { return m.Health(ctx).State != meter.HealthStateOK }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, meter.HealthStateDegraded, m.Health(ctx).State)
	// then it keeps serving from its lease,
	served := 1
	var refusal meter.Decision
	for range 100 {
		d := request()
		if !d.Allowed {
			refusal = d
			break
		}
		served++
	}
	require.Equal(t, meter.DecisionReasonMeterUnavailable, refusal.Reason)
	require.Positive(t, refusal.Refusal.RetryAfter)
	// and stops at the lease: a quarter of the budget, never more.
	require.Equal(t, 25, served)
	require.Equal(t, meter.HealthStateUnavailable, m.Health(ctx).State)
	require.Positive(t, m.Stats().UnavailableRefusals)

	// When Redis is back, the spending reaches it and requests are served again.
	sw.SetDown(false)
	require.Eventually(t, func() bool { return m.Health(ctx).State == meter.HealthStateOK }, 5*time.Second, 10*time.Millisecond)
	require.NoError(t, m.Flush(ctx))
	u, err := m.Usage(ctx, "acme", limits)
	require.NoError(t, err)
	require.Equal(t, cost*billing.NanoUSD(served), u[0].Spent)
	require.True(t, request().Allowed)
}

func TestLeaseMeterFailOpenCountsOvershoot(t *testing.T) {
	t.Parallel()
	client, sw := testredis.ClusterWithSwitch(t)
	clock := metertest.NewClock()
	ctx := t.Context()
	limits := []meter.Limit{{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 1_000, Hard: true}}
	m := newLeaseMeter(t, client, clock.Now, meter.LeaseConfig{ChunkDivisor: 10, FailOpen: true})
	d, err := m.Reserve(ctx, meter.ReserveInput{TenantID: "acme", RequestID: "r0", Amount: 100, Limits: limits})
	require.NoError(t, err)
	require.True(t, d.Allowed)
	sw.SetDown(true)
	d, err = m.Reserve(ctx, meter.ReserveInput{TenantID: "acme", RequestID: "r1", Amount: 300, Limits: limits})
	require.NoError(t, err)
	require.True(t, d.Allowed)
	require.Equal(t, meter.DecisionReasonFailOpen, d.Reason)
	st := m.Stats()
	require.Equal(t, int64(1), st.FailOpenAllowed)
	require.Equal(t, billing.NanoUSD(300), st.FailOpenOvershoot)
	sw.SetDown(false)
}

// After Redis lost a tenant's counters, a replica must not lease again before every
// live peer holding budget of the tenant has put it back, however late that peer
// notices the loss (a starved process can miss any fixed wait). Replica A below
// has no flush loop: it notices only when the test flushes it.
func TestLeaseMeterRecoveryWaitsForEveryLiveHolder(t *testing.T) {
	t.Parallel()
	client := testredis.Cluster(t)
	prefix := testredis.Prefix(t)
	clock := metertest.NewClock()
	ctx := t.Context()
	limits := []meter.Limit{{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 1_000, Hard: true}}
	peers := meter.NewMemoryPeers()
	rc := meter.RedisConfig{KeyPrefix: prefix}
	starved := meter.NewLeaseMeter(testLogger(t), meter.NewRedisMeter(testLogger(t), client, clock.Now, rc), clock.Now,
		meter.LeaseConfig{InstanceID: "aaaa", Peers: peers})
	b := newLeaseMeterWith(t, client, clock.Now, rc, meter.LeaseConfig{InstanceID: "bbbb", Peers: peers})
	reserve := func(m meter.Meter, id string, amount billing.NanoUSD) meter.Decision {
		d, err := m.Reserve(ctx, meter.ReserveInput{TenantID: "acme", RequestID: id, Amount: amount, Limits: limits})
		require.NoError(t, err)
		return d
	}
	// Given replica A holds 600 in flight (its lease covers it),
	require.True(t, reserve(starved, "a1", 600).Allowed)
	holders, err := peers.Holders(ctx, "acme")
	require.NoError(t, err)
	require.Equal(t, []string{"aaaa"}, holders)
	// when Redis loses the tenant's counters and replica B serves next,
	loseTenant(t, client, prefix)("acme")
	got := make(chan meter.Decision, 1)
	go func() { got <- reserve(b, "b1", 500) }()
	// then B waits for A, and so does B's next request, started while B's
	// recovery is under way (it must not lease in the new epoch meanwhile),
	time.Sleep(100 * time.Millisecond)
	next := make(chan meter.Decision, 1)
	go func() { next <- reserve(b, "b1x", 500) }()
	select {
	case d := <-got:
		t.Fatalf("replica B decided before replica A put its lease back: %+v", d)
	case d := <-next:
		t.Fatalf("replica B's next request decided before replica A put its lease back: %+v", d)
	case <-time.After(300 * time.Millisecond):
	}
	// and once A notices the loss and puts its 600 back, B is refused: 600 + 500 > 1,000.
	require.NoError(t, starved.Flush(ctx))
	for _, ch := range []chan meter.Decision{got, next} {
		select {
		case d := <-ch:
			require.False(t, d.Allowed, "B leased budget that A holds")
			require.Equal(t, meter.DecisionReasonBudgetExceeded, d.Reason)
		case <-time.After(10 * time.Second):
			t.Fatal("replica B still waits after replica A recovered")
		}
	}
	require.True(t, reserve(b, "b2", 400).Allowed)
	require.False(t, reserve(b, "b3", 1).Allowed)
}

// A holder that died does not keep a recovery waiting: once it is no longer live,
// the recovering replica goes on with what is durable.
func TestLeaseMeterRecoveryDoesNotWaitForDeadHolder(t *testing.T) {
	t.Parallel()
	client := testredis.Cluster(t)
	prefix := testredis.Prefix(t)
	clock := metertest.NewClock()
	ctx := t.Context()
	limits := []meter.Limit{{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 1_000, Hard: true}}
	peers := meter.NewMemoryPeers()
	rc := meter.RedisConfig{KeyPrefix: prefix}
	dead := meter.NewLeaseMeter(testLogger(t), meter.NewRedisMeter(testLogger(t), client, clock.Now, rc), clock.Now,
		meter.LeaseConfig{InstanceID: "dddd", Peers: peers})
	b := newLeaseMeterWith(t, client, clock.Now, rc, meter.LeaseConfig{InstanceID: "bbbb", Peers: peers})
	d, err := dead.Reserve(ctx, meter.ReserveInput{TenantID: "acme", RequestID: "d1", Amount: 100, Limits: limits})
	require.NoError(t, err)
	require.True(t, d.Allowed)
	loseTenant(t, client, prefix)("acme")
	got := make(chan meter.Decision, 1)
	go func() {
		d, err := b.Reserve(ctx, meter.ReserveInput{TenantID: "acme", RequestID: "b1", Amount: 100, Limits: limits})
		require.NoError(t, err)
		got <- d
	}()
	select {
	case d := <-got:
		t.Fatalf("replica B decided while the holder was still live: %+v", d)
	case <-time.After(200 * time.Millisecond):
	}
	peers.Kill("dddd")
	select {
	case d := <-got:
		require.True(t, d.Allowed, "%+v", d.Refusal)
	case <-time.After(10 * time.Second):
		t.Fatal("replica B waits for a dead holder")
	}
}

// An instance that no longer holds anything of a tenant drops its holder record,
// and a graceful stop removes the instance.
func TestLeaseMeterLeavesPeerRecord(t *testing.T) {
	t.Parallel()
	client := testredis.Cluster(t)
	clock := metertest.NewClock()
	ctx := t.Context()
	limits := []meter.Limit{{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 1_000, Hard: true}}
	peers := meter.NewMemoryPeers()
	m := meter.NewLeaseMeter(testLogger(t), meter.NewRedisMeter(testLogger(t), client, clock.Now, meter.RedisConfig{KeyPrefix: testredis.Prefix(t)}), clock.Now,
		meter.LeaseConfig{InstanceID: "cccc", IdleReturn: time.Second, Peers: peers})
	d, err := m.Reserve(ctx, meter.ReserveInput{TenantID: "acme", RequestID: "r1", Amount: 100, Limits: limits})
	require.NoError(t, err)
	require.True(t, d.Allowed)
	_, err = m.Settle(ctx, meter.SettleInput{TenantID: "acme", RequestID: "r1", Actual: 100})
	require.NoError(t, err)
	holders := func() []string { h, err := peers.Holders(ctx, "acme"); require.NoError(t, err); return h }
	require.Equal(t, []string{"cccc"}, holders())
	// Idle: the first flush returns the lease, a later one forgets the entry and the record.
	clock.Advance(2 * time.Second)
	require.NoError(t, m.Flush(ctx))
	require.Equal(t, []string{"cccc"}, holders(), "the record stays while a lease entry exists")
	clock.Advance(2 * time.Second)
	require.NoError(t, m.Flush(ctx))
	require.Empty(t, holders())
	// A new lease records it again; a graceful stop removes the instance.
	d, err = m.Reserve(ctx, meter.ReserveInput{TenantID: "acme", RequestID: "r2", Amount: 100, Limits: limits})
	require.NoError(t, err)
	require.True(t, d.Allowed)
	require.Equal(t, []string{"cccc"}, holders())
	_, err = m.Release(ctx, meter.ReleaseInput{TenantID: "acme", RequestID: "r2"})
	require.NoError(t, err)
	require.NoError(t, m.ReturnLeases(ctx))
	require.Empty(t, holders())
}
