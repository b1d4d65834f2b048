package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
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
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/routing/respcache"
	"github.com/tollgate-dev/tollgate/tenants"
)

// recordingSink collects the usage and alerts the service reports.
type recordingSink struct {
	mu     sync.Mutex
	alerts []budget.Alert
	usage  []ledger.Event
}

func (s *recordingSink) Usage(_ string, e ledger.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.usage = append(s.usage, e)
}

func (s *recordingSink) Alert(_ context.Context, _ string, a budget.Alert, _ budget.Budget) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.alerts = append(s.alerts, a)
}

func (s *recordingSink) thresholds() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for _, a := range s.alerts {
		out = append(out, a.Threshold)
	}
	return out
}

type testBundle struct {
	svc     *gateway.Service
	h       *tenants.Handle
	meter   meter.Meter
	ledger  *ledger.Writer
	sink    *recordingSink
	catalog *routing.Catalog
	caller  gateway.Caller
	reg     *tenants.Registry
	budgets *budget.Cache
	// sealer seals kept prompts; selector is the request path's (what-ifs replay through it).
	sealer   *seal.Sealer
	selector *routing.Selector
	policies *gateway.PolicyCache
}

// setup builds the request path over a single-tenant SQLite handle, the
// in-process meter and the simulated provider (failing every call when failRate is 1).
func setup(t *testing.T, failRate float64) *testBundle {
	t.Helper()
	return setupWith(t, failRate, routing.DefaultCatalog())
}

// setupWith is setup over the catalog cat, with extra providers beside the sim.
func setupWith(t *testing.T, failRate float64, cat *routing.Catalog, extra ...routing.Provider) *testBundle {
	t.Helper()
	return setupFull(t, failRate, cat, nil, extra...)
}

// setupFull is setupWith with a response cache (nil for none).
func setupFull(t *testing.T, failRate float64, cat *routing.Catalog, cache *respcache.Cache, extra ...routing.Provider) *testBundle {
	t.Helper()
	return build(t, failRate, cat, cache, nil, extra...)
}

// build is setupFull with the meter wrapped by wrap (nil: the in-process meter as is).
func build(t *testing.T, failRate float64, cat *routing.Catalog, cache *respcache.Cache, wrap func(meter.Meter, *ledger.Writer) meter.Meter,
	extra ...routing.Provider) *testBundle {
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

	est := routing.NewEstimator(routing.EstimatorConfig{})
	sim, err := routing.NewSimProvider(routing.SimConfig{FailureRate: failRate}, est, logger)
	require.NoError(t, err)
	providers, err := routing.NewRegistry(append([]routing.Provider{sim}, extra...)...)
	require.NoError(t, err)
	sel, err := routing.NewSelector(routing.SelectorConfig{Catalog: cat, Available: providers.Available}, logger)
	require.NoError(t, err)
	exec, err := routing.NewExecutor(routing.ExecutorConfig{Registry: providers, MaxRetries: -1}, logger)
	require.NoError(t, err)
	w, err := ledger.NewWriter(ledger.WriterConfig{SpoolDir: t.TempDir()}, reg, logger)
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.Close(context.WithoutCancel(t.Context())) })
	var m meter.Meter = meter.NewMemoryMeter(logger, time.Now)
	if wrap != nil {
		m = wrap(m, w)
	}
	sink := &recordingSink{}
	budgets := budget.NewCache(0, time.Now)
	sealer, err := seal.New("gateway test master key")
	require.NoError(t, err)
	policies := gateway.NewPolicyCache(0, time.Now)
	svc, err := gateway.New(gateway.Deps{Catalog: cat, Selector: sel, Executor: exec, Estimator: est, Providers: providers,
		Meter: m, Budgets: budgets, Policies: policies, Ledger: w,
		Sink: sink, Cache: cache, Sealer: sealer, Clock: time.Now, Logger: logger})
	require.NoError(t, err)
	t.Cleanup(svc.Drain) // before the registry and the temp dirs go
	return &testBundle{svc: svc, h: h, meter: m, ledger: w, sink: sink, catalog: cat, sealer: sealer, selector: sel, policies: policies,
		caller: gateway.Caller{Handle: h, KeyID: "key_1", KeyName: "batch-jobs", MemberID: "usr_1"}, reg: reg, budgets: budgets}
}

func (b *testBundle) setBudget(t *testing.T, in budget.SetInput) budget.Budget {
	t.Helper()
	bud, err := budget.Set(t.Context(), b.h, in)
	require.NoError(t, err)
	return bud
}

func (b *testBundle) usage(t *testing.T, bud budget.Budget) meter.ScopeUsage {
	t.Helper()
	us, err := b.meter.Usage(t.Context(), string(b.h.TenantID()), []meter.Limit{bud.MeterLimit()})
	require.NoError(t, err)
	require.Len(t, us, 1)
	return us[0]
}

var nextID atomic.Int64

