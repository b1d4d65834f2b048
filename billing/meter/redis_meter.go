package meter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// RedisMeter keeps the counters in Redis, Cluster or standalone alike (any
// redis.UniversalClient). Each operation is one Lua script over keys sharing the
// tenant's hash tag {t:<tenant>}, so it is atomic in a cluster: a reservation
// increments all of its counters or none. Expiry of crashed requests' reservations is
// lazy, inside the scripts (see redis_scripts.go).
//
// Times written to Redis come from the injected clock, so all replicas must keep
// their clocks in sync (NTP); a skew shifts expiry by the skew, never the budgets.
type RedisMeter struct {
	client redis.UniversalClient
	clock  Clock
	logger *slog.Logger
	prefix string

	onReconnect  func()
	ledgerTotals func(ctx context.Context, tenantID string) ([]ScopeTotal, error)
	// leasesOf, set by a LeaseMeter wrapping this meter, reports the leases that
	// instance holds of a tenant's counters, for recovery.
	leasesOf func(tenantID string) leaseHolding
	// peers, set by a LeaseMeter with LeaseConfig.Peers, lists the instances a
	// recovery waits for.
	peers Peers

	mu      sync.Mutex
	health  Health
	healthy bool

	// emu guards epochs and live.
	emu sync.RWMutex
	// epochs is the counter epoch this instance last saw per tenant (see
	// redis_scripts.go); staleEpoch forces a recovery at the tenant's next operation.
	epochs map[string]string
	// live are this instance's reservations not yet settled, per tenant and request
	// id, put back by a recovery when the store lost them.
	live       map[string]map[string]liveReservation
	recovering singleflight.Group
	recoveries atomic.Int64
}

// liveReservation is a reservation as the reserve script stored it.
type liveReservation struct {
	record  string
	expires int64 // unix ms
}

// leaseHolding is what a LeaseMeter instance holds of one tenant's counters.
type leaseHolding struct {
	instance string
	ttl      time.Duration
	// settle is how long the instance that recreates a lost epoch waits for its
	// peers to put their leases back (two of their flush intervals).
	settle time.Duration
	leases []heldLease
}

type heldLease struct {
	c    counter
	held int64
}

// staleEpoch never equals a stored epoch: the tenant's next operation reports
// "lost" and recovers first.
const staleEpoch = "?"

// errLost is a script's answer that the tenant's counters need a recovery.
var errLost = errors.New("meter: the counter store lost this tenant's counters")

// RedisConfig configures a RedisMeter.
type RedisConfig struct {
	// KeyPrefix is put before every key, before the hash tag; it must not contain
	// '{' or '}'. Default "tollgate:". Tests use a unique prefix per test.
	KeyPrefix string
	// OnReconnect, when set, is called in its own goroutine each time Redis answers
	// again after a failure. The meter itself recovers every tenant it serves at the
	// tenant's next operation after an outage (a failover or restart may have
	// dropped the newest counter writes); this hook is for metrics and logs.
	OnReconnect func()
	// LedgerTotals returns a tenant's ledger totals for its budget counters once
	// every usage event appended before the call is durable (the caller flushes its
	// ledger spool first). The meter calls it when it finds that the store lost the
	// tenant's counters (their epoch key is gone: FLUSHALL, a restart, a failover
	// that dropped writes), the first time it meets a tenant, and after an outage;
	// it then sets each counter to at least the ledger's total plus every live
	// reservation and lease, and holds the tenant's requests until that is done.
	// Nil recovers from live reservations and leases only (tests).
	LedgerTotals func(ctx context.Context, tenantID string) ([]ScopeTotal, error)
}

// NewRedisMeter returns a meter over client. clock is usually time.Now.
func NewRedisMeter(logger *slog.Logger, client redis.UniversalClient, clock Clock, cfg RedisConfig) *RedisMeter {
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = "tollgate:"
	}
	return &RedisMeter{
		client:       client,
		clock:        clock,
		logger:       logger.With("component", "billing.meter", "meter", "redis"),
		prefix:       cfg.KeyPrefix,
		onReconnect:  cfg.OnReconnect,
		ledgerTotals: cfg.LedgerTotals,
		health:       Health{State: HealthStateOK},
		healthy:      true,
		epochs:       map[string]string{},
		live:         map[string]map[string]liveReservation{},
	}
}

var _ Meter = (*RedisMeter)(nil)

func ms(t time.Time) int64 { return t.UnixMilli() }

func (m *RedisMeter) resKeys(tenantID string) (string, string) {
	tag := tenantTag(m.prefix, tenantID)
	return tag + ":res", tag + ":exp"
}

