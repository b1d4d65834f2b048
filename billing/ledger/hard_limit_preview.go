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

// PreviewLimit replays the current period of b's scope from the ledger against
// b.Limit (whether or not b is hard: the caller asks what making it hard means).
// Spent comes from the daily rollups, as PeriodSpend's; the replay reads the
// period's events oldest first, one cost at a time, so a busy month costs a scan
// but never its events in memory.
func PreviewLimit(ctx context.Context, h *tenants.Handle, b budget.Budget, now time.Time) (budget.LimitImpact, error) {
	now = now.UTC()
	out := budget.LimitImpact{PeriodKey: b.Period.Key(now)}
	spent, err := PeriodSpend(ctx, h, b, now)
	if err != nil {
		return out, err
	}
	out.Spent = spent
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if b.Period == meter.PeriodMonth {
		start = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	err = h.Read(ctx, func(db *gorm.DB) error {
		q := db.Table("usage_events").Select("cost_nano").Where("created_at >= ?", start)
		switch b.Scope {
		case meter.ScopeKey:
			q = q.Where("key_id IN ?", append([]string{b.ScopeID}, b.KeyIDs...))
		case meter.ScopeMember:
			q = q.Where("member_id = ?", b.ScopeID)
		}
		rows, err := q.Order("created_at, request_id").Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		var admitted billing.NanoUSD
		for rows.Next() {
			var cost int64
			if err := rows.Scan(&cost); err != nil {
				return err
			}
			out.Requests++
			if admitted+billing.NanoUSD(cost) > b.Limit {
				out.Refused++
				out.RefusedCost += billing.NanoUSD(cost)
				continue
			}
			admitted += billing.NanoUSD(cost)
		}
		return rows.Err()
	})
	return out, err
}
