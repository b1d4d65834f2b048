package ledger

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/tenants"
)

type testBundle struct {
	reg    *tenants.Registry
	tenant tenants.Tenant
	handle *tenants.Handle
	logger *slog.Logger
}

func setup(t *testing.T, backend string) *testBundle { return setupB(t, backend) }

func setupB(t testing.TB, backend string) *testBundle {
	t.Helper()
	url := testdb.SQLite(t)
	if backend == "postgres" {
		url = testdb.Postgres(t)
	}
	logger := slog.New(slog.NewTextHandler(logging.TestWriter{T: t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	db, err := database.Open(ctx, url, database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, migrations.ControlUp(ctx, db.SQL, db.Dialect, logger))
	reg := tenants.NewRegistry(db, t.TempDir(), logger)
	t.Cleanup(reg.Close)
	tn, err := reg.Create(ctx, tenants.CreateInput{Name: "acme"})
	require.NoError(t, err)
	h, err := reg.Handle(tenants.SystemPrincipal(tn, "test"))
	require.NoError(t, err)
	return &testBundle{reg: reg, tenant: tn, handle: h, logger: logger}
}

func randomEvents(tenantID string, n int, seed uint64) ([]Event, Totals) {
	r := rand.New(rand.NewPCG(seed, 1))
	models := []string{"sim-small", "sim-large", "gpt-4o"}
	var tot Totals
	out := make([]Event, n)
	base := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	for i := range out {
		e := Event{TenantID: tenantID, RequestID: fmt.Sprintf("req-%d-%d", seed, i),
			CreatedAt: base.Add(time.Duration(r.IntN(5*24)) * time.Hour), KeyID: fmt.Sprintf("key-%d", r.IntN(3)),
			ModelUsed: models[r.IntN(len(models))], InputTokens: int64(r.IntN(5000)), OutputTokens: int64(r.IntN(800)),
			Cost: billing.NanoUSD(r.IntN(10_000_000)), Status: StatusOK}
		if r.IntN(2) == 0 { // prompt caching: reads, writes and what they saved
			e.CachedTokens = e.InputTokens / 2
			e.CacheWriteTokens = int64(r.IntN(int(e.InputTokens/4) + 1))
			e.CacheSaved = billing.NanoUSD(r.IntN(2_000_000) - 200_000)
		}
		out[i] = e
		tot.CachedTokens += e.CachedTokens
		tot.CacheWriteTokens += e.CacheWriteTokens
		tot.CacheSaved += e.CacheSaved
		tot.Requests++
		tot.InputTokens += e.InputTokens
		tot.OutputTokens += e.OutputTokens
		tot.Cost += e.Cost
	}
	return out, tot
}

func TestInsertIsIdempotentAndRollsUp(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			evs, want := randomEvents(string(b.tenant.ID), 300, 1)

			n, err := Insert(t.Context(), b.handle, evs)
			require.NoError(t, err)
			require.Equal(t, 300, n)
			// Replaying the same batch (a crash before the spool was trimmed) adds nothing.
			n, err = Insert(t.Context(), b.handle, evs[:150])
			require.NoError(t, err)
			require.Zero(t, n)

			got, err := EventTotals(t.Context(), b.handle, time.Time{})
			require.NoError(t, err)
			require.Equal(t, want, got)
			points, rolled, err := Series(t.Context(), b.handle, SeriesQuery{GroupBy: []GroupBy{GroupByDay, GroupByModel}})
			require.NoError(t, err)
			require.Equal(t, want, rolled, "rollups equal raw events exactly")
			var sum billing.NanoUSD
			for _, p := range points {
				sum += p.Cost
			}
			require.Equal(t, want.Cost, sum)

			back, err := EventsSince(t.Context(), b.handle, time.Time{}, 1000)
			require.NoError(t, err)
			require.Len(t, back, len(evs))
			byID := make(map[string]Event, len(back))
			for _, e := range back {
				byID[e.RequestID] = e
			}
			for _, e := range evs {
				got := byID[e.RequestID]
				require.Equal(t, [3]int64{e.CachedTokens, e.CacheWriteTokens, int64(e.CacheSaved)},
					[3]int64{got.CachedTokens, got.CacheWriteTokens, int64(got.CacheSaved)}, e.RequestID)
			}
		})
	}
}

