package meter_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/billing/meter/metertest"
	"github.com/tollgate-dev/tollgate/internal/testredis"
)

func TestRedisMeterClusterConformance(t *testing.T) {
	t.Parallel()
	metertest.RunConformance(t, func(t *testing.T, clock meter.Clock) func() meter.Meter {
		client := testredis.Cluster(t)
		cfg := meter.RedisConfig{KeyPrefix: testredis.Prefix(t)}
		return func() meter.Meter { return meter.NewRedisMeter(testLogger(t), client, clock, cfg) }
	})
}

func TestRedisMeterStandaloneConformance(t *testing.T) {
	t.Parallel()
	metertest.RunConformance(t, func(t *testing.T, clock meter.Clock) func() meter.Meter {
		client := testredis.Standalone(t)
		cfg := meter.RedisConfig{KeyPrefix: testredis.Prefix(t)}
		return func() meter.Meter { return meter.NewRedisMeter(testLogger(t), client, clock, cfg) }
	})
}

// After an outage the meter says so once, so the caller can rebuild the counters
// from the ledger (a failover may have dropped the newest writes).
func TestRedisMeterReportsReconnect(t *testing.T) {
	t.Parallel()
	client, sw := testredis.ClusterWithSwitch(t)
	reconnected := make(chan struct{}, 4)
	m := meter.NewRedisMeter(testLogger(t), client, time.Now, meter.RedisConfig{KeyPrefix: testredis.Prefix(t),
		OnReconnect: func() { reconnected <- struct{}{} }})
	limits := []meter.Limit{{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 1000}}

	_, err := m.Usage(t.Context(), "tenant-a", limits)
	require.NoError(t, err)
	sw.SetDown(true)
	_, err = m.Usage(t.Context(), "tenant-a", limits)
	require.Error(t, err)
	require.Equal(t, meter.HealthStateUnavailable, m.Health(t.Context()).State)
	sw.SetDown(false)
	require.Eventually(t, func() bool {
		_, err := m.Usage(t.Context(), "tenant-a", limits)
		return err == nil
	}, 10*time.Second, 20*time.Millisecond)
	select {
	case <-reconnected:
	case <-time.After(5 * time.Second):
		t.Fatal("OnReconnect was not called after Redis came back")
	}
	_, err = m.Usage(t.Context(), "tenant-a", limits)
	require.NoError(t, err)
	select {
	case <-reconnected:
		t.Fatal("OnReconnect is called once per outage")
	case <-time.After(100 * time.Millisecond):
	}
}

// loseTenant deletes every key of the tenant under prefix, as a FLUSHALL or a
// failover that dropped writes would (only this test's own keys).
func loseTenant(t *testing.T, client redis.UniversalClient, prefix string) func(string) {
	return func(tenantID string) {
		t.Helper()
		pattern := prefix + "{t:" + tenantID + "}*"
		del := func(ctx context.Context, c *redis.Client) error {
			keys, err := c.Keys(ctx, pattern).Result()
			if err != nil || len(keys) == 0 {
				return err
			}
			return c.Del(ctx, keys...).Err()
		}
		switch c := client.(type) {
		case *redis.ClusterClient:
			require.NoError(t, c.ForEachMaster(t.Context(), del))
		case *redis.Client:
			require.NoError(t, del(t.Context(), c))
		}
	}
}

func TestRedisMeterClusterLoss(t *testing.T) {
	t.Parallel()
	metertest.RunLoss(t, func(t *testing.T, clock meter.Clock, ledger *metertest.Ledger) (func() meter.Meter, func(string)) {
		client := testredis.Cluster(t)
		cfg := meter.RedisConfig{KeyPrefix: testredis.Prefix(t), LedgerTotals: ledger.Totals}
		return func() meter.Meter { return meter.NewRedisMeter(testLogger(t), client, clock, cfg) }, loseTenant(t, client, cfg.KeyPrefix)
	})
}

func TestRedisMeterStandaloneLoss(t *testing.T) {
	t.Parallel()
	metertest.RunLoss(t, func(t *testing.T, clock meter.Clock, ledger *metertest.Ledger) (func() meter.Meter, func(string)) {
		client := testredis.Standalone(t)
		cfg := meter.RedisConfig{KeyPrefix: testredis.Prefix(t), LedgerTotals: ledger.Totals}
		return func() meter.Meter { return meter.NewRedisMeter(testLogger(t), client, clock, cfg) }, loseTenant(t, client, cfg.KeyPrefix)
	})
}

func TestLeaseMeterClusterLoss(t *testing.T) {
	t.Parallel()
	metertest.RunLoss(t, func(t *testing.T, clock meter.Clock, ledger *metertest.Ledger) (func() meter.Meter, func(string)) {
		client := testredis.Cluster(t)
		prefix := testredis.Prefix(t)
		peers := meter.NewMemoryPeers()
		return func() meter.Meter {
			return newLeaseMeterWith(t, client, clock, meter.RedisConfig{KeyPrefix: prefix, LedgerTotals: ledger.Totals}, meter.LeaseConfig{Peers: peers})
		}, loseTenant(t, client, prefix)
	})
}
