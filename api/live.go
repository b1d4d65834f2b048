package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
)

// Live message types.
const (
	LiveTypeRequest = "request"
	LiveTypeSpend   = "spend"
	LiveTypeAlert   = "alert"
)

// Close codes of the live socket beyond RFC 6455's: the console refreshes its
// access token before reconnecting after LiveCloseUnauthorized.
const (
	LiveCloseUnauthorized websocket.StatusCode = 4401
)

// LiveConfig tunes the live feed. Zero values mean the defaults.
type LiveConfig struct {
	// Buffer is the messages queued per connection before new ones are dropped
	// (and counted) for that connection. Default 256.
	Buffer int
	// PingInterval is how often an idle connection is pinged; a peer that does not
	// answer within WriteTimeout is disconnected. Default 25s.
	PingInterval time.Duration
	// WriteTimeout bounds one write or ping. Default 10s.
	WriteTimeout time.Duration
	// SpendInterval coalesces "spend" updates: at most one per tenant per interval.
	// Default 1s.
	SpendInterval time.Duration
	// RecheckInterval is how often a connection's session is verified again, so a
	// signed-out, expired or removed member stops receiving. Default 1m.
	RecheckInterval time.Duration
}

func (c LiveConfig) withDefaults() LiveConfig {
	if c.Buffer <= 0 {
		c.Buffer = 256
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.SpendInterval <= 0 {
		c.SpendInterval = time.Second
	}
	if c.RecheckInterval <= 0 {
		c.RecheckInterval = time.Minute
	}
	return c
}

// LiveStats counts the hub's work since start.
type LiveStats struct {
	Tenants     int   `json:"tenants"`
	Subscribers int   `json:"subscribers"`
	Sent        int64 `json:"sent"`
	// Dropped counts messages not queued because a connection's buffer was full.
	Dropped int64 `json:"dropped"`
}

// LiveHub fans the request path's events out to the console's WebSockets. It is
// the gateway's Sink: Usage and Alert never block (a slow connection loses
// messages, counted, rather than slowing a request), and a tenant nobody watches
// costs one map lookup per request.
//
// The hub is per process; the request path's sink (routing/events) feeds it,
// and with Redis configured relays the other replicas' events into it too. It
// stays in api because its messages are the API's row shapes.
type LiveHub struct {
	cfg    LiveConfig
	logger *slog.Logger

	mu      sync.Mutex
	tenants map[string]*liveTenant
	closed  bool

	sent, dropped atomic.Int64
	// watched is len(tenants), readable without mu: with nobody watching,
	// usage events cost one atomic load.
	watched atomic.Int64
	// onWatch is called when a watcher connects (the cluster relay).
	onWatch atomic.Pointer[func()]
}

var _ gateway.Sink = (*LiveHub)(nil)

// liveTenant is one watched tenant: its subscribers and its running
// month-to-date spend.
type liveTenant struct {
	subs map[*liveSub]struct{}
	// month is the UTC month spent covers ("2026-11"); seeded is false until a
	// subscriber read the month's ledger total, and pending holds the spend seen
	// meanwhile. The running total may be short by the events still in the ledger
	// spool at seeding time (about one flush interval); the console refetches
	// exact usage anyway.
	month   string
	spent   billing.NanoUSD
	pending billing.NanoUSD
	seeded  bool
	dirty   bool
}

type liveSub struct {
	ch   chan []byte
	quit chan struct{}
	once sync.Once
}

func (s *liveSub) stop() { s.once.Do(func() { close(s.quit) }) }

// NewLiveHub returns a hub; call Run to start spend updates and stop everything
// when its context ends.
func NewLiveHub(cfg LiveConfig, logger *slog.Logger) *LiveHub {
	return &LiveHub{cfg: cfg.withDefaults(), logger: logger.With("component", "api.live"), tenants: map[string]*liveTenant{}}
}

type liveMessage struct {
	Type string `json:"type"`
	Data any    `json:"data"`
}

func encodeLive(typ string, data any) []byte {
	b, _ := json.Marshal(liveMessage{Type: typ, Data: data})
	return b
}

// Usage implements gateway.Sink: a "request" message for the tenant's watchers
// and a bump of its month-to-date spend.
func (h *LiveHub) Usage(tenantID string, e ledger.Event) {
	if !h.Watching() {
		return
	}
	h.mu.Lock()
	t := h.tenants[tenantID]
	h.mu.Unlock()
	if t == nil {
		return
	}
	msg := encodeLive(LiveTypeRequest, mapUsageEvent(e))
	month := e.CreatedAt.UTC().Format("2006-01")
	h.mu.Lock()
	defer h.mu.Unlock()
	if t = h.tenants[tenantID]; t == nil {
		return
	}
	switch {
	case t.month != month && month > t.month:
		// A new month starts from this request.
		t.month, t.spent, t.pending = month, e.Cost, 0
	case t.month != month:
		// A late event of the previous month is not this month's spend.
	case t.seeded:
		t.spent += e.Cost
	default:
		t.pending += e.Cost
	}
	t.dirty = t.seeded
	h.fanout(t, msg)
}

// Watching reports whether anyone watches any tenant's feed on this replica.
func (h *LiveHub) Watching() bool { return h.watched.Load() > 0 }

// OnWatch sets f to be called, outside the hub's lock, whenever a watcher
// connects.
func (h *LiveHub) OnWatch(f func()) { h.onWatch.Store(&f) }

// Alert implements gateway.Sink: an "alert" message shaped like GET alerts rows.
func (h *LiveHub) Alert(_ context.Context, tenantID string, a budget.Alert, b budget.Budget) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.tenants[tenantID]; t != nil {
		h.fanout(t, encodeLive(LiveTypeAlert, mapAlert(a, &b)))
	}
}

