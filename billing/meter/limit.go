package meter

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tollgate-dev/tollgate/billing"
)

// Scope is what a budget limit applies to.
type Scope string

// The budget scopes.
const (
	// ScopeTenant limits the whole tenant.
	ScopeTenant Scope = "tenant"
	// ScopeKey limits one API key; ScopeID is the key's id.
	ScopeKey Scope = "key"
	// ScopeMember limits one member (user) of the tenant; ScopeID is the user's id.
	ScopeMember Scope = "member"
)

// Period is the budget window. Periods are calendar periods in UTC.
type Period string

// The budget periods.
const (
	// PeriodDay is a UTC calendar day; its key looks like "2026-11-26".
	PeriodDay Period = "day"
	// PeriodMonth is a UTC calendar month; its key looks like "2026-11".
	PeriodMonth Period = "month"
)

// Key returns the period's key for instant now, in UTC: "2026-11" or "2026-11-26".
func (p Period) Key(now time.Time) string {
	now = now.UTC()
	c := &periodKeys[0]
	if p == PeriodDay {
		c = &periodKeys[1]
	}
	if k := c.Load(); k != nil && !now.Before(k.from) && now.Before(k.to) {
		return k.key
	}
	k := &periodKey{}
	if p == PeriodDay {
		k.key = now.Format("2006-01-02")
		k.from = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		k.to = k.from.AddDate(0, 0, 1)
	} else {
		k.key = now.Format("2006-01")
		k.from = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
		k.to = k.from.AddDate(0, 1, 0)
	}
	c.Store(k)
	return k.key
}

// periodKey is the key of the period [from, to). Every reservation and
// settlement names its periods, and formatting a date allocates; the
// current month's and day's keys are kept (a clock going back only misses).
type periodKey struct {
	from, to time.Time
	key      string
}

var periodKeys [2]atomic.Pointer[periodKey]

// counterTTL is how long a period's counter outlives the period's start, so that old
// periods vanish from Redis on their own; the ledger keeps history.
func (p Period) counterTTL() time.Duration {
	if p == PeriodDay {
		return 3 * 24 * time.Hour
	}
	return 70 * 24 * time.Hour
}

// Limit is one budget: an amount per period on one scope.
type Limit struct {
	Scope Scope
	// ScopeID identifies the key or member; for ScopeTenant it is ignored (the
	// tenant id is used).
	ScopeID string
	Period  Period
	// Limit is the budget in nano-USD per period. 0 with Hard refuses every request
	// with a cost; it must not be negative.
	Limit billing.NanoUSD
	// Hard refuses requests that would pass Limit; a soft limit never refuses and is
	// only reported (alerts).
	Hard bool
}

// RateLimit caps one API key's requests and tokens per fixed UTC minute.
type RateLimit struct {
	// KeyID is the API key the rate applies to.
	KeyID string
	// RequestsPerMinute is the most requests per minute; 0 means no request limit.
	RequestsPerMinute int64
	// TokensPerMinute is the most tokens (worst case at reserve, actual at settle) per
	// minute; 0 means no token limit.
	TokensPerMinute int64
}

// RateKind says which rate limit refused a request.
type RateKind string

// The rate limit kinds.
const (
	RateKindRequests RateKind = "requests_per_minute"
	RateKindTokens   RateKind = "tokens_per_minute"
)

// validID keeps ids safe inside Redis keys and reservation records: 1-128 of
// [A-Za-z0-9._@+-], so no hash-tag braces and no separators. It is on the hot path,
// hence no regexp.
func validID(field, v string) error {
	ok := len(v) >= 1 && len(v) <= 128
	for i := 0; ok && i < len(v); i++ {
		c := v[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '@' || c == '+' || c == '-'
	}
	if !ok {
		return fmt.Errorf("%s %q must be 1-128 characters of A-Z a-z 0-9 . _ @ + -", field, v)
	}
	return nil
}

func (l Limit) validate(i int) error {
	var errs []error
	// The field prefix is formatted only for a problem: every reservation
	// validates its limits, and almost all are fine.
	p := func() string { return fmt.Sprintf("limits[%d].", i) }
	switch l.Scope {
	case ScopeTenant:
	case ScopeKey, ScopeMember:
		if err := validID("scope_id", l.ScopeID); err != nil {
			errs = append(errs, fmt.Errorf("%s%w", p(), err))
		}
	default:
		errs = append(errs, fmt.Errorf("%sscope %q must be tenant, key or member", p(), l.Scope))
	}
	if l.Period != PeriodDay && l.Period != PeriodMonth {
		errs = append(errs, fmt.Errorf("%speriod %q must be day or month", p(), l.Period))
	}
	if l.Limit < 0 {
		errs = append(errs, fmt.Errorf("%slimit must not be negative", p()))
	}
	return errors.Join(errs...)
}

func (r *RateLimit) validate() error {
	if r == nil {
		return nil
	}
	var errs []error
	if err := validID("rate.key_id", r.KeyID); err != nil {
		errs = append(errs, err)
	}
	if r.RequestsPerMinute < 0 || r.TokensPerMinute < 0 {
		errs = append(errs, errors.New("rate limits must not be negative"))
	}
	return errors.Join(errs...)
}
