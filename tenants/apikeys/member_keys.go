package apikeys

import (
	"context"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// RevokeMemberKeysTx revokes the live API keys userID created in tenant (unless
// keep) and returns their hashes, for the key caches once the transaction commits.
func RevokeMemberKeysTx(tx *gorm.DB, feed *tenants.ChangeFeed, tenant tenants.ID, userID string, keep bool, actor audit.Actor) ([]string, error) {
	if keep {
		return nil, nil
	}
	var rows []apiKeyRow
	if err := liveKeysOf(tx, tenant, userID).Find(&rows).Error; err != nil {
		return nil, err
	}
	hashes := make([]string, 0, len(rows))
	now := tenants.NowUTC()
	for _, r := range rows {
		if err := tx.Model(&apiKeyRow{}).Where("id = ?", r.ID).Update("revoked_at", now).Error; err != nil {
			return nil, err
		}
		if err := audit.RecordTx(tx, tenant, actor, audit.AuditKeyRevoked, r.ID,
			map[string]any{"name": r.Name, "prefix": r.Prefix, "reason": "creator removed"}); err != nil {
			return nil, err
		}
		if err := feed.PublishTx(tx, tenants.Change{Kind: tenants.ChangeKey, Ref: r.Hash}); err != nil {
			return nil, err
		}
		hashes = append(hashes, r.Hash)
	}
	return hashes, nil
}

// liveKeysOf selects the tenant's keys that userID created and that still work.
func liveKeysOf(tx *gorm.DB, tenant tenants.ID, userID string) *gorm.DB {
	return tx.Model(&apiKeyRow{}).Where("tenant_id = ? AND created_by = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
		string(tenant), userID, tenants.NowUTC())
}

// LiveKeyCounts returns, per member of the tenant, how many working API keys they
// created (the console shows it before a removal).
func LiveKeyCounts(ctx context.Context, db *database.DB, tenant tenants.ID) (map[string]int, error) {
	var rows []struct {
		CreatedBy string
		N         int
	}
	err := db.Gorm.WithContext(ctx).Model(&apiKeyRow{}).Select("created_by, count(*) AS n").
		Where("tenant_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", string(tenant), tenants.NowUTC()).
		Group("created_by").Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.CreatedBy] = r.N
	}
	return out, nil
}
