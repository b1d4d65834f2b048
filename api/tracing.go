package api

import (
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/tollgate-dev/tollgate/internal/logging"
)

// TracingMiddleware starts the request span of every /v1 request (chat,
// embeddings and every other endpoint of the OpenAI- and Anthropic-compatible
// API), as a child of the client's W3C traceparent when it sent one. The
// gateway names the span after the GenAI conventions and adds the model,
// tenant, usage and cost; this edge adds the route and the HTTP status. Install
// it only when tracing is on: when off, requests skip it entirely.
func TracingMiddleware(tracer trace.Tracer, prop propagation.TextMapPropagator) gin.HandlerFunc {
	return func(c *gin.Context) {
		route := c.FullPath()
		if !strings.HasPrefix(route, "/v1/") {
			c.Next()
			return
		}
		ctx := prop.Extract(c.Request.Context(), propagation.HeaderCarrier(c.Request.Header))
		ctx, span := tracer.Start(ctx, c.Request.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(semconv.HTTPRequestMethodKey.String(c.Request.Method), semconv.HTTPRoute(route),
				attribute.String("tollgate.request.id", logging.RequestID(ctx))))
		defer span.End()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
		status := c.Writer.Status()
		span.SetAttributes(semconv.HTTPResponseStatusCode(status))
		if status >= 400 {
			span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(status)))
		}
		if status >= 500 {
			span.SetStatus(codes.Error, "")
		}
	}
}
