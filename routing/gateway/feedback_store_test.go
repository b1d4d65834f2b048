package gateway_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/testdb"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants"
)

// Feedback, route features and tenant classifiers on both databases.
func TestRouteLearningStores(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			logger := testdb.Logger(t)
			db, dir := testdb.ControlDB(t, backend, logger)
			reg := tenants.NewRegistry(db, dir, logger)
			t.Cleanup(reg.Close)
			tn, err := reg.Create(t.Context(), tenants.CreateInput{Name: "learn"})
			require.NoError(t, err)
			h, err := reg.Handle(tenants.SystemPrincipal(tn, "test"))
			require.NoError(t, err)
			now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

			// Given a ledger row with route features,
			_, err = ledger.Insert(t.Context(), h, []ledger.Event{{RequestID: "req-1", CreatedAt: now, ModelUsed: "gpt-4o-mini",
				Status: ledger.StatusOK, RouteReason: "auto_economy", RouteFeatures: `{"prompt_tokens":10,"p_standard":0.12}`, ConversationID: "abc"}})
			require.NoError(t, err)
			evs, err := ledger.EventsSince(t.Context(), h, now.Add(-time.Hour), 10)
			require.NoError(t, err)
			require.Equal(t, "abc", evs[0].ConversationID)
			require.JSONEq(t, `{"prompt_tokens":10,"p_standard":0.12}`, evs[0].RouteFeatures)

			// feedback on an unknown request changes nothing,
			_, err = gateway.RecordFeedback(t.Context(), h, gateway.FeedbackInput{RequestID: "nope", Rating: 3}, now)
			require.ErrorIs(t, err, errkind.NotFound)
			// and feedback on the request is stored, the latest replacing the first.
			_, err = gateway.RecordFeedback(t.Context(), h, gateway.FeedbackInput{RequestID: "req-1", Rating: 5}, now)
			require.NoError(t, err)
			_, err = gateway.RecordFeedback(t.Context(), h, gateway.FeedbackInput{RequestID: "req-1", NeededStronger: true, Comment: "meh"}, now.Add(time.Minute))
			require.NoError(t, err)
			list, err := gateway.ListFeedback(t.Context(), h, 10)
			require.NoError(t, err)
			require.Len(t, list, 1)
			require.True(t, list[0].NeededStronger)
			require.Zero(t, list[0].Rating)
			require.InDelta(t, 0.12, list[0].PStandard, 1e-9)

			// A tenant classifier installs, and a policy naming it loads it;
			// a policy naming a missing one is refused.
			model, err := os.ReadFile("../classifier_default.bin")
			require.NoError(t, err)
			_, err = gateway.InstallClassifier(t.Context(), h, "mine", model, now)
			require.NoError(t, err)
			_, err = gateway.InstallClassifier(t.Context(), h, "bad", []byte("junk"), now)
			require.ErrorIs(t, err, errkind.Invalid)
			p := routing.DefaultPolicy()
			p.Classifier = "mine"
			require.NoError(t, gateway.SavePolicy(t.Context(), h, p, routing.DefaultCatalog()))
			p.Classifier = "missing"
			require.ErrorIs(t, gateway.SavePolicy(t.Context(), h, p, routing.DefaultCatalog()), errkind.Invalid)
			loaded, saved, err := gateway.LoadPolicy(t.Context(), h)
			require.NoError(t, err)
			require.True(t, saved)
			require.Equal(t, "mine", loaded.Classifier)
			sel, err := routing.NewSelector(routing.SelectorConfig{Catalog: routing.DefaultCatalog()}, logger)
			require.NoError(t, err)
			req, err := routing.ParseChatRequest([]byte(`{"model":"auto","messages":[{"role":"user","content":"hi"}]}`))
			require.NoError(t, err)
			d, err := sel.Select(t.Context(), routing.SelectInput{TenantID: string(tn.ID), Request: req, Policy: loaded})
			require.NoError(t, err)
			require.Equal(t, "mine", d.Features.Classifier, "the tenant's model scored the turn")
		})
	}
}
