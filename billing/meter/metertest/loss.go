package metertest

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/meter"
)

// Ledger stands in for the durable usage ledger in the loss suite: the test adds
// every settled cost, as the gateway appends each usage event, and the meter reads
// the tenant-month total back when it recovers lost counters.
type Ledger struct {
	mu    sync.Mutex
	spent billing.NanoUSD
	reads int
}

// Add records a settled cost.
func (l *Ledger) Add(v billing.NanoUSD) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.spent += v
}

// Reads is how many times a meter read the totals (one per recovery).
func (l *Ledger) Reads() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reads
}

// Totals is the meter's RedisConfig.LedgerTotals: the tenant's month total.
func (l *Ledger) Totals(_ context.Context, tenantID string) ([]meter.ScopeTotal, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reads++
	if tenantID != tenant {
		return nil, nil
	}
	return []meter.ScopeTotal{{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Spent: l.spent}}, nil
}

// LossFactory sets up a counter store that can lose its data, for RunLoss:
// newInstance builds a meter (a replica) whose LedgerTotals is ledger.Totals, and
// lose deletes every key of the tenant from the store, as a FLUSHALL, a restart
// without persistence or a failover that dropped acknowledged writes would.
type LossFactory func(t *testing.T, clock meter.Clock, ledger *Ledger) (newInstance func() meter.Meter, lose func(tenantID string))

// RunLoss runs the loss-detection suite: a store that silently lost a tenant's
// counters is noticed on the tenant's next operation, and the counters come back
// as the ledger's spend plus every live reservation, so hard budgets still hold.
func RunLoss(t *testing.T, factory LossFactory) {
	limits := []meter.Limit{{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 1_000, Hard: true}}
	reserve := func(t *testing.T, m meter.Meter, id string, amount billing.NanoUSD) meter.Decision {
		t.Helper()
		d, err := m.Reserve(t.Context(), meter.ReserveInput{TenantID: tenant, RequestID: id, Amount: amount, Limits: limits})
		require.NoError(t, err)
		return d
	}
	settle := func(t *testing.T, m meter.Meter, ledger *Ledger, id string, actual billing.NanoUSD) meter.SettleResult {
		t.Helper()
		r, err := m.Settle(t.Context(), meter.SettleInput{TenantID: tenant, RequestID: id, Actual: actual})
		require.NoError(t, err)
		ledger.Add(actual)
		return r
	}

	t.Run("LossDetectedOnNextReserve", func(t *testing.T) {
		t.Parallel()
		clock := NewClock()
		ledger := &Ledger{}
		newM, lose := factory(t, clock.Now, ledger)
		m := newM()
		// Given 500 spent (in the ledger) and 300 reserved by a request in flight,
		require.True(t, reserve(t, m, "s1", 100).Allowed)
		settle(t, m, ledger, "s1", 100)
		require.True(t, reserve(t, m, "inflight", 300).Allowed)
		require.True(t, reserve(t, m, "s2", 400).Allowed)
		settle(t, m, ledger, "s2", 400)
		flushed(t, m)
		reads := ledger.Reads()
		// when the store loses every counter of the tenant,
		lose(tenant)
		// then the next reservation notices, recovers from the ledger and the live
		// reservation, and the budget holds: 500 + 300 + 250 > 1,000.
		d := reserve(t, m, "over", 250)
		require.False(t, d.Allowed, "a reservation after the loss must not start from $0")
		require.Equal(t, meter.DecisionReasonBudgetExceeded, d.Reason)
		require.Greater(t, ledger.Reads(), reads, "the loss is recovered from the ledger")
		require.True(t, reserve(t, m, "fits", 200).Allowed)
		// And the request in flight settles normally against its restored reservation.
		r := settle(t, m, ledger, "inflight", 300)
		require.True(t, r.Settled)
		require.False(t, reserve(t, m, "one-more", 1).Allowed)
		u, err := m.Usage(t.Context(), tenant, limits)
		require.NoError(t, err)
		require.GreaterOrEqual(t, u[0].Spent, billing.NanoUSD(800), "spent comes back from the ledger, never lower")
	})

	t.Run("LossSeenByEveryInstance", func(t *testing.T) {
		t.Parallel()
		clock := NewClock()
		ledger := &Ledger{}
		newM, lose := factory(t, clock.Now, ledger)
		a, b := newM(), newM()
		// Given two replicas with 200 spent and 300 + 400 in flight,
		require.True(t, reserve(t, a, "s1", 200).Allowed)
		settle(t, a, ledger, "s1", 200)
		require.True(t, reserve(t, a, "a1", 300).Allowed)
		d := reserve(t, b, "b1", 400)
		require.True(t, d.Allowed, "%s %+v", d.Reason, d.Refusal)
		flushed(t, a, b)
		// when the store loses the tenant's counters and each replica serves again,
		lose(tenant)
		d = reserve(t, b, "b2", 1)
		require.True(t, d.Allowed, "%s %+v", d.Reason, d.Refusal)
		_, err := b.Release(t.Context(), meter.ReleaseInput{TenantID: tenant, RequestID: "b2"})
		require.NoError(t, err)
		// then each one counts its own reservations again (200 + 300 + 400 of 1,000),
		// and together they allow at most the 100 left, never a fresh budget.
		var allowed billing.NanoUSD
		for i := range 40 {
			m := a
			if i%2 == 1 {
				m = b
			}
			if reserve(t, m, "x"+itoa(i), 50).Allowed {
				allowed += 50
			}
		}
		require.LessOrEqual(t, allowed, billing.NanoUSD(100))
	})
}

// flushed sends the meters' local spending to the store (LeaseMeter), so that the
// store holds what the test says it holds before it loses it.
func flushed(t *testing.T, ms ...meter.Meter) {
	t.Helper()
	for _, m := range ms {
		if f, ok := m.(interface{ Flush(context.Context) error }); ok {
			require.NoError(t, f.Flush(t.Context()))
		}
	}
}
