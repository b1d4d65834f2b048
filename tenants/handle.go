package tenants

import (
	"context"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/migrations"
)

// Handle is the only way to query a tenant's own tables (usage, budgets, policies,
// invoices). It is built from a Principal, which only authentication code or an
// explicit system actor can create.
type Handle struct {
	r *Registry
	t Tenant
}

// Handle returns the tenant-scoped handle for an authenticated principal.
func (r *Registry) Handle(p Principal) (*Handle, error) {
	if !p.tenant.ID.Valid() || !ValidSchemaName(p.tenant.SchemaName) {
		return nil, errkind.New(errkind.Unauthenticated, "no authenticated tenant")
	}
	return &Handle{r: r, t: p.tenant}, nil
}

// Tenant returns the handle's tenant.
func (h *Handle) Tenant() Tenant { return h.t }

// TenantID returns the handle's tenant id.
func (h *Handle) TenantID() ID { return h.t.ID }

// Tx runs fn in a transaction that can see only this tenant's tables: on Postgres
// search_path is set to the tenant schema for this transaction alone (SET LOCAL, so
// a pooled connection never leaks it to another tenant); on SQLite it is the tenant's
// own file.
func (h *Handle) Tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if h.r.db.Dialect == migrations.DialectPostgres {
		return h.r.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("SET LOCAL search_path TO " + quoteSchema(h.t.SchemaName)).Error; err != nil {
				return err
			}
			return fn(tx)
		})
	}
	g, err := h.r.tenantFile(ctx, h.t.ID)
	if err != nil {
		return err
	}
	return g.WithContext(ctx).Transaction(fn)
}

// Read runs fn for reads. On SQLite it skips the (immediate, write-locking)
// transaction; on Postgres it needs one for SET LOCAL.
func (h *Handle) Read(ctx context.Context, fn func(db *gorm.DB) error) error {
	if h.r.db.Dialect == migrations.DialectPostgres {
		return h.Tx(ctx, fn)
	}
	g, err := h.r.tenantFile(ctx, h.t.ID)
	if err != nil {
		return err
	}
	return fn(g.WithContext(ctx))
}