func ids() gateway.RequestIDs {
	return gateway.RequestIDs{Server: fmt.Sprintf("req_%d", nextID.Add(1))}
}

func chat(t *testing.T, model string, maxTokens int) *routing.ChatRequest {
	t.Helper()
	body := fmt.Sprintf(`{"model":%q,"max_tokens":%d,"messages":[{"role":"user","content":"Analyze step by step and prove the bound."}]}`, model, maxTokens)
	req, err := routing.ParseChatRequest([]byte(body))
	require.NoError(t, err)
	return req
}

// TestHardRefusalDowngradesAutoButNotNamedModels: a hard key budget that cannot
// hold sim-large's worst case answers an "auto" request with sim-small (the
// ladder), while a request naming sim-large is refused, naming the key, in cents.
func TestHardRefusalDowngradesAutoButNotNamedModels(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	// Given a hard $0.005 budget on the key: sim-large's worst case for 1,000
	// output tokens ($0.01) does not fit, sim-small's ($0.0006) does.
	b.setBudget(t, budget.SetInput{Scope: meter.ScopeKey, ScopeID: "key_1", Period: meter.PeriodMonth, Limit: 5_000_000, Hard: true})

	res, err := b.svc.Chat(t.Context(), b.caller, ids(), chat(t, "auto", 1000))
	require.NoError(t, err)
	require.Equal(t, "sim-small", res.Model)
	require.Contains(t, res.RouteReason, string(routing.RouteReasonBudgetLadder))

	_, err = b.svc.Chat(t.Context(), b.caller, ids(), chat(t, "sim-large", 1000))
	require.ErrorIs(t, err, errkind.BudgetExceeded)
	require.Contains(t, err.Error(), `the monthly key "batch-jobs" budget of $0.01 would be exceeded`)
	require.Contains(t, err.Error(), "may cost up to $0.01")
}

// TestKeyLadderAppliesBesideTenantBudget: a key budget's downgrade_at steers the
// key's "auto" requests while a (far from spent) tenant budget also applies.
func TestKeyLadderAppliesBesideTenantBudget(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	b.setBudget(t, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 1000 * billing.NanoPerUSD})
	key := b.setBudget(t, budget.SetInput{Scope: meter.ScopeKey, ScopeID: "key_1", Period: meter.PeriodMonth, Limit: 20_000_000, DowngradeAt: 50})

	// sim-large with 1,000 output tokens costs a little over $0.01: past 50% of $0.02.
	res, err := b.svc.Chat(t.Context(), b.caller, ids(), chat(t, "auto", 1000))
	require.NoError(t, err)
	require.Equal(t, "sim-large", res.Model)
	require.Greater(t, b.usage(t, key).Spent*2, key.Limit)

	res, err = b.svc.Chat(t.Context(), b.caller, ids(), chat(t, "auto", 10))
	require.NoError(t, err)
	require.Equal(t, "sim-small", res.Model, res.RouteReason)
	require.Contains(t, res.RouteReason, string(routing.RouteReasonBudgetLadder))

	// A named model is not steered.
	res, err = b.svc.Chat(t.Context(), b.caller, ids(), chat(t, "sim-large", 10))
	require.NoError(t, err)
	require.Equal(t, "sim-large", res.Model)
}

// TestUpstreamErrorReleasesReservation: a failed upstream call holds no budget
// and bills nothing.
func TestUpstreamErrorReleasesReservation(t *testing.T) {
	t.Parallel()
	b := setup(t, 1)
	bud := b.setBudget(t, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: billing.NanoPerUSD, Hard: true})
	_, err := b.svc.Chat(t.Context(), b.caller, ids(), chat(t, "auto", 100))
	require.Error(t, err)
	u := b.usage(t, bud)
	require.Zero(t, u.Reserved)
	require.Zero(t, u.Spent)
}

// TestSettleRaisesAlerts: settling to the actual cost raises each threshold the
// settled spend reached, once.
func TestSettleRaisesAlerts(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	bud := b.setBudget(t, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 15_000_000, AlertAt: []int{50, 80, 100}})

	// sim-large, ~1,000 output tokens: about $0.01 of $0.015 (~67%).
	res, err := b.svc.Chat(t.Context(), b.caller, ids(), chat(t, "sim-large", 1000))
	require.NoError(t, err)
	u := b.usage(t, bud)
	require.Equal(t, res.Cost, u.Spent)
	require.Zero(t, u.Reserved)
	require.Eventually(t, func() bool { return len(b.sink.thresholds()) == 1 }, 2*time.Second, 5*time.Millisecond)
	require.Equal(t, []int{50}, b.sink.thresholds())

	// The next request crosses 80%: that alert fires, 50% does not again.
	_, err = b.svc.Chat(t.Context(), b.caller, ids(), chat(t, "sim-large", 300))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(b.sink.thresholds()) == 2 }, 2*time.Second, 5*time.Millisecond)
	require.Equal(t, []int{50, 80}, b.sink.thresholds())
	alerts, err := budget.ListAlerts(t.Context(), b.h, 10)
	require.NoError(t, err)
	require.Len(t, alerts, 2)
}

