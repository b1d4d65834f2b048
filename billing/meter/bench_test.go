package meter_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/testredis"
)

// benchmarkReserveSettle measures one request's meter work: Reserve of a worst case
// over tenant/key/member budgets and the key's rate limits, then Settle. It reports
// ns/op, ops/s and the p99 latency of the pair.
func benchmarkReserveSettle(b *testing.B, m meter.Meter) {
	ctx := b.Context()
	limits := []meter.Limit{
		{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 1_000_000 * billing.NanoPerUSD, Hard: true},
		{Scope: meter.ScopeTenant, Period: meter.PeriodDay, Limit: 100_000 * billing.NanoPerUSD, Hard: true},
		{Scope: meter.ScopeKey, ScopeID: "k1", Period: meter.PeriodMonth, Limit: 1_000_000 * billing.NanoPerUSD, Hard: true},
		{Scope: meter.ScopeMember, ScopeID: "u1", Period: meter.PeriodMonth, Limit: 1_000 * billing.NanoPerUSD},
	}
	rate := &meter.RateLimit{KeyID: "k1", RequestsPerMinute: 1 << 40, TokensPerMinute: 1 << 50}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		id := "req-" + itoa(i)
		start := time.Now()
		d, err := m.Reserve(ctx, meter.ReserveInput{TenantID: "bench", RequestID: id, Amount: 5_600_000, Tokens: 3_700, Limits: limits, Rate: rate})
		if err != nil || !d.Allowed {
			b.Fatalf("reserve: %v %+v", err, d.Refusal)
		}
		if _, err := m.Settle(ctx, meter.SettleInput{TenantID: "bench", RequestID: id, Actual: 4_000_000, ActualTokens: 3_500}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	var total time.Duration
	for _, l := range lat {
		total += l
	}
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(len(lat))/total.Seconds(), "ops/s")
}

func BenchmarkReserveSettle(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		benchmarkReserveSettle(b, meter.NewMemoryMeter(testLogger(b), time.Now))
	})
	b.Run("redis_standalone", func(b *testing.B) {
		client := testredis.Standalone(b)
		benchmarkReserveSettle(b, meter.NewRedisMeter(testLogger(b), client, time.Now, meter.RedisConfig{KeyPrefix: testredis.Prefix(b)}))
	})
	b.Run("redis_cluster", func(b *testing.B) {
		client := testredis.Cluster(b)
		benchmarkReserveSettle(b, meter.NewRedisMeter(testLogger(b), client, time.Now, meter.RedisConfig{KeyPrefix: testredis.Prefix(b)}))
	})
	b.Run("lease_cluster", func(b *testing.B) {
		client := testredis.Cluster(b)
		inner := meter.NewRedisMeter(testLogger(b), client, time.Now, meter.RedisConfig{KeyPrefix: testredis.Prefix(b)})
		m := meter.NewLeaseMeter(testLogger(b), inner, time.Now, meter.LeaseConfig{})
		ctx, cancel := context.WithCancel(b.Context())
		var wg sync.WaitGroup
		wg.Go(func() { _ = m.Run(ctx) })
		defer func() { cancel(); wg.Wait() }()
		benchmarkReserveSettle(b, m)
		st := m.Stats()
		b.ReportMetric(float64(st.LocalReserves)/float64(max(1, st.LocalReserves+st.LeaseAcquires)), "local-frac")
	})
}
