package gateway

import (
	"context"
	"encoding/json"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/respcache"
)

// Values of the x-tollgate-cache response header.
const (
	CacheHit  = "hit"
	CacheMiss = "miss"
)

// cacheState is a request the tenant's response cache applies to.
type cacheState struct {
	policy routing.CachePolicy
	key    string
	hit    *respcache.Entry
	// reserved is set when the hit went through the meter (to settle).
	reserved bool
}

// cacheable reports whether the response cache applies to req: the tenant
// enabled it, the request did not opt out, and it is deterministic
// (temperature 0) or opted in with x-tollgate-cache: on.
func (s *Service) cacheable(policy routing.Policy, req *routing.ChatRequest) (routing.CachePolicy, bool) {
	if s.d.Cache == nil || policy.Cache == nil || !policy.Cache.Enabled || req.CacheMode == "off" {
		return routing.CachePolicy{}, false
	}
	if req.CacheMode != "on" && policy.Cache.OnlyDeterministic() && !zeroTemperature(req.Temperature) {
		return routing.CachePolicy{}, false
	}
	return *policy.Cache, true
}

func zeroTemperature(raw json.RawMessage) bool {
	var t float64
	return len(raw) > 0 && json.Unmarshal(raw, &t) == nil && t == 0
}

// cacheKey is the request's key once the model is chosen; "" when the
// request cannot be encoded (then it is not cached).
func (s *Service) cacheKey(c Caller, model string, req *routing.ChatRequest) string {
	canon, err := respcache.Canonical(req, model)
	if err != nil {
		return ""
	}
	return respcache.Key(c.tenantID(), canon)
}

// lookup returns the cached answer for the plan's decision, if any. A store
// failure is a miss (logged): the cache never fails a request.
func (s *Service) lookup(ctx context.Context, p *plan, req *routing.ChatRequest) *respcache.Entry {
	if p.cache.key == "" {
		return nil
	}
	e, err := s.d.Cache.Get(ctx, p.caller.tenantID(), p.cache.key)
	if err != nil {
		s.logger.WarnContext(ctx, "response cache lookup failed; serving upstream", "error", err)
		return nil
	}
	if e == nil || e.Model != p.decision.Model.ID || (req.Stream && len(e.Chunks) == 0) || (!req.Stream && len(e.Body) == 0) {
		return nil
	}
	return e
}

// hitPrice is what a hit costs under the policy: a share of the avoided cost.
func hitPrice(cp routing.CachePolicy, e *respcache.Entry) billing.NanoUSD {
	return billing.NanoUSD(e.Cost) * billing.NanoUSD(cp.HitPricePercent) / 100
}

// reserveHit reserves the hit price against the budgets (a priced hit must
// respect a hard budget) and counts it against the key's rate limits; a free
// hit of a key without rate limits reserves nothing.
func (s *Service) reserveHit(ctx context.Context, p *plan, e *respcache.Entry) (meter.Decision, error) {
	price := hitPrice(p.cache.policy, e)
	var rate *meter.RateLimit
	if p.caller.KeyID != "" && (p.caller.RequestsPerMinute > 0 || p.caller.TokensPerMinute > 0) {
		rate = &meter.RateLimit{KeyID: p.caller.KeyID, RequestsPerMinute: p.caller.RequestsPerMinute, TokensPerMinute: p.caller.TokensPerMinute}
	}
	if price <= 0 && rate == nil {
		return meter.Decision{Allowed: true}, nil
	}
	limits := make([]meter.Limit, len(p.budgets))
	for i, b := range p.budgets {
		limits[i] = b.MeterLimit()
	}
	dec, err := s.d.Meter.Reserve(ctx, meter.ReserveInput{TenantID: p.caller.tenantID(), RequestID: p.ids.Server,
		Amount: price, Tokens: int64(e.Usage.TotalTokens()), Limits: limits, Rate: rate})
	if err != nil {
		return dec, err
	}
	if p.caller.OnRate != nil && len(dec.Rate) > 0 {
		p.caller.OnRate(dec.Rate)
	}
	p.reserved, p.cache.reserved = price, true
	return dec, nil
}

// store keeps a complete answer for the next identical request.
func (s *Service) store(ctx context.Context, p *plan, e *respcache.Entry) {
	if p.cache == nil || p.cache.key == "" {
		return
	}
	if err := s.d.Cache.Put(ctx, p.caller.tenantID(), p.cache.key, e, p.cache.policy.TTL(), p.cache.policy.MaxBytes()); err != nil {
		s.logger.WarnContext(ctx, "response cache store failed", "error", err)
	}
}

// cacheHeader is the x-tollgate-cache value for the plan ("" when the cache does not apply).
func (p *plan) cacheHeader() string {
	switch {
	case p.cache == nil:
		return ""
	case p.cache.hit != nil:
		return CacheHit
	}
	return CacheMiss
}
