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
// a pooled connection never leaks it to another tenant), on the cluster the
// tenant is placed on; on SQLite it is the tenant's own file.
//
// A move renames the old schema away before it flips the placement, so a handle
// still pointing at the old cluster finds no table rather than writing where
// nobody reads. Tx then reads the placement again and, when it changed, runs fn
// once more on the new cluster (the failed transaction rolled back, so fn starts
// from nothing). When it did not change yet (the move is between its two commits),
// the caller gets Unavailable with a Retry-After: the ledger writer keeps the
// events spooled and retries, an admin request answers 503. fn must therefore be
// safe to run again from the start (callers assign their results; none appends
// to state outside the transaction before its first statement can fail).
func (h *Handle) Tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if h.r.db.Dialect != migrations.DialectPostgres {
		g, err := h.r.tenantFile(ctx, h.t.ID)
		if err != nil {
			return err
		}
		return g.WithContext(ctx).Transaction(fn)
	}
	cluster, err := h.r.placement(ctx, h.t.ID)
	if err != nil {
		return err
	}
	err = h.txOn(ctx, cluster, fn)
	if err == nil || !isMissingRelation(err) {
		return err
	}
	now, lerr := h.r.loadPlacement(ctx, h.t.ID)
	if lerr != nil {
		return err
	}
	if now == cluster {
		if !h.r.multiCluster() {
			return err // one cluster: nothing moves, a missing table is a real fault
		}
		return movingError(h.t.ID, err)
	}
	if err := h.txOn(ctx, now, fn); err != nil {
		if isMissingRelation(err) {
			return movingError(h.t.ID, err)
		}
		return err
	}
	return nil
}

func (h *Handle) txOn(ctx context.Context, cluster string, fn func(tx *gorm.DB) error) error {
	db, err := h.r.clusterDB(ctx, cluster)
	if err != nil {
		return err
	}
	return db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SET LOCAL search_path TO " + quoteSchema(h.t.SchemaName)).Error; err != nil {
			return err
		}
		return fn(tx)
	})
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
