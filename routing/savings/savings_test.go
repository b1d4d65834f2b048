package savings_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/migrations"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/routing/savings"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

type testBundle struct {
	handle *tenants.Handle
	audit  *audit.AuditLog
	sel    *routing.Selector
	now    time.Time
}

func setup(t *testing.T) *testBundle { return setupBench(t) }

func setupBench(t testing.TB) *testBundle {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(logging.TestWriter{T: t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	db, err := database.Open(ctx, testdb.SQLite(t), database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	require.NoError(t, migrations.ControlUp(ctx, db.SQL, db.Dialect, logger))
	reg := tenants.NewRegistry(db, t.TempDir(), logger)
	t.Cleanup(reg.Close)
	tn, err := reg.Create(ctx, tenants.CreateInput{Name: "acme"})
	require.NoError(t, err)
	h, err := reg.Handle(tenants.SystemPrincipal(tn, "test"))
	require.NoError(t, err)
	sel, err := routing.NewSelector(routing.SelectorConfig{Catalog: routing.DefaultCatalog()}, logger)
	require.NoError(t, err)
	return &testBundle{handle: h, audit: audit.NewAuditLog(db), sel: sel, now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
}

func (b *testBundle) input(p routing.Policy) savings.Input {
	return savings.Input{Handle: b.handle, Selector: b.sel, Catalog: routing.DefaultCatalog(), Policy: p, Now: b.now}
}

func features(p float64, conv, next string) string {
	return fmt.Sprintf(`{"prompt_tokens":100,"p_standard":%g,"p_premium":0.1,"classifier":"builtin","model_standard":0.5,"model_premium":0.5,"conversation":%q,"conversation_next":%q}`, p, conv, next)
}

func byKind(t *testing.T, rep savings.Report, kind savings.Kind, key string) savings.Suggestion {
	t.Helper()
	for _, s := range rep.Suggestions {
		if s.Kind == kind && s.KeyID == key {
			return s
		}
	}
	t.Fatalf("no %s suggestion in %+v", kind, rep.Suggestions)
	return savings.Suggestion{}
}

// TestSuggestionsFromTraffic: a key naming gpt-4o for hard turns gets a
// cheaper model of the same tier (and no route-as-auto, which would save
// nothing); a key whose answers stay far below max_tokens gets a cap that
// saves no spend but frees reserved budget; Anthropic conversation turns get
// prompt caching. Applying the substitute saves the policy and audits it, and
// the list after it no longer offers the same change.
func TestSuggestionsFromTraffic(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tid := string(b.handle.TenantID())
	at := b.now.Add(-72 * time.Hour)
	var evs []ledger.Event
	add := func(e ledger.Event) {
		e.TenantID, e.RequestID, e.CreatedAt, e.Status = tid, fmt.Sprintf("req-%03d", len(evs)), at.Add(time.Duration(len(evs))*time.Minute), ledger.StatusOK
		evs = append(evs, e)
	}
	for range 6 { // hard turns: the classifier would keep them on standard
		add(ledger.Event{KeyID: "k-named", ModelRequested: "gpt-4o", ModelUsed: "gpt-4o", InputTokens: 2000, OutputTokens: 300,
			RouteReason: "explicit", RouteFeatures: features(0.9, "", ""), MaxTokens: 1000})
	}
	for range 6 { // short answers under a 4,096-token limit
		add(ledger.Event{KeyID: "k-short", ModelRequested: "gpt-4o-mini", ModelUsed: "gpt-4o-mini", InputTokens: 50, OutputTokens: 90,
			RouteReason: "explicit", RouteFeatures: features(0.1, "", ""), MaxTokens: 4096})
	}
	for i := range 6 { // one conversation on Anthropic, each turn repeating the last
		add(ledger.Event{KeyID: "k-chat", ModelRequested: "auto", ModelUsed: "claude-haiku-4-5", InputTokens: int64(2000 + 500*i), OutputTokens: 100,
			RouteReason: "auto_economy", RouteFeatures: features(0.1, fmt.Sprintf("c%d", i), fmt.Sprintf("c%d", i+1))})
	}
	_, err := ledger.Insert(t.Context(), b.handle, evs)
	require.NoError(t, err)

	pol := routing.DefaultPolicy()
	pol.Tiers[routing.TierEconomy] = []string{"claude-haiku-4-5", "gpt-4o-mini"}
	rep, err := savings.Compute(t.Context(), b.input(pol))
	require.NoError(t, err)
	require.Equal(t, len(evs), rep.Requests)

	sub := byKind(t, rep, savings.KindCheaperModel, "k-named")
	require.Equal(t, "k-named", sub.KeyID)
	require.Equal(t, "gpt-4o", sub.Change.SubstituteFrom)
	to, ok := routing.DefaultCatalog().Lookup(sub.Change.SubstituteTo)
	require.True(t, ok)
	require.Equal(t, routing.TierStandard, to.Tier)
	require.Equal(t, map[string]int{to.ID: 6}, sub.Predicted)
	require.Less(t, int64(sub.WindowCostAfter), int64(sub.WindowCostBefore))
	require.Equal(t, savings.RiskMedium, sub.Risk)
	// Three days of traffic project to a month: ten times the window's saving.
	require.Equal(t, int64(sub.WindowCostBefore-sub.WindowCostAfter)*10, int64(sub.MonthlySavings))
	for _, s := range rep.Suggestions {
		require.False(t, s.Kind == savings.KindRouteAuto && s.KeyID == "k-named", "hard turns replayed as auto save nothing")
	}

	capped := byKind(t, rep, savings.KindCapMaxTokens, "k-short")
	require.Equal(t, "k-short", capped.KeyID)
	require.Equal(t, 256, capped.Change.MaxTokens, "twice the longest answer, rounded up to 256")
	require.Zero(t, capped.MonthlySavings, "no answer of the window changes")
	require.Positive(t, capped.MonthlyReservationFreed)
	require.Equal(t, savings.RiskLow, capped.Risk)
	_ = byKind(t, rep, savings.KindCapMaxTokens, "k-chat") // no max_tokens sent: the model's 64,000 are reserved

	cache := byKind(t, rep, savings.KindPromptCache, "")
	require.True(t, cache.Change.AnthropicCacheControl)
	require.Equal(t, 5, cache.Requests, "five follow-up turns")
	require.Positive(t, cache.MonthlySavings)

	// A key whose allowlist holds only gpt-4o is offered no other model (the
	// gateway would refuse it); the other keys' suggestions stay.
	in := b.input(pol)
	in.KeyModels = func(_ context.Context, key string) ([]string, error) {
		if key == "k-named" {
			return []string{"gpt-4o"}, nil
		}
		return nil, nil
	}
	narrowed, err := savings.Compute(t.Context(), in)
	require.NoError(t, err)
	for _, s := range narrowed.Suggestions {
		require.False(t, s.KeyID == "k-named" && s.Kind != savings.KindCapMaxTokens, "%+v", s)
	}
	_ = byKind(t, narrowed, savings.KindCapMaxTokens, "k-named") // a cap keeps the model
	_ = byKind(t, narrowed, savings.KindCapMaxTokens, "k-short")

	// When the substitute is applied.
	applied, err := savings.Apply(t.Context(), savings.ApplyInput{Input: b.input(pol), ID: sub.ID, Actor: audit.CLIActor()}, b.audit)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"gpt-4o": to.ID}, applied.After.Keys["k-named"].Substitute)
	require.Nil(t, pol.Keys, "the caller's policy is not modified")
	saved, _, err := gateway.LoadPolicy(t.Context(), b.handle)
	require.NoError(t, err)
	require.Equal(t, applied.After.Keys, saved.Keys)
	page, err := b.audit.List(t.Context(), audit.ListAuditInput{TenantID: b.handle.TenantID()})
	require.NoError(t, err)
	require.Equal(t, savings.AuditActionApply, page.Entries[0].Action)

	// Then the list under the saved policy offers it no more, and a stale id is refused.
	rep, err = savings.Compute(t.Context(), b.input(saved))
	require.NoError(t, err)
	for _, s := range rep.Suggestions {
		require.NotEqual(t, sub.ID, s.ID)
	}
	_, err = savings.Apply(t.Context(), savings.ApplyInput{Input: b.input(saved), ID: sub.ID, Actor: audit.CLIActor()}, b.audit)
	require.ErrorContains(t, err, "no suggestion")
}

// TestChangeTo merges a change into a copy: earlier overrides of the key stay,
// a model moved from substitute to auto leaves the substitute list.
func TestChangeTo(t *testing.T) {
	t.Parallel()
	p := routing.DefaultPolicy()
	p.Keys = map[string]routing.KeyRouting{"k": {Substitute: map[string]string{"gpt-4o": "gpt-4.1"}, MaxTokens: 512}}
	got := savings.Change{KeyID: "k", AutoModel: "gpt-4o"}.To(p)
	require.Equal(t, routing.KeyRouting{AutoModels: []string{"gpt-4o"}, Substitute: map[string]string{}, MaxTokens: 512}, got.Keys["k"])
	require.Equal(t, map[string]string{"gpt-4o": "gpt-4.1"}, p.Keys["k"].Substitute, "the original is untouched")
	got = savings.Change{SessionAffinity: true}.To(routing.Policy{})
	require.True(t, got.SessionAffinity)
}
