// Package budget stores a tenant's budgets (limits per scope and period, hard or
// soft, with an alert and downgrade ladder), turns them into the meter's limits for
// a request, and records alerts so each fires once per threshold per period.
package budget

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
)

// DefaultAlertAt are the alert thresholds, in percent of the limit, when none are given.
var DefaultAlertAt = []int{50, 80, 100}

// Budget is one spending limit of a tenant: the ladder "alert at AlertAt%, downgrade
// to a cheaper tier at DowngradeAt%, stop at 100% when Hard" as one policy.
type Budget struct {
	ID      string
	Scope   meter.Scope
	ScopeID string // key id or member id; empty for the tenant scope
	Period  meter.Period
	// Limit is the period's budget in nano-USD.
	Limit billing.NanoUSD
	// Hard budgets refuse requests that would pass the limit; soft ones only alert.
	Hard bool
	// AlertAt are thresholds in percent of Limit (e.g. 50, 80, 100).
	AlertAt []int
	// DowngradeAt is the percent of Limit from which routing picks a cheaper tier;
	// 0 means never.
	DowngradeAt int
	// KeyIDs are, for a key budget, every key whose requests count against it: the
	// key ScopeID names and its rotation successors (see CarryToSuccessor). Nil for
	// other scopes.
	KeyIDs    []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Limit converts the budget to the meter's limit.
func (b Budget) MeterLimit() meter.Limit {
	return meter.Limit{Scope: b.Scope, ScopeID: b.ScopeID, Period: b.Period, Limit: b.Limit, Hard: b.Hard}
}

// SetInput creates or replaces the budget of a scope and period.
type SetInput struct {
	Scope       meter.Scope
	ScopeID     string
	Period      meter.Period
	Limit       billing.NanoUSD
	Hard        bool
	AlertAt     []int
	DowngradeAt int
}

// Validate reports every problem with the input.
func (in SetInput) Validate() error {
	var errs []error
	switch in.Scope {
	case meter.ScopeTenant:
		if in.ScopeID != "" {
			errs = append(errs, errors.New("scope_id must be empty for the tenant scope"))
		}
	case meter.ScopeKey, meter.ScopeMember:
		if in.ScopeID == "" {
			errs = append(errs, fmt.Errorf("scope_id is required for the %s scope", in.Scope))
		}
	default:
		errs = append(errs, fmt.Errorf("scope %q must be tenant, key or member", in.Scope))
	}
	if in.Period != meter.PeriodDay && in.Period != meter.PeriodMonth {
		errs = append(errs, fmt.Errorf("period %q must be day or month", in.Period))
	}
	if in.Limit <= 0 {
		errs = append(errs, errors.New("limit must be more than 0"))
	}
	for _, a := range in.AlertAt {
		if a <= 0 || a > 1000 {
			errs = append(errs, fmt.Errorf("alert threshold %d%% must be between 1 and 1000", a))
		}
	}
	if in.DowngradeAt < 0 || in.DowngradeAt > 100 {
		errs = append(errs, errors.New("downgrade_at must be between 0 (never) and 100 percent"))
	}
	if err := errors.Join(errs...); err != nil {
		return errkind.Wrap(errkind.Invalid, err, "invalid budget: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
}

type budgetRow struct {
	ID          string `gorm:"primaryKey"`
	Scope       string
	ScopeID     string
	Period      string
	LimitNano   int64
	Hard        bool
	AlertAt     string
	DowngradeAt int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (budgetRow) TableName() string { return "budgets" }

func mapBudget(r budgetRow) Budget {
	var alerts []int
	_ = json.Unmarshal([]byte(r.AlertAt), &alerts)
	return Budget{ID: r.ID, Scope: meter.Scope(r.Scope), ScopeID: r.ScopeID, Period: meter.Period(r.Period),
		Limit: billing.NanoUSD(r.LimitNano), Hard: r.Hard, AlertAt: alerts, DowngradeAt: int(r.DowngradeAt),
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// keyLineageRow links a rotated key's successor to the first key of its chain.
type keyLineageRow struct {
	KeyID       string `gorm:"primaryKey"`
	BudgetKeyID string
	CreatedAt   time.Time
}

func (keyLineageRow) TableName() string { return "key_lineage" }

// List returns the tenant's budgets, key budgets with every key of their rotation
// chain in KeyIDs.
func List(ctx context.Context, h *tenants.Handle) ([]Budget, error) {
	var rows []budgetRow
	var links []keyLineageRow
	if err := h.Read(ctx, func(db *gorm.DB) error {
		if err := db.Order("scope, scope_id, period").Find(&rows).Error; err != nil {
			return err
		}
		return db.Order("created_at, key_id").Find(&links).Error
	}); err != nil {
		return nil, err
	}
	successors := map[string][]string{}
	for _, l := range links {
		successors[l.BudgetKeyID] = append(successors[l.BudgetKeyID], l.KeyID)
	}
	out := make([]Budget, len(rows))
	for i, r := range rows {
		out[i] = mapBudget(r)
		if out[i].Scope == meter.ScopeKey {
			out[i].KeyIDs = append([]string{r.ScopeID}, successors[r.ScopeID]...)
		}
	}
	return out, nil
}

// budgetKeyID is the id key budgets of keyID are kept under: the first key of its
// rotation chain, or keyID itself.
func budgetKeyID(db *gorm.DB, keyID string) (string, error) {
	var l keyLineageRow
	err := db.Where("key_id = ?", keyID).Take(&l).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return keyID, nil
	case err != nil:
		return "", err
	}
	return l.BudgetKeyID, nil
}

// CarryToSuccessor makes successorKeyID, the key that replaces keyID in a rotation,
// spend against keyID's key budgets: the same budgets, the same counters (so the
// successor continues the period's spend rather than starting from 0), and the same
// ledger totals when the counters are rebuilt. The old key, while its grace period
// lasts, keeps spending against them too. Carrying again changes nothing.
func CarryToSuccessor(ctx context.Context, h *tenants.Handle, keyID, successorKeyID string) error {
	if keyID == "" || successorKeyID == "" || keyID == successorKeyID {
		return errkind.New(errkind.Invalid, "carrying key budgets needs two different key ids")
	}
	return h.Tx(ctx, func(tx *gorm.DB) error {
		root, err := budgetKeyID(tx, keyID)
		if err != nil {
			return err
		}
		if existing, err := budgetKeyID(tx, successorKeyID); err != nil || existing != successorKeyID {
			return err // already carried
		}
		return tx.Create(&keyLineageRow{KeyID: successorKeyID, BudgetKeyID: root, CreatedAt: time.Now().UTC()}).Error
	})
}

// Set creates the budget of (scope, scope id, period), or replaces its values.
func Set(ctx context.Context, h *tenants.Handle, in SetInput) (Budget, error) {
	if err := in.Validate(); err != nil {
		return Budget{}, err
	}
	alerts := in.AlertAt
	if alerts == nil {
		alerts = DefaultAlertAt
	}
	alerts = append([]int(nil), alerts...)
	sort.Ints(alerts)
	alertJSON, _ := json.Marshal(alerts)
	now := time.Now().UTC()
	var out budgetRow
	err := h.Tx(ctx, func(tx *gorm.DB) error {
		if in.Scope == meter.ScopeKey {
			// A budget set on a rotated key's successor is its chain's budget.
			root, err := budgetKeyID(tx, in.ScopeID)
			if err != nil {
				return err
			}
			in.ScopeID = root
		}
		var existing budgetRow
		err := tx.Where("scope = ? AND scope_id = ? AND period = ?", string(in.Scope), in.ScopeID, string(in.Period)).Take(&existing).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			out = budgetRow{ID: "bud_" + strings.ToLower(ulid.Make().String()), Scope: string(in.Scope), ScopeID: in.ScopeID,
				Period: string(in.Period), LimitNano: int64(in.Limit), Hard: in.Hard, AlertAt: string(alertJSON),
				DowngradeAt: int64(in.DowngradeAt), CreatedAt: now, UpdatedAt: now}
			return tx.Create(&out).Error
		case err != nil:
			return err
		}
		existing.LimitNano, existing.Hard, existing.AlertAt, existing.DowngradeAt, existing.UpdatedAt =
			int64(in.Limit), in.Hard, string(alertJSON), int64(in.DowngradeAt), now
		out = existing
		return tx.Save(&existing).Error
	})
	return mapBudget(out), err
}

// Delete removes a budget by id.
func Delete(ctx context.Context, h *tenants.Handle, id string) error {
	return h.Tx(ctx, func(tx *gorm.DB) error {
		res := tx.Where("id = ?", id).Delete(&budgetRow{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errkind.New(errkind.NotFound, "budget %q not found", id)
		}
		return nil
	})
}

// Applicable returns the budgets that apply to a request by keyID on behalf of
// memberID, in a stable order (nil when none does). When all of them apply (a
// tenant with tenant budgets only: every request) it returns all itself, capped
// so that an append copies: callers only read the budgets.
func Applicable(all []Budget, keyID, memberID string) []Budget {
	applies := func(b *Budget) bool {
		switch b.Scope {
		case meter.ScopeTenant:
			return true
		case meter.ScopeKey:
			return keyID != "" && (b.ScopeID == keyID || slices.Contains(b.KeyIDs, keyID))
		case meter.ScopeMember:
			return b.ScopeID == memberID && memberID != ""
		}
		return false
	}
	n := 0
	for i := range all {
		if applies(&all[i]) {
			n++
		}
	}
	switch n {
	case 0:
		return nil
	case len(all):
		return all[:n:n]
	}
	out := make([]Budget, 0, n)
	for i := range all {
		if applies(&all[i]) {
			out = append(out, all[i])
		}
	}
	return out
}
