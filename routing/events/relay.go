package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/routing/gateway"
)

// relayChannel carries every replica's live-feed events.
const relayChannel = "tollgate:live"

// watchedKey exists while some replica's console watches a live feed: a
// replica sets it when a watcher connects and every watchRefresh while it has
// any, for watchTTL, and every replica publishes its batches only while it
// exists. With no console open anywhere (the usual case) nothing is encoded,
// published or decoded; events are still queued, so that the requests served
// just after a console connected elsewhere reach it.
const (
	watchedKey   = "tollgate:live:watched"
	watchRefresh = time.Second
	watchTTL     = 3 * watchRefresh
)

// Bounds of the relay: events are batched per interval, and a batch over the cap
// drops the excess (counted) rather than grow without bound when Redis is slow.
const (
	relayInterval = 100 * time.Millisecond
	relayMaxBatch = 10_000
)

// relay makes the console's live feed cluster-wide: a console connected to one
// replica also sees the requests and alerts of the others. Each replica hands its
// events to its own hub at once and publishes them, batched every 100 ms, on one
// Redis channel; every replica feeds the other replicas' batches into its hub.
// Ten publishes a second per replica, whatever the request rate; nothing on the
// request path waits on Redis.
type relay struct {
	local  gateway.Sink
	client redis.UniversalClient
	origin string
	logger *slog.Logger

	mu      sync.Mutex
	pending []relayEvent
	dropped int64

	// prefix starts every batch this replica publishes.
	prefix string
	// announced wakes Run to announce a watcher that just connected.
	announced chan struct{}
}

// Watcher is a live feed that knows whether anyone watches it, and calls
// back when someone starts to (api.LiveHub).
type Watcher interface {
	Watching() bool
	OnWatch(func())
}

func (r *relay) localWatching() bool {
	if w, ok := r.local.(Watcher); ok {
		return w.Watching()
	}
	return true
}

type relayBatch struct {
	Origin string       `json:"origin"`
	Events []relayEvent `json:"events"`
}

type relayEvent struct {
	Tenant string         `json:"tenant"`
	Usage  *ledger.Event  `json:"usage,omitempty"`
	Alert  *budget.Alert  `json:"alert,omitempty"`
	Budget *budget.Budget `json:"budget,omitempty"`
}

func newRelay(local gateway.Sink, client redis.UniversalClient, logger *slog.Logger) *relay {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	origin := hex.EncodeToString(b)
	r := &relay{local: local, client: client, origin: origin, logger: logger.With("component", "live.relay"),
		prefix: `{"origin":"` + origin + `"`, announced: make(chan struct{}, 1)}
	if w, ok := local.(Watcher); ok {
		w.OnWatch(r.announce)
	}
	return r
}

// Usage implements gateway.Sink.
func (r *relay) Usage(tenantID string, e ledger.Event) {
	r.local.Usage(tenantID, e)
	r.queue(relayEvent{Tenant: tenantID, Usage: &e})
}

// Alert implements gateway.Sink.
func (r *relay) Alert(ctx context.Context, tenantID string, a budget.Alert, b budget.Budget) {
	r.local.Alert(ctx, tenantID, a, b)
	r.queue(relayEvent{Tenant: tenantID, Alert: &a, Budget: &b})
}

func (r *relay) queue(ev relayEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pending) >= relayMaxBatch {
		r.dropped++
		return
	}
	r.pending = append(r.pending, ev)
}

// Run publishes this replica's batches and delivers the others' until ctx ends.
func (r *relay) Run(ctx context.Context) {
	defer r.client.Close()
	sub := r.client.Subscribe(ctx, relayChannel)
	defer sub.Close()
	go r.deliver(ctx, sub.Channel())
	r.watch(ctx)
	t := time.NewTicker(relayInterval)
	defer t.Stop()
	w := time.NewTicker(watchRefresh)
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.publish(ctx)
		case <-w.C:
			r.watch(ctx)
		case <-r.announced:
			r.watch(ctx)
		}
	}
}

// watch tells the other replicas that this one has watchers, while it has.
func (r *relay) watch(ctx context.Context) {
	if !r.localWatching() {
		return
	}
	if err := r.client.Set(ctx, watchedKey, r.origin, watchTTL).Err(); err != nil && ctx.Err() == nil {
		r.logger.DebugContext(ctx, "live relay could not announce its watchers", "error", err)
	}
}

// announce has Run watch at once, when a console connects here.
func (r *relay) announce() {
	select {
	case r.announced <- struct{}{}:
	default: // one is pending already
	}
}

// watched reports whether any replica has watchers; when Redis cannot say,
// it assumes so (the live feed is best effort, but not silent for a blip).
func (r *relay) watched(ctx context.Context) bool {
	n, err := r.client.Exists(ctx, watchedKey).Result()
	return err != nil || n > 0
}

func (r *relay) publish(ctx context.Context) {
	r.mu.Lock()
	batch, dropped := r.pending, r.dropped
	r.pending, r.dropped = nil, 0
	r.mu.Unlock()
	if dropped > 0 {
		r.logger.WarnContext(ctx, "live relay dropped events: Redis is too slow for the request rate", "dropped", dropped)
	}
	if len(batch) == 0 || !r.watched(ctx) {
		return
	}
	body, err := json.Marshal(relayBatch{Origin: r.origin, Events: batch})
	if err == nil {
		err = r.client.Publish(ctx, relayChannel, body).Err()
	}
	if err != nil && ctx.Err() == nil {
		// The live feed is best effort: usage itself is in the ledger.
		r.logger.DebugContext(ctx, "live relay publish failed", "error", err, "events", len(batch))
	}
}

func (r *relay) deliver(ctx context.Context, msgs <-chan *redis.Message) {
	for m := range msgs {
		// Every replica receives its own batches too: recognised by their
		// prefix (publish writes origin first), they are not decoded; nor is
		// anything while this replica has no watchers.
		if strings.HasPrefix(m.Payload, r.prefix) || !r.localWatching() {
			continue
		}
		var b relayBatch
		if err := json.Unmarshal([]byte(m.Payload), &b); err != nil || b.Origin == r.origin {
			continue
		}
		for _, ev := range b.Events {
			switch {
			case ev.Usage != nil:
				r.local.Usage(ev.Tenant, *ev.Usage)
			case ev.Alert != nil && ev.Budget != nil:
				r.local.Alert(ctx, ev.Tenant, *ev.Alert, *ev.Budget)
			}
		}
	}
}