// observe records the outcome of a Redis call for Health and wraps a failure as
// errkind.Unavailable.
func (m *RedisMeter) observe(ctx context.Context, op string, err error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err == nil || errors.Is(err, redis.Nil) {
		if !m.healthy {
			m.logger.InfoContext(ctx, "redis reachable again; every tenant's counters are recovered at its next operation", "op", op)
			m.health, m.healthy = Health{State: HealthStateOK, Since: m.clock()}, true
			m.staleAll()
			if m.onReconnect != nil {
				go m.onReconnect()
			}
		}
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if cc, ok := m.client.(*redis.ClusterClient); ok {
		// After a failover the dead master's slots moved to its replica; a client
		// that only dials the dead address (connection refused, no MOVED answer)
		// learns of it only when asked to reload the slot map. The reload is lazy
		// and coalesced, so asking on every failure costs nothing.
		cc.ReloadState(ctx)
	}
	if m.healthy {
		m.logger.WarnContext(ctx, "redis unreachable", "op", op, "error", err)
		m.health, m.healthy = Health{State: HealthStateUnavailable, Detail: err.Error(), Since: m.clock()}, false
	}
	return errkind.Wrap(errkind.Unavailable, err, "meter %s: redis unavailable", op)
}

// Reserve implements Meter. When the store lost the tenant's counters, it recovers
// them first (see RedisConfig.LedgerTotals) and refuses with
// DecisionReasonMeterUnavailable if that fails.
func (m *RedisMeter) Reserve(ctx context.Context, in ReserveInput) (Decision, error) {
	if err := in.Validate(); err != nil {
		return Decision{}, err
	}
	for attempt := 0; ; attempt++ {
		d, err := m.reserve(ctx, in)
		if !errors.Is(err, errLost) {
			return d, err
		}
		if attempt == 1 {
			return m.unrecovered(in, err), nil
		}
		if err := m.recover(ctx, in.TenantID); err != nil {
			if ctx.Err() != nil {
				return Decision{}, ctx.Err()
			}
			return m.unrecovered(in, err), nil
		}
	}
}

// unrecovered refuses a request of a tenant whose counters could not be recovered.
func (m *RedisMeter) unrecovered(in ReserveInput, err error) Decision {
	m.logger.Warn("budget counters lost and not yet recovered; refusing the tenant's requests", "tenant_id", in.TenantID, "error", err)
	return Decision{Reason: DecisionReasonMeterUnavailable, Refusal: &Refusal{Requested: int64(in.Amount), RetryAfter: time.Second}}
}

func (m *RedisMeter) reserve(ctx context.Context, in ReserveInput) (Decision, error) {
	now := m.clock()
	cs := plan(m.prefix, in, now)
	res, exp := m.resKeys(in.TenantID)
	keys := make([]string, 0, 3+len(cs))
	keys = append(keys, res, exp, m.epochKey(in.TenantID))
	args := make([]any, 0, 5+4*len(cs))
	record := encodeRecord(cs)
	expires := ms(now.Add(in.ttl()))
	args = append(args, ms(now), in.RequestID, expires, record, m.knownEpoch(in.TenantID))
	for _, c := range cs {
		keys = append(keys, c.key)
		hard := 0
		if c.hard {
			hard = 1
		}
		args = append(args, c.max, hard, c.amount, c.ttl.Milliseconds())
	}
	raw, err := reserveScript.Run(ctx, m.client, keys, args...).Slice()
	if err = m.observe(ctx, "reserve", err); err != nil {
		return Decision{}, err
	}
	status, _ := raw[0].(string)
	if status == "lost" {
		return Decision{}, errLost
	}
	idx, _ := raw[1].(int64)
	m.adoptEpoch(in.TenantID, raw[2])
	st, err := parseStates(raw[3:], len(cs))
	if err != nil {
		return Decision{}, err
	}
	switch status {
	case "ok":
		m.track(in.TenantID, in.RequestID, liveReservation{record: record, expires: expires})
		for i, c := range cs {
			st[i].reserved += c.amount
		}
		return Decision{Allowed: true, Reason: DecisionReasonAllowed, Usage: usageFor(in, cs, now, st), Rate: rateFor(cs, now, st)}, nil
	case "duplicate":
		return Decision{Allowed: true, Reason: DecisionReasonAllowed, Duplicate: true, Usage: usageFor(in, cs, now, st), Rate: rateFor(cs, now, st)}, nil
	case "expired":
		return Decision{}, errkind.New(errkind.Conflict, "request %s: its reservation expired; use a new request id", in.RequestID)
	case "refused":
		return refusedDecision(in, cs, int(idx)-1, now, st), nil
	}
	return Decision{}, fmt.Errorf("meter reserve: unexpected script status %q", status)
}

// parseStates reads n (spent, reserved, leased) triples of integer strings.
func parseStates(vals []any, n int) ([]counterState, error) {
	if len(vals) != 3*n {
		return nil, fmt.Errorf("meter: script returned %d values, want %d", len(vals), 3*n)
	}
	st := make([]counterState, n)
	for i := range st {
		var err error
		var v [3]int64
		for j := range v {
			if v[j], err = toInt(vals[3*i+j]); err != nil {
				return nil, err
			}
		}
		st[i] = counterState{spent: v[0], reserved: v[1], leased: v[2]}
	}
	return st, nil
}

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case string:
		return strconv.ParseInt(x, 10, 64)
	}
	return 0, fmt.Errorf("meter: unexpected script value %T", v)
}

