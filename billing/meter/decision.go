package meter

import (
	"time"

	"github.com/tollgate-dev/tollgate/billing"
)

// DecisionReason says why a reservation was allowed or refused. It becomes the
// x-tollgate-route-reason header and picks the error code at the API edge.
type DecisionReason string

// The decision reasons.
const (
	// DecisionReasonAllowed: every hard limit and rate limit had room.
	DecisionReasonAllowed DecisionReason = "allowed"
	// DecisionReasonBudgetExceeded: a hard budget limit would be passed; see
	// Refusal.Limit. Maps to 429 insufficient_quota / budget_exceeded.
	DecisionReasonBudgetExceeded DecisionReason = "budget_exceeded"
	// DecisionReasonRateLimited: a per-key rate limit is used up for this minute; see
	// Refusal.Rate and Refusal.RetryAfter. Maps to 429 rate_limited.
	DecisionReasonRateLimited DecisionReason = "rate_limited"
	// DecisionReasonMeterUnavailable: the counters cannot be reached and no leased
	// budget is left to serve from. Maps to 503 (or 429) with Retry-After.
	DecisionReasonMeterUnavailable DecisionReason = "meter_unavailable"
	// DecisionReasonFailOpen: allowed without a check because the counters are
	// unreachable and FailOpen is set; the overshoot is counted in Stats.
	DecisionReasonFailOpen DecisionReason = "fail_open"
)

// Decision is the outcome of Reserve. A refusal is a Decision, never an error.
type Decision struct {
	// Allowed is true when the request may be forwarded; it must then be settled or
	// released.
	Allowed bool
	Reason  DecisionReason
	// Duplicate is true when the request id already held a live reservation; nothing
	// was reserved again.
	Duplicate bool
	// Refusal details a refusal; nil when Allowed.
	Refusal *Refusal
	// Usage holds one entry per ReserveInput.Limits entry, in order, as seen by this
	// reservation (after it, when allowed). Use it for alert thresholds and for the
	// router's budget pace. Under LeaseMeter it is approximate (see LeaseMeter).
	Usage []ScopeUsage
	// Rate is the key's rate windows after this reservation (at a refusal: as
	// they stood), one per rate limit the key has; nil when it has none.
	Rate []RateUsage
}

// RateUsage is one rate window of a key, for OpenAI's x-ratelimit-* headers.
type RateUsage struct {
	Kind RateKind
	// Limit is the most requests or tokens per minute; Remaining what is left of
	// the current minute; Reset how long until it restarts.
	Limit, Remaining int64
	Reset            time.Duration
}

// SoftExceeded reports whether any soft limit is used up (spent plus reserved at or
// over its limit), which calls for an alert but not a refusal.
func (d Decision) SoftExceeded() bool {
	for _, u := range d.Usage {
		if !u.Limit.Hard && u.Exceeded() {
			return true
		}
	}
	return false
}

// Refusal says which limit refused a request and how far it was used.
type Refusal struct {
	// Limit is the budget limit that refused, for DecisionReasonBudgetExceeded.
	Limit Limit
	// Rate is the rate limit that refused, for DecisionReasonRateLimited.
	Rate RateKind
	// Spent is what the refusing counter had spent in the period: nano-USD for a
	// budget, requests or tokens for a rate limit.
	Spent int64
	// Reserved is what was reserved (or leased) on the counter, same unit as Spent.
	Reserved int64
	// Max is the counter's limit, same unit as Spent.
	Max int64
	// Requested is what this request asked for, same unit as Spent.
	Requested int64
	// RetryAfter is how long until a rate window or the meter may have room; 0 when
	// unknown (a budget refusal lasts until the period ends or the budget changes).
	RetryAfter time.Duration
}

// ScopeUsage is the state of one budget limit's counter in its current period.
type ScopeUsage struct {
	Limit Limit
	// PeriodKey is the period the counter covers, "2026-11" or "2026-11-26".
	PeriodKey string
	// Spent is the settled cost in the period, in nano-USD.
	Spent billing.NanoUSD
	// Reserved is held by in-flight requests, in nano-USD.
	Reserved billing.NanoUSD
	// Leased is budget handed to LeaseMeter instances and not yet used, in nano-USD;
	// it is unavailable to other instances until spent, returned or expired.
	Leased billing.NanoUSD
}

// Used is what counts against the limit: spent plus reserved plus leased, nano-USD.
func (u ScopeUsage) Used() billing.NanoUSD { return u.Spent + u.Reserved + u.Leased }

// UsedBP is Spent+Reserved over the limit in basis points (10000 = used up; may
// pass 10000 for soft limits). It is 10000 for a zero limit. Integer, like all
// billing arithmetic: a ratio for alerts and pacing.
func (u ScopeUsage) UsedBP() int64 {
	if u.Limit.Limit <= 0 {
		return 10000
	}
	return int64(u.Spent+u.Reserved) * 10000 / int64(u.Limit.Limit)
}

// Exceeded reports whether spent plus reserved has reached the limit.
func (u ScopeUsage) Exceeded() bool { return u.Spent+u.Reserved >= u.Limit.Limit }
