package tenants

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/migrations"
)

// MoveInput names a tenant and the cluster it goes to.
type MoveInput struct {
	// Tenant is the tenant's id or slug.
	Tenant string
	// To is the target cluster's name (MainCluster or one of
	// TOLLGATE_TENANT_DATABASE_URLS).
	To string
	// LockTimeout bounds the wait for the tenant's in-flight writes before the
	// pause starts; 0 means 5s. A move that cannot get the lock changes nothing.
	LockTimeout time.Duration
}

// Validate reports every problem with the input.
func (in MoveInput) Validate() error {
	var errs []error
	if strings.TrimSpace(in.Tenant) == "" {
		errs = append(errs, errors.New("--tenant is required"))
	}
	if strings.TrimSpace(in.To) == "" {
		errs = append(errs, errors.New("--to is required (a cluster name)"))
	}
	if in.LockTimeout < 0 {
		errs = append(errs, errors.New("lock timeout must not be negative"))
	}
	return errkind.JoinInvalid("move", errs)
}

// MoveResult reports what a move did.
type MoveResult struct {
	Tenant   Tenant
	From, To string
	// Tables and Rows count what was copied (the migration table excluded).
	Tables int
	Rows   int64
	// Pause is how long the tenant's writes waited: from the lock on the old
	// schema to the placement flip.
	Pause time.Duration
	// Total is the whole move, preparation and the old schema's drop included.
	Total time.Duration
}

