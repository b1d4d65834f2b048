package tenants

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/testdb"
)

// setupClusters is a registry over a control database plus a second, throwaway
// Postgres cluster named "b".
func setupClusters(t *testing.T) (*testBundle, *ChangeFeed) {
	t.Helper()
	logger := testdb.Logger(t)
	db, dataDir := testdb.ControlDB(t, "postgres", logger)
	reg := NewRegistry(db, dataDir, logger, Cluster{Name: "b", URL: testdb.SecondCluster(t)})
	t.Cleanup(reg.Close)
	feed := NewChangeFeed(db, ChangeFeedConfig{}, logger)
	feed.Subscribe(reg.OnChange)
	return &testBundle{reg: reg, db: db, dataDir: dataDir}, feed
}

func insertEvent(ctx context.Context, h *Handle, id string) error {
	return h.Tx(ctx, func(tx *gorm.DB) error {
		return tx.Exec("INSERT INTO usage_events (request_id, created_at, cost_nano) VALUES (?, ?, 7)", id, time.Now().UTC()).Error
	})
}

func countEvents(t *testing.T, h *Handle) (n int64) {
	t.Helper()
	require.NoError(t, h.Read(t.Context(), func(db *gorm.DB) error {
		return db.Raw("SELECT count(*) FROM usage_events").Scan(&n).Error
	}))
	return n
}

func schemaOn(t *testing.T, db *gorm.DB, schema string) bool {
	t.Helper()
	var n int64
	require.NoError(t, db.Raw("SELECT count(*) FROM pg_namespace WHERE nspname IN (?, ?)", schema, "tm_"+schema[2:]).Scan(&n).Error)
	return n > 0
}

func TestPlacementSpreadsTenantsOverClusters(t *testing.T) {
	t.Parallel()
	b, _ := setupClusters(t)
	ctx := t.Context()

	// Given two clusters, when four tenants are created
	var ts []Tenant
	for i := range 4 {
		tn, err := b.reg.Create(ctx, CreateInput{Name: fmt.Sprintf("spread %d", i)})
		require.NoError(t, err)
		ts = append(ts, tn)
	}
	// then they alternate, least-loaded first, the control database on a tie
	require.Equal(t, []string{MainCluster, "b", MainCluster, "b"}, []string{ts[0].Cluster, ts[1].Cluster, ts[2].Cluster, ts[3].Cluster})
	loads, err := b.reg.ClusterLoads(ctx)
	require.NoError(t, err)
	require.Equal(t, []ClusterLoad{{MainCluster, 2}, {"b", 2}}, loads)

	// and each tenant's schema exists on its own cluster only, reached through its handle
	other, err := b.reg.clusterDB(ctx, "b")
	require.NoError(t, err)
	for _, tn := range ts {
		onB := tn.Cluster == "b"
		require.Equal(t, !onB, schemaOn(t, b.db.Gorm, tn.SchemaName), tn.Slug)
		require.Equal(t, onB, schemaOn(t, other.Gorm, tn.SchemaName), tn.Slug)
		h, err := b.reg.Handle(SystemPrincipal(tn, "test"))
		require.NoError(t, err)
		require.NoError(t, insertEvent(ctx, h, "r-"+tn.Slug))
		require.EqualValues(t, 1, countEvents(t, h))
	}

	// and a schema version is recorded, so a restart migrates nobody
	res, err := b.reg.MigratePending(ctx, 2)
	require.NoError(t, err)
	require.Empty(t, res)
	versions, err := b.reg.Versions(ctx)
	require.NoError(t, err)
	for _, v := range versions {
		require.Equal(t, v.Latest, v.Version, v.Tenant.Slug)
	}
}

