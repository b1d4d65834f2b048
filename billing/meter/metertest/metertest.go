// Package metertest is the conformance suite every meter.Meter implementation runs,
// so the in-process, Redis (standalone and Cluster) and leasing meters keep the same
// semantics (River's riverdrivertest pattern).
package metertest

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// Clock is a settable clock for tests, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at 2026-11-26 12:00:30 UTC.
func NewClock() *Clock {
	return &Clock{now: time.Date(2026, 11, 26, 12, 0, 30, 0, time.UTC)}
}

// Now returns the clock's time; pass it as the meter's meter.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Factory sets up one shared counter store for a test and returns a constructor of
// meter instances over it. Instances from one Factory call share budgets, as API
// replicas do (an in-process implementation may return the same instance each time).
// The Factory registers its own cleanup with t.
type Factory func(t *testing.T, clock meter.Clock) (newInstance func() meter.Meter)

const tenant = "acme"

type testBundle struct {
	clock *Clock
	m     meter.Meter
	newM  func() meter.Meter
}

// RunConformance runs the suite against the implementation that factory builds.
func RunConformance(t *testing.T, factory Factory) {
	setup := func(t *testing.T) *testBundle {
		t.Helper()
		clock := NewClock()
		newM := factory(t, clock.Now)
		return &testBundle{clock: clock, m: newM(), newM: newM}
	}
	monthHard := func(limit billing.NanoUSD) meter.Limit {
		return meter.Limit{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: limit, Hard: true}
	}

	t.Run("ReserveSettleArithmetic", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		limits := []meter.Limit{
			monthHard(1_000_000),
			{Scope: meter.ScopeKey, ScopeID: "key1", Period: meter.PeriodDay, Limit: 500_000},
		}
		// Given a reservation of 300,000 nano-USD on two scopes,
		d, err := b.m.Reserve(ctx, meter.ReserveInput{TenantID: tenant, RequestID: "r1", Amount: 300_000, Limits: limits})
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.Equal(t, meter.DecisionReasonAllowed, d.Reason)
		require.Nil(t, d.Refusal)
		require.Len(t, d.Usage, 2)
		require.Equal(t, billing.NanoUSD(300_000), d.Usage[0].Reserved)
		require.Equal(t, "2026-11", d.Usage[0].PeriodKey)
		require.Equal(t, "2026-11-26", d.Usage[1].PeriodKey)
		require.EqualValues(t, 3000, d.Usage[0].UsedBP())
		u, err := b.m.Usage(ctx, tenant, limits)
		require.NoError(t, err)
		for _, s := range u {
			require.Equal(t, billing.NanoUSD(0), s.Spent)
			require.Equal(t, billing.NanoUSD(300_000), s.Reserved)
		}
		// when it settles to 200,000,
		r, err := b.m.Settle(ctx, meter.SettleInput{TenantID: tenant, RequestID: "r1", Actual: 200_000})
		require.NoError(t, err)
		require.Equal(t, meter.SettleResult{Settled: true}, r)
		// then both scopes show 200,000 spent and nothing reserved.
		u, err = b.m.Usage(ctx, tenant, limits)
		require.NoError(t, err)
		for _, s := range u {
			require.Equal(t, billing.NanoUSD(200_000), s.Spent)
			require.Equal(t, billing.NanoUSD(0), s.Reserved)
		}
		require.EqualValues(t, 4000, u[1].UsedBP())
	})

	t.Run("SettleIsIdempotent", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		limits := []meter.Limit{monthHard(1_000_000)}
		_, err := b.m.Reserve(ctx, meter.ReserveInput{TenantID: tenant, RequestID: "r1", Amount: 100, Limits: limits})
		require.NoError(t, err)
		r, err := b.m.Settle(ctx, meter.SettleInput{TenantID: tenant, RequestID: "r1", Actual: 70})
		require.NoError(t, err)
		require.True(t, r.Settled)
		for range 3 {
			r, err = b.m.Settle(ctx, meter.SettleInput{TenantID: tenant, RequestID: "r1", Actual: 90})
			require.NoError(t, err)
			require.False(t, r.Settled)
			r, err = b.m.Release(ctx, meter.ReleaseInput{TenantID: tenant, RequestID: "r1"})
			require.NoError(t, err)
			require.False(t, r.Settled)
		}
		r, err = b.m.Settle(ctx, meter.SettleInput{TenantID: tenant, RequestID: "unknown", Actual: 90})
		require.NoError(t, err)
		require.False(t, r.Settled)
		u, err := b.m.Usage(ctx, tenant, limits)
		require.NoError(t, err)
		require.Equal(t, billing.NanoUSD(70), u[0].Spent)
		require.Equal(t, billing.NanoUSD(0), u[0].Reserved)
	})

	t.Run("DuplicateReserveCountsOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		limits := []meter.Limit{monthHard(1_000)}
		in := meter.ReserveInput{TenantID: tenant, RequestID: "r1", Amount: 600, Limits: limits}
		d, err := b.m.Reserve(ctx, in)
		require.NoError(t, err)
		require.False(t, d.Duplicate)
		d, err = b.m.Reserve(ctx, in)
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.True(t, d.Duplicate)
		u, err := b.m.Usage(ctx, tenant, limits)
		require.NoError(t, err)
		require.Equal(t, billing.NanoUSD(600), u[0].Reserved)
	})

	t.Run("ReleaseReturnsReservation", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		limits := []meter.Limit{monthHard(1_000)}
		rate := &meter.RateLimit{KeyID: "key1", RequestsPerMinute: 1}
		_, err := b.m.Reserve(ctx, meter.ReserveInput{TenantID: tenant, RequestID: "r1", Amount: 900, Limits: limits, Rate: rate})
		require.NoError(t, err)
		r, err := b.m.Release(ctx, meter.ReleaseInput{TenantID: tenant, RequestID: "r1"})
		require.NoError(t, err)
		require.True(t, r.Settled)
		u, err := b.m.Usage(ctx, tenant, limits)
		require.NoError(t, err)
		require.Equal(t, billing.NanoUSD(0), u[0].Spent)
		require.Equal(t, billing.NanoUSD(0), u[0].Reserved)
		// The released request freed its rate slot and its budget.
		d, err := b.m.Reserve(ctx, meter.ReserveInput{TenantID: tenant, RequestID: "r2", Amount: 900, Limits: limits, Rate: rate})
		require.NoError(t, err)
		require.True(t, d.Allowed)
	})

	t.Run("CrashedReservationExpires", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		limits := []meter.Limit{monthHard(1_000)}
		// Given a request that reserves 800 and crashes (never settles),
		_, err := b.m.Reserve(ctx, meter.ReserveInput{TenantID: tenant, RequestID: "crashed", Amount: 800, Limits: limits, TTL: time.Minute})
		require.NoError(t, err)
		d, err := b.m.Reserve(ctx, meter.ReserveInput{TenantID: tenant, RequestID: "r2", Amount: 800, Limits: limits})
		require.NoError(t, err)
		require.False(t, d.Allowed)
		// when its TTL passes,
		b.clock.Advance(2 * time.Minute)
		// then the reservation is returned and the budget is usable again.
		u, err := b.m.Usage(ctx, tenant, limits)
		require.NoError(t, err)
		require.Equal(t, billing.NanoUSD(0), u[0].Reserved)
		d, err = b.m.Reserve(ctx, meter.ReserveInput{TenantID: tenant, RequestID: "r2", Amount: 800, Limits: limits, TTL: time.Minute})
		require.NoError(t, err)
		require.True(t, d.Allowed, "%+v", d.Refusal)
		require.NoError(t, releaseAll(t, b.m, "r2"))
		// A late settle of the expired request still charges its actual cost, once.
		r, err := b.m.Settle(ctx, meter.SettleInput{TenantID: tenant, RequestID: "crashed", Actual: 300})
		require.NoError(t, err)
		require.Equal(t, meter.SettleResult{Settled: true, Late: true}, r)
		r, err = b.m.Settle(ctx, meter.SettleInput{TenantID: tenant, RequestID: "crashed", Actual: 300})
		require.NoError(t, err)
		require.False(t, r.Settled)
		u, err = b.m.Usage(ctx, tenant, limits)
		require.NoError(t, err)
		require.Equal(t, billing.NanoUSD(300), u[0].Spent)
		require.Equal(t, billing.NanoUSD(0), u[0].Reserved)
	})

	t.Run("HardLimitRefuses", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		limits := []meter.Limit{monthHard(1_000)}
		d, err := b.m.Reserve(ctx, meter.ReserveInput{TenantID: tenant, RequestID: "r1", Amount: 600, Limits: limits})
		require.NoError(t, err)
		require.True(t, d.Allowed)
		d, err = b.m.Reserve(ctx, meter.ReserveInput{TenantID: tenant, RequestID: "r2", Amount: 500, Limits: limits})
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.Equal(t, meter.DecisionReasonBudgetExceeded, d.Reason)
		require.NotNil(t, d.Refusal)
		require.Equal(t, limits[0], d.Refusal.Limit)
		require.Equal(t, int64(1_000), d.Refusal.Max)
		require.Equal(t, int64(500), d.Refusal.Requested)
		require.GreaterOrEqual(t, d.Refusal.Spent+d.Refusal.Reserved, int64(600))
		d, err = b.m.Reserve(ctx, meter.ReserveInput{TenantID: tenant, RequestID: "r3", Amount: 400, Limits: limits})
		require.NoError(t, err)
		require.True(t, d.Allowed, "exactly the limit is allowed: %+v", d.Refusal)
		// A zero hard limit refuses any cost.
		zero := []meter.Limit{{Scope: meter.ScopeKey, ScopeID: "frozen", Period: meter.PeriodDay, Hard: true}}
		d, err = b.m.Reserve(ctx, meter.ReserveInput{TenantID: tenant, RequestID: "r4", Amount: 1, Limits: zero})
		require.NoError(t, err)
		require.False(t, d.Allowed)
	})

	t.Run("SoftLimitReportsButNeverRefuses", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		limits := []meter.Limit{{Scope: meter.ScopeMember, ScopeID: "u1", Period: meter.PeriodMonth, Limit: 100}}
		d, err := b.m.Reserve(ctx, meter.ReserveInput{TenantID: tenant, RequestID: "r1", Amount: 80, Limits: limits})
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.False(t, d.SoftExceeded())
		d, err = b.m.Reserve(ctx, meter.ReserveInput{TenantID: tenant, RequestID: "r2", Amount: 70, Limits: limits})
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.True(t, d.SoftExceeded())
		require.EqualValues(t, 15000, d.Usage[0].UsedBP())
		require.NoError(t, settleAll(t, b.m, 70, "r1", "r2"))
		u, err := b.m.Usage(ctx, tenant, limits)
		require.NoError(t, err)
		require.Equal(t, billing.NanoUSD(140), u[0].Spent)
		require.True(t, u[0].Exceeded())
	})

	t.Run("AllOrNothingAcrossScopes", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		limits := []meter.Limit{
			monthHard(1_000_000),
			{Scope: meter.ScopeMember, ScopeID: "u1", Period: meter.PeriodDay, Limit: 1_000, Hard: true},
			{Scope: meter.ScopeKey, ScopeID: "k1", Period: meter.PeriodDay, Limit: 100, Hard: true},
		}
		d, err := b.m.Reserve(ctx, meter.ReserveInput{TenantID: tenant, RequestID: "r1", Amount: 150, Limits: limits})
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.Equal(t, limits[2], d.Refusal.Limit)
		u, err := b.m.Usage(ctx, tenant, limits)
		require.NoError(t, err)
		for _, s := range u {
			require.Equal(t, billing.NanoUSD(0), s.Spent+s.Reserved, "scope %s touched", s.Limit.Scope)
		}
	})

	t.Run("PeriodsRollOverInUTC", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		limits := []meter.Limit{
			monthHard(1_000),
			{Scope: meter.ScopeTenant, Period: meter.PeriodDay, Limit: 500, Hard: true},
		}
		_, err := b.m.Reserve(ctx, meter.ReserveInput{TenantID: tenant, RequestID: "r1", Amount: 400, Limits: limits})
		require.NoError(t, err)
		require.NoError(t, settleAll(t, b.m, 400, "r1"))
		b.clock.Advance(24 * time.Hour)
		u, err := b.m.Usage(ctx, tenant, limits)
		require.NoError(t, err)
		require.Equal(t, "2026-11-27", u[1].PeriodKey)
		require.Equal(t, billing.NanoUSD(400), u[0].Spent)
		require.Equal(t, billing.NanoUSD(0), u[1].Spent)
	})

	t.Run("RateLimits", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		rate := &meter.RateLimit{KeyID: "k1", RequestsPerMinute: 3, TokensPerMinute: 1_000}
		reserve := func(id string, tokens int64) meter.Decision {
			d, err := b.m.Reserve(ctx, meter.ReserveInput{TenantID: tenant, RequestID: id, Tokens: tokens, Rate: rate})
			require.NoError(t, err)
			return d
		}
		require.True(t, reserve("r1", 600).Allowed)
		d := reserve("r2", 600)
		require.False(t, d.Allowed)
		require.Equal(t, meter.DecisionReasonRateLimited, d.Reason)
		require.Equal(t, meter.RateKindTokens, d.Refusal.Rate)
		require.Equal(t, 30*time.Second, d.Refusal.RetryAfter)
		// Settling to fewer actual tokens frees the difference.
		_, err := b.m.Settle(ctx, meter.SettleInput{TenantID: tenant, RequestID: "r1", ActualTokens: 100})
		require.NoError(t, err)
		require.True(t, reserve("r2", 600).Allowed)
		require.True(t, reserve("r3", 10).Allowed)
		d = reserve("r4", 10)
		require.False(t, d.Allowed)
		require.Equal(t, meter.RateKindRequests, d.Refusal.Rate)
		require.Equal(t, int64(3), d.Refusal.Max)
		// The next minute is a fresh window.
		b.clock.Advance(time.Minute)
		require.True(t, reserve("r4", 10).Allowed)
	})

	t.Run("RebuildAndDrift", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		limits := []meter.Limit{monthHard(1_000_000), {Scope: meter.ScopeKey, ScopeID: "k1", Period: meter.PeriodDay, Limit: 1_000}}
		_, err := b.m.Reserve(ctx, meter.ReserveInput{TenantID: tenant, RequestID: "inflight", Amount: 50, Limits: limits})
		require.NoError(t, err)
		totals := []meter.ScopeTotal{
			{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Spent: 12_345},
			{Scope: meter.ScopeKey, ScopeID: "k1", Period: meter.PeriodDay, Spent: 345},
		}
		drift, err := meter.Drift(ctx, b.m, tenant, totals)
		require.NoError(t, err)
		require.Len(t, drift, 2)
		require.Equal(t, billing.NanoUSD(-12_345), drift[0].Delta)
		require.NoError(t, b.m.Rebuild(ctx, tenant, totals))
		u, err := b.m.Usage(ctx, tenant, limits)
		require.NoError(t, err)
		require.Equal(t, billing.NanoUSD(12_345), u[0].Spent)
		require.Equal(t, billing.NanoUSD(50), u[0].Reserved, "in-flight reservations survive a rebuild")
		require.Equal(t, billing.NanoUSD(345), u[1].Spent)
		drift, err = meter.Drift(ctx, b.m, tenant, totals)
		require.NoError(t, err)
		for _, d := range drift {
			require.Zero(t, d.Delta)
		}
		// A rebuild never lowers a counter: spending above the ledger may still be
		// on its way to it.
		lower := []meter.ScopeTotal{{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Spent: 100}}
		require.NoError(t, b.m.Rebuild(ctx, tenant, lower))
		u, err = b.m.Usage(ctx, tenant, limits)
		require.NoError(t, err)
		require.Equal(t, billing.NanoUSD(12_345), u[0].Spent)
	})

	t.Run("InvalidInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		ctx := t.Context()
		bad := []meter.ReserveInput{
			{TenantID: "", RequestID: "r1"},
			{TenantID: "a}b", RequestID: "r1"},
			{TenantID: tenant, RequestID: "r 1"},
			{TenantID: tenant, RequestID: "r1", Amount: -1},
			{TenantID: tenant, RequestID: "r1", Limits: []meter.Limit{{Scope: "org", Period: meter.PeriodDay}}},
			{TenantID: tenant, RequestID: "r1", Limits: []meter.Limit{monthHard(1), monthHard(2)}},
			{TenantID: tenant, RequestID: "r1", Rate: &meter.RateLimit{KeyID: "k1", RequestsPerMinute: -1}},
		}
		for _, in := range bad {
			_, err := b.m.Reserve(ctx, in)
			require.ErrorIs(t, err, errkind.Invalid, "%+v", in)
		}
		_, err := b.m.Settle(ctx, meter.SettleInput{TenantID: tenant, RequestID: "r1", Actual: -5})
		require.ErrorIs(t, err, errkind.Invalid)
	})

	t.Run("NoOvershootUnderConcurrency", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		testNoOvershoot(t, b.m, b.newM())
	})
}