// Move copies a tenant's schema to another cluster and flips its placement.
//
// The write pause is Postgres's own table locks, so it holds on every replica
// without any of them taking part:
//
//  1. The target schema is created and migrated to the source's version.
//  2. On the source, one transaction takes EXCLUSIVE locks on every tenant table:
//     reads go on, writes (the ledger writer's inserts, an admin's change) wait.
//  3. Tables are streamed with COPY in foreign-key order, sequences set, and row
//     counts compared table by table; any difference aborts with nothing changed.
//  4. The target commits; then the source schema is renamed to its retired name
//     and the source transaction commits. The waiting writers wake to find no
//     table (their handle pointed at the old cluster) and fail without writing.
//  5. The placement flips in the control database with a NOTIFY on the change
//     feed, so every replica forgets the cached cluster; a failed write retries
//     there (Handle.Tx), the ledger writer's events stayed in its spool meanwhile.
//  6. Only then is the retired schema dropped.
//
// A crash between 4 and 5 leaves the tenant unreachable (Unavailable, retried),
// never writing to the wrong place: the data is complete on the target and in
// the retired schema; rerunning the move refuses while the source schema is
// missing, and the operator flips or renames back by hand (docs/scale.md).
func (r *Registry) Move(ctx context.Context, in MoveInput, feed *ChangeFeed) (MoveResult, error) {
	started := time.Now()
	if err := in.Validate(); err != nil {
		return MoveResult{}, err
	}
	if r.db.Dialect != migrations.DialectPostgres {
		return MoveResult{}, errkind.New(errkind.Invalid, "tenants move needs Postgres (SQLite keeps one file per tenant)")
	}
	if in.LockTimeout == 0 {
		in.LockTimeout = 5 * time.Second
	}
	t, err := r.Get(ctx, in.Tenant)
	if err != nil {
		return MoveResult{}, err
	}
	res := MoveResult{Tenant: t, From: t.Cluster, To: in.To}
	if !r.knownCluster(in.To) {
		return res, errkind.New(errkind.Invalid, "unknown cluster %q (configured: %s)", in.To, strings.Join(r.Clusters(), ", "))
	}
	if t.Cluster == in.To {
		return res, errkind.New(errkind.Conflict, "tenant %s is already on cluster %s", t.Slug, in.To)
	}
	srcURL, err := r.clusterURL(t.Cluster)
	if err != nil {
		return res, err
	}
	dstURL, err := r.clusterURL(in.To)
	if err != nil {
		return res, err
	}
	src, err := pgx.Connect(ctx, srcURL)
	if err != nil {
		return res, errkind.Wrap(errkind.Unavailable, err, "cluster %s is not reachable", t.Cluster)
	}
	defer src.Close(context.WithoutCancel(ctx))
	dst, err := pgx.Connect(ctx, dstURL)
	if err != nil {
		return res, errkind.Wrap(errkind.Unavailable, err, "cluster %s is not reachable", in.To)
	}
	defer dst.Close(context.WithoutCancel(ctx))

	schema := quoteSchema(t.SchemaName)
	retired := quoteRetired(t.ID)
	if err := r.prepareTarget(ctx, dst, t, in.To); err != nil {
		return res, err
	}
	// A retired schema of an earlier move away from this cluster whose drop failed
	// would block the rename below. The live schema was just found on the source
	// (prepareTarget read its version), so the retired one is nobody's data.
	if _, err := src.Exec(ctx, "DROP SCHEMA IF EXISTS "+retired+" CASCADE"); err != nil {
		return res, err
	}
	// From here a failure drops the half-made target schema: the placement still
	// names the source, so the copy is nobody's data.
	dropTarget := func() {
		_, _ = dst.Exec(context.WithoutCancel(ctx), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
	}

	stx, err := src.Begin(ctx)
	if err != nil {
		dropTarget()
		return res, err
	}
	defer func() { _ = stx.Rollback(context.WithoutCancel(ctx)) }()
	tables, err := tenantTables(ctx, stx, t.SchemaName)
	if err != nil {
		dropTarget()
		return res, err
	}
	if _, err := stx.Exec(ctx, fmt.Sprintf("SET LOCAL lock_timeout = %d", in.LockTimeout.Milliseconds())); err != nil {
		dropTarget()
		return res, err
	}
	quoted := make([]string, len(tables))
	for i, tb := range tables {
		quoted[i] = schema + "." + pgx.Identifier{tb}.Sanitize()
	}
	if _, err := stx.Exec(ctx, "LOCK TABLE "+strings.Join(quoted, ", ")+" IN EXCLUSIVE MODE"); err != nil {
		dropTarget()
		return res, errkind.Wrap(errkind.Unavailable, err, "could not pause tenant %s's writes within %s; nothing changed, run the move again", t.Slug, in.LockTimeout)
	}
	pauseStart := time.Now()

	dtx, err := dst.Begin(ctx)
	if err != nil {
		dropTarget()
		return res, err
	}
	defer func() { _ = dtx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := dtx.Exec(ctx, "SET CONSTRAINTS ALL DEFERRED"); err != nil {
		dropTarget()
		return res, err
	}
	for _, tb := range tables {
		n, err := copyTable(ctx, stx, dtx, t.SchemaName, tb)
		if err != nil {
			dropTarget()
			return res, fmt.Errorf("copy %s: %w", tb, err)
		}
		res.Tables++
		res.Rows += n
	}
	if err := copySequences(ctx, stx, dtx, t.SchemaName); err != nil {
		dropTarget()
		return res, err
	}
	if err := verifyCounts(ctx, stx, dtx, t.SchemaName, tables); err != nil {
		dropTarget()
		return res, err
	}
	if err := dtx.Commit(ctx); err != nil {
		dropTarget()
		return res, fmt.Errorf("commit the copy on %s: %w", in.To, err)
	}
	if _, err := stx.Exec(ctx, "ALTER SCHEMA "+schema+" RENAME TO "+retired); err != nil {
		dropTarget()
		return res, err
	}
	if err := stx.Commit(ctx); err != nil {
		dropTarget()
		return res, fmt.Errorf("retire the old schema on %s: %w", t.Cluster, err)
	}
	if err := r.flipPlacement(ctx, t.ID, t.Cluster, in.To, feed); err != nil {
		// Put the source back: its schema is intact under the retired name and no
		// write reached it since the lock.
		if _, rerr := src.Exec(context.WithoutCancel(ctx), "ALTER SCHEMA "+retired+" RENAME TO "+schema); rerr != nil {
			return res, errkind.Wrap(errkind.Unavailable, errors.Join(err, rerr),
				"tenant %s: the placement flip failed and the old schema could not be renamed back; its data is complete on cluster %s; see docs/scale.md (recovering a move)", t.Slug, in.To)
		}
		dropTarget()
		return res, fmt.Errorf("flip placement: %w", err)
	}
	res.Pause = time.Since(pauseStart)
	if _, err := src.Exec(ctx, "DROP SCHEMA "+retired+" CASCADE"); err != nil {
		r.logger.WarnContext(ctx, "moved tenant's old schema not dropped; drop it by hand", "tenant_id", t.ID, "cluster", t.Cluster, "schema", strings.Trim(retired, `"`), "error", err)
	}
	res.Total = time.Since(started)
	res.Tenant.Cluster = in.To
	r.logger.InfoContext(ctx, "tenant moved", "tenant_id", t.ID, "from", t.Cluster, "to", in.To, "tables", res.Tables, "rows", res.Rows,
		"pause", res.Pause, "total", res.Total)
	return res, nil
}

func (r *Registry) knownCluster(name string) bool {
	for _, c := range r.Clusters() {
		if c == name {
			return true
		}
	}
	return false
}

func (r *Registry) clusterURL(name string) (string, error) {
	if name == MainCluster {
		return r.db.URL, nil
	}
	for _, c := range r.clusters {
		if c.Name == name {
			return c.URL, nil
		}
	}
	return "", errkind.New(errkind.Unavailable, "tenant cluster %q is not configured; add it to TOLLGATE_TENANT_DATABASE_URLS", name)
}

// prepareTarget creates the tenant's schema on the target and migrates it to the
// latest version, after checking the source is there too. A schema of the same
// name already on the target is the leftover of an aborted move (the placement
// names the source), and is dropped first.
func (r *Registry) prepareTarget(ctx context.Context, dst *pgx.Conn, t Tenant, to string) error {
	h := &Handle{r: r, t: t}
	var srcVersion int64
	if err := h.txOn(ctx, t.Cluster, func(tx *gorm.DB) error {
		var e error
		srcVersion, e = migrations.TenantVersion(ctx, tx.Statement.ConnPool.(migrations.DBTx), migrations.DialectPostgres)
		return e
	}); err != nil {
		if isMissingRelation(err) {
			return errkind.New(errkind.Conflict, "tenant %s has no schema on cluster %s; see docs/scale.md (recovering a move)", t.Slug, t.Cluster)
		}
		return err
	}
	latest, err := r.latestTenantVersion()
	if err != nil {
		return err
	}
	if srcVersion != latest {
		return errkind.New(errkind.Conflict, "tenant %s is at tenant migration %d, not %d; run `tollgate migrate up` first", t.Slug, srcVersion, latest)
	}
	schema := quoteSchema(t.SchemaName)
	if _, err := dst.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
		return err
	}
	tdb, err := r.clusterDB(ctx, to)
	if err != nil {
		return err
	}
	return tdb.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("CREATE SCHEMA " + schema).Error; err != nil {
			return err
		}
		v, err := migrateTenantTx(ctx, tx, t.SchemaName, migrations.DialectPostgres)
		if err != nil {
			return err
		}
		if v != srcVersion {
			return fmt.Errorf("target migrated to %d, source is at %d", v, srcVersion)
		}
		return nil
	})
}