// fanout queues msg on every subscriber without blocking. h.mu is held.
func (h *LiveHub) fanout(t *liveTenant, msg []byte) {
	for s := range t.subs {
		select {
		case s.ch <- msg:
			h.sent.Add(1)
		default:
			h.dropped.Add(1)
		}
	}
}

// subscribe adds a watcher of tenantID. It returns nil after Close.
func (h *LiveHub) subscribe(tenantID string, now time.Time) *liveSub {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	t := h.tenants[tenantID]
	if t == nil {
		t = &liveTenant{subs: map[*liveSub]struct{}{}, month: now.UTC().Format("2006-01")}
		h.tenants[tenantID] = t
		h.watched.Store(int64(len(h.tenants)))
	}
	s := &liveSub{ch: make(chan []byte, h.cfg.Buffer), quit: make(chan struct{})}
	t.subs[s] = struct{}{}
	return s
}

func (h *LiveHub) unsubscribe(tenantID string, s *liveSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t := h.tenants[tenantID]; t != nil {
		delete(t.subs, s)
		if len(t.subs) == 0 {
			delete(h.tenants, tenantID)
			h.watched.Store(int64(len(h.tenants)))
		}
	}
}

// needsSeed reports whether the tenant's month-to-date spend is not yet known.
func (h *LiveHub) needsSeed(tenantID string) (string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.tenants[tenantID]
	if t == nil {
		return "", false
	}
	return t.month, !t.seeded
}

// seed sets the month-to-date spend read from the ledger, plus what streamed in
// while it was read, and queues a "spend" update for every watcher.
func (h *LiveHub) seed(tenantID, month string, ledgerTotal billing.NanoUSD) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t := h.tenants[tenantID]
	if t == nil || t.seeded || t.month != month {
		return
	}
	t.spent, t.pending, t.seeded, t.dirty = ledgerTotal+t.pending, 0, true, true
}

type liveSpendDTO struct {
	// Period is the UTC month ("2026-11"); PeriodKind is always "month".
	Period     string `json:"period"`
	PeriodKind string `json:"period_kind"`
	SpentNano  int64  `json:"spent_nano"`
	SpentUSD   string `json:"spent_usd"`
}

// flushSpend sends one "spend" update per tenant whose spend changed.
func (h *LiveHub) flushSpend() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, t := range h.tenants {
		if !t.dirty {
			continue
		}
		t.dirty = false
		h.fanout(t, encodeLive(LiveTypeSpend, liveSpendDTO{Period: t.month, PeriodKind: "month", SpentNano: int64(t.spent), SpentUSD: t.spent.USDString()}))
	}
}

// Run sends coalesced spend updates until ctx ends, then closes every
// connection (StatusGoingAway): http.Server.Shutdown does not wait for or close
// hijacked WebSocket connections.
func (h *LiveHub) Run(ctx context.Context) {
	tick := time.NewTicker(h.cfg.SpendInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			h.Close()
			return
		case <-tick.C:
			h.flushSpend()
		}
	}
}

// Close disconnects every watcher and refuses new ones.
func (h *LiveHub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, t := range h.tenants {
		for s := range t.subs {
			s.stop()
		}
	}
}

