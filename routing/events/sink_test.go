package events

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/testredis"
)

// recorder is every destination at once: usage observer, live feed, alert queue.
type recorder struct {
	mu       sync.Mutex
	observed []string
	usage    map[string][]string // tenant → request ids seen by the live feed
	alerts   []string
	enqueued []string
	fail     error
}

func newRecorder() *recorder { return &recorder{usage: map[string][]string{}} }

func (r *recorder) Observe(e ledger.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.observed = append(r.observed, e.RequestID)
}

func (r *recorder) Usage(tenantID string, e ledger.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.usage[tenantID] = append(r.usage[tenantID], e.RequestID)
}

func (r *recorder) Alert(_ context.Context, _ string, a budget.Alert, _ budget.Budget) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.alerts = append(r.alerts, a.ID)
}

func (r *recorder) EnqueueAlert(_ context.Context, _, alertID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.enqueued = append(r.enqueued, alertID)
	return r.fail
}

func (r *recorder) seen(tenantID string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.usage[tenantID]...)
}

// TestSinkFansOut: usage is counted and shown live; an alert is shown live and
// queued, and a failed enqueue loses neither the live alert nor the next one.
func TestSinkFansOut(t *testing.T) {
	t.Parallel()
	rec := newRecorder()
	s := New(Config{Usage: rec, Live: rec, Alerts: rec, Logger: logging.New(logging.TestWriter{T: t}, "error", "text")})
	s.Usage("t1", ledger.Event{RequestID: "r1"})
	require.Equal(t, []string{"r1"}, rec.observed)
	require.Equal(t, []string{"r1"}, rec.seen("t1"))

	rec.fail = errors.New("queue unreachable")
	s.Alert(t.Context(), "t1", budget.Alert{ID: "alr_1"}, budget.Budget{})
	rec.fail = nil
	s.Alert(t.Context(), "t1", budget.Alert{ID: "alr_2"}, budget.Budget{})
	require.Equal(t, []string{"alr_1", "alr_2"}, rec.alerts)
	require.Equal(t, []string{"alr_1", "alr_2"}, rec.enqueued)

	// Without destinations the sink is a no-op.
	New(Config{Logger: logging.New(logging.TestWriter{T: t}, "error", "text")}).Usage("t1", ledger.Event{})
}

// TestRelayAcrossReplicas: a request served by one replica reaches the other's
// live feed through Redis, once, and is not echoed back to its own.
func TestRelayAcrossReplicas(t *testing.T) {
	t.Parallel()
	logger := logging.New(logging.TestWriter{T: t}, "error", "text")
	recA, recB := newRecorder(), newRecorder()
	a := New(Config{Live: recA, Redis: testredis.Cluster(t), Logger: logger})
	b := New(Config{Live: recB, Redis: testredis.Cluster(t), Logger: logger})
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for _, s := range []*Sink{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); s.Run(ctx) }()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	tenant := "t_" + ulid.Make().String() // other tests may relay on the same channel

	// Subscriptions are asynchronous: publish until B has seen one.
	require.Eventually(t, func() bool {
		a.Usage(tenant, ledger.Event{RequestID: "probe"})
		return len(recB.seen(tenant)) > 0
	}, 10*time.Second, 200*time.Millisecond)
	a.Usage(tenant, ledger.Event{RequestID: "r1"})
	require.Eventually(t, func() bool {
		s := recB.seen(tenant)
		return len(s) > 0 && s[len(s)-1] == "r1"
	}, 5*time.Second, 20*time.Millisecond)
	time.Sleep(3 * relayInterval)
	require.Equal(t, 1, count(recB.seen(tenant), "r1"), "delivered once")
	require.Equal(t, 1, count(recA.seen(tenant), "r1"), "the origin sees its own event once, not echoed")
}

func count(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}
