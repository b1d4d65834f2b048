package meter_test

import (
	"testing"

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