// Settle implements Meter.
func (m *RedisMeter) Settle(ctx context.Context, in SettleInput) (SettleResult, error) {
	if err := in.Validate(); err != nil {
		return SettleResult{}, err
	}
	return m.settle(ctx, in, false)
}

// Release implements Meter.
func (m *RedisMeter) Release(ctx context.Context, in ReleaseInput) (SettleResult, error) {
	if err := in.Validate(); err != nil {
		return SettleResult{}, err
	}
	return m.settle(ctx, SettleInput{TenantID: in.TenantID, RequestID: in.RequestID}, true)
}

func (m *RedisMeter) settle(ctx context.Context, in SettleInput, release bool) (SettleResult, error) {
	res, exp := m.resKeys(in.TenantID)
	rel := 0
	if release {
		rel = 1
	}
	for attempt := 0; ; attempt++ {
		n, err := settleScript.Run(ctx, m.client, []string{res, exp, m.epochKey(in.TenantID)},
			ms(m.clock()), in.RequestID, int64(in.Actual), in.ActualTokens, rel, m.knownEpoch(in.TenantID)).Int64()
		if err = m.observe(ctx, "settle", err); err != nil {
			return SettleResult{}, err
		}
		if n >= 0 {
			m.untrack(in.TenantID, in.RequestID)
			return SettleResult{Settled: n > 0, Late: n == 2}, nil
		}
		// Lost: recovering puts this request's reservation back, then it settles.
		if attempt == 1 {
			return SettleResult{}, errkind.Wrap(errkind.Unavailable, errLost, "meter settle")
		}
		if err := m.recover(ctx, in.TenantID); err != nil {
			return SettleResult{}, err
		}
	}
}

// Usage implements Meter.
func (m *RedisMeter) Usage(ctx context.Context, tenantID string, limits []Limit) ([]ScopeUsage, error) {
	if err := validateUsage(tenantID, limits); err != nil {
		return nil, err
	}
	now := m.clock()
	tag := tenantTag(m.prefix, tenantID)
	res, exp := m.resKeys(tenantID)
	keys := []string{res, exp}
	for _, l := range limits {
		keys = append(keys, budgetKey(tag, l, l.Period.Key(now)))
	}
	raw, err := usageScript.Run(ctx, m.client, keys, ms(now)).Slice()
	if err = m.observe(ctx, "usage", err); err != nil {
		return nil, err
	}
	st, err := parseStates(raw, len(limits))
	if err != nil {
		return nil, err
	}
	out := make([]ScopeUsage, len(limits))
	for i, l := range limits {
		out[i] = st[i].usage(l, l.Period.Key(now))
	}
	return out, nil
}

// Rebuild implements Meter.
func (m *RedisMeter) Rebuild(ctx context.Context, tenantID string, totals []ScopeTotal) error {
	if err := validateTotals(tenantID, totals); err != nil {
		return err
	}
	if len(totals) == 0 {
		return nil
	}
	now := m.clock()
	tag := tenantTag(m.prefix, tenantID)
	keys := make([]string, len(totals))
	args := make([]any, 0, 2*len(totals))
	for i, t := range totals {
		keys[i] = budgetKey(tag, t.asLimit(), t.periodKey(now))
		args = append(args, int64(t.Spent), t.Period.counterTTL().Milliseconds())
	}
	err := rebuildScript.Run(ctx, m.client, keys, args...).Err()
	if err = m.observe(ctx, "rebuild", err); err != nil {
		return err
	}
	m.logger.InfoContext(ctx, "meter counters rebuilt from ledger", "tenant_id", tenantID, "counters", len(totals))
	return nil
}

// Health implements Meter: it pings Redis.
func (m *RedisMeter) Health(ctx context.Context) Health {
	_ = m.observe(ctx, "ping", m.client.Ping(ctx).Err())
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.health
}
