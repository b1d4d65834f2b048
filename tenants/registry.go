package tenants

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/migrations"
)

// Registry creates, finds and migrates tenants, and hands out tenant-scoped handles.
//
// Isolation: on Postgres each tenant's tables live in its own schema (t_<ulid>); on
// SQLite each tenant's tables live in their own database file
// (<data dir>/tenants/t_<ulid>.db). Either way a tenant's rows cannot be reached by a
// query that forgot a WHERE clause: they are not in the same tables.
type Registry struct {
	db      *database.DB
	dataDir string
	logger  *slog.Logger

	mu    sync.Mutex
	files map[ID]*gorm.DB // open SQLite tenant files

	// clusters are the Postgres clusters besides the control database (MainCluster);
	// pools holds those opened so far, placements the cached cluster of tenants.
	clusters   []Cluster
	poolOpts   database.Options
	pools      map[string]*database.DB
	placements map[ID]string

	// failAfterMigrate, when set by a test, fails provisioning after the tenant
	// migrations ran, to prove a failure leaves no half tenant.
	failAfterMigrate error
	// extraTenantMigrations, when set by a benchmark, are applied after the
	// embedded tenant migrations by MigrateAll.
	extraTenantMigrations []migrations.Migration
}

// NewRegistry returns a registry over the control-plane database. dataDir holds the
// SQLite tenant files (unused on Postgres). clusters are further Postgres clusters
// for tenant schemas (TOLLGATE_TENANT_DATABASE_URLS); none keeps every tenant in
// the control database.
func NewRegistry(db *database.DB, dataDir string, logger *slog.Logger, clusters ...Cluster) *Registry {
	return &Registry{db: db, dataDir: dataDir, logger: logger.With("component", "tenants"), files: map[ID]*gorm.DB{},
		clusters: clusters, pools: map[string]*database.DB{}, placements: map[ID]string{},
		poolOpts: database.Options{MaxOpenConns: db.SQL.Stats().MaxOpenConnections}}
}

// Dialect returns the database dialect.
func (r *Registry) Dialect() migrations.Dialect { return r.db.Dialect }

// Control returns the control-plane gorm handle (tenants, users, keys, audit).
func (r *Registry) Control() *gorm.DB { return r.db.Gorm }

// Close closes the SQLite tenant files and the pools of further clusters.
func (r *Registry) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, db := range r.pools {
		_ = db.Close()
		delete(r.pools, name)
	}
	for id, g := range r.files {
		if s, err := g.DB(); err == nil {
			_ = s.Close()
		}
		delete(r.files, id)
	}
}

// TenantRow is the control-database row of a tenant. The identity subpackages join
// it (a user's memberships, an invitation's tenant name); everyone else uses Tenant.
type TenantRow struct {
	ID         string `gorm:"primaryKey"`
	Slug       string
	Name       string
	SchemaName string
	// Cluster is the Postgres cluster holding the schema (MainCluster: the control
	// database).
	Cluster string `gorm:"default:main"`
	// SchemaVersion is the tenant migration version last recorded for the schema.
	SchemaVersion    int64
	Status           string
	StripeCustomerID string
	BillingEmail     string
	Plan             string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	SuspendedAt      *time.Time
}

// TableName is the table of TenantRow.
func (TenantRow) TableName() string { return "tenants" }

// MapTenantRow converts a row to the Tenant the rest of Tollgate sees.
func MapTenantRow(r TenantRow) Tenant {
	return Tenant{ID: ID(r.ID), Slug: r.Slug, Name: r.Name, SchemaName: r.SchemaName, Cluster: r.Cluster, Status: Status(r.Status),
		StripeCustomerID: r.StripeCustomerID, BillingEmail: r.BillingEmail, Plan: r.Plan, CreatedAt: r.CreatedAt, SuspendedAt: r.SuspendedAt}
}

// CreateInput is what it takes to create a tenant.
type CreateInput struct {
	// Name is the display name; its slug must be unique.
	Name string
	// BillingEmail receives invoices; optional.
	BillingEmail string
}

