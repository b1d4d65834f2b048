package usageimport

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/tenants"
)

type testBundle struct {
	handle  *tenants.Handle
	dialect string
}

func setup(t testing.TB, backend string) *testBundle {
	t.Helper()
	url := testdb.SQLite(t)
	if backend == "postgres" {
		url = testdb.Postgres(t)
	}
	logger := slog.New(slog.NewTextHandler(logging.TestWriter{T: t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.WithoutCancel(t.Context())
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
	return &testBundle{handle: h, dialect: backend}
}

// counts returns how many imported rows, import runs and imported rollup rows
// the tenant holds.
func (b *testBundle) counts(t *testing.T) [3]int64 {
	t.Helper()
	var out [3]int64
	require.NoError(t, b.handle.Read(t.Context(), func(db *gorm.DB) error {
		for i, q := range []string{"SELECT COUNT(*) FROM usage_imported_rows", "SELECT COUNT(*) FROM usage_imports",
			"SELECT COUNT(*) FROM usage_daily WHERE api = 'imported'"} {
			if err := db.Raw(q).Scan(&out[i]).Error; err != nil {
				return err
			}
		}
		return nil
	}))
	return out
}

func backends(t *testing.T, fn func(t *testing.T, b *testBundle)) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			fn(t, setup(t, backend))
		})
	}
}

// csvOf builds an OpenRouter export with one generation per hour of day.
func csvOf(day time.Time, n int, costOf func(i int) string) string {
	var sb strings.Builder
	sb.WriteString("generation_id,created_at,model_permaslug,tokens_prompt,tokens_completion,cost_total,api_key_name,user\n")
	for i := range n {
		fmt.Fprintf(&sb, "gen-%d,%s,openai/gpt-4o,1000,100,%s,app,user-%d\n", i, day.Add(time.Duration(i)*time.Minute).Format("2006-01-02 15:04:05"), costOf(i), i%3)
	}
	return sb.String()
}

func cents(int) string { return "0.01" }

// TestImportIsAllOrNothing: a malformed row in the middle of a file, or a
// database failure halfway through the writes, leaves nothing behind: no
// imported row, no rollup, no run record.
func TestImportIsAllOrNothing(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, b *testBundle) {
		ctx := t.Context()
		day := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
		good := csvOf(day, 1000, cents)

		// Given a file whose row 500 is malformed,
		lines := strings.Split(good, "\n")
		lines[500] = "gen-bad,2026-11-02 10:00:00,openai/gpt-4o,many,100,0.01,app,x"
		_, err := Import(ctx, b.handle, prices, Input{Format: FormatOpenRouter, Data: []byte(strings.Join(lines, "\n"))})
		// then the import fails naming line 501 and nothing lands.
		require.ErrorContains(t, err, "line 501: tokens_prompt \"many\" is not a whole number")
		require.Equal(t, [3]int64{0, 0, 0}, b.counts(t))

		// Given a database that refuses one row late in the file (after a
		// first chunk of rows was already written in the transaction),
		require.NoError(t, b.handle.Tx(ctx, func(tx *gorm.DB) error {
			if b.dialect == "postgres" {
				if err := tx.Exec(`CREATE FUNCTION refuse_boom() RETURNS trigger AS $$ BEGIN
					IF NEW.export_model = 'openai/gpt-4o-boom' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`).Error; err != nil {
					return err
				}
				return tx.Exec(`CREATE TRIGGER boom BEFORE INSERT ON usage_imported_rows FOR EACH ROW EXECUTE FUNCTION refuse_boom()`).Error
			}
			return tx.Exec(`CREATE TRIGGER boom BEFORE INSERT ON usage_imported_rows WHEN NEW.export_model = 'openai/gpt-4o-boom'
				BEGIN SELECT RAISE(ABORT, 'boom'); END`).Error
		}))
		lines = strings.Split(good, "\n")
		lines[900] = strings.Replace(lines[900], "openai/gpt-4o", "openai/gpt-4o-boom", 1)
		_, err = Import(ctx, b.handle, prices, Input{Format: FormatOpenRouter, Data: []byte(strings.Join(lines, "\n"))})
		require.ErrorContains(t, err, "boom")
		// then the rows written before it are rolled back with it.
		require.Equal(t, [3]int64{0, 0, 0}, b.counts(t))

		// The good file imports whole.
		res, err := Import(ctx, b.handle, prices, Input{Format: FormatOpenRouter, Data: []byte(good)})
		require.NoError(t, err)
		require.Equal(t, 1000, res.New)
		require.Equal(t, billing.NanoUSD(1000*10_000_000), res.Cost)
		require.Equal(t, [3]int64{1000, 1, 6}, b.counts(t), "1,000 minutes from 09:00 span two days of three users")
	})
}

