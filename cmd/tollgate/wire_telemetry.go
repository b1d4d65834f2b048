package main

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/trace"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/internal/telemetry"
)

// tracingFlushTimeout bounds how long serve waits at exit for queued spans to
// reach the collector.
const tracingFlushTimeout = 5 * time.Second

// wireTracing sets up OpenTelemetry tracing from the OTEL_* configuration (off
// unless an OTLP endpoint is set) and makes it a's tracing. The returned stop
// flushes queued spans; serve calls it after the server and its loops stopped.
func wireTracing(ctx context.Context, a *app) (func(), error) {
	tr, err := telemetry.New(ctx, a.cfg.Telemetry, version, a.logger)
	if err != nil {
		return nil, err
	}
	a.tracing = tr
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tracingFlushTimeout)
		defer cancel()
		if err := tr.Shutdown(sctx); err != nil {
			a.logger.WarnContext(sctx, "flushing traces at shutdown failed; the last spans may be lost", "error", err)
		}
	}, nil
}

// tracingRoute installs the request-span middleware when tracing is on; when off
// no middleware is added, so requests pay nothing for it.
func tracingRoute(a *app) []func(*gin.Engine) {
	if a.tracing == nil || !a.tracing.Enabled {
		return nil
	}
	mw := api.TracingMiddleware(a.tracing.Tracer, a.tracing.Propagator)
	return []func(*gin.Engine){func(e *gin.Engine) { e.Use(mw) }}
}

// tracer is the gateway's tracer: nil (no spans) when tracing is off.
func tracer(a *app) trace.Tracer {
	if a.tracing == nil || !a.tracing.Enabled {
		return nil
	}
	return a.tracing.Tracer
}
