package meter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// LeaseMeter wraps a RedisMeter so that most requests make no Redis round trip and
// hard budgets hold while Redis is unreachable.
//
// Design: for each hard counter (budget or rate window) the instance leases a chunk of
// the counter's remaining room from Redis (one Lua script moves it from "remaining"
// into "leased to instance X": remaining/ChunkDivisor, at most MaxChunk, at least what
// the request needs). Requests reserve against the local lease under a mutex; Settle
// is local too, and a background loop (Run) flushes spent deltas to Redis in batches,
// idempotently by a per-instance sequence, and returns idle leases. Redis always
// holds spent + reserved + leased <= limit, so replicas together cannot pass a hard
// limit. When Redis is unreachable, the instance serves only from leases it holds and
// refuses beyond them (DecisionReasonMeterUnavailable), unless FailOpen.
//
// Leases expire in Redis LeaseTTL after their last renewal, so a crashed instance's
// unused lease returns; an instance stops reserving from a lease a fifth of the TTL
// before that, to stay clear of clock skew. What a crashed instance settled but never
// flushed is lost from the counters until the reconcile job rebuilds them from the
// ledger; the same holds for a replica cut off from Redis (but not its peers) for
// longer than LeaseTTL, which can overshoot by at most what it spent from its lease
// meanwhile (bounded by MaxChunk per counter).
//
// Soft limits are not leased: their spending is counted locally and flushed. Reserve,
// Settle and Release of one request must go to the same instance. Usage and
// Decision.Usage combine Redis's last answer with local state, so under leasing they
// are approximate between flushes (exact on Usage, which reads Redis).
type LeaseMeter struct {
	inner  *RedisMeter
	cfg    LeaseConfig
	clock  Clock
	logger *slog.Logger

	mu        sync.Mutex
	leases    map[string]*lease    // by counter key
	res       map[string]*leaseRes // by tenant + "/" + request id
	seq       int64                // flush sequence, increasing across all counters
	nextSweep time.Time
	downSince time.Time // zero when Redis answered last
	lastFail  time.Time
	downErr   string
	stats     LeaseStats

	// joinMu orders Peers.Join and Peers.Leave calls; joined (guarded by mu) is the
	// set of tenants this instance is recorded as a holder of.
	joinMu sync.Mutex
	joined map[string]bool
}

// LeaseConfig configures a LeaseMeter. Zero fields take the defaults shown.
type LeaseConfig struct {
	// InstanceID names this instance's leases in Redis; it must be unique per running
	// process (a restart must not reuse it). Default: 12 random hex digits.
	InstanceID string
	// LeaseTTL is how long a lease lives in Redis after its last renewal (the flush
	// loop renews leases in use). Default 30s.
	LeaseTTL time.Duration
	// ChunkDivisor sizes a lease: remaining room / ChunkDivisor. Default 16.
	ChunkDivisor int64
	// MaxChunk caps a budget lease, in nano-USD (rate windows are not capped).
	// Default 1 USD.
	MaxChunk billing.NanoUSD
	// FlushInterval is how often spent deltas are flushed to Redis. Default 100ms.
	FlushInterval time.Duration
	// IdleReturn returns a lease's unused budget after this long without use.
	// Default 5s.
	IdleReturn time.Duration
	// RetryAfter is how long the request path skips Redis after a failure (the flush
	// loop keeps probing every FlushInterval). Default 1s.
	RetryAfter time.Duration
	// FailOpen allows requests that cannot be covered while Redis is unreachable
	// instead of refusing them. The overshoot is counted in Stats. Default false.
	FailOpen bool
	// Peers, when set, records durably which tenants this instance may hold budget
	// of, so that a recovery after Redis lost a tenant's counters waits for exactly
	// the live instances holding some (see Peers). Nil: a recovery waits two flush
	// intervals instead, which a starved peer can miss.
	Peers Peers
}

