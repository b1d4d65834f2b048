package budget

import (
	"context"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/tenants"
)

// Alert is a budget threshold reached in a period. It exists once per budget, period
// and threshold.
type Alert struct {
	ID        string
	BudgetID  string
	PeriodKey string
	// Threshold is the percent of the limit that was reached.
	Threshold   int
	Spent       billing.NanoUSD
	Limit       billing.NanoUSD
	CreatedAt   time.Time
	DeliveredAt *time.Time
	Attempts    int
	LastError   string
}

// Reached returns the thresholds of b that used (spent + reserved, nano-USD) has
// reached, lowest first.
func Reached(b Budget, used billing.NanoUSD) []int {
	if b.Limit <= 0 {
		return nil
	}
	var out []int
	for _, pct := range b.AlertAt {
		// used/limit >= pct/100, in integers.
		if int64(used)*100 >= int64(b.Limit)*int64(pct) {
			out = append(out, pct)
		}
	}
	return out
}

type alertRow struct {
	ID          string `gorm:"primaryKey"`
	BudgetID    string
	PeriodKey   string
	Threshold   int64
	SpentNano   int64
	LimitNano   int64
	CreatedAt   time.Time
	DeliveredAt *time.Time
	Attempts    int64
	LastError   string
}

func (alertRow) TableName() string { return "alerts" }

func mapAlert(r alertRow) Alert {
	return Alert{ID: r.ID, BudgetID: r.BudgetID, PeriodKey: r.PeriodKey, Threshold: int(r.Threshold), Spent: billing.NanoUSD(r.SpentNano),
		Limit: billing.NanoUSD(r.LimitNano), CreatedAt: r.CreatedAt, DeliveredAt: r.DeliveredAt, Attempts: int(r.Attempts), LastError: r.LastError}
}

// Record stores the alert unless the same budget, period and threshold already has
// one; it reports whether this call created it (and so should deliver it).
func Record(ctx context.Context, h *tenants.Handle, a Alert) (Alert, bool, error) {
	row := alertRow{ID: "alr_" + strings.ToLower(ulid.Make().String()), BudgetID: a.BudgetID, PeriodKey: a.PeriodKey,
		Threshold: int64(a.Threshold), SpentNano: int64(a.Spent), LimitNano: int64(a.Limit), CreatedAt: time.Now().UTC()}
	created := false
	err := h.Tx(ctx, func(tx *gorm.DB) error {
		res := tx.Exec(`INSERT INTO alerts (id, budget_id, period_key, threshold, spent_nano, limit_nano, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (budget_id, period_key, threshold) DO NOTHING`,
			row.ID, row.BudgetID, row.PeriodKey, row.Threshold, row.SpentNano, row.LimitNano, row.CreatedAt)
		created = res.RowsAffected == 1
		return res.Error
	})
	return mapAlert(row), created, err
}

// ListAlerts returns the newest alerts first.
func ListAlerts(ctx context.Context, h *tenants.Handle, limit int) ([]Alert, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var rows []alertRow
	err := h.Read(ctx, func(db *gorm.DB) error {
		return db.Order("created_at DESC, id DESC").Limit(limit).Find(&rows).Error
	})
	out := make([]Alert, len(rows))
	for i, r := range rows {
		out[i] = mapAlert(r)
	}
	return out, err
}

// MarkDelivered records a delivery attempt's outcome.
func MarkDelivered(ctx context.Context, h *tenants.Handle, id string, deliveryErr error) error {
	return h.Tx(ctx, func(tx *gorm.DB) error {
		updates := map[string]any{"attempts": gorm.Expr("attempts + 1")}
		if deliveryErr == nil {
			updates["delivered_at"] = time.Now().UTC()
			updates["last_error"] = ""
		} else {
			updates["last_error"] = deliveryErr.Error()
		}
		return tx.Model(&alertRow{}).Where("id = ?", id).Updates(updates).Error
	})
}