// A tenant moved while writers keep writing: every write that succeeded is on the
// new cluster exactly once, none is lost, the old schema is gone.
func TestMoveUnderLoadLosesNoWrite(t *testing.T) {
	t.Parallel()
	b, feed := setupClusters(t)
	ctx := t.Context()
	tn, err := b.reg.Create(ctx, CreateInput{Name: "mover"})
	require.NoError(t, err)
	require.Equal(t, MainCluster, tn.Cluster)
	// A second handle user, as another replica would be: its placement is cached
	// before the move and learns of it only through the feed or a failed statement.
	stale := NewRegistry(b.db, b.dataDir, testdb.Logger(t), Cluster{Name: "b", URL: b.reg.clusters[0].URL})
	t.Cleanup(stale.Close)

	h, err := b.reg.Handle(SystemPrincipal(tn, "test"))
	require.NoError(t, err)
	hs, err := stale.Handle(SystemPrincipal(tn, "test"))
	require.NoError(t, err)
	for i := range 200 {
		require.NoError(t, insertEvent(ctx, h, fmt.Sprintf("before-%03d", i)))
	}
	require.EqualValues(t, 200, countEvents(t, hs))

	// When four writers (two per registry) insert while the tenant moves
	var ok, retried atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		handle := h
		if w%2 == 1 {
			handle = hs
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("during-%d-%05d", w, i)
				for {
					err := insertEvent(ctx, handle, id)
					if err == nil {
						ok.Add(1)
						break
					}
					// As the ledger writer does: Unavailable is retried, the event kept.
					if !errors.Is(err, errkind.Unavailable) {
						t.Errorf("write %s: %v", id, err)
						return
					}
					retried.Add(1)
					time.Sleep(20 * time.Millisecond)
				}
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	res, err := b.reg.Move(ctx, MoveInput{Tenant: tn.Slug, To: "b"}, feed)
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("moved %d rows in %d tables; pause %s, total %s; %d writes during the run, %d retries",
		res.Rows, res.Tables, res.Pause, res.Total, ok.Load(), retried.Load())

	// Then the placement names b, and every acknowledged write is there once
	got, err := b.reg.Get(ctx, tn.Slug)
	require.NoError(t, err)
	require.Equal(t, "b", got.Cluster)
	require.EqualValues(t, 200+ok.Load(), countEvents(t, h))
	require.EqualValues(t, 200+ok.Load(), countEvents(t, hs))
	require.GreaterOrEqual(t, res.Rows, int64(200))

	// and the old schema (and its retired name) is dropped from the control database
	require.False(t, schemaOn(t, b.db.Gorm, tn.SchemaName))
	other, err := b.reg.clusterDB(ctx, "b")
	require.NoError(t, err)
	require.True(t, schemaOn(t, other.Gorm, tn.SchemaName))

	// and it moves back just as well, refusing a move to where it already is
	_, err = b.reg.Move(ctx, MoveInput{Tenant: tn.Slug, To: "b"}, feed)
	require.ErrorIs(t, err, errkind.Conflict)
	_, err = b.reg.Move(ctx, MoveInput{Tenant: tn.Slug, To: "nowhere"}, feed)
	require.ErrorIs(t, err, errkind.Invalid)
	_, err = b.reg.Move(ctx, MoveInput{Tenant: tn.Slug, To: MainCluster}, feed)
	require.NoError(t, err)
	require.EqualValues(t, 200+ok.Load(), countEvents(t, hs))
}

// With one cluster nothing moves: a missing table is reported as it is, and a
// tenant placed on a cluster the configuration lost says which one to add.
func TestSingleClusterMissingTableIsNotAMove(t *testing.T) {
	t.Parallel()
	b := setup(t, "postgres")
	ctx := t.Context()
	tn, err := b.reg.Create(ctx, CreateInput{Name: "single"})
	require.NoError(t, err)
	require.Equal(t, MainCluster, tn.Cluster)
	h, err := b.reg.Handle(SystemPrincipal(tn, "test"))
	require.NoError(t, err)

	err = h.Read(ctx, func(db *gorm.DB) error { return db.Exec("SELECT * FROM no_such_table").Error })
	require.Error(t, err)
	require.False(t, errors.Is(err, errkind.Unavailable), "not reported as a move: %v", err)

	require.NoError(t, b.db.Gorm.Exec("UPDATE tenants SET cluster = 'gone' WHERE id = ?", string(tn.ID)).Error)
	require.NoError(t, b.db.Gorm.Exec("ALTER SCHEMA "+quoteSchema(tn.SchemaName)+" RENAME TO "+quoteRetired(tn.ID)).Error)
	err = insertEvent(ctx, h, "after")
	require.ErrorIs(t, err, errkind.Unavailable)
	require.Contains(t, err.Error(), `"gone"`)
	require.Contains(t, err.Error(), "TOLLGATE_TENANT_DATABASE_URLS")
}
