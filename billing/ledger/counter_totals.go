package ledger

import (
	"context"
	"time"

	"gorm.io/gorm"

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

// PeriodRequestCosts returns the cost of each request that counted against b in
// its current period, oldest first: what a proposed limit on b would have let
// through or refused.
func PeriodRequestCosts(ctx context.Context, h *tenants.Handle, b budget.Budget, now time.Time) ([]billing.NanoUSD, error) {
	now = now.UTC()
	from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if b.Period == meter.PeriodMonth {
		from = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	var costs []int64
	err := h.Read(ctx, func(db *gorm.DB) error {
		q := db.Table("usage_events").Where("created_at >= ?", from)
		switch b.Scope {
		case meter.ScopeKey:
			q = q.Where("key_id IN ?", append([]string{b.ScopeID}, b.KeyIDs...))
		case meter.ScopeMember:
			q = q.Where("member_id = ?", b.ScopeID)
		}
		return q.Order("created_at, request_id").Pluck("cost_nano", &costs).Error
	})
	out := make([]billing.NanoUSD, len(costs))
	for i, c := range costs {
		out[i] = billing.NanoUSD(c)
	}
	return out, err
}
