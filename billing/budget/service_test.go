package budget_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

type directory struct{ keys, members []budget.Named }

func (d directory) Keys(context.Context, tenants.ID) ([]budget.Named, error) { return d.keys, nil }
func (d directory) Members(context.Context, tenants.ID) ([]budget.Named, error) {
	return d.members, nil
}

type auditLog struct {
	mu      sync.Mutex
	entries []string
	details []map[string]any
}

func (a *auditLog) Record(_ context.Context, _ tenants.ID, actor audit.Actor, action, target string, details map[string]any) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, action+" "+target+" by "+actor.Email)
	a.details = append(a.details, details)
	return nil
}

type serviceBundle struct {
	svc    *budget.Service
	h      *tenants.Handle
	meter  *meter.MemoryMeter
	ledger *ledger.Writer
	audit  *auditLog
}

func setupService(t *testing.T) *serviceBundle {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(logging.TestWriter{T: t}, nil))
	db, err := database.Open(t.Context(), testdb.SQLite(t), database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, migrations.ControlUp(t.Context(), db.SQL, db.Dialect, logger))
	reg := tenants.NewRegistry(db, t.TempDir(), logger)
	t.Cleanup(reg.Close)
	tn, err := reg.Create(t.Context(), tenants.CreateInput{Name: "acme"})
	require.NoError(t, err)
	h, err := reg.Handle(tenants.SystemPrincipal(tn, "test"))
	require.NoError(t, err)
	w, err := ledger.NewWriter(ledger.WriterConfig{SpoolDir: t.TempDir()}, reg, logger)
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close(context.WithoutCancel(t.Context())) })
	b := &serviceBundle{h: h, meter: meter.NewMemoryMeter(logger, time.Now), ledger: w, audit: &auditLog{}}
	dir := directory{
		keys: []budget.Named{{ID: "key_1", Name: "batch-jobs", Prefix: "tg_aaaa1111"}, {ID: "key_2", Name: "web", Prefix: "tg_bbbb2222"},
			{ID: "key_3", Name: "Web", Prefix: "tg_cccc3333"}},
		members: []budget.Named{{ID: "usr_1", Name: "ana@example.com"}},
	}
	b.svc, err = budget.NewService(budget.ServiceDeps{Meter: b.meter, Directory: dir, Audit: b.audit, PeriodSpend: ledger.PeriodSpend,
		CounterTotals: ledger.CounterTotals, LimitImpact: ledger.PreviewLimit, Logger: logger})
	require.NoError(t, err)
	return b
}

func (b *serviceBundle) spend(t *testing.T, keyID string, costs ...billing.NanoUSD) {
	t.Helper()
	for i, c := range costs {
		require.NoError(t, b.ledger.Append(ledger.Event{TenantID: string(b.h.TenantID()), RequestID: keyID + "-" + string(rune('a'+i)),
			CreatedAt: time.Now().UTC().Add(time.Duration(i) * time.Millisecond), KeyID: keyID, MemberID: "usr_1",
			ModelUsed: "sim-small", Cost: c, Status: ledger.StatusOK}))
	}
	require.NoError(t, b.ledger.Flush(t.Context()))
}

// TestServiceResolvesScopes: a key by id, prefix or unambiguous name, a member by
// id or email; unknown or ambiguous references are refused listing candidates.
func TestServiceResolvesScopes(t *testing.T) {
	t.Parallel()
	b := setupService(t)
	ctx := t.Context()
	for ref, want := range map[string]string{"key_1": "key_1", "tg_bbbb2222": "key_2", "batch-jobs": "key_1", "BATCH-JOBS": "key_1"} {
		n, err := b.svc.Resolve(ctx, b.h.TenantID(), meter.ScopeKey, ref)
		require.NoError(t, err, ref)
		require.Equal(t, want, n.ID, ref)
	}
	n, err := b.svc.Resolve(ctx, b.h.TenantID(), meter.ScopeMember, "ana@example.com")
	require.NoError(t, err)
	require.Equal(t, "usr_1", n.ID)

	_, err = b.svc.Resolve(ctx, b.h.TenantID(), meter.ScopeKey, "web")
	require.ErrorIs(t, err, errkind.Invalid)
	require.Equal(t, "scope_id", errkind.ParamOf(err))
	require.Contains(t, err.Error(), `"web" names 2 keys: web (key_2), Web (key_3); use the id`)

	_, err = b.svc.Resolve(ctx, b.h.TenantID(), meter.ScopeKey, "nightly")
	require.ErrorIs(t, err, errkind.Invalid)
	require.Contains(t, err.Error(), "candidates: batch-jobs (key_1), web (key_2), Web (key_3)")

	// A refused scope creates nothing and audits nothing.
	_, _, err = b.svc.Set(ctx, b.h, audit.CLIActor(), budget.SetInput{Scope: meter.ScopeKey, ScopeID: "nightly", Period: meter.PeriodMonth, Limit: 1})
	require.Error(t, err)
	all, err := budget.List(ctx, b.h)
	require.NoError(t, err)
	require.Empty(t, all)
	require.Empty(t, b.audit.entries)
}

