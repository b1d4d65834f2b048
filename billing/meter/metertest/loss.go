package metertest

import (
	"context"
	"sync"
	"testing"
	"time"

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
		require.Greater(t, ledger.Reads(), reads, "the loss is recovered from the ledger")
		// (A leasing meter refuses as unavailable until its recovery's fence ends.)
		pastFence(t, clock, m)
		d = reserve(t, m, "over-after-fence", 250)
		require.False(t, d.Allowed, "a reservation after the loss must not start from $0")
		require.Equal(t, meter.DecisionReasonBudgetExceeded, d.Reason)
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
		require.True(t, reserve(t, b, "b1", 400).Allowed)
		flushed(t, a, b)
		// when the store loses the tenant's counters and each replica serves again,
		lose(tenant)
		d := reserve(t, b, "b2", 1)
		if d.Allowed {
			_, err := b.Release(t.Context(), meter.ReleaseInput{TenantID: tenant, RequestID: "b2"})
			require.NoError(t, err)
		} else {
			require.Equal(t, meter.DecisionReasonMeterUnavailable, d.Reason, "a leasing meter's recovery fences the tenant")
		}
		pastFence(t, clock, a, b)
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

// pastFence advances the clock past the fence a leasing meter's recovery sets (one
// LeaseTTL; the suites' leasing meters use at most 30s), in steps that let the meters'
// flushes renew the leases they hold, as their flush loop does in real time.
func pastFence(t *testing.T, clock *Clock, ms ...meter.Meter) {
	t.Helper()
	for range 5 {
		clock.Advance(8 * time.Second)
		flushed(t, ms...)
	}
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

// RunLeaseLoss runs the loss cases of leasing meters (LeaseMeter). The factory's
// instances must not run their flush loop: the test flushes each one itself, and so
// decides when it learns of a loss, as a busy machine or a partition would delay
// its tick. leaseTTL is the instances' LeaseConfig.LeaseTTL; the test advances its
// clock past it.
func RunLeaseLoss(t *testing.T, factory LossFactory, leaseTTL time.Duration) {
	limits := []meter.Limit{{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 1_000, Hard: true}}
	reserve := func(t *testing.T, m meter.Meter, id string, amount billing.NanoUSD) meter.Decision {
		t.Helper()
		d, err := m.Reserve(t.Context(), meter.ReserveInput{TenantID: tenant, RequestID: id, Amount: amount, Limits: limits})
		require.NoError(t, err)
		return d
	}
	settle := func(t *testing.T, m meter.Meter, ledger *Ledger, id string, actual billing.NanoUSD) {
		t.Helper()
		r, err := m.Settle(t.Context(), meter.SettleInput{TenantID: tenant, RequestID: id, Actual: actual})
		require.NoError(t, err)
		require.True(t, r.Settled)
		ledger.Add(actual)
	}

	t.Run("PeerUnawareOfTheLossKeepsSpendingItsLease", func(t *testing.T) {
		t.Parallel()
		clock := NewClock()
		ledger := &Ledger{}
		newM, lose := factory(t, clock.Now, ledger)
		a, b := newM(), newM()
		// Given replica B with 400 in flight on its lease and replica A with 100 spent,
		require.True(t, reserve(t, b, "b1", 400).Allowed)
		require.True(t, reserve(t, a, "a1", 100).Allowed)
		settle(t, a, ledger, "a1", 100)
		flushed(t, a, b)
		// when the store loses the tenant's counters and A notices first, while B has
		// not flushed (nor probed) since,
		lose(tenant)
		var allowed billing.NanoUSD
		var refusals []meter.Decision
		for i := range 20 {
			d := reserve(t, a, "a-during-"+itoa(i), 50)
			if d.Allowed {
				allowed += 50
			} else {
				refusals = append(refusals, d)
			}
		}
		// and B's request, reserved under the lost epoch, settles and reaches the
		// store once B flushes (it recovers in turn and re-registers its lease),
		settle(t, b, ledger, "b1", 400)
		for range 3 {
			flushed(t, a, b)
		}
		// and after a lease TTL both replicas serve again, then together they stay
		// within the budget,
		clock.Advance(leaseTTL + time.Second)
		served := billing.NanoUSD(0)
		for i := range 20 {
			m := a
			if i%2 == 1 {
				m = b
			}
			if reserve(t, m, "after-"+itoa(i), 50).Allowed {
				served += 50
			}
		}
		require.LessOrEqual(t, 100+400+allowed+served, billing.NanoUSD(1_000),
			"A reserved %d during the loss and %d after: B's lease was not counted", allowed, served)
		// then A granted itself nothing B's old lease may still need: it refused as
		// unavailable, for a while, rather than as over budget,
		require.Len(t, refusals, 20)
		for _, d := range refusals {
			require.Equal(t, meter.DecisionReasonMeterUnavailable, d.Reason)
			require.Positive(t, d.Refusal.RetryAfter)
		}
		require.Positive(t, served, "the replicas serve again once the fence ends")
	})
	t.Run("SpendMadeDurableAfterTheRecoveryCounts", func(t *testing.T) {
		t.Parallel()
		clock := NewClock()
		ledger := &Ledger{}
		newM, lose := factory(t, clock.Now, ledger)
		a, b := newM(), newM()
		// Given replica A with 100 spent, and replica B with 600 spent and flushed to
		// the store, whose usage events are not yet durable in the ledger (its spool
		// lags) and which holds no lease left,
		require.True(t, reserve(t, a, "a1", 100).Allowed)
		settle(t, a, ledger, "a1", 100)
		require.True(t, reserve(t, b, "b1", 600).Allowed)
		r, err := b.Settle(t.Context(), meter.SettleInput{TenantID: tenant, RequestID: "b1", Actual: 600})
		require.NoError(t, err)
		require.True(t, r.Settled)
		flushed(t, a, b)
		// when the store loses the tenant's counters, A recovers from a ledger without
		// B's 600, and only then B's spool reaches the ledger,
		lose(tenant)
		d := reserve(t, a, "a-during", 50)
		require.False(t, d.Allowed, "the recovery fences the tenant")
		ledger.Add(600)
		// then once the fence ends A allows at most the 300 left, even before B (which
		// serves nothing meanwhile) ever learns of the loss.
		pastFence(t, clock, a, b)
		var allowed billing.NanoUSD
		for i := range 20 {
			if reserve(t, a, "after-"+itoa(i), 50).Allowed {
				allowed += 50
			}
		}
		require.LessOrEqual(t, allowed, billing.NanoUSD(300), "B's spend that became durable after the recovery was not counted")
		require.Positive(t, allowed)
	})
	t.Run("LeaseExpiredBeforeItsRecoveryGivesUpItsUnusedBudget", func(t *testing.T) {
		t.Parallel()
		clock := NewClock()
		ledger := &Ledger{}
		newM, lose := factory(t, clock.Now, ledger)
		a, b := newM(), newM()
		// Given A with 100 spent and B with 10 in flight on a lease with room to spare,
		require.True(t, reserve(t, a, "a1", 100).Allowed)
		settle(t, a, ledger, "a1", 100)
		require.True(t, reserve(t, b, "b1", 10).Allowed)
		flushed(t, a, b)
		// when the store loses the tenant's counters and B stays cut off for longer
		// than the recovery's fence (so its lease expires), while A spends what it can,
		lose(tenant)
		require.False(t, reserve(t, a, "a-fenced", 50).Allowed)
		clock.Advance(leaseTTL + time.Second)
		var allowedA, allowedB billing.NanoUSD
		for i := range 20 {
			if reserve(t, a, "a-after-"+itoa(i), 50).Allowed {
				allowedA += 50
			}
		}
		// then B, back (its request still in flight), re-registers only what it
		// committed (its 10), not the unused rest of its expired lease, which A may
		// have been granted meanwhile.
		for range 3 {
			flushed(t, a, b)
		}
		for i := range 4 {
			if reserve(t, b, "b-after-"+itoa(i), 20).Allowed {
				allowedB += 20
			}
		}
		settle(t, b, ledger, "b1", 10)
		// (A replica cut off for longer than a lease TTL may overshoot by what it
		// committed from its lease before that, here B's 10; never by more.)
		require.LessOrEqual(t, 100+allowedA+10+allowedB, billing.NanoUSD(1_000+10),
			"A allowed %d after the fence, B %d from its expired lease", allowedA, allowedB)
	})
}
