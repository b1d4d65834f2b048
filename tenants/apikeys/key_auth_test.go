package apikeys

import (
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/tenants"
)

type keyBundle struct {
	*testBundle
	feed *tenants.ChangeFeed
	keys *Keys
	auth *KeyAuthenticator
	t    tenants.Tenant
	// queries counts key lookups that reached the database.
	queries *atomic.Int64
}

func setupKeys(t *testing.T, backend string, cfg KeyAuthConfig) *keyBundle {
	return finishKeys(t, setup(t, backend), cfg)
}

// benchKeys is setupKeys for benchmarks, on SQLite.
func benchKeys(b *testing.B) *keyBundle {
	url := testdb.SQLite(b)
	db, err := database.Open(b.Context(), url, database.Options{})
	require.NoError(b, err)
	b.Cleanup(func() { _ = db.Close() })
	require.NoError(b, migrations.ControlUp(b.Context(), db.SQL, db.Dialect, logging.Discard()))
	reg := tenants.NewRegistry(db, filepath.Dir(database.SQLitePath(url)), logging.Discard())
	b.Cleanup(reg.Close)
	return finishKeys(b, &testBundle{reg: reg, db: db}, KeyAuthConfig{})
}

func finishKeys(t testing.TB, b *testBundle, cfg KeyAuthConfig) *keyBundle {
	logger := logging.Discard()
	feed := tenants.NewChangeFeed(b.db, tenants.ChangeFeedConfig{}, logger)
	var queries atomic.Int64
	require.NoError(t, b.db.Gorm.Callback().Query().Before("gorm:query").Register("count_key_lookups", func(db *gorm.DB) {
		if e := db.Statement.TableExpr; e != nil && e.SQL == "api_keys k" {
			queries.Add(1)
		}
	}))
	tn, err := b.reg.Create(t.Context(), tenants.CreateInput{Name: "acme"})
	require.NoError(t, err)
	return &keyBundle{testBundle: b, feed: feed, keys: NewKeys(b.db, feed, logger), auth: NewKeyAuthenticator(b.db, feed, cfg, logger),
		t: tn, queries: &queries}
}

func TestKeyAuthCachesAndBoundsLookups(t *testing.T) {
	t.Parallel()
	b := setupKeys(t, "sqlite", KeyAuthConfig{LookupsPerSecond: 20, CacheSize: 50, MissBurst: 1000})
	ctx := t.Context()
	_, secret, err := b.keys.Create(ctx, CreateKeyInput{TenantID: b.t.ID, Name: "ci", Models: []string{"sim-small"}, RPMLimit: 5})
	require.NoError(t, err)

	// Given a valid key, the first use reads the database and later uses do not
	k, err := b.auth.Authenticate(ctx, secret.Reveal())
	require.NoError(t, err)
	require.Equal(t, b.t.ID, k.Tenant.ID)
	require.Equal(t, []string{"sim-small"}, k.Models)
	require.True(t, k.AllowsModel("sim-small"))
	require.False(t, k.AllowsModel("sim-large"))
	for range 100 {
		_, err := b.auth.Authenticate(ctx, secret.Reveal())
		require.NoError(t, err)
	}
	require.EqualValues(t, 1, b.queries.Load())

	// A repeated unknown key is remembered; malformed keys never reach the database
	bad := "tg_" + secret.Reveal()[3:10] + strings.Repeat("0", apiKeyBodyLen-7)
	for range 50 {
		_, err := b.auth.Authenticate(ctx, bad)
		require.ErrorIs(t, err, ErrKeyInvalid)
		_, err = b.auth.Authenticate(ctx, "tg_not-a-key")
		require.ErrorIs(t, err, ErrKeyInvalid)
	}
	require.EqualValues(t, 2, b.queries.Load(), "a repeated unknown key is checked once")

	// A flood of distinct well-formed bad keys never reaches the database: the
	// filter of known keys refuses them in memory
	for range 200 {
		body, err := seal.RandomBase62(apiKeyRandomBytes)
		require.NoError(t, err)
		_, err = b.auth.AuthenticateFrom(ctx, APIKeyPrefix+body, "198.51.100.9")
		require.Error(t, err)
	}
	require.LessOrEqual(t, b.queries.Load(), int64(2+5+5), "unknown keys are refused in memory beyond 5 checks a second")

	// The cache stays within its bound
	for range 80 {
		_, s, err := b.keys.Create(ctx, CreateKeyInput{TenantID: b.t.ID, Name: "many"})
		require.NoError(t, err)
		time.Sleep(time.Millisecond * 2) // stay inside the lookup budget
		_, _ = b.auth.Authenticate(ctx, s.Reveal())
	}
	require.LessOrEqual(t, b.auth.CacheLen(), 50)
}

func TestKeyAuthFlushesLastUsedInBatches(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setupKeys(t, backend, KeyAuthConfig{})
			ctx := t.Context()
			k, secret, err := b.keys.Create(ctx, CreateKeyInput{TenantID: b.t.ID, Name: "ci"})
			require.NoError(t, err)
			// Given many authentications, nothing is written until the flush
			for range 20 {
				_, err := b.auth.Authenticate(ctx, secret.Reveal())
				require.NoError(t, err)
			}
			got, err := b.keys.Get(ctx, b.t.ID, k.ID)
			require.NoError(t, err)
			require.Nil(t, got.LastUsedAt)
			// When the flusher runs, last_used_at is set to about now
			require.NoError(t, b.auth.FlushLastUsed(ctx))
			got, err = b.keys.Get(ctx, b.t.ID, k.ID)
			require.NoError(t, err)
			require.NotNil(t, got.LastUsedAt)
			require.WithinDuration(t, time.Now(), *got.LastUsedAt, 5*time.Second)
			// and a flush with nothing new writes nothing
			require.NoError(t, b.auth.FlushLastUsed(ctx))
		})
	}
}

// BenchmarkKeyAuthenticate is the hot path: a cached key, checked per request.
func BenchmarkKeyAuthenticate(b *testing.B) {
	bundle := benchKeys(b)
	_, secret, err := bundle.keys.Create(b.Context(), CreateKeyInput{TenantID: bundle.t.ID, Name: "bench"})
	require.NoError(b, err)
	key := secret.Reveal()
	_, err = bundle.auth.Authenticate(b.Context(), key)
	require.NoError(b, err)
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := bundle.auth.Authenticate(ctx, key); err != nil {
				b.Fatal(err)
			}
		}
	})
}
