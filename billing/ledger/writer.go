package ledger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-dev/tollgate/tenants"
)

// WriterConfig configures the ledger writer.
type WriterConfig struct {
	// SpoolDir holds this process's spool; one process per directory. Required.
	SpoolDir string
	// BatchSize is the most events inserted per tenant transaction. Default 500.
	BatchSize int
	// FlushInterval is the longest an event waits in memory before a flush. Default 200ms.
	FlushInterval time.Duration
}

// TenantLookup finds a tenant by id; *tenants.Registry satisfies it.
type TenantLookup interface {
	Get(ctx context.Context, ref string) (tenants.Tenant, error)
	Handle(p tenants.Principal) (*tenants.Handle, error)
}

// WriterStats counts what the writer did since start.
type WriterStats struct {
	Appended  int64  `json:"appended"`
	Inserted  int64  `json:"inserted"`
	Replayed  int64  `json:"replayed"`
	Failures  int64  `json:"flush_failures"`
	Pending   int    `json:"pending"`
	LastError string `json:"last_error,omitempty"`
}

// Writer appends usage events durably and inserts them into tenant ledgers in batches,
// off the request path.
type Writer struct {
	cfg    WriterConfig
	reg    TenantLookup
	logger *slog.Logger
	spool  *spool

	mu      sync.Mutex
	queue   queued
	tenants map[string]tenants.Tenant
	lastErr string
	wake    chan struct{}
	flushMu sync.Mutex

	appended, inserted, replayed, failures atomic.Int64
}

// NewWriter opens the spool (replaying what a previous process left) and returns a
// writer. Call Run to start flushing and Close on shutdown.
func NewWriter(cfg WriterConfig, reg TenantLookup, logger *slog.Logger) (*Writer, error) {
	if cfg.SpoolDir == "" {
		return nil, errors.New("ledger: SpoolDir is required")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 200 * time.Millisecond
	}
	sp, left, err := openSpool(cfg.SpoolDir)
	if err != nil {
		return nil, err
	}
	w := &Writer{cfg: cfg, reg: reg, logger: logger.With("component", "billing.ledger"), spool: sp,
		queue: left, tenants: map[string]tenants.Tenant{}, wake: make(chan struct{}, 1)}
	w.replayed.Store(int64(len(left.events)))
	if len(left.events) > 0 {
		w.logger.Info("replaying ledger spool", "events", len(left.events))
	}
	return w, nil
}

// Append records a completed request. When it returns nil the event is on local disk
// and will reach the tenant's ledger even if this process is killed now.
func (w *Writer) Append(e Event) error {
	if e.RequestID == "" || e.TenantID == "" {
		return errors.New("ledger: event needs a tenant id and a request id")
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now().UTC()
	}
	seg, err := w.spool.append(e)
	if err != nil {
		return err
	}
	w.appended.Add(1)
	w.mu.Lock()
	w.queue.add(e, seg)
	full := len(w.queue.events) >= w.cfg.BatchSize
	w.mu.Unlock()
	if full {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// Run flushes every FlushInterval (or sooner when a batch fills) until ctx ends,
// backing off while the database is unavailable.
func (w *Writer) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.FlushInterval)
	defer t.Stop()
	backoff := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
		if backoff > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
		}
		if err := w.Flush(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			backoff = min(max(backoff*2, 100*time.Millisecond), 5*time.Second)
			w.logger.WarnContext(ctx, "ledger flush failed; events stay spooled and will be retried", "error", err, "retry_in", backoff)
		} else {
			backoff = 0
		}
	}
}

// Flush inserts everything queued now. Events of a tenant whose insert fails go back
// to the queue; the error names the first failure.
func (w *Writer) Flush(ctx context.Context) error {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	batch := w.queue
	n := len(batch.events)
	if n == 0 {
		w.mu.Unlock()
		return nil
	}
	// The next batch is likely about as large: start it at this one's length
	// rather than regrowing from nothing through the appends of every request.
	w.queue = queued{events: make([]Event, 0, n), segs: make([]int64, 0, n)}
	w.mu.Unlock()
	byTenant := map[string]*queued{}
	var order []string
	for _, e := range batch.events {
		if _, ok := byTenant[e.TenantID]; !ok {
			order = append(order, e.TenantID)
			byTenant[e.TenantID] = &queued{}
		}
	}
	if len(order) == 1 {
		byTenant[order[0]] = &batch // one tenant (self-host, or a quiet interval): no copy
	} else {
		for i, e := range batch.events {
			byTenant[e.TenantID].add(e, batch.segs[i])
		}
	}
	var failed queued
	var firstErr error
	for _, tid := range order {
		q := byTenant[tid]
		for start := 0; start < len(q.events); start += w.cfg.BatchSize {
			chunk := q.slice(start, min(start+w.cfg.BatchSize, len(q.events)))
			if err := w.insertChunk(ctx, tid, chunk); err != nil {
				failed.addAll(chunk)
				if firstErr == nil {
					firstErr = fmt.Errorf("tenant %s: %w", tid, err)
				}
				continue
			}
		}
	}
	w.mu.Lock()
	if len(failed.events) > 0 {
		failed.addAll(w.queue)
		w.queue = failed
		w.lastErr = firstErr.Error()
	} else {
		w.lastErr = ""
	}
	w.mu.Unlock()
	if firstErr != nil {
		w.failures.Add(1)
	}
	return firstErr
}

func (w *Writer) insertChunk(ctx context.Context, tenantID string, chunk queued) error {
	t, err := w.tenant(ctx, tenantID)
	if err != nil {
		return err
	}
	h, err := w.reg.Handle(tenants.SystemPrincipal(t, "ledger"))
	if err != nil {
		return err
	}
	n, keptErr, err := insert(ctx, h, chunk.events)
	if err != nil {
		return err
	}
	if keptErr != nil {
		// The usage is in; only the opted-in prompt copies are lost. The error
		// is the database's, never the prompt text.
		w.logger.WarnContext(ctx, "kept prompts not stored; the what-if cannot replay their keyword rules", "tenant_id", tenantID, "error", keptErr)
	}
	w.inserted.Add(int64(n))
	perSeg := map[int64]int{}
	for _, seg := range chunk.segs {
		perSeg[seg]++
	}
	for seg, c := range perSeg {
		w.spool.done(seg, c)
	}
	return nil
}

func (w *Writer) tenant(ctx context.Context, id string) (tenants.Tenant, error) {
	w.mu.Lock()
	t, ok := w.tenants[id]
	w.mu.Unlock()
	if ok {
		return t, nil
	}
	t, err := w.reg.Get(ctx, id)
	if err != nil {
		return t, err
	}
	w.mu.Lock()
	w.tenants[id] = t
	w.mu.Unlock()
	return t, nil
}

// Close flushes what it can within ctx and closes the spool; whatever is left is
// replayed on the next start.
func (w *Writer) Close(ctx context.Context) error {
	err := w.Flush(ctx)
	w.spool.close()
	return err
}

// Stats reports the writer's counters.
func (w *Writer) Stats() WriterStats {
	w.mu.Lock()
	pending, lastErr := len(w.queue.events), w.lastErr
	w.mu.Unlock()
	return WriterStats{Appended: w.appended.Load(), Inserted: w.inserted.Load(), Replayed: w.replayed.Load(),
		Failures: w.failures.Load(), Pending: pending, LastError: lastErr}
}