func (c LeaseConfig) withDefaults() LeaseConfig {
	if c.InstanceID == "" {
		var b [6]byte
		_, _ = rand.Read(b[:])
		c.InstanceID = hex.EncodeToString(b[:])
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 30 * time.Second
	}
	if c.ChunkDivisor <= 0 {
		c.ChunkDivisor = 16
	}
	if c.MaxChunk <= 0 {
		c.MaxChunk = billing.NanoPerUSD
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = 100 * time.Millisecond
	}
	if c.IdleReturn <= 0 {
		c.IdleReturn = 5 * time.Second
	}
	if c.RetryAfter <= 0 {
		c.RetryAfter = time.Second
	}
	return c
}

// LeaseStats are a LeaseMeter's counters since start, for metrics.
type LeaseStats struct {
	// LocalReserves counts reservations served from leases without a Redis call.
	LocalReserves int64
	// LeaseAcquires counts lease scripts run (grants and refusals).
	LeaseAcquires int64
	// Flushes counts flush scripts run.
	Flushes int64
	// RedisErrors counts failed Redis calls.
	RedisErrors int64
	// UnavailableRefusals counts requests refused with DecisionReasonMeterUnavailable.
	UnavailableRefusals int64
	// FailOpenAllowed counts requests allowed by FailOpen beyond the leases.
	FailOpenAllowed int64
	// FailOpenOvershoot is the worst-case amount allowed beyond leases by FailOpen,
	// in nano-USD: how far hard budgets may be overshot.
	FailOpenOvershoot billing.NanoUSD
}

type lease struct {
	c  counter    // the counter (amount unused)
	op sync.Mutex // serializes this counter's Redis calls
	// granted is the budget Redis holds for this instance; reserved and pending
	// (settled, not yet flushed) are taken from it locally. Same unit as the counter.
	granted, reserved, pending int64
	validUntil                 time.Time // no new reservations from the lease after this
	lastUsed                   time.Time
	view                       counterState // Redis's values at the last script
	viewHeld                   int64        // the instance's lease in that answer
	inflight                   *leaseFlush  // a flush sent but not acknowledged; resent as is
}

type leaseFlush struct{ seq, delta, ret int64 }

type leaseRes struct {
	counters  []counter
	expires   time.Time
	tombstone bool
}

// NewLeaseMeter returns a leasing meter over inner. Run must be running for spent
// amounts to reach Redis. clock is usually time.Now.
func NewLeaseMeter(logger *slog.Logger, inner *RedisMeter, clock Clock, cfg LeaseConfig) *LeaseMeter {
	cfg = cfg.withDefaults()
	m := &LeaseMeter{
		inner:  inner,
		cfg:    cfg,
		clock:  clock,
		logger: logger.With("component", "billing.meter", "meter", "lease", "instance", cfg.InstanceID),
		leases: make(map[string]*lease),
		res:    make(map[string]*leaseRes),
		joined: make(map[string]bool),
	}
	inner.leasesOf = m.holding
	inner.peers = cfg.Peers
	return m
}

// join records this instance as a holder of the tenant's budget before it takes a
// lease. A failure is logged, not fatal: the peer record only matters if Redis
// loses the tenant's counters too, and the next lease retries it.
func (m *LeaseMeter) join(ctx context.Context, tenantID string) {
	if m.cfg.Peers == nil {
		return
	}
	m.mu.Lock()
	done := m.joined[tenantID]
	m.mu.Unlock()
	if done {
		return
	}
	m.joinMu.Lock()
	defer m.joinMu.Unlock()
	m.mu.Lock()
	done = m.joined[tenantID]
	m.mu.Unlock()
	if done {
		return
	}
	if err := m.cfg.Peers.Join(ctx, m.cfg.InstanceID, tenantID); err != nil {
		m.logger.WarnContext(ctx, "recording this instance as a budget lease holder failed; a Redis data loss now could let peers lease this instance's budget again", "tenant_id", tenantID, "error", err)
		return
	}
	m.mu.Lock()
	m.joined[tenantID] = true
	m.mu.Unlock()
}

