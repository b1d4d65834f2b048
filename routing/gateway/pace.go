package gateway

import (
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/routing"
)

// paceTracker remembers the latest known settled spend of each budget, so
// selection can react to budget pace and ladders without a meter round trip
// before it. It counts settled spend only: a reservation's worst case is not
// spend, and counting it flipped routing between tiers request by request near
// a limit.
type paceTracker struct {
	mu    sync.Mutex
	spent map[string]paceEntry // budget id → settled spend of a period
}

type paceEntry struct {
	period string
	spent  billing.NanoUSD
}

func newPaceTracker() *paceTracker { return &paceTracker{spent: map[string]paceEntry{}} }

// record notes each budget's settled spend (the meter's usage of it, plus cost:
// a request that just settled) in the period starting at now. Within a period
// the value only grows (requests settle out of order).
func (p *paceTracker) record(bs []budget.Budget, us []meter.ScopeUsage, cost billing.NanoUSD, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, u := range us {
		if i >= len(bs) {
			break
		}
		s := u.Spent + cost
		key := bs[i].Period.Key(now)
		if e, ok := p.spent[bs[i].ID]; ok && e.period == key && e.spent > s {
			continue
		}
		p.spent[bs[i].ID] = paceEntry{period: key, spent: s}
	}
}

// paceFor returns the state of every budget that applies, for selection to take
// the most restrictive cap of them.
func (p *paceTracker) paceFor(bs []budget.Budget, now time.Time) []routing.BudgetPace {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]routing.BudgetPace, 0, len(bs))
	for _, b := range bs {
		var spent billing.NanoUSD
		if e, ok := p.spent[b.ID]; ok && e.period == b.Period.Key(now) {
			spent = e.spent
		}
		out = append(out, routing.BudgetPace{Spent: spent, Budget: b.Limit, Elapsed: elapsed(b.Period, now), DowngradeAt: b.DowngradeAt})
	}
	return out
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
