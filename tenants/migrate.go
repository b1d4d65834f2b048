package tenants

import (
	"context"
	"fmt"
	"sync"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/migrations"
)

// TenantVersion is one tenant's migration state.
type TenantVersion struct {
	Tenant  Tenant
	Version int64
	Latest  int64
}

// Versions reports the tenant migration version of every tenant.
func (r *Registry) Versions(ctx context.Context) ([]TenantVersion, error) {
	latest, err := migrations.Latest(r.db.Dialect, migrations.SetTenant)
	if err != nil {
		return nil, err
	}
	ts, err := r.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]TenantVersion, len(ts))
	for i, t := range ts {
		h := &Handle{r: r, t: t}
		var v int64
		err := h.Read(ctx, func(db *gorm.DB) error {
			var e error
			v, e = migrations.TenantVersion(ctx, db.Statement.ConnPool.(migrations.DBTx), r.db.Dialect)
			return e
		})
		if err != nil {
			return nil, fmt.Errorf("tenant %s: %w", t.Slug, err)
		}
		out[i] = TenantVersion{Tenant: t, Version: v, Latest: latest}
	}
	return out, nil
}

// MigrateResult is what MigrateAll did to one tenant.
type MigrateResult struct {
	Tenant   Tenant
	From, To int64
}

// MigrateAll applies pending tenant migrations to every tenant, each tenant in its own
// transaction (all-or-nothing per tenant), a few tenants at a time. On Postgres a
// per-tenant advisory lock keeps two concurrent `migrate up` runs from racing. Each
// tenant's reached version is recorded in tenants.schema_version.
//
// It opens every schema: `tollgate migrate up` runs it. `serve` and `worker` run
// MigratePending instead, whose start-up cost does not grow with the tenant count.
func (r *Registry) MigrateAll(ctx context.Context, parallel int) ([]MigrateResult, error) {
	ts, err := r.List(ctx)
	if err != nil {
		return nil, err
	}
	return r.migrate(ctx, ts, parallel)
}

// MigratePending migrates the tenants whose recorded schema version is behind the
// latest tenant migration (all of them once, on the first start after an upgrade
// that added the record; none on an ordinary restart). At 10,000 tenants MigrateAll
// at every replica start opened 10,000 transactions; this is one indexed query.
func (r *Registry) MigratePending(ctx context.Context, parallel int) ([]MigrateResult, error) {
	latest, err := r.latestTenantVersion()
	if err != nil {
		return nil, err
	}
	var rows []TenantRow
	if err := r.db.Gorm.WithContext(ctx).Where("schema_version < ?", latest).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	ts := make([]Tenant, len(rows))
	for i, row := range rows {
		ts[i] = MapTenantRow(row)
	}
	return r.migrate(ctx, ts, parallel)
}

// latestTenantVersion is the newest tenant migration, a benchmark's extra included.
func (r *Registry) latestTenantVersion() (int64, error) {
	latest, err := migrations.Latest(r.db.Dialect, migrations.SetTenant)
	if err != nil {
		return 0, err
	}
	for _, m := range r.extraTenantMigrations {
		latest = max(latest, m.Version)
	}
	return latest, nil
}

func (r *Registry) migrate(ctx context.Context, ts []Tenant, parallel int) ([]MigrateResult, error) {
	if parallel < 1 {
		parallel = 1
	}
	results := make([]MigrateResult, len(ts))
	errs := make([]error, len(ts))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, t := range ts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i], errs[i] = r.migrateOne(ctx, t)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return results, fmt.Errorf("tenant %s: %w", ts[i].Slug, err)
		}
	}
	return results, nil
}

func (r *Registry) migrateOne(ctx context.Context, t Tenant) (MigrateResult, error) {
	res := MigrateResult{Tenant: t}
	h := &Handle{r: r, t: t}
	err := h.Tx(ctx, func(tx *gorm.DB) error {
		if r.db.Dialect == migrations.DialectPostgres {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext(?))", "tollgate-tenant-migrate:"+string(t.ID)).Error; err != nil {
				return err
			}
		}
		ms, err := migrations.Load(r.db.Dialect, migrations.SetTenant)
		if err != nil {
			return err
		}
		ms = append(ms, r.extraTenantMigrations...)
		res.From, res.To, err = migrations.TenantUpWith(ctx, tx.Statement.ConnPool.(migrations.DBTx), r.db.Dialect, ms)
		return err
	})
	if err != nil {
		return res, err
	}
	// Recorded after the tenant's transaction committed (it may be on another
	// cluster): a crash in between leaves the record behind, and the next start
	// migrates the tenant again, which finds nothing to do.
	err = r.db.Gorm.WithContext(ctx).Model(&TenantRow{}).Where("id = ? AND schema_version <> ?", string(t.ID), res.To).
		UpdateColumn("schema_version", res.To).Error
	return res, err
}

// SetExtraTenantMigrations adds migrations after the embedded tenant set, for the
// tenant-scale benchmark's "one new migration across every tenant". Nothing in
// the binary calls it.
func (r *Registry) SetExtraTenantMigrations(ms []migrations.Migration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.extraTenantMigrations = ms
}
