package meter

import (
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/billing"
)

// counter is one counter a reservation touches, in the shape every implementation
// shares: Redis keys and in-memory map keys are the same strings.
type counter struct {
	// key is "<prefix>{t:<tenant>}:b:<scope>:<id>:<period key>" for budgets and
	// "<prefix>{t:<tenant>}:r:<req|tok>:<key id>:<minute>" for rate windows.
	key  string
	kind counterKind
	// limitIdx is the index in ReserveInput.Limits, or -1 for a rate window.
	limitIdx int
	// max is the limit in the counter's unit; -1 means no limit.
	max    int64
	hard   bool
	amount int64
	ttl    time.Duration
}

// counterKind is the counter's unit, which decides what Settle charges.
type counterKind byte

const (
	kindMoney    counterKind = 'm' // nano-USD; settles to SettleInput.Actual
	kindRequests counterKind = 'r' // requests; settles to the reserved 1
	kindTokens   counterKind = 't' // tokens; settles to SettleInput.ActualTokens
)

// rateTTL keeps a minute window a little past its minute.
const rateTTL = 3 * time.Minute

// counterID is the id part of a budget counter key ("-" for the tenant scope).
func (l Limit) counterID() string {
	if l.Scope == ScopeTenant {
		return "-"
	}
	return l.ScopeID
}

func tenantTag(prefix, tenantID string) string { return prefix + "{t:" + tenantID + "}" }

func budgetKey(tag string, l Limit, periodKey string) string {
	return tag + ":b:" + string(l.Scope) + ":" + l.counterID() + ":" + periodKey
}

func minuteKey(now time.Time) string { return now.UTC().Format("200601021504") }

// untilNextMinute is how long until the current rate window ends.
func untilNextMinute(now time.Time) time.Duration {
	return now.Truncate(time.Minute).Add(time.Minute).Sub(now)
}

// plan lists the counters a reservation touches: one per limit, then the key's
// request and token windows when they have limits.
func plan(prefix string, in ReserveInput, now time.Time) []counter {
	tag := tenantTag(prefix, in.TenantID)
	cs := make([]counter, 0, len(in.Limits)+2)
	for i, l := range in.Limits {
		cs = append(cs, counter{
			key:      budgetKey(tag, l, l.Period.Key(now)),
			kind:     kindMoney,
			limitIdx: i,
			max:      int64(l.Limit),
			hard:     l.Hard,
			amount:   int64(in.Amount),
			ttl:      l.Period.counterTTL(),
		})
	}
	if r := in.Rate; r != nil {
		m := minuteKey(now)
		if r.RequestsPerMinute > 0 {
			cs = append(cs, counter{key: tag + ":r:req:" + r.KeyID + ":" + m, kind: kindRequests,
				limitIdx: -1, max: r.RequestsPerMinute, hard: true, amount: 1, ttl: rateTTL})
		}
		if r.TokensPerMinute > 0 {
			cs = append(cs, counter{key: tag + ":r:tok:" + r.KeyID + ":" + m, kind: kindTokens,
				limitIdx: -1, max: r.TokensPerMinute, hard: true, amount: in.Tokens, ttl: rateTTL})
		}
	}
	return cs
}

// settleAmount is what a counter is charged when its reservation settles.
func (k counterKind) settleAmount(reserved int64, in SettleInput, release bool) int64 {
	switch {
	case release:
		return 0
	case k == kindMoney:
		return int64(in.Actual)
	case k == kindTokens:
		return in.ActualTokens
	default:
		return reserved
	}
}

// encodeRecord writes a reservation as "kind|key|amount|ttl_ms;..." for Redis, where
// the Lua scripts parse it with one gmatch.
func encodeRecord(cs []counter) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteByte(byte(c.kind))
		b.WriteByte('|')
		b.WriteString(c.key)
		b.WriteByte('|')
		b.WriteString(strconv.FormatInt(c.amount, 10))
		b.WriteByte('|')
		b.WriteString(strconv.FormatInt(c.ttl.Milliseconds(), 10))
		b.WriteByte(';')
	}
	return b.String()
}

// usageFor builds Decision.Usage from per-counter states (one per counter in cs).
func usageFor(in ReserveInput, cs []counter, now time.Time, st []counterState) []ScopeUsage {
	out := make([]ScopeUsage, len(in.Limits))
	for i, c := range cs {
		if c.limitIdx < 0 {
			continue
		}
		l := in.Limits[c.limitIdx]
		out[c.limitIdx] = st[i].usage(l, l.Period.Key(now))
	}
	return out
}

// rateFor builds Decision.Rate from the key's rate-window counters in cs.
func rateFor(cs []counter, now time.Time, st []counterState) []RateUsage {
	var out []RateUsage
	for i, c := range cs {
		kind := RateKindRequests
		switch c.kind {
		case kindMoney:
			continue
		case kindTokens:
			kind = RateKindTokens
		}
		var used int64
		if i < len(st) {
			used = st[i].used()
		}
		out = append(out, RateUsage{Kind: kind, Limit: c.max, Remaining: max(c.max-used, 0), Reset: untilNextMinute(now)})
	}
	return out
}

// counterState is a counter's values, in its unit.
type counterState struct {
	spent, reserved, leased int64
}

func (s counterState) used() int64 { return s.spent + s.reserved + s.leased }

func (s counterState) usage(l Limit, periodKey string) ScopeUsage {
	return ScopeUsage{Limit: l, PeriodKey: periodKey, Spent: nanos(s.spent), Reserved: nanos(s.reserved), Leased: nanos(s.leased)}
}

// refusal builds the Refusal for counter c refusing with state s.
func refusal(in ReserveInput, c counter, s counterState, now time.Time) *Refusal {
	r := &Refusal{Spent: s.spent, Reserved: s.reserved + s.leased, Max: c.max, Requested: c.amount}
	switch c.kind {
	case kindMoney:
		r.Limit = in.Limits[c.limitIdx]
	case kindRequests:
		r.Rate, r.RetryAfter = RateKindRequests, untilNextMinute(now)
	case kindTokens:
		r.Rate, r.RetryAfter = RateKindTokens, untilNextMinute(now)
	}
	return r
}

func refusedDecision(in ReserveInput, cs []counter, idx int, now time.Time, st []counterState) Decision {
	reason := DecisionReasonBudgetExceeded
	if cs[idx].kind != kindMoney {
		reason = DecisionReasonRateLimited
	}
	return Decision{Reason: reason, Refusal: refusal(in, cs[idx], st[idx], now), Usage: usageFor(in, cs, now, st), Rate: rateFor(cs, now, st)}
}

func nanos(v int64) billing.NanoUSD { return billing.NanoUSD(v) }