// OvershootLimit is the hard monthly budget of the overshoot test: $0.05.
const OvershootLimit billing.NanoUSD = 50_000_000

// testNoOvershoot runs 500 reservations of random worst-case amounts from 50
// goroutines over the given instances (replicas), settling each to a random actual at
// most its reservation, and checks the settled total never passes $0.05.
func testNoOvershoot(t *testing.T, instances ...meter.Meter) {
	ctx := t.Context()
	limits := []meter.Limit{
		{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: OvershootLimit, Hard: true},
		{Scope: meter.ScopeKey, ScopeID: "k1", Period: meter.PeriodDay, Limit: OvershootLimit / 2},
	}
	var settled, allowed, refused atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for g := range 50 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 42))
			m := instances[g%len(instances)]
			for i := range 10 {
				id := "g" + itoa(g) + "-" + itoa(i)
				worst := billing.NanoUSD(rng.Int64N(1_000_000) + 1) // up to $0.001
				d, err := m.Reserve(ctx, meter.ReserveInput{TenantID: tenant, RequestID: id, Amount: worst, Limits: limits})
				if err != nil {
					errs <- err
					return
				}
				if !d.Allowed {
					refused.Add(1)
					continue
				}
				allowed.Add(1)
				actual := billing.NanoUSD(rng.Int64N(int64(worst) + 1))
				r, err := m.Settle(ctx, meter.SettleInput{TenantID: tenant, RequestID: id, Actual: actual})
				if err != nil {
					errs <- err
					return
				}
				if r.Settled {
					settled.Add(int64(actual))
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.LessOrEqual(t, settled.Load(), int64(OvershootLimit), "settled %d nano-USD over a %d limit", settled.Load(), OvershootLimit)
	require.Positive(t, allowed.Load())
	t.Logf("allowed %d, refused %d, settled %s USD of %s", allowed.Load(), refused.Load(),
		billing.NanoUSD(settled.Load()).USDString(), OvershootLimit.USDString())
	u, err := instances[0].Usage(ctx, tenant, limits)
	require.NoError(t, err)
	require.LessOrEqual(t, u[0].Spent+u[0].Reserved, OvershootLimit)
}

// NoOvershoot runs the overshoot scenario over instances sharing one counter store,
// for implementation-specific tests (two LeaseMeter replicas over one cluster).
func NoOvershoot(t *testing.T, instances ...meter.Meter) { testNoOvershoot(t, instances...) }

func settleAll(t *testing.T, m meter.Meter, actual billing.NanoUSD, ids ...string) error {
	for _, id := range ids {
		if _, err := m.Settle(t.Context(), meter.SettleInput{TenantID: tenant, RequestID: id, Actual: actual}); err != nil {
			return err
		}
	}
	return nil
}

func releaseAll(t *testing.T, m meter.Meter, ids ...string) error {
	for _, id := range ids {
		if _, err := m.Release(t.Context(), meter.ReleaseInput{TenantID: tenant, RequestID: id}); err != nil {
			return err
		}
	}
	return nil
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
