package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

type liveFrame struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// readType reads frames until one of type typ arrives.
func readType(t *testing.T, ctx context.Context, c *websocket.Conn, typ string) json.RawMessage {
	t.Helper()
	for {
		_, b, err := c.Read(ctx)
		require.NoError(t, err)
		var f liveFrame
		require.NoError(t, json.Unmarshal(b, &f))
		if f.Type == typ {
			return f.Data
		}
	}
}

func liveURL(srvURL string, tenant tenants.ID, token string) string {
	return "ws" + strings.TrimPrefix(srvURL, "http") + "/api/v1/tenants/" + string(tenant) + "/live?access_token=" + token
}

func TestLiveFeed(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := newAdminEnv(t, backend, adminOptions{live: LiveConfig{SpendInterval: 20 * time.Millisecond}})
			a, other := b.tenant("acme"), b.tenant("globex")
			_, viewer := b.member(a, access.RoleViewer)
			now := time.Now().UTC()
			// Given 1.5 USD already in the ledger this month.
			b.insertEvents(a, []ledger.Event{{TenantID: string(a.ID), RequestID: "before", CreatedAt: now.Add(-time.Second), ModelUsed: "sim-small",
				Cost: 1_500_000_000, Status: ledger.StatusOK}})
			srv := b.liveServer()
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()

			conn, _, err := websocket.Dial(ctx, liveURL(srv.URL, a.ID, viewer), nil)
			require.NoError(t, err)
			defer conn.CloseNow()
			// The month-to-date spend arrives on connect.
			var spend liveSpendDTO
			require.NoError(t, json.Unmarshal(readType(t, ctx, conn, LiveTypeSpend), &spend))
			require.Equal(t, now.Format("2006-01"), spend.Period)
			require.Equal(t, int64(1_500_000_000), spend.SpentNano)

			// When the gateway reports a completed request (and one of another tenant).
			b.hub.Usage(string(other.ID), ledger.Event{RequestID: "not-yours", CreatedAt: now, ModelUsed: "sim-large", Cost: 7})
			b.hub.Usage(string(a.ID), ledger.Event{RequestID: "req-live", CreatedAt: now, KeyID: "key_1", ModelRequested: "auto", ModelUsed: "sim-small",
				InputTokens: 12, OutputTokens: 34, Cost: 250, LatencyMS: 42, Status: ledger.StatusOK, RouteReason: "auto:simple"})
			var ev usageEventDTO
			require.NoError(t, json.Unmarshal(readType(t, ctx, conn, LiveTypeRequest), &ev))
			require.Equal(t, "req-live", ev.ID)
			require.Equal(t, "sim-small", ev.Model)
			require.Equal(t, int64(34), ev.OutputTokens)
			require.Equal(t, int64(250), ev.CostNano)
			require.Equal(t, int64(42), ev.LatencyMS)
			require.Equal(t, "auto:simple", ev.RouteReason)
			require.Equal(t, "key_1", ev.KeyID)
			// Then the running spend follows, without a database read.
			require.NoError(t, json.Unmarshal(readType(t, ctx, conn, LiveTypeSpend), &spend))
			require.Equal(t, int64(1_500_000_250), spend.SpentNano)
			require.Equal(t, "1.500000250", spend.SpentUSD)

			// Alerts arrive shaped like GET alerts rows.
			b.hub.Alert(ctx, string(a.ID), budget.Alert{ID: "alr_1", BudgetID: "bud_1", PeriodKey: "2026-11", Threshold: 80, Spent: 8, Limit: 10, CreatedAt: now},
				budget.Budget{ID: "bud_1", Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 10})
			var al alertDTO
			require.NoError(t, json.Unmarshal(readType(t, ctx, conn, LiveTypeAlert), &al))
			require.Equal(t, 80, al.Threshold)
			require.Contains(t, al.Message, "80%")
			require.Equal(t, 1, b.hub.Stats().Subscribers)

			// On shutdown the hub closes the socket with "going away".
			b.hub.Close()
			_, _, err = conn.Read(ctx)
			require.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(err))
		})
	}
}

func TestLiveFeedAuthorization(t *testing.T) {
	t.Parallel()
	b := newAdminEnv(t, "sqlite")
	a, other := b.tenant("acme"), b.tenant("globex")
	_, viewer := b.member(a, access.RoleViewer)
	_, outsider := b.member(other, access.RoleOwner)
	_, key := b.key(a, apikeys.ScopeReadUsage)
	srv := b.liveServer()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for name, tc := range map[string]struct {
		url    string
		status int
	}{
		"no token":          {liveURL(srv.URL, a.ID, ""), http.StatusUnauthorized},
		"bad token":         {liveURL(srv.URL, a.ID, "not-a-jwt"), http.StatusUnauthorized},
		"another tenant":    {liveURL(srv.URL, a.ID, outsider), http.StatusNotFound},
		"API key refused":   {liveURL(srv.URL, a.ID, key), http.StatusForbidden},
		"unknown tenant":    {liveURL(srv.URL, "nope", viewer), http.StatusNotFound},
		"viewer, wrong one": {liveURL(srv.URL, other.ID, viewer), http.StatusNotFound},
	} {
		_, res, err := websocket.Dial(ctx, tc.url, nil)
		require.Error(t, err, name)
		require.NotNil(t, res, name)
		require.Equal(t, tc.status, res.StatusCode, name)
	}

	// A session that ends (logout) is dropped at the next recheck with 4401.
	b2 := newAdminEnv(t, "sqlite", adminOptions{live: LiveConfig{RecheckInterval: 50 * time.Millisecond}})
	a2 := b2.tenant("acme")
	uid, _ := b2.member(a2, access.RoleViewer)
	u, err := b2.users.Get(ctx, uid)
	require.NoError(t, err)
	pair, err := b2.sessions.Login(ctx, accounts.LoginInput{Email: u.Email, Password: testPassword, IP: "192.0.2.1"})
	require.NoError(t, err)
	srv2 := b2.liveServer()
	conn, _, err := websocket.Dial(ctx, liveURL(srv2.URL, a2.ID, pair.AccessToken.Reveal()), nil)
	require.NoError(t, err)
	defer conn.CloseNow()
	require.NoError(t, b2.sessions.Logout(ctx, pair.RefreshToken))
	for {
		_, _, err = conn.Read(ctx)
		if err != nil {
			break
		}
	}
	require.Equal(t, LiveCloseUnauthorized, websocket.CloseStatus(err))
}

func TestLiveHubDropsForSlowReaders(t *testing.T) {
	t.Parallel()
	hub := NewLiveHub(LiveConfig{Buffer: 2}, logging.Discard())
	s := hub.subscribe("t1", time.Now())
	for i := range 5 {
		hub.Usage("t1", ledger.Event{RequestID: string(rune('a' + i)), CreatedAt: time.Now()})
	}
	st := hub.Stats()
	require.Equal(t, int64(2), st.Sent)
	require.Equal(t, int64(3), st.Dropped, "a full buffer drops and counts instead of blocking the request path")
	hub.unsubscribe("t1", s)
	require.Zero(t, hub.Stats().Tenants)
	hub.Usage("t1", ledger.Event{RequestID: "x"}) // nobody watching: a map lookup, no panic
}
