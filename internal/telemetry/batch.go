package telemetry

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/tollgate-dev/tollgate/internal/config"
)

// batcher is the SDK's batch span processor with its configuration (the
// OTEL_BSP_* variables and their defaults, read by config) and behaviour (export when a batch
// is full or the delay has passed, drop when the queue is full, flush on
// shutdown), but an ended span is appended to a slice under a lock instead of
// sent on a channel. The SDK's processor goroutine takes each span off its
// channel as it ends: at 1,000 traced requests a second that woke it four
// thousand times a second, each wake-up a scheduler round trip on the request's
// core. Here the exporting goroutine wakes once per batch or delay.
type batcher struct {
	exp      sdktrace.SpanExporter
	delay    time.Duration
	timeout  time.Duration // 0: none
	maxQueue int
	maxBatch int

	mu      sync.Mutex
	queue   []sdktrace.ReadOnlySpan // ended, not yet exported
	spare   []sdktrace.ReadOnlySpan // the other buffer, emptied
	stopped bool

	exporting sync.Mutex    // one export at a time (the loop, ForceFlush, Shutdown)
	full      chan struct{} // a batch is ready
	stop      chan struct{}
	done      chan struct{} // the loop has returned
	stopOnce  sync.Once
	dropOnce  sync.Once
}

var _ sdktrace.SpanProcessor = (*batcher)(nil)

// newBatcher starts the export loop of exp with cfg's batching (the OTEL_BSP_*
// variables). Its exports carry ctx's values but not its end: they go on until
// Shutdown.
func newBatcher(ctx context.Context, exp sdktrace.SpanExporter, cfg config.Telemetry) *batcher {
	b := &batcher{
		exp:      exp,
		delay:    cfg.BatchDelay,
		timeout:  cfg.ExportTimeout,
		maxQueue: max(cfg.MaxQueueSize, 1),
		maxBatch: max(cfg.MaxExportBatchSize, 1),
		full:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if b.delay <= 0 {
		b.delay = sdktrace.DefaultScheduleDelay * time.Millisecond
	}
	go b.loop(context.WithoutCancel(ctx))
	return b
}

func (*batcher) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd queues s for export (sampled spans only, as the SDK's processor).
func (b *batcher) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return
	}
	if len(b.queue) >= b.maxQueue {
		b.mu.Unlock()
		b.dropOnce.Do(func() {
			otel.Handle(errors.New("the span queue is full (OTEL_BSP_MAX_QUEUE_SIZE): dropping spans until the collector catches up"))
		})
		return
	}
	b.queue = append(b.queue, s)
	n := len(b.queue)
	b.mu.Unlock()
	if n >= b.maxBatch {
		select {
		case b.full <- struct{}{}:
		default:
		}
	}
}

func (b *batcher) loop(ctx context.Context) {
	defer close(b.done)
	t := time.NewTimer(b.delay)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
		case <-b.full:
		}
		if err := b.export(ctx); err != nil {
			otel.Handle(err)
		}
		t.Reset(b.delay)
	}
}

// export sends what is queued, in batches of at most maxBatch.
func (b *batcher) export(ctx context.Context) error {
	b.exporting.Lock()
	defer b.exporting.Unlock()
	b.mu.Lock()
	all := b.queue
	b.queue, b.spare = b.spare, nil
	b.mu.Unlock()
	var errs []error
	for spans := all; len(spans) > 0; {
		n := min(len(spans), b.maxBatch)
		if err := b.exportBatch(ctx, spans[:n]); err != nil {
			errs = append(errs, err)
		}
		spans = spans[n:]
	}
	clear(all) // the spans are garbage now
	b.mu.Lock()
	b.spare = all[:0]
	b.mu.Unlock()
	return errors.Join(errs...)
}

func (b *batcher) exportBatch(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if b.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, b.timeout, errors.New("processor export timeout"))
		defer cancel()
	}
	return b.exp.ExportSpans(ctx, spans)
}

// ForceFlush exports every span ended so far; ctx bounds the wait.
func (b *batcher) ForceFlush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	stopped := b.stopped
	b.mu.Unlock()
	if stopped {
		return nil
	}
	return wait(ctx, func() error { return b.export(ctx) })
}

// Shutdown stops queueing, exports what is queued and shuts the exporter down;
// ctx bounds the wait. Only the first call does anything.
func (b *batcher) Shutdown(ctx context.Context) error {
	err := error(nil)
	b.stopOnce.Do(func() {
		b.mu.Lock()
		b.stopped = true
		b.mu.Unlock()
		close(b.stop)
		err = wait(ctx, func() error {
			<-b.done
			return errors.Join(b.export(ctx), b.exp.Shutdown(ctx))
		})
	})
	return err
}

// wait runs f and returns its error, or ctx's if ctx ends first (f goes on).
func wait(ctx context.Context, f func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- f() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
