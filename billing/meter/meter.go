// Package meter holds the budget counters on Tollgate's request path: every request
// reserves its worst-case cost against all of its tenant's budget scopes before it is
// forwarded, and settles to the actual cost afterwards (DESIGN.md invariant 3).
//
// Three implementations share one Meter interface and one conformance suite
// (meter/metertest): RedisMeter (Redis Cluster or standalone, one Lua script per
// operation), MemoryMeter (self-host, no Redis) and LeaseMeter (a wrapper over
// RedisMeter that reserves against budget chunks leased from Redis, so most requests
// make no Redis round trip and hard budgets hold while Redis is unreachable).
//
// All amounts are billing.NanoUSD (1 USD = 1e9 nano-USD); token counts are tokens.
package meter

import (
	"context"
	"time"

	"github.com/tollgate-dev/tollgate/billing"
)

// Meter reserves, settles and reports budget usage for tenants.
//
// It is an interface because it is a real seam: a multi-tenant deployment keeps the
// counters in Redis (Cluster or standalone) shared by every API replica, optionally
// behind per-instance leases, while a self-hosted single binary keeps them in memory.
// The API and routing layers must behave identically on all of them, which the
// conformance suite in meter/metertest checks.
//
// Refusals are values (Decision), not errors: an error always means the meter itself
// failed (Redis unreachable, invalid input). Implementations are safe for concurrent use.
type Meter interface {
	// Reserve atomically reserves in.Amount on every limit in in.Limits and counts the
	// request against in.Rate, or changes nothing and returns a refusal. Reserving an
	// already reserved request id again returns Allowed with Duplicate set and changes
	// nothing.
	Reserve(ctx context.Context, in ReserveInput) (Decision, error)
	// Settle replaces the request's reservation with its actual cost on every counter
	// the reservation touched. It is idempotent by request id: settling again (or
	// settling an unknown id) changes nothing and reports Settled false. A request
	// whose reservation already expired is still charged its actual cost.
	Settle(ctx context.Context, in SettleInput) (SettleResult, error)
	// Release returns a reservation untouched, for requests that failed before any
	// cost. It frees the request's rate-limit slot too. Idempotent like Settle.
	Release(ctx context.Context, in ReleaseInput) (SettleResult, error)
	// Usage returns spent and reserved amounts per limit for the current periods, in
	// the order of limits.
	Usage(ctx context.Context, tenantID string, limits []Limit) ([]ScopeUsage, error)
	// Rebuild raises the spent counters of the tenant to the given ledger totals,
	// after Redis lost data or the reconcile job found drift; it never lowers one:
	// a counter above the ledger holds spending still on its way to the ledger
	// (other replicas' spools, unflushed leases), and lowering it would let a hard
	// budget pass. Reserved amounts of in-flight requests are kept.
	Rebuild(ctx context.Context, tenantID string, totals []ScopeTotal) error
	// Health reports whether the meter can serve, for /readyz.
	Health(ctx context.Context) Health
}

// Clock returns the current time. Meters take it as a dependency so that budget
// periods and expiry are testable; production code passes time.Now.
type Clock func() time.Time

// Defaults used when the corresponding field is zero.
const (
	// DefaultReservationTTL is how long a reservation lives when ReserveInput.TTL is 0.
	// A reservation of a crashed request is returned to the budget after its TTL; the
	// TTL must exceed the longest request (streaming included).
	DefaultReservationTTL = 15 * time.Minute
	// tombstoneTTL is how long an expired reservation is remembered, so that a late
	// Settle still charges the actual cost exactly once.
	tombstoneTTL = 24 * time.Hour
)

// SettleResult tells what a Settle or Release did.
type SettleResult struct {
	// Settled is true when this call applied the settlement, false when the request
	// was already settled or released, or is unknown (nothing changed).
	Settled bool
	// Late is true when the reservation had already expired: the actual cost was
	// charged but no reservation was left to return.
	Late bool
}

// HealthState is the meter's readiness.
type HealthState string

// The health states. /readyz reports ready for ok and degraded.
const (
	// HealthStateOK: the meter's backing store answers.
	HealthStateOK HealthState = "ok"
	// HealthStateDegraded: the backing store is unreachable but requests are still
	// served from budget leased earlier (LeaseMeter only).
	HealthStateDegraded HealthState = "degraded"
	// HealthStateUnavailable: the meter cannot reserve; requests are refused with
	// DecisionReasonMeterUnavailable (or allowed under FailOpen).
	HealthStateUnavailable HealthState = "unavailable"
)

// Health is the meter's state and, when not ok, why.
type Health struct {
	State HealthState
	// Detail explains a state other than ok; empty when ok.
	Detail string
	// Since is when the state last changed; zero when unknown.
	Since time.Time
}

// ScopeTotal is a ledger total for one budget counter, as input to Rebuild and Drift.
type ScopeTotal struct {
	Scope   Scope
	ScopeID string
	Period  Period
	// PeriodKey selects the period, "2026-11" for a month or "2026-11-26" for a day;
	// empty means the current period by the meter's clock.
	PeriodKey string
	// Spent is the ledger's total cost in the period, in nano-USD.
	Spent billing.NanoUSD
}

// asLimit is the limit naming the same counter as t (the limit amount is unused).
func (t ScopeTotal) asLimit() Limit {
	return Limit{Scope: t.Scope, ScopeID: t.ScopeID, Period: t.Period}
}

func (t ScopeTotal) periodKey(now time.Time) string {
	if t.PeriodKey != "" {
		return t.PeriodKey
	}
	return t.Period.Key(now)
}
