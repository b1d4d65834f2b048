package tenants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// MainCluster names the control database as a tenant cluster. Every tenant created
// before placement existed, and every tenant of an install with no further
// clusters, lives there.
const MainCluster = "main"

// Cluster is a further Postgres cluster that holds tenant schemas.
type Cluster struct {
	// Name is how tenants.cluster refers to it.
	Name string
	// URL is its postgres:// URL (may hold a password: never log it).
	URL string
}

// movingRetryAfter is what a request that meets a tenant in the middle of a move
// is told to wait: the write pause of a move lasts a few hundred milliseconds.
const movingRetryAfter = time.Second

// Clusters returns the names of the clusters tenants can be placed on, the
// control database's first.
func (r *Registry) Clusters() []string {
	out := []string{MainCluster}
	for _, c := range r.clusters {
		out = append(out, c.Name)
	}
	return out
}

// multiCluster reports whether any tenant can live outside the control database.
func (r *Registry) multiCluster() bool { return len(r.clusters) > 0 }

// clusterDB returns the pool of a cluster, opening it on first use: a CLI command
// that touches one tenant connects to one cluster only.
func (r *Registry) clusterDB(ctx context.Context, name string) (*database.DB, error) {
	if name == MainCluster || name == "" {
		return r.db, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if db, ok := r.pools[name]; ok {
		return db, nil
	}
	var url string
	for _, c := range r.clusters {
		if c.Name == name {
			url = c.URL
		}
	}
	if url == "" {
		return nil, errkind.New(errkind.Unavailable, "tenant cluster %q is not configured; add it to TOLLGATE_TENANT_DATABASE_URLS", name)
	}
	// The same pool size as the control database's: each replica talks to every
	// cluster, so the per-cluster connection count is replicas x this.
	db, err := database.Open(ctx, url, r.poolOpts)
	if err != nil {
		return nil, errkind.Wrap(errkind.Unavailable, err, "tenant cluster %q is not reachable (check TOLLGATE_TENANT_DATABASE_URLS)", name)
	}
	r.pools[name] = db
	return db, nil
}

// placement returns the cluster of a tenant: from the cache, else from the
// control database. With no further clusters configured it is MainCluster without
// a lookup, so a single-cluster install pays nothing for placement.
func (r *Registry) placement(ctx context.Context, id ID) (string, error) {
	if !r.multiCluster() {
		return MainCluster, nil
	}
	r.mu.Lock()
	name, ok := r.placements[id]
	r.mu.Unlock()
	if ok {
		return name, nil
	}
	return r.loadPlacement(ctx, id)
}

// loadPlacement reads a tenant's cluster from the control database and caches it.
func (r *Registry) loadPlacement(ctx context.Context, id ID) (string, error) {
	var name string
	err := r.db.Gorm.WithContext(ctx).Raw("SELECT cluster FROM tenants WHERE id = ?", string(id)).Scan(&name).Error
	if err != nil {
		return "", err
	}
	if name == "" {
		return "", errkind.New(errkind.NotFound, "tenant %q not found", id)
	}
	r.mu.Lock()
	r.placements[id] = name
	r.mu.Unlock()
	return name, nil
}

// forgetPlacement drops a cached placement; the next handle use reads it again.
func (r *Registry) forgetPlacement(id ID) {
	r.mu.Lock()
	delete(r.placements, id)
	r.mu.Unlock()
}

// OnChange keeps the placement cache in step with the change feed: a move
// announces ChangePlacement, and every replica forgets the tenant's cluster.
// Subscribe it to the feed (cmd does). A lost notification costs one failed
// statement, not a misplaced write: the old schema is renamed away before the
// placement flips, and a handle that meets a missing schema reads the placement
// again (see Handle.Tx).
func (r *Registry) OnChange(_ context.Context, c Change) {
	if c.Kind == ChangePlacement && ID(c.Ref).Valid() {
		r.forgetPlacement(ID(c.Ref))
	}
}

// leastLoadedCluster picks the cluster for a new tenant: the one holding the fewest
// tenants, the control database on a tie.
//
// Tenant count, not bytes: what schema-per-tenant runs out of first is catalog
// (relations, relcache and migration time grow with schemas, not with rows), and a
// tenant's size at birth says nothing about its size in a year. A tenant that
// grows heavy is moved on purpose (tollgate tenants move).
func (r *Registry) leastLoadedCluster(ctx context.Context) (string, error) {
	if !r.multiCluster() {
		return MainCluster, nil
	}
	var rows []struct {
		Cluster string
		N       int64
	}
	if err := r.db.Gorm.WithContext(ctx).Raw("SELECT cluster, count(*) AS n FROM tenants GROUP BY cluster").Scan(&rows).Error; err != nil {
		return "", err
	}
	counts := map[string]int64{}
	for _, row := range rows {
		counts[row.Cluster] = row.N
	}
	best := MainCluster
	for _, name := range r.Clusters() {
		if counts[name] < counts[best] {
			best = name
		}
	}
	return best, nil
}

// ClusterLoad is how many tenants a cluster holds.
type ClusterLoad struct {
	Cluster string
	Tenants int64
}

// ClusterLoads reports every configured cluster with its tenant count, and any
// cluster that tenants name but the configuration lacks.
func (r *Registry) ClusterLoads(ctx context.Context) ([]ClusterLoad, error) {
	var rows []struct {
		Cluster string
		N       int64
	}
	if err := r.db.Gorm.WithContext(ctx).Raw("SELECT cluster, count(*) AS n FROM tenants GROUP BY cluster").Scan(&rows).Error; err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	for _, row := range rows {
		counts[row.Cluster] = row.N
	}
	var out []ClusterLoad
	for _, name := range r.Clusters() {
		out = append(out, ClusterLoad{name, counts[name]})
		delete(counts, name)
	}
	for name, n := range counts {
		out = append(out, ClusterLoad{name, n})
	}
	return out, nil
}

// isMissingRelation reports a statement that found no tenant table: the schema
// was moved away (or never existed on this cluster).
func isMissingRelation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "3F000")
}

// movingError is what a caller sees when a tenant's tables are unreachable
// because its placement just changed (or a move is finishing): retry shortly.
func movingError(id ID, cause error) error {
	e := &errkind.Error{Kind: errkind.Unavailable, Cause: cause,
		Message: fmt.Sprintf("tenant %s is being moved between database clusters; retry in a moment", id)}
	return e.WithRetryAfter(movingRetryAfter)
}
