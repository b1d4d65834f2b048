package gateway

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/meter"
)

// alertTracker remembers thresholds already recorded, so that the request path
// touches the database only the first time a threshold is crossed in a period
// (the alerts table's unique key makes it once across replicas too).
type alertTracker struct {
	mu    sync.Mutex
	fired map[string]bool
}

func newAlertTracker() *alertTracker { return &alertTracker{fired: map[string]bool{}} }

func (t *alertTracker) claim(key string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fired[key] {
		return false
	}
	t.fired[key] = true
	return true
}

// checkAlerts records every threshold the settled spend reached. Spent is what the
// counter had settled before this request plus this request's actual cost.
func (s *Service) checkAlerts(ctx context.Context, p *plan, cost billing.NanoUSD) {
	for i, b := range p.budgets {
		if i >= len(p.usage) || len(b.AlertAt) == 0 {
			continue
		}
		spent := p.usage[i].Spent + cost
		for _, pct := range budget.Reached(b, spent) {
			s.raise(ctx, p, b, pct, spent)
		}
	}
}

// raise records threshold pct of b for this period unless this process already did
// (then the alerts table's unique key keeps it once across replicas).
func (s *Service) raise(ctx context.Context, p *plan, b budget.Budget, pct int, spent billing.NanoUSD) {
	period := b.Period.Key(p.started)
	if !s.alerts.claim(fmt.Sprintf("%s/%s/%s/%d", p.caller.tenantID(), b.ID, period, pct)) {
		return
	}
	a := budget.Alert{BudgetID: b.ID, PeriodKey: period, Threshold: pct, Spent: spent, Limit: b.Limit}
	s.background.Go(func() { s.recordAlert(context.WithoutCancel(ctx), p, b, a) })
}

func (s *Service) alertOnRefusal(ctx context.Context, p *plan, dec meter.Decision) {
	if dec.Reason != meter.DecisionReasonBudgetExceeded || dec.Refusal == nil {
		return
	}
	l := dec.Refusal.Limit
	for _, b := range p.budgets {
		if b.Scope != l.Scope || b.ScopeID != l.ScopeID || b.Period != l.Period {
			continue
		}
		for _, pct := range b.AlertAt {
			if pct <= 100 {
				s.raise(ctx, p, b, pct, billing.NanoUSD(dec.Refusal.Spent))
			}
		}
	}
}

func (s *Service) recordAlert(ctx context.Context, p *plan, b budget.Budget, a budget.Alert) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rec, created, err := budget.Record(ctx, p.caller.Handle, a)
	if err != nil {
		s.logger.WarnContext(ctx, "recording a budget alert failed", "error", err, "budget_id", b.ID, "threshold", a.Threshold)
		return
	}
	if created && s.d.Sink != nil {
		s.d.Sink.Alert(ctx, p.caller.tenantID(), rec, b)
	}
}
