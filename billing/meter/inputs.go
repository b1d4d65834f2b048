package meter

import (
	"errors"
	"fmt"
	"time"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// ReserveInput is a request's worst case, to reserve before it is forwarded.
type ReserveInput struct {
	TenantID string
	// RequestID identifies the request; Settle and Release use it, and reserving the
	// same id twice reserves once.
	RequestID string
	// Amount is the worst-case cost in nano-USD: prompt tokens × input price + max
	// output tokens × output price. It is reserved on every limit.
	Amount billing.NanoUSD
	// Tokens is the worst-case token count (prompt + max output), counted against
	// Rate.TokensPerMinute; 0 when no token rate applies.
	Tokens int64
	// Limits are the budgets that apply (tenant, key, member; day, month). Each names
	// a distinct counter. Hard limits refuse; soft limits are counted and reported.
	Limits []Limit
	// Rate is the API key's rate limit; nil means none.
	Rate *RateLimit
	// TTL is how long the reservation lives if never settled (crashed request);
	// 0 means DefaultReservationTTL.
	TTL time.Duration
}

// Validate reports every problem with the input as one errkind.Invalid error.
func (in ReserveInput) Validate() error {
	var errs []error
	if err := validID("tenant_id", in.TenantID); err != nil {
		errs = append(errs, err)
	}
	if err := validID("request_id", in.RequestID); err != nil {
		errs = append(errs, err)
	}
	if in.Amount < 0 {
		errs = append(errs, errors.New("amount must not be negative"))
	}
	if in.Tokens < 0 {
		errs = append(errs, errors.New("tokens must not be negative"))
	}
	if in.TTL < 0 {
		errs = append(errs, errors.New("ttl must not be negative"))
	}
	// A request has a handful of limits: each valid one is compared with the
	// valid ones before it, instead of building a key string and a map per
	// reservation. A hostile count falls back to a map.
	type counterKey struct {
		scope  Scope
		id     string
		period Period
	}
	var seen map[counterKey]bool
	if len(in.Limits) > 16 {
		seen = make(map[counterKey]bool, len(in.Limits))
	}
	valid := func(j int) bool { return in.Limits[j].validate(j) == nil }
	for i, l := range in.Limits {
		if err := l.validate(i); err != nil {
			errs = append(errs, err)
			continue
		}
		k := counterKey{l.Scope, l.counterID(), l.Period}
		repeated := seen[k]
		for j := 0; seen == nil && j < i && !repeated; j++ {
			o := in.Limits[j]
			repeated = counterKey{o.Scope, o.counterID(), o.Period} == k && valid(j)
		}
		if repeated {
			errs = append(errs, fmt.Errorf("limits[%d] repeats %s %s %s", i, l.Scope, l.ScopeID, l.Period))
		}
		if seen != nil {
			seen[k] = true
		}
	}
	if err := in.Rate.validate(); err != nil {
		errs = append(errs, err)
	}
	return invalid("reserve", errs)
}

func (in ReserveInput) ttl() time.Duration {
	if in.TTL == 0 {
		return DefaultReservationTTL
	}
	return in.TTL
}

// SettleInput is a finished request's actual cost.
type SettleInput struct {
	TenantID  string
	RequestID string
	// Actual is the request's actual cost in nano-USD; it replaces the reserved
	// worst case on every budget counter the reservation touched. It should not
	// exceed the reserved amount; if it does the excess is charged all the same.
	Actual billing.NanoUSD
	// ActualTokens is the tokens the request actually used (prompt + completion),
	// replacing the reserved tokens on the key's tokens-per-minute window.
	ActualTokens int64
}

// Validate reports every problem with the input as one errkind.Invalid error.
func (in SettleInput) Validate() error {
	var errs []error
	if err := validID("tenant_id", in.TenantID); err != nil {
		errs = append(errs, err)
	}
	if err := validID("request_id", in.RequestID); err != nil {
		errs = append(errs, err)
	}
	if in.Actual < 0 {
		errs = append(errs, errors.New("actual must not be negative"))
	}
	if in.ActualTokens < 0 {
		errs = append(errs, errors.New("actual_tokens must not be negative"))
	}
	return invalid("settle", errs)
}

// ReleaseInput names a reservation to return untouched.
type ReleaseInput struct {
	TenantID  string
	RequestID string
}

// Validate reports every problem with the input as one errkind.Invalid error.
func (in ReleaseInput) Validate() error {
	var errs []error
	if err := validID("tenant_id", in.TenantID); err != nil {
		errs = append(errs, err)
	}
	if err := validID("request_id", in.RequestID); err != nil {
		errs = append(errs, err)
	}
	return invalid("release", errs)
}

func invalid(op string, errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errkind.Wrap(errkind.Invalid, errors.Join(errs...), "invalid meter %s input", op)
}

func validateUsage(tenantID string, limits []Limit) error {
	var errs []error
	if err := validID("tenant_id", tenantID); err != nil {
		errs = append(errs, err)
	}
	for i, l := range limits {
		if err := l.validate(i); err != nil {
			errs = append(errs, err)
		}
	}
	return invalid("usage", errs)
}

func validateTotals(tenantID string, totals []ScopeTotal) error {
	var errs []error
	if err := validID("tenant_id", tenantID); err != nil {
		errs = append(errs, err)
	}
	for i, t := range totals {
		if err := t.asLimit().validate(i); err != nil {
			errs = append(errs, err)
		}
		if t.Spent < 0 {
			errs = append(errs, fmt.Errorf("totals[%d].spent must not be negative", i))
		}
	}
	return invalid("rebuild", errs)
}
