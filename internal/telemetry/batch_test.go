package telemetry

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/tollgate-dev/tollgate/internal/config"
)

// countExporter records the size of every batch it is given.
type countExporter struct {
	mu       sync.Mutex
	batches  []int
	shutdown bool
}

func (c *countExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches = append(c.batches, len(spans))
	return nil
}

func (c *countExporter) Shutdown(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shutdown = true
	return nil
}

func (c *countExporter) sizes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.batches...)
}

func endedSpan(sampled bool) sdktrace.ReadOnlySpan {
	var flags trace.TraceFlags
	if sampled {
		flags = trace.FlagsSampled
	}
	return tracetest.SpanStub{SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}, TraceFlags: flags})}.Snapshot()
}

// A full batch leaves at once; what remains waits for the delay, a flush or
// shutdown, which also stops the exporter. Unsampled spans and spans after
// shutdown are not exported.
func TestBatcherExportsFullBatchesAndFlushes(t *testing.T) {
	exp := &countExporter{}
	b := newBatcher(t.Context(), exp, batching(t, map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "60000", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "4"}))
	for range 6 {
		b.OnEnd(endedSpan(true))
	}
	b.OnEnd(endedSpan(false))
	require.Eventually(t, func() bool { return len(exp.sizes()) > 0 }, 5*time.Second, time.Millisecond)
	require.Equal(t, []int{4}, exp.sizes()[:1], "the first full batch, without waiting for the delay")
	require.NoError(t, b.ForceFlush(t.Context()))
	sum := 0
	for _, n := range exp.sizes() {
		require.LessOrEqual(t, n, 4)
		sum += n
	}
	require.Equal(t, 6, sum)
	for range 3 {
		b.OnEnd(endedSpan(true))
	}
	require.NoError(t, b.Shutdown(t.Context()))
	sizes := exp.sizes()
	require.Equal(t, 3, sizes[len(sizes)-1], "shutdown flushes")
	require.True(t, exp.shutdown)
	b.OnEnd(endedSpan(true))
	require.NoError(t, b.ForceFlush(t.Context()))
	require.Equal(t, sizes, exp.sizes(), "nothing after shutdown")
	require.NoError(t, b.Shutdown(t.Context()), "a second shutdown does nothing")
}

// The delay sends a partial batch.
func TestBatcherExportsAfterDelay(t *testing.T) {
	exp := &countExporter{}
	b := newBatcher(t.Context(), exp, batching(t, map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "20"}))
	defer func() { require.NoError(t, b.Shutdown(t.Context())) }()
	b.OnEnd(endedSpan(true))
	require.Eventually(t, func() bool { return len(exp.sizes()) == 1 }, 5*time.Second, time.Millisecond)
	require.Equal(t, []int{1}, exp.sizes())
}

// While an export is under way, spans beyond the queue's size are dropped.
func TestBatcherDropsBeyondQueueSize(t *testing.T) {
	exp := &countExporter{}
	b := newBatcher(t.Context(), exp, batching(t, map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "60000", "OTEL_BSP_MAX_QUEUE_SIZE": "3"}))
	require.Equal(t, 3, b.maxBatch, "the batch fits the queue")
	b.exporting.Lock() // an export in progress
	for range 4 {
		b.OnEnd(endedSpan(true))
	}
	b.exporting.Unlock()
	require.NoError(t, b.Shutdown(t.Context()))
	sum := 0
	for _, n := range exp.sizes() {
		sum += n
	}
	require.Equal(t, 3, sum)
}

// batching is config's telemetry settings from env.
func batching(t *testing.T, env map[string]string) config.Telemetry {
	t.Helper()
	c, err := config.Parse(env)
	require.NoError(t, err)
	return c.Telemetry
}
