// Package telemetry sets up OpenTelemetry tracing from the standard OTEL_*
// environment: an OTLP exporter (gRPC or HTTP/protobuf) behind a batching
// tracer provider when an endpoint is configured, a no-op tracer otherwise.
// The SDK reads its own variables (endpoint, headers, sampler, resource); this
// package picks the protocol, names the service and batches ended spans
// (OTEL_BSP_*, read by config).
package telemetry

import (
	"context"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/tollgate-dev/tollgate/internal/config"
)

// InstrumentationName names Tollgate's tracer (the instrumentation scope).
const InstrumentationName = "github.com/tollgate-dev/tollgate"

// Tracing is the process's tracer and the W3C propagator the edge and the
// upstream client use. The zero value is not usable; build it with New or Noop.
type Tracing struct {
	// Tracer starts Tollgate's spans; a no-op tracer when tracing is off.
	Tracer trace.Tracer
	// Propagator reads a client's traceparent/tracestate (W3C Trace Context).
	// Not Baggage: nothing reads it, and the upstream is sent only the trace
	// context, so extracting it would cost every request for nothing.
	Propagator propagation.TextMapPropagator
	// Enabled reports whether spans are exported.
	Enabled bool

	provider *sdktrace.TracerProvider
}

// Noop returns tracing that is off: spans cost a context lookup and nothing is
// exported or propagated.
func Noop() *Tracing {
	return &Tracing{Tracer: noop.NewTracerProvider().Tracer(InstrumentationName), Propagator: propagation.NewCompositeTextMapPropagator()}
}

// New builds tracing from cfg: Noop when it is off, else an OTLP exporter over
// cfg.Protocol behind a batch span processor. The exporter connects lazily, so
// an unreachable collector does not stop start-up; export errors are logged.
// version is the service.version resource attribute.
func New(ctx context.Context, cfg config.Telemetry, version string, logger *slog.Logger) (*Tracing, error) {
	if !cfg.Enabled {
		return Noop(), nil
	}
	var client otlptrace.Client
	switch cfg.Protocol {
	case config.ProtocolGRPC:
		client = otlptracegrpc.NewClient()
	case config.ProtocolHTTP:
		client = otlptracehttp.NewClient()
	default:
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL: %q is not supported for traces (use grpc or http/protobuf)", cfg.Protocol)
	}
	exp, err := newExporter(ctx, client)
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry trace exporter: %w", err)
	}
	// Later options win: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override
	// the default service name.
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(semconv.ServiceName("tollgate"), semconv.ServiceVersion(version)),
		resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry resource (OTEL_RESOURCE_ATTRIBUTES): %w", err)
	}
	// The SDK's own error reporting is process-wide; route it to our logger
	// instead of the standard library's log package.
	log := logger.With("component", "telemetry")
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.WarnContext(ctx, "OpenTelemetry export failed", "error", err)
	}))
	// The sampler comes from OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG
	// (default parentbased_always_on): NewTracerProvider reads them.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(newBatcher(ctx, exp, cfg)), sdktrace.WithResource(res))
	log.InfoContext(ctx, "exporting traces over OTLP", "protocol", cfg.Protocol)
	return &Tracing{
		Tracer:     tp.Tracer(InstrumentationName),
		Propagator: propagation.TraceContext{},
		Enabled:    true,
		provider:   tp,
	}, nil
}

// Shutdown flushes the spans still queued and stops the exporter; ctx bounds
// the wait. It is a no-op when tracing is off.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t.provider == nil {
		return nil
	}
	return t.provider.Shutdown(ctx)
}
