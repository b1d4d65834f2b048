package gateway

import (
	"context"
	"encoding/json"
	"time"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/routing"
)

// settleTimeout bounds the work after a response: settling and recording must
// finish even when the client already left, but never hang forever.
const settleTimeout = 10 * time.Second

// Result is what the API layer needs to answer a completed request.
type Result struct {
	// Body is the OpenAI-shaped response body.
	Body json.RawMessage
	// Model is the model that answered; RouteReason explains the choice.
	Model       string
	RouteReason string
	// Cost is what the request cost, in nano-USD.
	Cost billing.NanoUSD
}

// Chat runs a non-streaming chat completion.
func (s *Service) Chat(ctx context.Context, c Caller, requestID string, req *routing.ChatRequest) (*Result, error) {
	p, err := s.choose(ctx, c, requestID, req)
	if err != nil {
		return nil, err
	}
	res, err := s.d.Executor.Chat(ctx, p.decision, req)
	if err != nil {
		s.release(ctx, p)
		return nil, err
	}
	cost := s.finish(ctx, p, req, res.Outcome, res.Response.Usage, ledger.StatusOK)
	return &Result{Body: res.Response.Body, Model: res.Model.ID, RouteReason: routeReason(p.decision, res.Outcome), Cost: cost}, nil
}

// StreamCall is an open streaming completion. The API layer writes its headers,
// pumps Stream to the client, then calls Finish exactly once.
type StreamCall struct {
	Stream      *routing.Stream
	Model       string
	RouteReason string

	s   *Service
	p   *plan
	req *routing.ChatRequest
	out routing.Outcome
}

// ChatStream opens a streaming chat completion (retries and fallbacks happen only
// before the first chunk).
func (s *Service) ChatStream(ctx context.Context, c Caller, requestID string, req *routing.ChatRequest) (*StreamCall, error) {
	p, err := s.choose(ctx, c, requestID, req)
	if err != nil {
		return nil, err
	}
	res, err := s.d.Executor.ChatStream(ctx, p.decision, req)
	if err != nil {
		s.release(ctx, p)
		return nil, err
	}
	return &StreamCall{Stream: res.Stream, Model: res.Model.ID, RouteReason: routeReason(p.decision, res.Outcome),
		s: s, p: p, req: req, out: res.Outcome}, nil
}

// Finish closes the stream (cancelling the upstream if the client left) and bills
// what was used: the upstream's reported usage, or an estimate of the streamed
// part when the stream was cut short. pumpErr is the error the pump ended with.
func (sc *StreamCall) Finish(ctx context.Context, pumpErr error) billing.NanoUSD {
	_ = sc.Stream.Close()
	status := ledger.StatusOK
	if pumpErr != nil {
		status = ledger.StatusAborted
	}
	return sc.s.finish(ctx, sc.p, sc.req, sc.out, sc.Stream.Usage(), status)
}

// Embed creates embeddings with the named (or default) embeddings model.
func (s *Service) Embed(ctx context.Context, c Caller, requestID string, req *routing.EmbeddingRequest) (*Result, error) {
	m, err := s.embeddingModel(ctx, c, req.Model)
	if err != nil {
		return nil, err
	}
	prov, ok := s.d.Providers.Provider(m.Provider)
	if !ok {
		return nil, errUnavailableModel(m.ID)
	}
	tokens := s.d.Estimator.EmbeddingTokens(m.ID, req)
	d := routing.Decision{Action: routing.DecisionActionAllow, Requested: req.Model, Model: m, Tier: m.Tier,
		Reason: routing.RouteReasonExplicit, Explanation: "embeddings model " + m.ID}
	p := &plan{caller: c, requestID: requestID, decision: d, started: s.d.Clock()}
	all, err := s.d.Budgets.For(ctx, c.Handle)
	if err != nil {
		return nil, err
	}
	p.budgets = budget.Applicable(all, c.KeyID, c.MemberID)
	chatLike := &routing.ChatRequest{Model: m.ID, PromptTokens: tokens, MaxTokens: 0}
	dec, err := s.reserve(ctx, p, chatLike)
	if err != nil {
		return nil, err
	}
	if !dec.Allowed {
		return nil, refusalError(dec, p.reserved)
	}
	p.usage = dec.Usage
	resp, err := prov.Embed(ctx, req, m.Upstream())
	if err != nil {
		s.release(ctx, p)
		return nil, err
	}
	cost := s.finish(ctx, p, chatLike, routing.Outcome{Model: m}, resp.Usage, ledger.StatusOK)
	return &Result{Body: resp.Body, Model: m.ID, RouteReason: d.Header(), Cost: cost}, nil
}

