package api

import (
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/routing/gateway"
)

// attrRequestIDKey is the server's request id (x-tollgate-request-id) on the
// request span.
const attrRequestIDKey = attribute.Key("tollgate.request.id")

// TracingMiddleware starts the request span of every /v1 request (chat,
// embeddings and every other endpoint of the OpenAI- and Anthropic-compatible
// API), as a child of the client's W3C traceparent when it sent one. The
// gateway names the span after the GenAI conventions and adds the model,
// tenant, usage and cost; this edge adds the route and the HTTP status. Install
// it only when tracing is on: when off, requests skip it entirely.
func TracingMiddleware(tracer trace.Tracer, prop propagation.TextMapPropagator) gin.HandlerFunc {
	var names spanNames
	return func(c *gin.Context) {
		route := c.FullPath()
		if !strings.HasPrefix(route, "/v1/") {
			c.Next()
			return
		}
		method := c.Request.Method
		ctx := prop.Extract(c.Request.Context(), w3cCarrier(c.Request.Header))
		ctx, span := gateway.StartRequestSpan(ctx, tracer, names.get(method, route))
		defer span.End()
		span.Add(semconv.HTTPRequestMethodKey.String(method))
		span.Add(semconv.HTTPRoute(route))
		span.Add(attrRequestIDKey.String(logging.RequestID(ctx)))
		c.Request = c.Request.WithContext(ctx)
		c.Next()
		status := c.Writer.Status()
		span.Add(semconv.HTTPResponseStatusCode(status))
		if status >= 400 {
			span.Add(semconv.ErrorTypeKey.String(strconv.Itoa(status)))
		}
		if status >= 500 {
			span.SetStatus(codes.Error, "")
		}
	}
}

// spanNames keeps the request spans' names ("POST /v1/chat/completions") so a
// request does not build its own: routes are few and fixed, and most methods
// have one per route.
type spanNames struct {
	mu    sync.RWMutex
	names map[string]string // route: "<method> <route>"
}

func (n *spanNames) get(method, route string) string {
	n.mu.RLock()
	name, ok := n.names[route]
	n.mu.RUnlock()
	if ok && len(name) == len(method)+1+len(route) && name[:len(method)] == method {
		return name
	}
	name = method + " " + route
	n.mu.Lock()
	if n.names == nil {
		n.names = map[string]string{}
	}
	n.names[route] = name
	n.mu.Unlock()
	return name
}

// w3cCarrier is propagation.HeaderCarrier with the W3C headers looked up by
// their canonical names: Header.Get canonicalizes "traceparent" into a new
// string on every request.
type w3cCarrier http.Header

func (h w3cCarrier) Get(key string) string {
	var v []string
	switch key {
	case "traceparent":
		v = h["Traceparent"]
	case "tracestate":
		v = h["Tracestate"]
	default:
		return http.Header(h).Get(key)
	}
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func (h w3cCarrier) Set(key, value string) { http.Header(h).Set(key, value) }

func (h w3cCarrier) Keys() []string { return propagation.HeaderCarrier(h).Keys() }
