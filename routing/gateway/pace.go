package gateway

import (
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/routing"
)

// paceTracker remembers the latest known spend of each tenant's budgets, as seen by
// the last reservation, so selection can react to budget pace without a meter round
// trip before it.
type paceTracker struct {
	mu    sync.Mutex
	spent map[string]billing.NanoUSD // budget id → spent + reserved
}

func newPaceTracker() *paceTracker { return &paceTracker{spent: map[string]billing.NanoUSD{}} }

func (p *paceTracker) record(bs []budget.Budget, usage []meter.ScopeUsage) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, u := range usage {
		if i < len(bs) {
			p.spent[bs[i].ID] = u.Spent + u.Reserved
		}
	}
}

// paceFor picks the budget that steers routing: the tenant's monthly budget, else
// its daily one, else the key's.
func (p *paceTracker) paceFor(bs []budget.Budget, now time.Time) (routing.BudgetPace, *budget.Budget) {
	var pick *budget.Budget
	rank := func(b budget.Budget) int {
		switch {
		case b.Scope == meter.ScopeTenant && b.Period == meter.PeriodMonth:
			return 4
		case b.Scope == meter.ScopeTenant:
			return 3
		case b.Scope == meter.ScopeKey:
			return 2
		}
		return 1
	}
	for i := range bs {
		if pick == nil || rank(bs[i]) > rank(*pick) {
			pick = &bs[i]
		}
	}
	if pick == nil {
		return routing.BudgetPace{}, nil
	}
	p.mu.Lock()
	spent := p.spent[pick.ID]
	p.mu.Unlock()
	return routing.BudgetPace{Spent: spent, Budget: pick.Limit, Elapsed: elapsed(pick.Period, now)}, pick
}

// elapsed is the fraction of the current UTC period gone.
func elapsed(period meter.Period, now time.Time) float64 {
	now = now.UTC()
	var start, end time.Time
	if period == meter.PeriodDay {
		start = time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		end = start.AddDate(0, 0, 1)
	} else {
		start = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
		end = start.AddDate(0, 1, 0)
	}
	return float64(now.Sub(start)) / float64(end.Sub(start))
}

// withBudgetLadder adds the steering budget's downgrade step to the policy's ladder,
// so "alert at X, downgrade at Y, stop at 100%" is one policy per tenant.
func withBudgetLadder(p routing.Policy, b *budget.Budget) routing.Policy {
	if b == nil || b.DowngradeAt <= 0 {
		return p
	}
	for _, s := range p.Ladder {
		if s.AtPercent == b.DowngradeAt {
			return p
		}
	}
	ladder := append([]routing.LadderStep(nil), p.Ladder...)
	ladder = append(ladder, routing.LadderStep{AtPercent: b.DowngradeAt, MaxTier: routing.TierEconomy})
	// Keep steps sorted by AtPercent with non-increasing tiers, as Validate expects.
	for i := 1; i < len(ladder); i++ {
		for j := i; j > 0 && ladder[j].AtPercent < ladder[j-1].AtPercent; j-- {
			ladder[j], ladder[j-1] = ladder[j-1], ladder[j]
		}
	}
	for i := 1; i < len(ladder); i++ {
		if ladder[i].MaxTier.Rank() > ladder[i-1].MaxTier.Rank() {
			ladder[i].MaxTier = ladder[i-1].MaxTier
		}
	}
	p.Ladder = ladder
	return p
}