// flipPlacement points the tenant at its new cluster and tells every replica in
// the same transaction.
func (r *Registry) flipPlacement(ctx context.Context, id ID, from, to string, feed *ChangeFeed) error {
	err := r.db.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&TenantRow{}).Where("id = ? AND cluster = ?", string(id), from).
			Updates(map[string]any{"cluster": to, "updated_at": time.Now().UTC()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return errkind.New(errkind.Conflict, "tenant %s is no longer on cluster %s (another move?)", id, from)
		}
		return feed.PublishTx(tx, Change{Kind: ChangePlacement, Ref: string(id)})
	})
	if err != nil {
		return err
	}
	r.forgetPlacement(id)
	feed.Deliver(ctx, Change{Kind: ChangePlacement, Ref: string(id)})
	return nil
}

// tenantTables lists the schema's tables (the migration table excluded: the
// target's own migration run wrote it) with every table after those it refers to,
// so foreign keys hold row by row as they are copied.
func tenantTables(ctx context.Context, q pgx.Tx, schema string) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> $2 ORDER BY c.relname`, schema, migrations.VersionTable)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, `SELECT c.relname, p.relname FROM pg_constraint k
		JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE k.contype = 'f' AND n.nspname = $1`, schema)
	if err != nil {
		return nil, err
	}
	deps := map[string][]string{}
	for rows.Next() {
		var child, parent string
		if err := rows.Scan(&child, &parent); err != nil {
			rows.Close()
			return nil, err
		}
		if child != parent {
			deps[child] = append(deps[child], parent)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(string) error
	visit = func(n string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("foreign keys of %s form a cycle; the move cannot order its copy", n)
		case 2:
			return nil
		}
		state[n] = 1
		for _, p := range deps[n] {
			if err := visit(p); err != nil {
				return err
			}
		}
		state[n] = 2
		out = append(out, n)
		return nil
	}
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// copyTable streams one table from the source transaction into the target's with
// COPY in binary form, naming the columns (generated ones left out) so that the
// two sides' column order does not matter.
func copyTable(ctx context.Context, src, dst pgx.Tx, schema, table string) (int64, error) {
	rows, err := src.Query(ctx, `SELECT a.attname FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
		ORDER BY a.attnum`, schema, table)
	if err != nil {
		return 0, err
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, err
	}
	ident := make([]string, len(cols))
	for i, c := range cols {
		ident[i] = pgx.Identifier{c}.Sanitize()
	}
	colList := strings.Join(ident, ", ")
	qualified := quoteSchema(schema) + "." + pgx.Identifier{table}.Sanitize()
	pr, pw := io.Pipe()
	out := make(chan error, 1)
	go func() {
		_, err := src.Conn().PgConn().CopyTo(ctx, pw, "COPY "+qualified+" ("+colList+") TO STDOUT (FORMAT binary)")
		pw.CloseWithError(err)
		out <- err
	}()
	tag, err := dst.Conn().PgConn().CopyFrom(ctx, pr, "COPY "+qualified+" ("+colList+") FROM STDIN (FORMAT binary)")
	_ = pr.CloseWithError(err)
	if rerr := <-out; rerr != nil {
		return 0, rerr
	}
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// copySequences carries every sequence's position over, so ids drawn on the
// target continue after the copied rows.
func copySequences(ctx context.Context, src, dst pgx.Tx, schema string) error {
	rows, err := src.Query(ctx, `SELECT sequencename, last_value, increment_by FROM pg_sequences WHERE schemaname = $1`, schema)
	if err != nil {
		return err
	}
	type seq struct {
		name string
		last *int64
		inc  int64
	}
	var seqs []seq
	for rows.Next() {
		var s seq
		if err := rows.Scan(&s.name, &s.last, &s.inc); err != nil {
			rows.Close()
			return err
		}
		seqs = append(seqs, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, s := range seqs {
		if s.last == nil {
			continue // never used: the fresh target sequence is in the same state
		}
		name := quoteSchema(schema) + "." + pgx.Identifier{s.name}.Sanitize()
		if _, err := dst.Exec(ctx, "SELECT setval($1::regclass, $2, true)", name, *s.last); err != nil {
			return fmt.Errorf("sequence %s: %w", s.name, err)
		}
	}
	return nil
}

// verifyCounts compares every table's row count on both sides, inside the
// transactions that copied (the source still locked, the target uncommitted).
func verifyCounts(ctx context.Context, src, dst pgx.Tx, schema string, tables []string) error {
	for _, tb := range tables {
		q := "SELECT count(*) FROM " + quoteSchema(schema) + "." + pgx.Identifier{tb}.Sanitize()
		var a, b int64
		if err := src.QueryRow(ctx, q).Scan(&a); err != nil {
			return err
		}
		if err := dst.QueryRow(ctx, q).Scan(&b); err != nil {
			return err
		}
		if a != b {
			return fmt.Errorf("table %s: %d rows on the source, %d copied; nothing changed", tb, a, b)
		}
	}
	return nil
}

// quoteRetired is the quoted name a moved-away schema has until it is dropped.
// It is derived from the tenant id, never from text, and no handle ever uses it.
func quoteRetired(id ID) string {
	if !id.Valid() {
		panic(fmt.Sprintf("tenants: refusing invalid tenant id %q", id))
	}
	return `"tm_` + string(id) + `"`
}
