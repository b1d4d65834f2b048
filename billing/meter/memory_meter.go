package meter

import (
	"context"
	"hash/maphash"
	"log/slog"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// MemoryMeter keeps the counters in process memory, for the self-hosted single binary
// (no Redis). It has the same semantics as RedisMeter; counters are lost on restart
// and rebuilt from the ledger (Rebuild). Tenants are spread over striped locks, so
// requests of different tenants rarely contend.
type MemoryMeter struct {
	clock   Clock
	logger  *slog.Logger
	seed    maphash.Seed
	stripes [memStripes]memStripe
}

const (
	memStripes = 64
	// memSweepEvery is how often (by the meter's clock) a tenant's expired
	// reservations, tombstones and old counters are swept, on its next operation.
	memSweepEvery = time.Second
)

type memStripe struct {
	mu      sync.Mutex
	tenants map[string]*memTenant
}

type memTenant struct {
	counters map[string]*memCounter
	// res holds reservations by value: a pointer each was one more
	// allocation on every request.
	res       map[string]memRes
	nextSweep time.Time
}

type memCounter struct {
	spent, reserved int64
	expires         time.Time
}

type memRes struct {
	counters []counter
	expires  time.Time
	// tombstone marks an expired reservation whose amounts were returned; a late
	// Settle still charges its actual cost once.
	tombstone bool
}

// NewMemoryMeter returns an in-process meter. clock is usually time.Now.
func NewMemoryMeter(logger *slog.Logger, clock Clock) *MemoryMeter {
	m := &MemoryMeter{clock: clock, logger: logger.With("component", "billing.meter"), seed: maphash.MakeSeed()}
	for i := range m.stripes {
		m.stripes[i].tenants = make(map[string]*memTenant)
	}
	return m
}

var _ Meter = (*MemoryMeter)(nil)

// tenant locks the tenant's stripe, sweeps the tenant and returns it with the unlock.
func (m *MemoryMeter) tenant(id string, now time.Time) (*memTenant, *sync.Mutex) {
	s := &m.stripes[maphash.String(m.seed, id)%memStripes]
	s.mu.Lock()
	t := s.tenants[id]
	if t == nil {
		t = &memTenant{counters: make(map[string]*memCounter), res: make(map[string]memRes)}
		s.tenants[id] = t
	}
	t.sweep(now)
	// The lock itself, not its bound Unlock: a method value is an allocation
	// on every call.
	return t, &s.mu
}

func (t *memTenant) sweep(now time.Time) {
	if now.Before(t.nextSweep) {
		return
	}
	t.nextSweep = now.Add(memSweepEvery)
	for id, r := range t.res {
		if now.Before(r.expires) {
			continue
		}
		if r.tombstone {
			delete(t.res, id)
			continue
		}
		for _, c := range r.counters {
			if ctr := t.counters[c.key]; ctr != nil {
				ctr.reserved -= c.amount
			}
		}
		r.tombstone, r.expires = true, now.Add(tombstoneTTL)
		t.res[id] = r
	}
	for k, c := range t.counters {
		if !now.Before(c.expires) && c.reserved == 0 {
			delete(t.counters, k)
		}
	}
}

func (t *memTenant) counter(key string, ttl time.Duration, now time.Time) *memCounter {
	c := t.counters[key]
	if c == nil {
		c = &memCounter{}
		t.counters[key] = c
	}
	if exp := now.Add(ttl); exp.After(c.expires) {
		c.expires = exp
	}
	return c
}

func (t *memTenant) state(key string) counterState {
	if c := t.counters[key]; c != nil {
		return counterState{spent: c.spent, reserved: c.reserved}
	}
	return counterState{}
}

// Reserve implements Meter.
func (m *MemoryMeter) Reserve(_ context.Context, in ReserveInput) (Decision, error) {
	if err := in.Validate(); err != nil {
		return Decision{}, err
	}
	now := m.clock()
	cs := plan("", in, now)
	t, mu := m.tenant(in.TenantID, now)
	defer mu.Unlock()

	st := make([]counterState, len(cs))
	for i, c := range cs {
		st[i] = t.state(c.key)
	}
	if r, ok := t.res[in.RequestID]; ok {
		if r.tombstone {
			return Decision{}, errkind.New(errkind.Conflict, "request %s: its reservation expired; use a new request id", in.RequestID)
		}
		return Decision{Allowed: true, Reason: DecisionReasonAllowed, Duplicate: true, Usage: usageFor(in, cs, now, st), Rate: rateFor(cs, now, st)}, nil
	}
	for i, c := range cs {
		if c.hard && c.max >= 0 && st[i].used()+c.amount > c.max {
			return refusedDecision(in, cs, i, now, st), nil
		}
	}
	for i, c := range cs {
		t.counter(c.key, c.ttl, now).reserved += c.amount
		st[i].reserved += c.amount
	}
	t.res[in.RequestID] = memRes{counters: cs, expires: now.Add(in.ttl())}
	return Decision{Allowed: true, Reason: DecisionReasonAllowed, Usage: usageFor(in, cs, now, st), Rate: rateFor(cs, now, st)}, nil
}

// Settle implements Meter.
func (m *MemoryMeter) Settle(_ context.Context, in SettleInput) (SettleResult, error) {
	if err := in.Validate(); err != nil {
		return SettleResult{}, err
	}
	return m.settle(in, false), nil
}

// Release implements Meter.
func (m *MemoryMeter) Release(_ context.Context, in ReleaseInput) (SettleResult, error) {
	if err := in.Validate(); err != nil {
		return SettleResult{}, err
	}
	return m.settle(SettleInput{TenantID: in.TenantID, RequestID: in.RequestID}, true), nil
}

func (m *MemoryMeter) settle(in SettleInput, release bool) SettleResult {
	now := m.clock()
	t, mu := m.tenant(in.TenantID, now)
	defer mu.Unlock()
	r, ok := t.res[in.RequestID]
	if !ok {
		return SettleResult{}
	}
	delete(t.res, in.RequestID)
	for _, c := range r.counters {
		ctr := t.counter(c.key, c.ttl, now)
		if !r.tombstone {
			ctr.reserved -= c.amount
		}
		ctr.spent += c.kind.settleAmount(c.amount, in, release)
	}
	return SettleResult{Settled: true, Late: r.tombstone}
}

// Usage implements Meter.
func (m *MemoryMeter) Usage(_ context.Context, tenantID string, limits []Limit) ([]ScopeUsage, error) {
	if err := validateUsage(tenantID, limits); err != nil {
		return nil, err
	}
	now := m.clock()
	tag := tenantTag("", tenantID)
	t, mu := m.tenant(tenantID, now)
	defer mu.Unlock()
	out := make([]ScopeUsage, len(limits))
	for i, l := range limits {
		pk := l.Period.Key(now)
		out[i] = t.state(budgetKey(tag, l, pk)).usage(l, pk)
	}
	return out, nil
}

// Rebuild implements Meter.
func (m *MemoryMeter) Rebuild(_ context.Context, tenantID string, totals []ScopeTotal) error {
	if err := validateTotals(tenantID, totals); err != nil {
		return err
	}
	now := m.clock()
	tag := tenantTag("", tenantID)
	t, mu := m.tenant(tenantID, now)
	defer mu.Unlock()
	for _, tot := range totals {
		pk := tot.periodKey(now)
		c := t.counter(budgetKey(tag, tot.asLimit(), pk), tot.Period.counterTTL(), now)
		c.spent = max(c.spent, int64(tot.Spent))
	}
	return nil
}

// Health implements Meter; the in-process meter is always ok.
func (m *MemoryMeter) Health(context.Context) Health { return Health{State: HealthStateOK} }