func (s *Service) embeddingModel(ctx context.Context, c Caller, name string) (routing.Model, error) {
	cat, err := s.catalog(ctx, c)
	if err != nil {
		return routing.Model{}, err
	}
	if name == "" || name == routing.ModelAuto {
		for _, m := range cat.Models() {
			if m.Embedding && s.d.Providers.Available(m) && c.allows(m.ID) {
				return m, nil
			}
		}
		return routing.Model{}, errUnavailableModel("an embeddings model")
	}
	m, ok := cat.Lookup(name)
	if !ok || !m.Embedding {
		return routing.Model{}, errUnknownModel(name)
	}
	if !s.d.Providers.Available(m) {
		return routing.Model{}, errUnavailableModel(name)
	}
	if !c.allows(m.ID) {
		return routing.Model{}, errModelNotAllowed(m.ID)
	}
	return m, nil
}

// release returns a reservation of a request that failed before any cost.
func (s *Service) release(ctx context.Context, p *plan) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	if _, err := s.d.Meter.Release(ctx, meter.ReleaseInput{TenantID: p.caller.tenantID(), RequestID: p.requestID}); err != nil {
		s.logger.WarnContext(ctx, "release failed; the reservation will expire on its own", "error", err)
	}
}

// finish settles the reservation to the actual cost, appends the usage event to the
// ledger and raises alerts. It runs even when the client went away.
func (s *Service) finish(ctx context.Context, p *plan, req *routing.ChatRequest, out routing.Outcome, u routing.Usage, status string) billing.NanoUSD {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	cost := out.Model.UsageCost(u)
	tid := p.caller.tenantID()
	if _, err := s.d.Meter.Settle(ctx, meter.SettleInput{TenantID: tid, RequestID: p.requestID, Actual: cost,
		ActualTokens: int64(u.TotalTokens())}); err != nil {
		// The ledger is the truth; the reconcile job corrects the counters from it.
		s.logger.WarnContext(ctx, "settle failed; counters will be reconciled from the ledger", "error", err)
	}
	ev := ledger.Event{TenantID: tid, RequestID: p.requestID, CreatedAt: p.started.UTC(), KeyID: p.caller.KeyID,
		MemberID: p.caller.MemberID, ModelRequested: p.decision.Requested, ModelUsed: out.Model.ID, Provider: out.Model.Provider,
		InputTokens: int64(u.PromptTokens), CachedTokens: int64(u.CachedTokens), OutputTokens: int64(u.CompletionTokens),
		Cost: cost, LatencyMS: s.d.Clock().Sub(p.started).Milliseconds(), Status: status,
		RouteReason: string(p.decision.Reason)}
	if out.FallbackReason != routing.FallbackReasonNone {
		ev.RouteReason += "+fallback:" + string(out.FallbackReason)
	}
	if err := s.d.Ledger.Append(ev); err != nil {
		s.logger.ErrorContext(ctx, "ledger append failed: usage not recorded", "error", err, "cost_nano", int64(cost))
	}
	if s.d.Sink != nil {
		s.d.Sink.Usage(tid, ev)
	}
	s.checkAlerts(ctx, p, cost)
	return cost
}

// routeReason is the x-tollgate-route-reason value, with the fallback when one happened.
func routeReason(d routing.Decision, out routing.Outcome) string {
	h := d.Header()
	if out.FallbackReason != routing.FallbackReasonNone {
		h += "; fallback to " + out.Model.ID + " after " + string(out.FallbackReason)
	}
	return h
}
