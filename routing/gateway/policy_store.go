package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/tenants"
)

// defaultPolicyName is the name of the tenant's active routing policy row.
const defaultPolicyName = "default"

type policyRow struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	Policy    string
	IsDefault bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (policyRow) TableName() string { return "routing_policies" }

// LoadPolicy returns the tenant's routing policy, or routing.DefaultPolicy when the
// tenant configured none.
func LoadPolicy(ctx context.Context, h *tenants.Handle) (routing.Policy, bool, error) {
	var row policyRow
	err := h.Read(ctx, func(db *gorm.DB) error {
		return db.Where("name = ?", defaultPolicyName).Take(&row).Error
	})
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return routing.DefaultPolicy(), false, nil
	}
	if err != nil {
		return routing.Policy{}, false, err
	}
	var p routing.Policy
	if err := json.Unmarshal([]byte(row.Policy), &p); err != nil {
		return routing.Policy{}, false, err
	}
	p, err = attachClassifier(ctx, h, p)
	return p, true, err
}

// SavePolicy validates the policy against the catalog and stores it as the
// tenant's. In the same transaction it deletes the kept prompts the policy no
// longer keeps: all of them when retain_prompts_days is 0, those older than
// it otherwise (the worker's prompt_purge catches any still in a spool).
func SavePolicy(ctx context.Context, h *tenants.Handle, p routing.Policy, cat *routing.Catalog) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if err := p.CheckCatalog(cat); err != nil {
		return errkind.Wrap(errkind.Invalid, err, "routing policy names unknown models")
	}
	if p.Classifier != "" {
		if _, err := loadClassifier(ctx, h, p.Classifier); err != nil {
			if errors.Is(err, errkind.NotFound) {
				return errkind.New(errkind.Invalid, "classifier: %s", err.Error())
			}
			return err
		}
	}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	return h.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO routing_policies (id, name, policy, is_default, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at`,
			"pol_default", defaultPolicyName, string(body), true, now, now).Error; err != nil {
			return err
		}
		_, err := ledger.PurgeKeptPromptsTx(tx, keptCutoff(now, p.RetainPromptsDays))
		return err
	})
}

// PolicyCache keeps each tenant's policy in memory for a short TTL so the request
// path reads no database. A database error keeps the last known policy in force.
// For and Invalidate come from tenants.SettingsCache, which also reloads entries
// before they expire.
type PolicyCache struct {
	*tenants.SettingsCache[routing.Policy]
}

// NewPolicyCache returns a cache with the given TTL (0 means 2s).
func NewPolicyCache(ttl time.Duration, now func() time.Time) *PolicyCache {
	return &PolicyCache{tenants.NewSettingsCache(ttl, now, func(ctx context.Context, h *tenants.Handle) (routing.Policy, error) {
		p, _, err := LoadPolicy(ctx, h)
		return p, err
	})}
}
