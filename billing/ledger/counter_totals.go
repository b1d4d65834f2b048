package ledger

import (
	"context"
	"time"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/tenants"
)

// CounterTotals returns, for every budget, the ledger's spend of its scope in its
// current period (from the daily rollups): what the meter's counters must hold.
// The meter is rebuilt from it after a restart (in-process meter) or a Redis loss,
// and the reconcile job compares the two.
func CounterTotals(ctx context.Context, h *tenants.Handle, budgets []budget.Budget, now time.Time) ([]meter.ScopeTotal, error) {
	out := make([]meter.ScopeTotal, 0, len(budgets))
	for _, b := range budgets {
		spent, err := PeriodSpend(ctx, h, b, now)
		if err != nil {
			return nil, err
		}
		out = append(out, meter.ScopeTotal{Scope: b.Scope, ScopeID: b.ScopeID, Period: b.Period, PeriodKey: b.Period.Key(now), Spent: spent})
	}
	return out, nil
}

// PeriodSpend is the ledger's spend of b's scope in b's current period.
func PeriodSpend(ctx context.Context, h *tenants.Handle, b budget.Budget, now time.Time) (billing.NanoUSD, error) {
	now = now.UTC()
	q := SeriesQuery{From: now.Format("2006-01-02"), To: now.Format("2006-01-02")}
	if b.Period == meter.PeriodMonth {
		q.From = now.Format("2006-01") + "-01"
	}
	switch b.Scope {
	case meter.ScopeKey:
		// The key and its rotation successors spend against the key's budgets.
		q.KeyIDs = append([]string{b.ScopeID}, b.KeyIDs...)
	case meter.ScopeMember:
		q.MemberID = b.ScopeID
	}
	_, totals, err := Series(ctx, h, q)
	return totals.Cost, err
}
