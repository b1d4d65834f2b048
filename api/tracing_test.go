package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// Given a /v1 request with a client traceparent, the request span continues the
// client's trace under its span and carries the route and status; without one
// it starts a trace; other paths get no span.
func TestTracingMiddlewareContinuesTheClientTrace(t *testing.T) {
	t.Parallel()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.Use(TracingMiddleware(tp.Tracer("test"), propagation.TraceContext{}))
	e.POST("/v1/chat/completions", func(c *gin.Context) { c.Status(http.StatusTooManyRequests) })
	e.GET("/healthz", func(c *gin.Context) { c.Status(http.StatusOK) })

	serve := func(method, path string, hdr map[string]string) {
		req := httptest.NewRequestWithContext(t.Context(), method, path, http.NoBody)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		e.ServeHTTP(httptest.NewRecorder(), req)
	}
	serve(http.MethodPost, "/v1/chat/completions", map[string]string{
		"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate": "vendor=abc"})
	serve(http.MethodPost, "/v1/chat/completions", nil)
	serve(http.MethodGet, "/healthz", nil)

	ended := rec.Ended()
	require.Len(t, ended, 2)
	continued, fresh := ended[0], ended[1]
	require.Equal(t, "POST /v1/chat/completions", continued.Name())
	require.Equal(t, trace.SpanKindServer, continued.SpanKind())
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", continued.SpanContext().TraceID().String())
	require.Equal(t, "00f067aa0ba902b7", continued.Parent().SpanID().String())
	require.True(t, continued.Parent().IsRemote())
	require.Equal(t, "vendor=abc", continued.SpanContext().TraceState().String())
	attrs := map[string]string{}
	for _, kv := range continued.Attributes() {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	require.Equal(t, map[string]string{"http.request.method": "POST", "http.route": "/v1/chat/completions",
		"tollgate.request.id": "", "http.response.status_code": "429", "error.type": "429"}, attrs)
	require.False(t, fresh.Parent().IsValid(), "no traceparent: a new trace")
	require.NotEqual(t, continued.SpanContext().TraceID(), fresh.SpanContext().TraceID())
}
