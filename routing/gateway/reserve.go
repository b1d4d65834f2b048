package gateway

import (
	"context"
	"fmt"
	"time"

	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing"
)

// plan is a request that passed selection and reservation: what to call, and what
// to settle afterwards.
type plan struct {
	caller   Caller
	ids      RequestIDs
	decision routing.Decision
	budgets  []budget.Budget
	usage    []meter.ScopeUsage
	reserved billing.NanoUSD
	// limits backs the meter limits of the usual one or two budgets, which
	// the plan's allocation already pays for.
	limits  [2]meter.Limit
	started time.Time
	// upstreamAt is when the request went upstream (zero for cache hits):
	// the end of Tollgate's own share of the latency.
	upstreamAt time.Time
	// traceContent is the tenant's trace_content opt-in, for a recording span.
	traceContent bool
	// keepPrompt is the tenant's retain_prompts_days opt-in; kept receives the
	// sealed keyword text (startSealTurn), nil when nothing is kept.
	keepPrompt bool
	kept       chan string
	// cache is set when the tenant's response cache applies to the request.
	cache *cacheState
}

// choose selects the model and reserves the worst case, downgrading once when a
// hard budget refuses and the tenant's policy has a budget ladder.
func (s *Service) choose(ctx context.Context, c Caller, ids RequestIDs, req *routing.ChatRequest) (*plan, error) {
	started := s.d.Clock()
	tracing := traceRequest(ctx, operationChat, c, ids, req.Model, req.MaxTokens)
	policy, err := s.d.Policies.For(ctx, c.Handle)
	if err != nil {
		return nil, errkind.Wrap(errkind.Unavailable, err, "routing policy unavailable")
	}
	if tracing && policy.TraceContent {
		traceInput(ctx, req)
	}
	all, err := s.d.Budgets.For(ctx, c.Handle)
	if err != nil {
		return nil, errkind.Wrap(errkind.Unavailable, err, "budgets unavailable")
	}
	applicable := budget.Applicable(all, c.KeyID, c.MemberID)
	paces := s.pace.paceFor(applicable, started)
	for i := range paces {
		paces[i].Name = budgetName(applicable[i], c)
	}

	estimateFor := req.Model
	if estimateFor == routing.ModelAuto {
		estimateFor = "gpt-4o"
	}
	if req.PromptTokens == 0 {
		s.d.Estimator.Annotate(estimateFor, req)
	}
	req.CachePrefix = policy.AnthropicCacheControl
	if limit := policy.KeyMaxTokens(c.KeyID); limit > 0 && (req.MaxTokens == 0 || req.MaxTokens > limit) {
		// The key's cap bounds the reservation here and the upstream body
		// (the providers send req.MaxTokens), so both read one limit.
		req.MaxTokens, req.MaxTokensParam = limit, "max_tokens"
	}
	cat, err := s.catalog(ctx, c)
	if err != nil {
		return nil, err
	}
	in := routing.SelectInput{TenantID: c.tenantID(), KeyID: c.KeyID, Request: req, Policy: policy, Budgets: paces, Catalog: cat}
	d, err := s.d.Selector.Select(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := s.permitted(c, &d); err != nil {
		return nil, err
	}
	if err := withinOutputLimit(&d, req); err != nil {
		return nil, err
	}
	p := &plan{caller: c, ids: ids, decision: d, budgets: applicable, started: started, traceContent: tracing && policy.TraceContent,
		keepPrompt: policy.RetainPromptsDays > 0}
	s.startSealTurn(ctx, p, req)
	if cp, ok := s.cacheable(policy, req); ok {
		p.cache = &cacheState{policy: cp, key: s.cacheKey(c, d.Model.ID, req)}
		if e := s.lookup(ctx, p, req); e != nil {
			// A hit never calls upstream: reserve only its price.
			dec, err := s.reserveHit(ctx, p, e)
			if err != nil {
				return nil, errkind.Wrap(errkind.Unavailable, err, "budget meter unavailable; retry shortly")
			}
			if !dec.Allowed {
				traceRefusal(ctx, dec)
				s.alertOnRefusal(ctx, p, dec)
				return nil, refusalError(dec, p.reserved, c)
			}
			p.cache.hit, p.usage = e, dec.Usage
			return p, nil
		}
	}
	dec, err := s.reserve(ctx, p, req)
	if err != nil {
		return nil, err
	}
	if !dec.Allowed && dec.Reason == meter.DecisionReasonBudgetExceeded && downgradesOnRefusal(policy, applicable, req) {
		// A ladder asks for downgrades over refusals: step down one tier at a
		// time (premium → standard → economy) until the reservation fits.
		for _, t := range []routing.Tier{routing.TierStandard, routing.TierEconomy} {
			if t.Rank() >= d.Tier.Rank() {
				continue
			}
			cheap := policy
			cheap.MaxTier, cheap.LadderExplicit, cheap.SessionAffinity = t, true, false
			in.Policy = cheap
			d2, err := s.d.Selector.Select(ctx, in)
			if err != nil || d2.Action == routing.DecisionActionRefuse || s.permitted(c, &d2) != nil || withinOutputLimit(&d2, req) != nil {
				continue
			}
			d2.Action, d2.Reason = routing.DecisionActionDowngrade, routing.RouteReasonBudgetLadder
			d2.Explanation = "hard budget nearly spent: downgraded to " + d2.Model.ID
			p.decision = d2
			if dec, err = s.reserve(ctx, p, req); err != nil {
				return nil, err
			}
			if dec.Allowed || dec.Reason != meter.DecisionReasonBudgetExceeded {
				break
			}
		}
	}
	if !dec.Allowed {
		traceRefusal(ctx, dec)
		s.alertOnRefusal(ctx, p, dec)
		return nil, refusalError(dec, p.reserved, c)
	}
	p.usage = dec.Usage
	if p.cache != nil && p.decision.Model.ID != d.Model.ID {
		// Downgraded: the answer is stored under the model that gives it.
		p.cache.key = s.cacheKey(c, p.decision.Model.ID, req)
	}
	s.pace.record(applicable, dec.Usage, 0, started)
	return p, nil
}

// downgradesOnRefusal reports whether a hard refusal may be answered by a cheaper
// model: some ladder applies (the policy's or a budget's downgrade_at), and the
// request is "auto" or the policy opted in to downgrading named models. A request
// that names a model gets that model or a clear refusal by default.
func downgradesOnRefusal(p routing.Policy, bs []budget.Budget, req *routing.ChatRequest) bool {
	if req.Model != routing.ModelAuto && !p.LadderExplicit {
		return false
	}
	if len(p.Ladder) > 0 {
		return true
	}
	for _, b := range bs {
		if b.DowngradeAt > 0 {
			return true
		}
	}
	return false
}

// budgetName names a budget for people: "key batch-jobs monthly budget".
func budgetName(b budget.Budget, c Caller) string {
	period := "monthly"
	if b.Period == meter.PeriodDay {
		period = "daily"
	}
	switch b.Scope {
	case meter.ScopeKey:
		if c.KeyName != "" {
			return fmt.Sprintf("key %q %s budget", c.KeyName, period)
		}
		return fmt.Sprintf("key %s %s budget", b.ScopeID, period)
	case meter.ScopeMember:
		if c.MemberEmail != "" {
			return fmt.Sprintf("member %s %s budget", c.MemberEmail, period)
		}
		return fmt.Sprintf("member %s %s budget", b.ScopeID, period)
	}
	if b.Period == meter.PeriodDay { // constants: every request names its budgets
		return "tenant daily budget"
	}
	return "tenant monthly budget"
}

// permitted applies the key's model allowlist to the decision and its fallbacks.
func (s *Service) permitted(c Caller, d *routing.Decision) error {
	if d.Action == routing.DecisionActionRefuse {
		return errkind.New(errkind.Forbidden, "%s", d.Explanation)
	}
	if !c.allows(d.Model.ID) {
		return &errkind.Error{Kind: errkind.Forbidden, Code: "model_not_allowed",
			Message: "this API key may not use model " + d.Model.ID + "; ask an admin to add it to the key's model allowlist"}
	}
	kept := d.Fallbacks[:0:0]
	for _, m := range d.Fallbacks {
		if c.allows(m.ID) {
			kept = append(kept, m)
		}
	}
	d.Fallbacks = kept
	return nil
}

// withinOutputLimit refuses a request whose max_tokens is above the chosen
// model's output limit, and drops fallbacks with a lower limit (they would
// refuse the request or clamp it to a length Tollgate did not reserve for).
func withinOutputLimit(d *routing.Decision, req *routing.ChatRequest) error {
	if err := d.Model.CheckMaxTokens(req); err != nil {
		return err
	}
	kept := d.Fallbacks[:0:0]
	for _, m := range d.Fallbacks {
		if m.CheckMaxTokens(req) == nil {
			kept = append(kept, m)
		}
	}
	d.Fallbacks = kept
	return nil
}

// reserve reserves the worst case of the decision's model and every fallback: the
// costliest of them bounds what the request can cost. Every choice (n) may
// produce the full output limit, and the prompt is sized by the estimator's
// bound for that model (ChatRequest.ReserveTokens), never by the routing count.
func (s *Service) reserve(ctx context.Context, p *plan, req *routing.ChatRequest) (meter.Decision, error) {
	var worst billing.NanoUSD
	var tokens int64
	for _, m := range append([]routing.Model{p.decision.Model}, p.decision.Fallbacks...) {
		prompt := req.ReserveTokens(m)
		if w := m.WorstCase(prompt, req.MaxTokens, req.N); w > worst {
			worst = w
		}
		if t := int64(prompt + m.OutputCap(prompt, req.MaxTokens)*max(req.N, 1)); t > tokens {
			tokens = t
		}
	}
	if p.reserved > 0 {
		// A downgrade replaces the refused attempt; nothing was reserved by it.
		p.reserved = 0
	}
	limits := p.limits[:0]
	if len(p.budgets) > len(p.limits) {
		limits = make([]meter.Limit, 0, len(p.budgets))
	}
	for _, b := range p.budgets {
		limits = append(limits, b.MeterLimit())
	}
	var rate *meter.RateLimit
	if p.caller.KeyID != "" && (p.caller.RequestsPerMinute > 0 || p.caller.TokensPerMinute > 0) {
		rate = &meter.RateLimit{KeyID: p.caller.KeyID, RequestsPerMinute: p.caller.RequestsPerMinute, TokensPerMinute: p.caller.TokensPerMinute}
	}
	ctx, span := s.startChild(ctx, spanReserve, trace.SpanKindInternal)
	defer span.End()
	dec, err := s.d.Meter.Reserve(ctx, meter.ReserveInput{TenantID: p.caller.tenantID(), RequestID: p.ids.Server,
		Amount: worst, Tokens: tokens, Limits: limits, Rate: rate})
	if err != nil {
		failSpan(span, err, "meter unavailable")
		return dec, errkind.Wrap(errkind.Unavailable, err, "budget meter unavailable; retry shortly")
	}
	if span.IsRecording() {
		d := "allowed"
		if !dec.Allowed {
			d = string(dec.Reason)
		}
		span.SetAttributes(attrReserveDecision.String(d), attrReservedNanoUSD.Int64(int64(worst)), semconv.GenAIRequestModel(p.decision.Model.ID))
	}
	if p.caller.OnRate != nil && len(dec.Rate) > 0 {
		p.caller.OnRate(dec.Rate)
	}
	p.reserved = worst
	return dec, nil
}

// refusalError turns a refused reservation into the error the client sees.
func refusalError(dec meter.Decision, requested billing.NanoUSD, c Caller) error {
	r := dec.Refusal
	switch dec.Reason {
	case meter.DecisionReasonBudgetExceeded:
		be := &billing.BudgetExceededError{Requested: requested}
		if r != nil {
			be.Scope, be.ScopeID, be.Period = string(r.Limit.Scope), r.Limit.ScopeID, string(r.Limit.Period)
			switch r.Limit.Scope {
			case meter.ScopeKey:
				be.ScopeName = c.KeyName
			case meter.ScopeMember:
				be.ScopeName = c.MemberEmail
			}
			be.Limit, be.Used = r.Limit.Limit, billing.NanoUSD(r.Spent+r.Reserved)
		}
		return &errkind.Error{Kind: errkind.BudgetExceeded, Code: "budget_exceeded", Message: be.Error(), Cause: be}
	case meter.DecisionReasonRateLimited:
		after := time.Second
		what := "requests"
		if r != nil {
			if r.RetryAfter > 0 {
				after = r.RetryAfter
			}
			if r.Rate == meter.RateKindTokens {
				what = "tokens"
			}
		}
		return &errkind.Error{Kind: errkind.RateLimited, Code: "rate_limit_exceeded", RetryAfter: after,
			Message: "this API key's " + what + "-per-minute limit is used up; retry after " + after.Round(time.Second).String()}
	default:
		after := time.Second
		if r != nil && r.RetryAfter > 0 {
			after = r.RetryAfter
		}
		return &errkind.Error{Kind: errkind.Unavailable, Code: "meter_unavailable", RetryAfter: after,
			Message: "budget counters are unreachable and this instance holds no budget to serve from; retry shortly"}
	}
}
