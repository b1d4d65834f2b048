// Package events composes the request path's event sink (gateway.Sink) in one
// place: every completed request and every new budget alert is counted in the
// usage metrics, handed to the console's live feed (and, with Redis, relayed to
// the other replicas' feeds), and a new alert is queued for delivery to the
// tenant's webhook.
package events

import (
	"context"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/routing/gateway"
)

// UsageObserver counts completed requests (api.UsageMetrics).
type UsageObserver interface {
	Observe(e ledger.Event)
}

// AlertQueue queues the webhook delivery of a recorded alert (worker.Enqueuer).
type AlertQueue interface {
	EnqueueAlert(ctx context.Context, tenantID, alertID string) error
}

// Config are the sink's destinations; each may be nil.
type Config struct {
	// Usage counts usage events (Prometheus).
	Usage UsageObserver
	// Live is this replica's live feed (api.LiveHub).
	Live gateway.Sink
	// Redis, when set, relays live events between replicas; Run closes it.
	Redis redis.UniversalClient
	// Alerts queues alert deliveries.
	Alerts AlertQueue
	// Logger is required.
	Logger *slog.Logger
}

// Sink is the gateway's Sink in serve.
type Sink struct {
	usage  UsageObserver
	live   gateway.Sink
	relay  *relay
	alerts AlertQueue
	logger *slog.Logger
}

var _ gateway.Sink = (*Sink)(nil)

// New returns the sink; call Run when it relays (cfg.Redis set).
func New(cfg Config) *Sink {
	s := &Sink{usage: cfg.Usage, live: cfg.Live, alerts: cfg.Alerts, logger: cfg.Logger}
	if s.live == nil {
		s.live = nopSink{}
	}
	if cfg.Redis != nil {
		s.relay = newRelay(s.live, cfg.Redis, cfg.Logger)
		s.live = s.relay
	}
	return s
}

// Usage implements gateway.Sink.
func (s *Sink) Usage(tenantID string, e ledger.Event) {
	if s.usage != nil {
		s.usage.Observe(e)
	}
	s.live.Usage(tenantID, e)
}

// Alert implements gateway.Sink. A failed enqueue is only logged: the alert row
// is recorded, and the worker's alert sweep queues every undelivered alert.
func (s *Sink) Alert(ctx context.Context, tenantID string, a budget.Alert, b budget.Budget) {
	s.live.Alert(ctx, tenantID, a, b)
	if s.alerts == nil {
		return
	}
	if err := s.alerts.EnqueueAlert(ctx, tenantID, a.ID); err != nil {
		s.logger.WarnContext(ctx, "queueing the alert's webhook delivery failed; the alert sweep will queue it", "error", err, "alert_id", a.ID)
	}
}

// Run relays live events between replicas until ctx ends; without Redis it
// returns at once.
func (s *Sink) Run(ctx context.Context) {
	if s.relay != nil {
		s.relay.Run(ctx)
	}
}

type nopSink struct{}

func (nopSink) Usage(string, ledger.Event)                                 {}
func (nopSink) Alert(context.Context, string, budget.Alert, budget.Budget) {}