// TestReimportNeverDoubleCounts: importing the same file again changes
// nothing; an overlapping export adds only its new rows; a row whose figures
// changed replaces the old one in the rollups.
func TestReimportNeverDoubleCounts(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, b *testBundle) {
		ctx := t.Context()
		data, err := os.ReadFile("testdata/openrouter_activity.csv")
		require.NoError(t, err)
		total := func() ledger.Totals {
			_, tot, err := ledger.Series(ctx, b.handle, ledger.SeriesQuery{Source: ledger.SourceImported})
			require.NoError(t, err)
			return tot
		}
		first, err := Import(ctx, b.handle, prices, Input{Format: FormatOpenRouter, Data: data, FileName: "activity.csv"})
		require.NoError(t, err)
		require.Equal(t, 6, first.New)
		want := total()
		require.Equal(t, int64(6), want.Requests)
		require.Equal(t, first.Cost, want.Cost)

		// Given the same file again, then nothing changes.
		again, err := Import(ctx, b.handle, prices, Input{Format: FormatOpenRouter, Data: data})
		require.NoError(t, err)
		require.Equal(t, [3]int{0, 0, 6}, [3]int{again.New, again.Updated, again.Unchanged})
		require.Equal(t, want, total())

		// Given a later export overlapping the first (rows 4-6 again, one new
		// row, row 5's cost corrected),
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		row5 := strings.Replace(lines[5], ",0.000609,", ",0.000709,", 1)
		extra := "gen-1764000007-gggg,2026-11-06 10:00:00.000,0.002,0,0,0,0,500,100,0,0,openai/gpt-4o,OpenAI,standard,false,true,alice,stop,stop,900,250,,team-app"
		overlap := strings.Join([]string{lines[0], lines[4], row5, lines[6], extra}, "\n")
		dry, err := Import(ctx, b.handle, prices, Input{Format: FormatOpenRouter, Data: []byte(overlap), DryRun: true})
		require.NoError(t, err)
		require.Equal(t, [3]int{1, 1, 2}, [3]int{dry.New, dry.Updated, dry.Unchanged})
		require.Equal(t, want, total(), "a dry run writes nothing")

		res, err := Import(ctx, b.handle, prices, Input{Format: FormatOpenRouter, Data: []byte(overlap)})
		require.NoError(t, err)
		require.Equal(t, [3]int{1, 1, 2}, [3]int{res.New, res.Updated, res.Unchanged})
		// then the rollups hold 7 requests and the corrected cost, once.
		got := total()
		require.Equal(t, int64(7), got.Requests)
		require.Equal(t, want.Cost+2_000_000+100_000, got.Cost)
		runs, err := ledger.Imports(ctx, b.handle, 10)
		require.NoError(t, err)
		require.Len(t, runs, 3)
		require.Equal(t, "activity.csv", runs[2].FileName)
	})
}

// TestImportedHistoryIsNeverBilled: imported usage this month shows in
// analytics and projections but not in a budget's period spend (what the
// meter is rebuilt from and reconciled against) nor in the invoice's usage.
func TestImportedHistoryIsNeverBilled(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, b *testBundle) {
		ctx := t.Context()
		now := time.Now().UTC()
		today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		_, err := Import(ctx, b.handle, prices, Input{Format: FormatOpenRouter, Data: []byte(csvOf(today, 10, cents))})
		require.NoError(t, err)

		_, all, err := ledger.Series(ctx, b.handle, ledger.SeriesQuery{Source: ledger.SourceAll})
		require.NoError(t, err)
		require.Equal(t, billing.NanoUSD(100_000_000), all.Cost, "analytics see the imported $0.10")
		p, err := ledger.Project(ctx, b.handle, ledger.ProjectInput{Now: now})
		require.NoError(t, err)
		require.Equal(t, billing.NanoUSD(100_000_000), p.SpentThisMonth, "projections see it")
		require.Equal(t, int64(3), p.ActiveMembers)

		_, served, err := ledger.Series(ctx, b.handle, ledger.SeriesQuery{})
		require.NoError(t, err)
		require.Equal(t, ledger.Totals{}, served, "the default query is served usage only")
		tenantBudget := budget.Budget{Scope: meter.ScopeTenant, Period: meter.PeriodMonth}
		keyBudget := budget.Budget{Scope: meter.ScopeKey, ScopeID: "imported:app", Period: meter.PeriodDay}
		totals, err := ledger.CounterTotals(ctx, b.handle, []budget.Budget{tenantBudget, keyBudget}, now)
		require.NoError(t, err)
		for _, st := range totals {
			require.Zero(t, st.Spent, "budget counters are rebuilt from served usage only")
		}
		usage, err := invoicing.Usage(ctx, b.handle, now.Format("2006-01"))
		require.NoError(t, err)
		require.Empty(t, usage, "invoices never see imported rows")
	})
}

// TestImportManyGroups: a file touching more day × model × key × user groups
// than one statement may carry parameters for imports whole.
func TestImportManyGroups(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, b *testBundle) {
		var sb strings.Builder
		sb.WriteString("generation_id,created_at,model_permaslug,tokens_prompt,tokens_completion,cost_total,user\n")
		for i := range 6000 {
			fmt.Fprintf(&sb, "g%d,2026-11-02 10:00:00,openai/gpt-4o,10,1,0.000001,user-%d\n", i, i)
		}
		res, err := Import(t.Context(), b.handle, prices, Input{Format: FormatOpenRouter, Data: []byte(sb.String())})
		require.NoError(t, err)
		require.Equal(t, 6000, res.New)
		require.Equal(t, [3]int64{6000, 1, 6000}, b.counts(t))
	})
}

// BenchmarkImportOpenRouter imports a 10,000-row OpenRouter export (parse,
// price, one transaction) into a fresh tenant per iteration.
func BenchmarkImportOpenRouter(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			var sb strings.Builder
			sb.WriteString("generation_id,created_at,model_permaslug,tokens_prompt,tokens_completion,cost_total,user,api_key_name\n")
			for i := range 10_000 {
				fmt.Fprintf(&sb, "g%d,2026-11-%02d 10:%02d:00,openai/gpt-4o%s,3400,300,0.0125,user-%d,app\n", i, 1+i%28, i%60, []string{"", "-mini"}[i%2], i%40)
			}
			data := []byte(sb.String())
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				b.StopTimer()
				h := setup(b, backend).handle
				// Open the tenant's database outside the timing.
				if err := h.Read(b.Context(), func(*gorm.DB) error { return nil }); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := Import(b.Context(), h, prices, Input{Format: FormatOpenRouter, Data: data}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
