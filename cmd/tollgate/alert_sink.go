package main

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/worker"
)

// alertSink is the gateway's Sink in serve: every event goes to the console's live
// feed, and a new budget alert is also queued for delivery to the tenant's webhook.
// The queue client is set once the worker is wired (the worker needs the gateway's
// meter first), before the server accepts requests.
type alertSink struct {
	live   gateway.Sink
	queue  atomic.Pointer[worker.Client]
	logger *slog.Logger
}

func (s *alertSink) Usage(tenantID string, e ledger.Event) { s.live.Usage(tenantID, e) }

func (s *alertSink) Alert(ctx context.Context, tenantID string, a budget.Alert, b budget.Budget) {
	s.live.Alert(ctx, tenantID, a, b)
	q := s.queue.Load()
	if q == nil {
		return
	}
	if _, err := worker.EnqueueAlert(ctx, *q, tenants.ID(tenantID), a.ID); err != nil {
		s.logger.WarnContext(ctx, "queueing the alert's webhook delivery failed", "error", err, "alert_id", a.ID)
	}
}