func TestWriterSurvivesKill(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			dir := t.TempDir()
			evs, want := randomEvents(string(b.tenant.ID), 1000, 2)

			// Given a writer that flushed part of its events
			w, err := NewWriter(WriterConfig{SpoolDir: dir, BatchSize: 100}, b.reg, b.logger)
			require.NoError(t, err)
			for _, e := range evs[:600] {
				require.NoError(t, w.Append(e))
			}
			require.NoError(t, w.Flush(t.Context()))
			for _, e := range evs[600:] {
				require.NoError(t, w.Append(e))
			}
			// When the process dies without flushing (the spool file is just left behind)
			_ = w.spool.cur.Close()
			_ = w.spool.lock.Close()

			// Then a new writer replays the spool and the ledger holds each event once
			w2, err := NewWriter(WriterConfig{SpoolDir: dir, BatchSize: 100}, b.reg, b.logger)
			require.NoError(t, err)
			require.EqualValues(t, 400, w2.Stats().Replayed, "only the unflushed segment's events are left")
			require.NoError(t, w2.Flush(t.Context()))
			require.NoError(t, w2.Close(t.Context()))
			got, err := EventTotals(t.Context(), b.handle, time.Time{})
			require.NoError(t, err)
			require.Equal(t, want, got)
			_, rolled, err := Series(t.Context(), b.handle, SeriesQuery{})
			require.NoError(t, err)
			require.Equal(t, want, rolled)
		})
	}
}

func TestSpoolIsExclusive(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	dir := t.TempDir()
	w, err := NewWriter(WriterConfig{SpoolDir: dir}, b.reg, b.logger)
	require.NoError(t, err)
	defer w.Close(t.Context())
	_, err = NewWriter(WriterConfig{SpoolDir: dir}, b.reg, b.logger)
	require.ErrorContains(t, err, "in use by another process")
}

func TestSeriesQueryValidation(t *testing.T) {
	t.Parallel()
	for _, q := range []SeriesQuery{{From: "yesterday"}, {From: "2026-11-02", To: "2026-11-01"}, {GroupBy: []GroupBy{"tenant"}}} {
		require.Error(t, q.Validate(), "%+v", q)
	}
	require.NoError(t, SeriesQuery{From: "2026-11-01", To: "2026-11-30", GroupBy: []GroupBy{GroupByDay}}.Validate())
}

// TestSpoolFilesArePrivate: the spool directory is created 0700, its lock and
// segment files 0600 (they hold usage not yet in the database).
func TestSpoolFilesArePrivate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "spool")
	s, _, err := openSpool(dir)
	require.NoError(t, err)
	defer s.close()
	_, err = s.append(Event{TenantID: "t1", RequestID: "req_1", CreatedAt: time.Now().UTC(), Status: StatusOK})
	require.NoError(t, err)
	requireMode := func(path string, mode os.FileMode) {
		t.Helper()
		st, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, mode, st.Mode().Perm(), path)
	}
	requireMode(dir, 0o700)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(entries), 2, "the lock and a segment")
	for _, e := range entries {
		requireMode(filepath.Join(dir, e.Name()), 0o600)
	}
}

// TestEventsKeepTheirAPI: the client API of each request (chat, responses,
// messages, embeddings) is stored and read back on both dialects.
func TestEventsKeepTheirAPI(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			evs, _ := randomEvents(string(b.tenant.ID), 4, 7)
			apis := []string{"chat", "responses", "messages", "embeddings"}
			want := map[string]string{}
			for i := range evs {
				evs[i].API = apis[i]
				want[evs[i].RequestID] = apis[i]
			}
			_, err := Insert(t.Context(), b.handle, evs)
			require.NoError(t, err)
			got, err := Recent(t.Context(), b.handle, time.Time{}, 10)
			require.NoError(t, err)
			require.Len(t, got, 4)
			for _, e := range got {
				require.Equal(t, want[e.RequestID], e.API)
			}
			// The rollups break usage down by API, and filter by it.
			points, _, err := Series(t.Context(), b.handle, SeriesQuery{GroupBy: []GroupBy{GroupByAPI}})
			require.NoError(t, err)
			require.Len(t, points, 4)
			for _, p := range points {
				require.EqualValues(t, 1, p.Requests, p.API)
			}
			_, one, err := Series(t.Context(), b.handle, SeriesQuery{API: "messages"})
			require.NoError(t, err)
			require.EqualValues(t, 1, one.Requests)
			require.Equal(t, evs[2].Cost, one.Cost)
			var streamed []string
			require.NoError(t, EachPoint(t.Context(), b.handle, SeriesQuery{GroupBy: []GroupBy{GroupByAPI}}, func(p Point) error {
				streamed = append(streamed, p.API)
				return nil
			}))
			require.Equal(t, []string{"chat", "embeddings", "messages", "responses"}, streamed)
		})
	}
}
