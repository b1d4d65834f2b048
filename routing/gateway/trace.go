package gateway

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/routing"
)

// Tracing hooks of the request path. The request span itself is started at the
// API edge (it reads the client's traceparent and sees the HTTP status); the
// gateway names it after the GenAI semantic conventions ("chat gpt-4o"), adds
// what only it knows (tenant, key, model, usage, cost) and opens the reserve,
// upstream and settle child spans. When the request span is not recording
// (tracing off, or not sampled) every hook returns at once.

// Tollgate's own span attributes, beside the gen_ai.* ones.
const (
	attrTenantID        = attribute.Key("tollgate.tenant.id")
	attrKeyID           = attribute.Key("tollgate.api_key.id")
	attrClientRequestID = attribute.Key("tollgate.request.client_id")
	attrRouteReason     = attribute.Key("tollgate.route.reason")
	attrRouteAction     = attribute.Key("tollgate.route.action")
	attrCostNanoUSD     = attribute.Key("tollgate.cost.nano_usd")
	attrReservedNanoUSD = attribute.Key("tollgate.reserved.nano_usd")
	attrReserveDecision = attribute.Key("tollgate.reserve.decision")
	attrUsageEstimated  = attribute.Key("tollgate.usage.estimated")
	attrStatus          = attribute.Key("tollgate.status")
	attrFallbackReason  = attribute.Key("tollgate.fallback.reason")
	attrAttempts        = attribute.Key("tollgate.upstream.attempts")
)

// GenAI operation names (gen_ai.operation.name).
const (
	operationChat       = "chat"
	operationEmbeddings = "embeddings"
)

// The child spans' start options, built once: an option made per span is an
// allocation per span.
var (
	startInternal = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindInternal)}
	startClient   = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}
)

// Child span names.
const (
	spanReserve  = "tollgate.reserve"
	spanUpstream = "tollgate.upstream"
	spanSettle   = "tollgate.settle"
	spanRelease  = "tollgate.release"
)

// traceRequest names the request span "<operation> <requested model>" and adds
// who is asking. It reports whether the span records.
func traceRequest(ctx context.Context, operation string, c Caller, ids RequestIDs, requested string, maxTokens int) bool {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return false
	}
	span.SetName(operation + " " + requested)
	// The edge already set tollgate.request.id (ids.Server).
	var buf [6]attribute.KeyValue
	attrs := append(buf[:0],
		semconv.GenAIOperationNameKey.String(operation),
		semconv.GenAIRequestModel(requested),
		attrTenantID.String(c.tenantID()))
	if c.KeyID != "" {
		attrs = append(attrs, attrKeyID.String(c.KeyID))
	}
	if ids.Client != "" {
		attrs = append(attrs, attrClientRequestID.String(ids.Client))
	}
	if maxTokens > 0 {
		attrs = append(attrs, semconv.GenAIRequestMaxTokens(maxTokens))
	}
	setAttrs(span, attrs)
	return true
}

// traceRefusal marks the request span with why the meter refused it.
func traceRefusal(ctx context.Context, dec meter.Decision) {
	span := trace.SpanFromContext(ctx)
	if span.IsRecording() {
		setAttrs(span, []attribute.KeyValue{attrReserveDecision.String(string(dec.Reason))})
	}
}

// traceUsage adds the outcome to the request span: the model that answered,
// its provider, usage and cost.
func traceUsage(ctx context.Context, p *plan, out routing.Outcome, u routing.Usage, cost billing.NanoUSD, status string) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	reason := string(p.decision.Reason)
	if out.FallbackReason != routing.FallbackReasonNone {
		reason += "+fallback:" + string(out.FallbackReason)
	}
	// Those that say nothing in the common case (an allowed route, no cached
	// tokens, reported usage) are left out then: every attribute costs each
	// span a slot, a dedupe entry and its export.
	var buf [10]attribute.KeyValue
	attrs := append(buf[:0],
		semconv.GenAIResponseModel(out.Model.ID),
		semconv.GenAIProviderNameKey.String(out.Model.Provider),
		semconv.GenAIUsageInputTokens(u.PromptTokens),
		semconv.GenAIUsageOutputTokens(u.CompletionTokens),
		attrRouteReason.String(reason),
		attrCostNanoUSD.Int64(int64(cost)),
		attrStatus.String(status))
	if p.decision.Action != routing.DecisionActionAllow {
		attrs = append(attrs, attrRouteAction.String(string(p.decision.Action)))
	}
	if u.CachedTokens > 0 {
		attrs = append(attrs, semconv.GenAIUsageCacheReadInputTokens(u.CachedTokens))
	}
	if u.Estimated {
		attrs = append(attrs, attrUsageEstimated.Bool(true))
	}
	setAttrs(span, attrs)
}

// startChild opens a child span of the request span, or returns a no-op span
// when the request span does not record. Callers add attributes only when the
// span records, so tracing off allocates nothing.
func (s *Service) startChild(ctx context.Context, name string, kind trace.SpanKind) (context.Context, trace.Span) {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx, noop.Span{}
	}
	var opts []trace.SpanStartOption
	switch kind {
	case trace.SpanKindInternal:
		opts = startInternal
	case trace.SpanKindClient:
		opts = startClient
	default:
		opts = []trace.SpanStartOption{trace.WithSpanKind(kind)}
	}
	return s.d.Tracer.Start(ctx, name, opts...)
}

// startUpstream opens the upstream span: the provider call with its retries and
// fallbacks. Its context is what the provider's HTTP request carries, so the
// upstream's traceparent names this span.
func (s *Service) startUpstream(ctx context.Context, operation string, m routing.Model) (context.Context, trace.Span) {
	ctx, span := s.startChild(ctx, spanUpstream, trace.SpanKindClient)
	if span.IsRecording() {
		span.SetAttributes(
			semconv.GenAIOperationNameKey.String(operation),
			semconv.GenAIProviderNameKey.String(m.Provider),
			semconv.GenAIRequestModel(m.Upstream()))
	}
	return ctx, span
}

// endUpstream closes the upstream span with what answered, or the error. The
// provider and the attempt count are added only when a fallback changed them
// (the span starts with the routed model's provider; one attempt is the rule).
func endUpstream(span trace.Span, out routing.Outcome, upstreamModel string, err error) {
	if !span.IsRecording() {
		return
	}
	var buf [4]attribute.KeyValue
	attrs := buf[:0]
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "upstream call failed")
	} else {
		attrs = append(attrs, semconv.GenAIResponseModel(upstreamModel))
	}
	if len(out.Attempts) > 1 {
		attrs = append(attrs, attrAttempts.Int(len(out.Attempts)))
	}
	if out.FallbackReason != routing.FallbackReasonNone {
		attrs = append(attrs, attrFallbackReason.String(string(out.FallbackReason)))
		if err == nil {
			attrs = append(attrs, semconv.GenAIProviderNameKey.String(out.Model.Provider))
		}
	}
	if len(attrs) > 0 {
		setAttrs(span, attrs)
	}
	span.End()
}

// failSpan records err on span when it records.
func failSpan(span trace.Span, err error, msg string) {
	if span.IsRecording() {
		span.RecordError(err)
		span.SetStatus(codes.Error, msg)
	}
}