// Validate reports every problem with the input.
func (in CreateInput) Validate() error {
	var errs []error
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		errs = append(errs, errors.New("name is required"))
	case len(name) > 100:
		errs = append(errs, errors.New("name must be at most 100 characters"))
	case Slugify(name) == "":
		errs = append(errs, errors.New("name must contain a letter or digit"))
	}
	if in.BillingEmail != "" && !strings.Contains(in.BillingEmail, "@") {
		errs = append(errs, errors.New("billing email is not an email address"))
	}
	if err := errors.Join(errs...); err != nil {
		return errkind.Wrap(errkind.Invalid, err, "invalid tenant: %s", strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
}

// Create provisions a tenant. On Postgres the tenant row, its schema and every tenant
// migration commit in one transaction: a failure leaves nothing behind. On SQLite the
// tenant file is migrated first and the row inserted last; a failed insert removes
// the file, so again no half tenant is visible.
func (r *Registry) Create(ctx context.Context, in CreateInput) (Tenant, error) {
	if err := in.Validate(); err != nil {
		return Tenant{}, err
	}
	name := strings.TrimSpace(in.Name)
	slug := Slugify(name)
	if _, err := r.Get(ctx, slug); err == nil {
		return Tenant{}, errkind.New(errkind.Conflict, "a tenant named %q already exists (slug %q); choose another name", name, slug)
	} else if !errors.Is(err, errkind.NotFound) {
		return Tenant{}, err
	}
	id := NewID()
	now := time.Now().UTC()
	row := TenantRow{ID: string(id), Slug: slug, Name: name, SchemaName: id.SchemaName(), Cluster: MainCluster, Status: string(StatusActive),
		BillingEmail: in.BillingEmail, Plan: "{}", CreatedAt: now, UpdatedAt: now}

	var err error
	if r.db.Dialect == migrations.DialectPostgres {
		row.Cluster, err = r.leastLoadedCluster(ctx)
		if err != nil {
			return Tenant{}, err
		}
		if row.Cluster == MainCluster {
			// The row goes first: the migrations then point search_path at the
			// tenant schema for the rest of the transaction. It records the version
			// the migrations are about to reach; they fail the transaction otherwise.
			row.SchemaVersion, err = migrations.Latest(migrations.DialectPostgres, migrations.SetTenant)
			if err != nil {
				return Tenant{}, err
			}
			err = r.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				if err := tx.Create(&row).Error; err != nil {
					return err
				}
				if err := tx.Exec("CREATE SCHEMA " + quoteSchema(row.SchemaName)).Error; err != nil {
					return fmt.Errorf("create schema: %w", err)
				}
				v, err := migrateTenantTx(ctx, tx, row.SchemaName, migrations.DialectPostgres)
				if err != nil {
					return err
				}
				if v != row.SchemaVersion {
					return fmt.Errorf("tenant migrations reached %d, expected %d", v, row.SchemaVersion)
				}
				return r.failAfterMigrate
			})
		} else {
			err = r.createOnCluster(ctx, &row)
		}
	} else {
		err = r.createSQLite(ctx, &row)
	}
	if err != nil {
		if database.IsUniqueViolation(err) {
			return Tenant{}, errkind.New(errkind.Conflict, "a tenant named %q already exists; choose another name", name)
		}
		return Tenant{}, fmt.Errorf("create tenant %q: %w", name, err)
	}
	r.logger.InfoContext(ctx, "tenant created", "tenant_id", row.ID, "slug", slug)
	return MapTenantRow(row), nil
}

func (r *Registry) createSQLite(ctx context.Context, row *TenantRow) error {
	path := r.tenantFilePath(ID(row.ID))
	if err := os.MkdirAll(filepath.Dir(path), database.DirMode); err != nil {
		return err
	}
	g, err := r.tenantFile(ctx, ID(row.ID))
	if err != nil {
		return err
	}
	cleanup := func() {
		r.mu.Lock()
		delete(r.files, ID(row.ID))
		r.mu.Unlock()
		if s, err := g.DB(); err == nil {
			_ = s.Close()
		}
		for _, suffix := range []string{"", "-wal", "-shm"} {
			_ = os.Remove(path + suffix)
		}
	}
	if err := g.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		v, err := migrateTenantTx(ctx, tx, row.SchemaName, migrations.DialectSQLite)
		row.SchemaVersion = v
		return err
	}); err != nil {
		cleanup()
		return err
	}
	if r.failAfterMigrate != nil {
		cleanup()
		return r.failAfterMigrate
	}
	if err := r.db.Gorm.WithContext(ctx).Create(row).Error; err != nil {
		cleanup()
		return err
	}
	return nil
}

// createOnCluster provisions a tenant on a cluster other than the control
// database. Two databases cannot share a transaction, so the schema commits first
// and the control row last; a failed insert drops the schema again. A crash in
// between leaves an orphan schema no tenant row points at: invisible, and dropped
// by hand if ever noticed (its name is in no tenant row).
func (r *Registry) createOnCluster(ctx context.Context, row *TenantRow) error {
	cdb, err := r.clusterDB(ctx, row.Cluster)
	if err != nil {
		return err
	}
	if err := cdb.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("CREATE SCHEMA " + quoteSchema(row.SchemaName)).Error; err != nil {
			return fmt.Errorf("create schema on cluster %s: %w", row.Cluster, err)
		}
		v, err := migrateTenantTx(ctx, tx, row.SchemaName, migrations.DialectPostgres)
		row.SchemaVersion = v
		if err != nil {
			return err
		}
		return r.failAfterMigrate
	}); err != nil {
		return err
	}
	if err := r.db.Gorm.WithContext(ctx).Create(row).Error; err != nil {
		if derr := cdb.Gorm.WithContext(context.WithoutCancel(ctx)).Exec("DROP SCHEMA IF EXISTS " + quoteSchema(row.SchemaName) + " CASCADE").Error; derr != nil {
			r.logger.WarnContext(ctx, "orphan tenant schema left after a failed create", "cluster", row.Cluster, "schema", row.SchemaName, "error", derr)
		}
		return err
	}
	return nil
}