// Stats reports the hub's counters.
func (h *LiveHub) Stats() LiveStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := LiveStats{Tenants: len(h.tenants), Sent: h.sent.Load(), Dropped: h.dropped.Load()}
	for _, t := range h.tenants {
		st.Subscribers += len(t.subs)
	}
	return st
}

// liveToken lifts ?access_token= into the Authorization header: browsers cannot
// set headers on a WebSocket, and this way the token goes through exactly the
// session verification of every other admin request (API keys are then refused
// by Authorize, as the live feed is for people).
func liveToken(c *gin.Context) {
	if tok := c.Query("access_token"); tok != "" && c.GetHeader("Authorization") == "" {
		c.Request.Header.Set("Authorization", "Bearer "+tok)
	}
	c.Next()
}

// liveAPI serves the tenant's live feed over WebSocket.
type liveAPI struct {
	registry *tenants.Registry
	// id re-checks the session and membership of open connections.
	id *Identity
	// hub is nil when the live feed is disabled (503).
	hub    *LiveHub
	clock  func() time.Time
	logger *slog.Logger
}

func (a *liveAPI) register(r adminRoutes) {
	e, id := r.engine, r.id
	g := e.Group("/api/v1/tenants/:"+TenantParam, liveToken, id.authenticate, id.resolveTenant)
	g.GET("/live", id.Authorize(access.ResourceLive, access.ActionRead), h(a.live))
}

// live: GET /api/v1/tenants/{tenant}/live?access_token=<jwt>, upgraded to a
// WebSocket. Messages are {"type":"request"|"spend"|"alert","data":{...}}; the
// client sends nothing (a data frame from it closes the socket).
func (a *liveAPI) live(c *gin.Context) error {
	p, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	hub := a.hub
	if hub == nil {
		return errkind.New(errkind.Unavailable, "the live feed is not enabled on this server")
	}
	session, _ := sessionOf(c)
	token, _ := bearer(c) // the query token, lifted by liveToken, or a header
	conn, err := websocket.Accept(c.Writer, c.Request, nil)
	if err != nil {
		return nil // Accept has answered the client already.
	}
	defer conn.CloseNow()
	tid := string(p.TenantID())
	sub := hub.subscribe(tid, a.clock())
	if f := hub.onWatch.Load(); f != nil && sub != nil {
		(*f)()
	}
	if sub == nil {
		_ = conn.Close(websocket.StatusGoingAway, "server shutting down")
		return nil
	}
	defer hub.unsubscribe(tid, sub)
	ctx := conn.CloseRead(c.Request.Context())

	if month, ok := hub.needsSeed(tid); ok {
		now := a.clock().UTC()
		_, totals, err := ledger.Series(ctx, hd, ledger.SeriesQuery{From: month + "-01", To: now.Format(dateLayout)})
		if err != nil {
			a.logger.WarnContext(ctx, "live feed: month-to-date spend unavailable", "error", err)
		} else {
			hub.seed(tid, month, totals.Cost)
		}
	}

	cfg := hub.cfg
	ping := time.NewTicker(cfg.PingInterval)
	defer ping.Stop()
	recheck := time.NewTicker(cfg.RecheckInterval)
	defer recheck.Stop()
	write := func(msg []byte) error {
		wctx, cancel := context.WithTimeout(ctx, cfg.WriteTimeout)
		defer cancel()
		return conn.Write(wctx, websocket.MessageText, msg)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sub.quit:
			_ = conn.Close(websocket.StatusGoingAway, "server shutting down")
			return nil
		case msg := <-sub.ch:
			if err := write(msg); err != nil {
				return nil
			}
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, cfg.WriteTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return nil
			}
		case <-recheck.C:
			if !a.stillAllowed(ctx, p.TenantID(), session, token) {
				_ = conn.Close(LiveCloseUnauthorized, "session ended; sign in again")
				return nil
			}
		}
	}
}

// stillAllowed verifies the connection's session again (signed out, expired,
// disabled) and its membership of the tenant.
func (a *liveAPI) stillAllowed(ctx context.Context, tenant tenants.ID, s *accounts.Session, token string) bool {
	if s == nil {
		return false
	}
	cur, err := a.id.d.Sessions.Verify(ctx, token)
	if err != nil || cur.User.ID != s.User.ID {
		return false
	}
	if cur.Tenant != "" && cur.Tenant != tenant {
		return false
	}
	if cur.User.Superadmin && cur.Tenant == "" {
		return true
	}
	_, err = a.id.d.Users.Membership(ctx, tenant, cur.User.ID)
	return err == nil
}