// leaveIdle drops this instance's holder records of tenants it keeps no lease
// entry of (nothing leased, reserved or unflushed).
func (m *LeaseMeter) leaveIdle(ctx context.Context) {
	if m.cfg.Peers == nil {
		return
	}
	m.joinMu.Lock()
	defer m.joinMu.Unlock()
	m.mu.Lock()
	var idle []string
	for t := range m.joined {
		idle = append(idle, t)
	}
	for k := range m.leases {
		if t := tenantOfKey(k); m.joined[t] {
			idle = slices.DeleteFunc(idle, func(s string) bool { return s == t })
		}
	}
	m.mu.Unlock()
	if len(idle) == 0 {
		return
	}
	if err := m.cfg.Peers.Leave(ctx, m.cfg.InstanceID, idle); err != nil {
		m.logger.DebugContext(ctx, "dropping idle lease-holder records failed; will retry", "error", err)
		return
	}
	m.mu.Lock()
	for _, t := range idle {
		delete(m.joined, t)
	}
	m.mu.Unlock()
}

// joinedTenants returns the tenants this instance is recorded as a holder of;
// m.mu is held.
func (m *LeaseMeter) joinedTenants() []string {
	out := make([]string, 0, len(m.joined))
	for t := range m.joined {
		out = append(out, t)
	}
	return out
}

// holding reports this instance's leases of the tenant's counters for a recovery:
// what each lease still covers locally (live reservations, settled spending not yet
// flushed, unused budget). A flush sent but not acknowledged is folded back into
// the lease: the store either lost it or refuses it under the old epoch, and it is
// sent again under a new sequence.
func (m *LeaseMeter) holding(tenantID string) leaseHolding {
	tag := tenantTag(m.inner.prefix, tenantID) + ":"
	now := m.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	h := leaseHolding{instance: m.cfg.InstanceID, ttl: m.cfg.LeaseTTL, settle: 2 * m.cfg.FlushInterval}
	for key, l := range m.leases {
		if !strings.HasPrefix(key, tag) {
			continue
		}
		if f := l.inflight; f != nil {
			l.pending += f.delta
			l.granted += f.delta + f.ret
			l.inflight = nil
		}
		if !l.c.hard {
			continue
		}
		h.leases = append(h.leases, heldLease{c: l.c, held: l.granted})
		if l.granted > 0 {
			l.validUntil = now.Add(m.cfg.LeaseTTL - m.cfg.LeaseTTL/5)
		}
	}
	return h
}

var _ Meter = (*LeaseMeter)(nil)

// Stats returns the meter's counters.
func (m *LeaseMeter) Stats() LeaseStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// available is what a new reservation may take from the lease; negative when
// reservations are not covered (the lease expired or was returned).
func (l *lease) available(now time.Time) int64 {
	if !l.c.hard {
		return 1 << 62
	}
	if !now.Before(l.validUntil) {
		return -(l.reserved + l.pending)
	}
	return l.granted - l.reserved - l.pending
}

func (l *lease) state() counterState {
	s := counterState{reserved: l.view.reserved + l.reserved, spent: l.view.spent + l.pending}
	if l.inflight != nil {
		s.spent += l.inflight.delta
	}
	if others := l.view.leased - l.viewHeld; others > 0 {
		s.leased = others
	}
	if l.c.hard {
		if mine := l.granted - l.reserved - l.pending; mine > 0 {
			s.leased += mine
		}
	}
	return s
}

func (m *LeaseMeter) leaseFor(c counter) *lease {
	l := m.leases[c.key]
	if l == nil {
		// lastUsed starts now: the flush loop forgets unused entries only after
		// IdleReturn, never one that a reservation is still acquiring a lease for.
		l = &lease{c: c, lastUsed: m.clock()}
		l.c.amount = 0
		m.leases[c.key] = l
	}
	return l
}