// migrateTenantTx applies pending tenant migrations inside tx, pointing Postgres at
// the tenant schema for this transaction only. It returns the version reached.
func migrateTenantTx(ctx context.Context, tx *gorm.DB, schema string, d migrations.Dialect) (int64, error) {
	if d == migrations.DialectPostgres {
		if err := tx.Exec("SET LOCAL search_path TO " + quoteSchema(schema)).Error; err != nil {
			return 0, err
		}
	}
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return 0, errors.New("tenant migrations need a transaction")
	}
	_, to, err := migrations.TenantUp(ctx, sqlTx, d)
	return to, err
}

// quoteSchema quotes a generated schema name. It panics on anything else: a
// non-generated name reaching SQL is a programming error, not an input error.
func quoteSchema(s string) string {
	if !ValidSchemaName(s) {
		panic(fmt.Sprintf("tenants: refusing non-generated schema name %q", s))
	}
	return `"` + s + `"`
}

// Get finds a tenant by id or slug.
func (r *Registry) Get(ctx context.Context, ref string) (Tenant, error) {
	var row TenantRow
	q := r.db.Gorm.WithContext(ctx)
	var err error
	if ID(ref).Valid() {
		err = q.Where("id = ?", ref).Take(&row).Error
	} else {
		err = q.Where("slug = ?", ref).Take(&row).Error
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Tenant{}, errkind.New(errkind.NotFound, "tenant %q not found", ref)
	}
	if err != nil {
		return Tenant{}, err
	}
	return MapTenantRow(row), nil
}

// List returns all tenants, oldest first.
func (r *Registry) List(ctx context.Context) ([]Tenant, error) {
	var rows []TenantRow
	if err := r.db.Gorm.WithContext(ctx).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Tenant, len(rows))
	for i, row := range rows {
		out[i] = MapTenantRow(row)
	}
	return out, nil
}

// SetStatus suspends or resumes a tenant. Its data stays either way.
func (r *Registry) SetStatus(ctx context.Context, id ID, status Status) (Tenant, error) {
	if status != StatusActive && status != StatusSuspended {
		return Tenant{}, errkind.New(errkind.Invalid, "unknown status %q", status)
	}
	updates := map[string]any{"status": string(status), "updated_at": time.Now().UTC(), "suspended_at": nil}
	if status == StatusSuspended {
		updates["suspended_at"] = time.Now().UTC()
	}
	res := r.db.Gorm.WithContext(ctx).Model(&TenantRow{}).Where("id = ?", string(id)).Updates(updates)
	if res.Error != nil {
		return Tenant{}, res.Error
	}
	if res.RowsAffected == 0 {
		return Tenant{}, errkind.New(errkind.NotFound, "tenant %q not found", id)
	}
	return r.Get(ctx, string(id))
}

// SetStripeCustomer records the tenant's Stripe customer id.
func (r *Registry) SetStripeCustomer(ctx context.Context, id ID, customerID string) error {
	return r.db.Gorm.WithContext(ctx).Model(&TenantRow{}).Where("id = ?", string(id)).
		Updates(map[string]any{"stripe_customer_id": customerID, "updated_at": time.Now().UTC()}).Error
}

// SetPlan stores the tenant's pricing plan (JSON).
func (r *Registry) SetPlan(ctx context.Context, id ID, plan string) error {
	return r.db.Gorm.WithContext(ctx).Model(&TenantRow{}).Where("id = ?", string(id)).
		Updates(map[string]any{"plan": plan, "updated_at": time.Now().UTC()}).Error
}

func (r *Registry) tenantFilePath(id ID) string {
	return filepath.Join(r.dataDir, "tenants", id.SchemaName()+".db")
}

// tenantFile opens (once) the SQLite file of a tenant.
func (r *Registry) tenantFile(ctx context.Context, id ID) (*gorm.DB, error) {
	if !id.Valid() {
		return nil, errkind.New(errkind.Invalid, "invalid tenant id")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if g, ok := r.files[id]; ok {
		return g, nil
	}
	g, _, err := database.OpenSQLiteFile(ctx, r.tenantFilePath(id), 4)
	if err != nil {
		return nil, errkind.Wrap(errkind.Unavailable, err, "cannot open tenant database")
	}
	r.files[id] = g
	return g, nil
}
