//go:build benchscale

package main

// The tenant-scale benchmark of docs/scale.md. It is not part of the suite (build
// tag benchscale): it creates TOLLGATE_BENCH_TENANTS tenants (default 1,000) on a
// fresh Postgres database, dropped afterwards with every schema in it, and reports:
// creation time per tenant (p50/p99), `migrate up` of one new tenant migration
// across all of them, the start-up migration check (before and after recording
// schema versions), catalog size, key-cache memory with 10 keys per tenant, start-up
// time and RSS of a `tollgate serve` process, and the admin tenants page's latency.
//
//	TOLLGATE_BENCH_TENANTS=2000 ./scripts/test-services.sh bash -c \
//	  'go test -tags benchscale -run TestTenantScale -v -timeout 3h ./cmd/tollgate/'

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/config"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

func pct(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func TestTenantScale(t *testing.T) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("TOLLGATE_BENCH_TENANTS")); err == nil && v > 0 {
		n = v
	}
	keysPer := 10
	ctx := t.Context()
	dbURL := testdb.Postgres(t)
	cfg, err := config.Parse(map[string]string{"TOLLGATE_DATABASE_URL": dbURL, "TOLLGATE_LOG_LEVEL": "warn",
		"TOLLGATE_MASTER_KEY": strings.Repeat("k", 32), "TOLLGATE_JWT_SECRET": strings.Repeat("j", 32)})
	require.NoError(t, err)
	a, err := openApp(ctx, cfg)
	require.NoError(t, err)
	defer a.Close()
	report := func(format string, args ...any) { t.Logf("BENCH "+format, args...) }
	report("tenants=%d keys_per_tenant=%d cores=%d", n, keysPer, runtime.NumCPU())

	// Creation, two at a time (the way a sign-up burst arrives on two cores).
	durs := make([]time.Duration, n)
	ids := make([]tenants.ID, n)
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t0 := time.Now()
			tn, err := a.registry.Create(ctx, tenants.CreateInput{Name: fmt.Sprintf("scale tenant %06d", i)})
			durs[i] = time.Since(t0)
			if err != nil {
				t.Errorf("create %d: %v", i, err)
				return
			}
			ids[i] = tn.ID
		}()
	}
	wg.Wait()
	require.False(t, t.Failed())
	create := time.Since(start)
	report("create: total %s, %.1f tenants/s, per tenant p50 %s p99 %s max %s", create.Round(time.Millisecond),
		float64(n)/create.Seconds(), pct(durs, 0.5).Round(time.Microsecond), pct(durs, 0.99).Round(time.Microsecond), pct(durs, 1).Round(time.Microsecond))

	// Catalog.
	var catalog struct {
		Relations   int64
		CatalogSize int64
		DBSize      int64
		Attributes  int64
	}
	require.NoError(t, a.db.Gorm.Raw(`SELECT (SELECT count(*) FROM pg_class) AS relations,
		(SELECT count(*) FROM pg_attribute) AS attributes,
		(SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'pg_catalog') AS catalog_size,
		pg_database_size(current_database()) AS db_size`).Scan(&catalog).Error)
	report("catalog: %d relations (%.1f per tenant), %d attributes, pg_catalog %.1f MB (%.1f KB per tenant), database %.1f MB (%.1f KB per tenant)",
		catalog.Relations, float64(catalog.Relations)/float64(n), catalog.Attributes, float64(catalog.CatalogSize)/1e6,
		float64(catalog.CatalogSize)/1e3/float64(n), float64(catalog.DBSize)/1e6, float64(catalog.DBSize)/1e3/float64(n))

	// Start-up migration check with nothing to do: the old path (every schema) and
	// the new one (the recorded versions).
	t0 := time.Now()
	_, err = a.registry.MigrateAll(ctx, 4)
	require.NoError(t, err)
	report("start-up check, every schema (MigrateAll, nothing pending): %s", time.Since(t0).Round(time.Millisecond))
	t0 = time.Now()
	res, err := a.registry.MigratePending(ctx, 4)
	require.NoError(t, err)
	require.Empty(t, res)
	report("start-up check, recorded versions (MigratePending, nothing pending): %s", time.Since(t0).Round(time.Microsecond))

	// One new tenant migration across all tenants, as `migrate up` runs it.
	latest, err := migrations.Latest(migrations.DialectPostgres, migrations.SetTenant)
	require.NoError(t, err)
	a.registry.SetExtraTenantMigrations([]migrations.Migration{{Version: latest + 1, Name: "bench_add_column.sql",
		Up: "ALTER TABLE usage_events ADD COLUMN bench_note TEXT NOT NULL DEFAULT ''; CREATE INDEX usage_events_bench_idx ON usage_events (bench_note);"}})
	t0 = time.Now()
	res, err = a.registry.MigratePending(ctx, 4)
	require.NoError(t, err)
	require.Len(t, res, n)
	mig := time.Since(t0)
	report("migrate up (1 new tenant migration: a column and an index): %s total, %s per tenant", mig.Round(time.Millisecond), (mig / time.Duration(n)).Round(time.Microsecond))
	a.registry.SetExtraTenantMigrations(nil)

	// Keys: 10 per tenant, then every key authenticated once into a cache sized
	// for all of them; the heap growth is the cache's.
	svc := newIdentityServices(a, accounts.PasswordParams{})
	secrets := make([]string, 0, n*keysPer)
	var smu sync.Mutex
	t0 = time.Now()
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			for k := range keysPer {
				_, sec, err := svc.keys.Create(ctx, apikeys.CreateKeyInput{TenantID: ids[i], Name: fmt.Sprintf("key %d", k)})
				if err != nil {
					t.Errorf("key: %v", err)
					return
				}
				smu.Lock()
				secrets = append(secrets, sec.Reveal())
				smu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.False(t, t.Failed())
	report("keys: %d created in %s", len(secrets), time.Since(t0).Round(time.Millisecond))
	auth := apikeys.NewKeyAuthenticator(a.db, svc.feed, apikeys.KeyAuthConfig{CacheSize: len(secrets) + 1, LookupsPerSecond: 1_000_000}, a.logger)
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	t0 = time.Now()
	for _, s := range secrets {
		_, err := auth.Authenticate(ctx, s)
		require.NoError(t, err)
	}
	cold := time.Since(t0)
	after := heap()
	t0 = time.Now()
	for _, s := range secrets {
		_, err := auth.Authenticate(ctx, s)
		require.NoError(t, err)
	}
	warm := time.Since(t0)
	runtime.KeepAlive(auth)
	report("key cache: %d keys, heap +%.1f MB (%d bytes a key); cold %s a key (database), warm %s a key",
		len(secrets), float64(after-before)/1e6, int64(after-before)/int64(len(secrets)),
		(cold / time.Duration(len(secrets))).Round(time.Microsecond), (warm / time.Duration(len(secrets))).Round(10*time.Nanosecond))

	// One pooled backend that has served every tenant: its relation and catalog
	// caches hold every schema's tables, the memory a long-lived connection of the
	// ledger writer ends up with.
	conn, err := a.db.SQL.Conn(ctx)
	require.NoError(t, err)
	backendMem := func() int64 {
		var b int64
		require.NoError(t, conn.QueryRowContext(ctx, "SELECT sum(total_bytes) FROM pg_backend_memory_contexts").Scan(&b))
		return b
	}
	mem0 := backendMem()
	t0 = time.Now()
	for _, id := range ids {
		tx, err := conn.BeginTx(ctx, nil)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, "SET LOCAL search_path TO "+id.SchemaName())
		require.NoError(t, err)
		var c int64
		require.NoError(t, tx.QueryRowContext(ctx, "SELECT count(*) FROM usage_events").Scan(&c))
		_, err = tx.ExecContext(ctx, "INSERT INTO usage_daily (day, model, key_id, member_id) VALUES ('2026-01-01', 'm', '', '') ON CONFLICT DO NOTHING")
		require.NoError(t, err)
		require.NoError(t, tx.Rollback())
	}
	touch := time.Since(t0)
	mem1 := backendMem()
	require.NoError(t, conn.Close())
	report("one backend touching every tenant (read + write, then rollback): %s a tenant; backend memory %.1f MB -> %.1f MB (%.1f KB a tenant)",
		(touch / time.Duration(n)).Round(time.Microsecond), float64(mem0)/1e6, float64(mem1)/1e6, float64(mem1-mem0)/1e3/float64(n))

	// serve as its own process: start-up time and RSS, then the admin tenants page.
	// Without Redis serve rebuilds the in-process meter's counters from every
	// tenant's ledger at start (single-process mode); with Redis (the multi-tenant
	// deployment) it does not. Both are measured when a Redis is given.
	bin := filepath.Join(t.TempDir(), "tollgate")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	startServe := func(extra ...string) (*exec.Cmd, string, time.Duration) {
		port := freeTCPPort(t)
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(os.Environ(), "TOLLGATE_DATABASE_URL="+dbURL, "TOLLGATE_ADDR=127.0.0.1:"+strconv.Itoa(port),
			"TOLLGATE_LOG_LEVEL=warn", "TOLLGATE_MASTER_KEY="+strings.Repeat("k", 32), "TOLLGATE_JWT_SECRET="+strings.Repeat("j", 32),
			"TOLLGATE_ADMIN_EMAIL=bench@example.com", "TOLLGATE_ADMIN_PASSWORD=bench-admin-password", "TOLLGATE_SPOOL_DIR="+t.TempDir(),
			"TOLLGATE_SIM=1", "TOLLGATE_REDIS_URL=")
		cmd.Env = append(cmd.Env, extra...)
		cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
		t0 := time.Now()
		require.NoError(t, cmd.Start())
		base := "http://127.0.0.1:" + strconv.Itoa(port)
		for {
			resp, err := http.Get(base + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			require.Less(t, time.Since(t0), 10*time.Minute, "serve did not become ready")
			time.Sleep(20 * time.Millisecond)
		}
		return cmd, base, time.Since(t0)
	}
	rssOf := func(cmd *exec.Cmd) string {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
		if err != nil {
			return "?"
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmRSS:") {
				return strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:"))
			}
		}
		return "?"
	}
	stopServe := func(cmd *exec.Cmd) { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }
	cmd, base, startup := startServe()
	report("serve without Redis (in-process meter rebuilt from every ledger): ready in %s, RSS %s", startup.Round(time.Millisecond), rssOf(cmd))
	if redisURL := os.Getenv("TOLLGATE_TEST_REDIS_URL"); redisURL != "" {
		stopServe(cmd)
		cmd, base, startup = startServe("TOLLGATE_REDIS_URL=" + redisURL)
		report("serve with Redis: ready in %s, RSS %s", startup.Round(time.Millisecond), rssOf(cmd))
	}
	defer stopServe(cmd)
	rss := func() string { return rssOf(cmd) }

	resp, err := http.Post(base+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"email":"bench@example.com","password":"bench-admin-password"}`))
	require.NoError(t, err)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	resp.Body.Close()
	require.NotEmpty(t, tok.AccessToken)
	get := func(path string) (time.Duration, string) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		t0 := time.Now()
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		var page struct {
			Data       []json.RawMessage `json:"data"`
			NextCursor string            `json:"next_cursor"`
		}
		require.NoError(t, json.Unmarshal(body, &page))
		require.NotEmpty(t, page.Data)
		return d, page.NextCursor
	}
	for _, q := range []struct{ name, path string }{
		{"first page (50)", "/api/v1/tenants?limit=50"},
		{"search", "/api/v1/tenants?limit=50&q=000123"},
	} {
		var ds []time.Duration
		for range 30 {
			d, _ := get(q.path)
			ds = append(ds, d)
		}
		report("admin tenants page, %s: p50 %s p99 %s", q.name, pct(ds, 0.5).Round(10*time.Microsecond), pct(ds, 0.99).Round(10*time.Microsecond))
	}
	// Walk every page: the keyset cursor keeps the last page as fast as the first.
	var ds []time.Duration
	cursor := ""
	for {
		d, next := get("/api/v1/tenants?limit=50&cursor=" + cursor)
		ds = append(ds, d)
		if next == "" {
			break
		}
		cursor = next
	}
	report("admin tenants page, walking all %d pages: p50 %s p99 %s last %s", len(ds), pct(ds, 0.5).Round(10*time.Microsecond),
		pct(ds, 0.99).Round(10*time.Microsecond), ds[len(ds)-1].Round(10*time.Microsecond))
	report("serve after the admin pages: RSS %s", rss())
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