func (m *LeaseMeter) states(cs []counter) []counterState {
	st := make([]counterState, len(cs))
	for i, c := range cs {
		st[i] = m.leaseFor(c).state()
	}
	return st
}

type shortfall struct {
	i    int
	need int64
}

// Reserve implements Meter. Most calls take only the local lock; a call whose hard
// counters' leases are short tops them up from Redis first.
func (m *LeaseMeter) Reserve(ctx context.Context, in ReserveInput) (Decision, error) {
	if err := in.Validate(); err != nil {
		return Decision{}, err
	}
	now := m.clock()
	cs := plan(m.inner.prefix, in, now)
	rk := in.TenantID + "/" + in.RequestID
	for attempt := 0; ; attempt++ {
		m.mu.Lock()
		m.sweep(now)
		if r := m.res[rk]; r != nil {
			m.mu.Unlock()
			if r.tombstone {
				return Decision{}, errkind.New(errkind.Conflict, "request %s: its reservation expired; use a new request id", in.RequestID)
			}
			m.mu.Lock()
			d := Decision{Allowed: true, Reason: DecisionReasonAllowed, Duplicate: true, Usage: usageFor(in, cs, now, m.states(cs)), Rate: rateFor(cs, now, m.states(cs))}
			m.mu.Unlock()
			return d, nil
		}
		var short []shortfall
		for i, c := range cs {
			if !c.hard {
				continue
			}
			if avail := m.leaseFor(c).available(now); avail < c.amount {
				short = append(short, shortfall{i: i, need: c.amount - avail})
			}
		}
		if len(short) == 0 {
			m.apply(rk, in, cs, now)
			if attempt == 0 {
				m.stats.LocalReserves++
			}
			d := Decision{Allowed: true, Reason: DecisionReasonAllowed, Usage: usageFor(in, cs, now, m.states(cs)), Rate: rateFor(cs, now, m.states(cs))}
			m.mu.Unlock()
			return d, nil
		}
		down := !m.downSince.IsZero() && now.Sub(m.lastFail) < m.cfg.RetryAfter
		m.mu.Unlock()
		if down || attempt >= 4 {
			return m.uncovered(rk, in, cs, short, now), nil
		}
		for _, s := range short {
			g, err := m.acquire(ctx, cs[s.i], s.need)
			if errors.Is(err, errLost) {
				// The store lost the tenant's counters: recover them (ledger, live
				// reservations, leases) before leasing again.
				if err = m.inner.recover(ctx, in.TenantID); err == nil {
					break
				}
				m.logger.WarnContext(ctx, "budget counters lost and not yet recovered; refusing the tenant's requests", "tenant_id", in.TenantID, "error", err)
				return m.unrecovered(in, cs, now), nil
			}
			if err != nil {
				if ctx.Err() != nil {
					return Decision{}, ctx.Err()
				}
				return m.uncovered(rk, in, cs, short, now), nil
			}
			if g.granted == 0 {
				m.mu.Lock()
				st := m.states(cs)
				m.mu.Unlock()
				st[s.i] = g.view
				return refusedDecision(in, cs, s.i, now, st), nil
			}
		}
	}
}

// apply records a reservation locally; m.mu is held.
func (m *LeaseMeter) apply(rk string, in ReserveInput, cs []counter, now time.Time) {
	for _, c := range cs {
		l := m.leaseFor(c)
		l.reserved += c.amount
		l.lastUsed = now
	}
	m.res[rk] = &leaseRes{counters: cs, expires: now.Add(in.ttl())}
}