// TestServiceSetSeedsFromLedgerAndAudits: a budget created after spend starts
// its counter at the ledger's spend, is audited, and lists its spend and percent.
func TestServiceSetSeedsFromLedgerAndAudits(t *testing.T) {
	t.Parallel()
	b := setupService(t)
	ctx := t.Context()
	b.spend(t, "key_1", 30_000_000, 10_000_000) // $0.04

	st, created, err := b.svc.Set(ctx, b.h, audit.CLIActor(), budget.SetInput{Scope: meter.ScopeKey, ScopeID: "batch-jobs",
		Period: meter.PeriodMonth, Limit: 50_000_000, Hard: true})
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, "key_1", st.ScopeID)
	require.Equal(t, "batch-jobs", st.ScopeName)
	require.Equal(t, billing.NanoUSD(40_000_000), st.Spent)
	require.Equal(t, "meter", st.Source)
	require.Equal(t, int64(80), st.Percent())

	// The gateway's counter holds it: a $0.02 request is refused.
	dec, err := b.meter.Reserve(ctx, meter.ReserveInput{TenantID: string(b.h.TenantID()), RequestID: "r1", Amount: 20_000_000,
		Limits: []meter.Limit{st.MeterLimit()}})
	require.NoError(t, err)
	require.False(t, dec.Allowed)

	sts, err := b.svc.List(ctx, b.h)
	require.NoError(t, err)
	require.Len(t, sts, 1)
	require.Equal(t, billing.NanoUSD(40_000_000), sts[0].Spent)
	require.NoError(t, b.svc.Delete(ctx, b.h, audit.CLIActor(), st.ID))
	require.Equal(t, []string{"budget.set " + st.ID + " by cli", "budget.delete " + st.ID + " by cli"}, b.audit.entries)
}

// TestServiceAuditsBeforeAfterAndName: the audit entries of a budget's creation,
// change and removal name the budget by its key and carry the state around each
// change, so the console shows a diff instead of a bare id.
func TestServiceAuditsBeforeAfterAndName(t *testing.T) {
	t.Parallel()
	b := setupService(t)
	ctx := t.Context()
	in := budget.SetInput{Scope: meter.ScopeKey, ScopeID: "batch-jobs", Period: meter.PeriodMonth, Limit: 50_000_000_000, Hard: true}
	st, _, err := b.svc.Set(ctx, b.h, audit.CLIActor(), in)
	require.NoError(t, err)
	in.Limit, in.Hard = 80_000_000_000, false
	_, created, err := b.svc.Set(ctx, b.h, audit.CLIActor(), in)
	require.NoError(t, err)
	require.False(t, created)
	require.NoError(t, b.svc.Delete(ctx, b.h, audit.CLIActor(), st.ID))

	require.Len(t, b.audit.details, 3)
	created0, changed, removed := b.audit.details[0], b.audit.details[1], b.audit.details[2]
	for _, d := range b.audit.details {
		require.Equal(t, "key batch-jobs, month", d[audit.DetailTargetName])
	}
	require.NotContains(t, created0, audit.DetailBefore)
	require.Equal(t, "50.000000000", created0[audit.DetailAfter].(map[string]any)["limit_usd"])
	require.Equal(t, map[string]any{"limit_usd": "50.000000000", "hard": true, "alert_at": []int{50, 80, 100}, "downgrade_at": 0}, changed[audit.DetailBefore])
	require.Equal(t, map[string]any{"limit_usd": "80.000000000", "hard": false, "alert_at": []int{50, 80, 100}, "downgrade_at": 0}, changed[audit.DetailAfter])
	require.Equal(t, "80.000000000", removed[audit.DetailBefore].(map[string]any)["limit_usd"])
	require.NotContains(t, removed, audit.DetailAfter)
}

// TestServicePreview: a proposed hard limit reports the spend so far and how
// many of this period's requests it would have refused, and changes nothing.
func TestServicePreview(t *testing.T) {
	t.Parallel()
	b := setupService(t)
	b.spend(t, "key_1", 10_000_000, 10_000_000, 10_000_000, 5_000_000) // $0.035 in 4 requests
	b.spend(t, "key_2", 90_000_000)
	p, err := b.svc.Preview(t.Context(), b.h, budget.PreviewInput{Scope: meter.ScopeKey, ScopeID: "batch-jobs", Period: meter.PeriodMonth, Limit: 20_000_000})
	require.NoError(t, err)
	require.Equal(t, budget.LimitImpact{PeriodKey: p.PeriodKey, Spent: 35_000_000, Requests: 4, Refused: 2, RefusedCost: 15_000_000}, p)

	p, err = b.svc.Preview(t.Context(), b.h, budget.PreviewInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: billing.NanoPerUSD})
	require.NoError(t, err)
	require.Equal(t, budget.LimitImpact{PeriodKey: p.PeriodKey, Spent: 125_000_000, Requests: 5}, p)
	all, err := budget.List(t.Context(), b.h)
	require.NoError(t, err)
	require.Empty(t, all)
}