// settleWatcher notes, at each settle, whether the ledger writer already had the
// request's usage event.
type settleWatcher struct {
	meter.Meter
	w *ledger.Writer

	mu       sync.Mutex
	appended []int64 // the writer's Appended count at each Settle
}

func (s *settleWatcher) Settle(ctx context.Context, in meter.SettleInput) (meter.SettleResult, error) {
	s.mu.Lock()
	s.appended = append(s.appended, s.w.Stats().Appended)
	s.mu.Unlock()
	return s.Meter.Settle(ctx, in)
}

// TestLedgerHasTheEventBeforeTheMeterSettles: a request's usage event reaches the
// ledger's spool before its reservation is settled. The other order left a window
// in which a flush carried the cost to Redis, Redis lost it, and the recovery
// (ledger totals plus live reservations) found it in neither: a hard budget
// overspent (a CI run of TestHardBudgetHoldsWhenRedisLosesCounters).
func TestLedgerHasTheEventBeforeTheMeterSettles(t *testing.T) {
	t.Parallel()
	var sw *settleWatcher
	b := build(t, 0, routing.DefaultCatalog(), nil, func(m meter.Meter, w *ledger.Writer) meter.Meter {
		sw = &settleWatcher{Meter: m, w: w}
		return sw
	})
	b.setBudget(t, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: billing.NanoPerUSD, Hard: true})
	for i := range 3 {
		_, err := b.svc.Chat(t.Context(), b.caller, ids(), chat(t, "sim-small", 50))
		require.NoError(t, err)
		sw.mu.Lock()
		require.Equal(t, []int64{1, 2, 3}[:i+1], sw.appended, "settled before the ledger had the event")
		sw.mu.Unlock()
	}
}

// TestStreamAbortBillsWhatWasStreamed: a stream cut short settles to the part
// streamed, releases the rest of the reservation and is recorded as aborted.
func TestStreamAbortBillsWhatWasStreamed(t *testing.T) {
	t.Parallel()
	b := setup(t, 0)
	bud := b.setBudget(t, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: billing.NanoPerUSD, Hard: true})
	req := chat(t, "sim-large", 2000)
	req.Stream = true
	call, err := b.svc.ChatStream(t.Context(), b.caller, ids(), req)
	require.NoError(t, err)
	require.Positive(t, b.usage(t, bud).Reserved)
	_, err = call.Stream.Next()
	require.NoError(t, err)
	cost := call.Finish(t.Context(), errors.New("client went away"))

	u := b.usage(t, bud)
	require.Zero(t, u.Reserved)
	require.Equal(t, cost, u.Spent)
	m, _ := routing.DefaultCatalog().Lookup("sim-large")
	require.Less(t, cost, m.WorstCase(req.PromptTokens, req.MaxTokens, 1), "billed the streamed part, not the worst case")

	require.NoError(t, b.ledger.Flush(t.Context()))
	evs, err := ledger.Recent(t.Context(), b.h, time.Now().Add(time.Hour), 10)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, ledger.StatusAborted, evs[0].Status)
	require.Equal(t, cost, evs[0].Cost)
}

// TestHardRefusalStepsDownOneTierAtATime: a premium "auto" request a hard budget
// cannot hold goes to the standard tier when that fits, not straight to economy.
func TestHardRefusalStepsDownOneTierAtATime(t *testing.T) {
	t.Parallel()
	// Given a premium model the simulated provider serves ($15 / $75 per million).
	models := routing.DefaultCatalog().Models()
	models = append(models, routing.Model{ID: "sim-opus", Provider: routing.SimProviderName, Tier: routing.TierPremium,
		InputPrice: 15_000, OutputPrice: 75_000, ContextWindow: 128_000, MaxOutputTokens: routing.SimMaxOutputTokens})
	cat, err := routing.NewCatalog(models)
	require.NoError(t, err)
	b := setupWith(t, 0, cat)
	policy := routing.DefaultPolicy()
	policy.ComplexTier = routing.TierPremium
	policy.Tiers[routing.TierPremium] = []string{"sim-opus"}
	require.NoError(t, gateway.SavePolicy(t.Context(), b.h, policy, cat))
	// And a hard $0.05 key budget: sim-opus's worst case for 1,000 output tokens
	// ($0.075) does not fit, sim-large's ($0.01) does.
	b.setBudget(t, budget.SetInput{Scope: meter.ScopeKey, ScopeID: "key_1", Period: meter.PeriodMonth, Limit: 50_000_000, Hard: true})

	res, err := b.svc.Chat(t.Context(), b.caller, ids(), chat(t, "auto", 1000))
	require.NoError(t, err)
	require.Equal(t, "sim-large", res.Model, res.RouteReason)
	require.Contains(t, res.RouteReason, string(routing.RouteReasonBudgetLadder))
}