// uncovered answers a request its leases cannot cover while Redis is unreachable:
// a refusal, or under FailOpen an allowance whose overshoot is counted.
func (m *LeaseMeter) uncovered(rk string, in ReserveInput, cs []counter, short []shortfall, now time.Time) Decision {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cfg.FailOpen {
		var over int64
		for _, s := range short {
			over = max(over, min(s.need, cs[s.i].amount))
		}
		m.apply(rk, in, cs, now)
		m.stats.FailOpenAllowed++
		m.stats.FailOpenOvershoot += billing.NanoUSD(over)
		return Decision{Allowed: true, Reason: DecisionReasonFailOpen, Usage: usageFor(in, cs, now, m.states(cs)), Rate: rateFor(cs, now, m.states(cs))}
	}
	m.stats.UnavailableRefusals++
	return Decision{
		Reason:  DecisionReasonMeterUnavailable,
		Refusal: &Refusal{Requested: int64(in.Amount), RetryAfter: m.cfg.RetryAfter},
		Usage:   usageFor(in, cs, now, m.states(cs)),
		Rate:    rateFor(cs, now, m.states(cs)),
	}
}

// unrecovered refuses a request of a tenant whose lost counters could not be
// recovered yet (FailOpen does not apply: Redis answers, the ledger does not).
func (m *LeaseMeter) unrecovered(in ReserveInput, cs []counter, now time.Time) Decision {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stats.UnavailableRefusals++
	return Decision{
		Reason:  DecisionReasonMeterUnavailable,
		Refusal: &Refusal{Requested: int64(in.Amount), RetryAfter: m.cfg.RetryAfter},
		Usage:   usageFor(in, cs, now, m.states(cs)),
		Rate:    rateFor(cs, now, m.states(cs)),
	}
}

// acquire tops up counter c's lease by at least need.
func (m *LeaseMeter) acquire(ctx context.Context, c counter, need int64) (leaseGrant, error) {
	m.mu.Lock()
	l := m.leaseFor(c)
	m.mu.Unlock()
	l.op.Lock()
	defer l.op.Unlock()
	maxChunk := int64(m.cfg.MaxChunk)
	if c.kind != kindMoney {
		maxChunk = -1
	}
	m.join(ctx, tenantOfKey(c.key))
	sent := m.clock()
	g, err := m.inner.acquireLease(ctx, c, m.cfg.InstanceID, need, m.cfg.ChunkDivisor, maxChunk, m.cfg.LeaseTTL, sent)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stats.LeaseAcquires++
	if errors.Is(err, errLost) {
		m.markUp(ctx)
		return g, err
	}
	if err != nil {
		m.markDown(ctx, err, sent)
		return g, err
	}
	m.markUp(ctx)
	m.setHeld(l, g, sent)
	return g, nil
}

// setHeld adopts Redis's answer about the lease; m.mu and l.op are held. An
// unacknowledged flush is assumed not applied yet, which can only under-count the
// lease (safe) until the flush is resent.
func (m *LeaseMeter) setHeld(l *lease, g leaseGrant, sent time.Time) {
	l.granted = g.held
	if f := l.inflight; f != nil {
		l.granted = max(0, l.granted-f.delta-f.ret)
	}
	l.view, l.viewHeld = g.view, g.held
	if g.held > 0 {
		l.validUntil = sent.Add(m.cfg.LeaseTTL - m.cfg.LeaseTTL/5)
	} else {
		l.validUntil = time.Time{}
	}
}

func (m *LeaseMeter) markDown(ctx context.Context, err error, at time.Time) {
	m.stats.RedisErrors++
	m.lastFail = at
	if m.downSince.IsZero() {
		m.downSince, m.downErr = at, err.Error()
		m.logger.WarnContext(ctx, "redis unreachable; serving from leases", "error", err)
	}
}

func (m *LeaseMeter) markUp(ctx context.Context) {
	if !m.downSince.IsZero() {
		m.logger.InfoContext(ctx, "redis reachable again", "down_for", m.clock().Sub(m.downSince).String())
		m.downSince, m.downErr = time.Time{}, ""
	}
}

// sweep expires local reservations of crashed requests like the Redis scripts do;
// m.mu is held.
func (m *LeaseMeter) sweep(now time.Time) {
	if now.Before(m.nextSweep) {
		return
	}
	m.nextSweep = now.Add(memSweepEvery)
	for rk, r := range m.res {
		if now.Before(r.expires) {
			continue
		}
		if r.tombstone {
			delete(m.res, rk)
			continue
		}
		for _, c := range r.counters {
			m.leaseFor(c).reserved -= c.amount
		}
		r.tombstone, r.expires = true, now.Add(tombstoneTTL)
	}
}

// Settle implements Meter. It is local: the actual cost reaches Redis with the next
// flush.
func (m *LeaseMeter) Settle(_ context.Context, in SettleInput) (SettleResult, error) {
	if err := in.Validate(); err != nil {
		return SettleResult{}, err
	}
	return m.settle(in, false), nil
}

// Release implements Meter.
func (m *LeaseMeter) Release(_ context.Context, in ReleaseInput) (SettleResult, error) {
	if err := in.Validate(); err != nil {
		return SettleResult{}, err
	}
	return m.settle(SettleInput{TenantID: in.TenantID, RequestID: in.RequestID}, true), nil
}

func (m *LeaseMeter) settle(in SettleInput, release bool) SettleResult {
	now := m.clock()
	rk := in.TenantID + "/" + in.RequestID
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	r := m.res[rk]
	if r == nil {
		return SettleResult{}
	}
	delete(m.res, rk)
	for _, c := range r.counters {
		l := m.leaseFor(c)
		if !r.tombstone {
			l.reserved -= c.amount
		}
		l.pending += c.kind.settleAmount(c.amount, in, release)
		l.lastUsed = now
	}
	return SettleResult{Settled: true, Late: r.tombstone}
}

// Usage implements Meter: Redis's counters combined with this instance's unflushed
// spending and local reservations.
func (m *LeaseMeter) Usage(ctx context.Context, tenantID string, limits []Limit) ([]ScopeUsage, error) {
	us, err := m.inner.Usage(ctx, tenantID, limits)
	if err != nil {
		return nil, err
	}
	now := m.clock()
	tag := tenantTag(m.inner.prefix, tenantID)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	for i, l := range limits {
		ls := m.leases[budgetKey(tag, l, l.Period.Key(now))]
		if ls == nil {
			continue
		}
		u := &us[i]
		u.Spent += nanos(ls.pending)
		if ls.inflight != nil {
			u.Spent += nanos(ls.inflight.delta)
		}
		u.Reserved += nanos(ls.reserved)
		// Redis counts this instance's lease, pending and reserved included, as leased.
		u.Leased -= nanos(min(ls.granted, ls.reserved+ls.pending))
		u.Leased = max(u.Leased, 0)
	}
	return us, nil
}

// Rebuild implements Meter. It flushes this instance's spending first, so that the
// ledger totals (which include it) replace it rather than add to it.
func (m *LeaseMeter) Rebuild(ctx context.Context, tenantID string, totals []ScopeTotal) error {
	if err := m.Flush(ctx); err != nil {
		return err
	}
	return m.inner.Rebuild(ctx, tenantID, totals)
}

// Health implements Meter: ok while Redis answers, degraded while it does not but
// some lease is still usable, unavailable after that.
// Recoveries returns how many tenant recoveries the Redis meter under the
// leases ran (metrics, tests).
func (m *LeaseMeter) Recoveries() int64 { return m.inner.Recoveries() }

func (m *LeaseMeter) Health(context.Context) Health {
	now := m.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.downSince.IsZero() {
		return Health{State: HealthStateOK}
	}
	for _, l := range m.leases {
		if l.c.hard && l.granted > l.reserved+l.pending && now.Before(l.validUntil) {
			return Health{State: HealthStateDegraded, Detail: "redis unreachable, serving from leased budget: " + m.downErr, Since: m.downSince}
		}
	}
	return Health{State: HealthStateUnavailable, Detail: "redis unreachable and no leased budget left: " + m.downErr, Since: m.downSince}
}
