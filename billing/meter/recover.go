package meter

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// Recovery of lost counters.
//
// Redis is a fast copy of the budget state; it can lose it (FLUSHALL, a restart
// without persistence, a failover that promotes a replica which had not seen the
// newest writes). Each tenant's counters carry an epoch key, inside the tenant's
// hash tag, that exists exactly while they are intact: every script that reserves,
// settles or leases checks it first, so a loss is noticed on the tenant's next
// operation, not at the next reconcile. The instance that notices recovers the
// tenant before serving it again, in this order:
//
//  1. LedgerTotals: the caller flushes its ledger spool (every usage event appended
//     so far becomes durable) and reads the ledger's totals per budget counter;
//  2. one script raises each counter's spent to the ledger total (never lowers it),
//     sets this instance's lease to what it still holds locally (its live
//     reservations, unflushed spending and unused budget), recomputes the leased sum
//     over every instance, and puts back this instance's live reservations (so they
//     settle normally), then creates the epoch if missing.
//
// Every other instance finds the new epoch different from the one it knew (a
// LeaseMeter probes the epochs of the tenants it holds leases of on every flush
// tick), and recovers in turn with its own leases and reservations. No instance
// leases in the new epoch before every live instance recorded as holding budget of
// the tenant (Peers, kept in the control database) has put its holdings back: each
// recovery marks its instance in the tenant's peers hash and waits until the
// holders are all there (awaitPeers), and the new epoch becomes the one this
// instance's scripts accept only then. A holder that died stops counting when its
// heartbeat ages past PeerLiveWindow. Without Peers, the instance that created the
// epoch holds the tenant for two flush intervals instead. Spent may end up counted
// twice for the few requests settled just before the loss (ledger and a resent
// flush), never too low; the reconcile job later lowers such drift to the ledger.

// epochKey is the tenant's counter epoch key.
func (m *RedisMeter) epochKey(tenantID string) string {
	return tenantTag(m.prefix, tenantID) + ":epoch"
}

func (m *RedisMeter) knownEpoch(tenantID string) string {
	m.emu.RLock()
	defer m.emu.RUnlock()
	return m.epochs[tenantID]
}

// adoptEpoch records the epoch a script answered with.
func (m *RedisMeter) adoptEpoch(tenantID string, v any) {
	ep, _ := v.(string)
	if ep == "" {
		return
	}
	m.emu.RLock()
	same := m.epochs[tenantID] == ep
	m.emu.RUnlock()
	if !same {
		m.emu.Lock()
		m.epochs[tenantID] = ep
		m.emu.Unlock()
	}
}

// staleAll makes every known tenant recover at its next operation (after an outage
// a failover may have dropped writes without losing the epoch).
func (m *RedisMeter) staleAll() {
	m.emu.Lock()
	defer m.emu.Unlock()
	for t := range m.epochs {
		m.epochs[t] = staleEpoch
	}
}

func (m *RedisMeter) track(tenantID, requestID string, r liveReservation) {
	m.emu.Lock()
	defer m.emu.Unlock()
	byID := m.live[tenantID]
	if byID == nil {
		byID = map[string]liveReservation{}
		m.live[tenantID] = byID
	}
	byID[requestID] = r
	// Reservations of crashed requests are never settled here: drop the expired
	// ones whenever the map doubles past 1,024.
	if n := len(byID); n >= 1024 && n&(n-1) == 0 {
		for id, lr := range byID {
			if lr.expires <= ms(m.clock()) {
				delete(byID, id)
			}
		}
	}
}

func (m *RedisMeter) untrack(tenantID, requestID string) {
	m.emu.Lock()
	defer m.emu.Unlock()
	if byID := m.live[tenantID]; byID != nil {
		delete(byID, requestID)
		if len(byID) == 0 {
			delete(m.live, tenantID)
		}
	}
}

// Recoveries returns how many tenant recoveries this meter ran (metrics, tests).
func (m *RedisMeter) Recoveries() int64 { return m.recoveries.Load() }

// recover recovers the tenant's counters once for all callers waiting on it.
func (m *RedisMeter) recover(ctx context.Context, tenantID string) error {
	_, err, _ := m.recovering.Do(tenantID, func() (any, error) {
		// Shared by every waiter: one caller's cancellation must not fail the others.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		for {
			// The counters may be lost again while this instance waits for its
			// peers: start over, until the deadline.
			err := m.recoverTenant(rctx, tenantID)
			if !errors.Is(err, errLost) || rctx.Err() != nil {
				return nil, err
			}
		}
	})
	return err
}

func (m *RedisMeter) recoverTenant(ctx context.Context, tenantID string) error {
	var totals []ScopeTotal
	if m.ledgerTotals != nil {
		var err error
		if totals, err = m.ledgerTotals(ctx, tenantID); err != nil {
			return errkind.Wrap(errkind.Unavailable, err, "recovering the budget counters of tenant %s: the ledger is unavailable", tenantID)
		}
	}
	now := m.clock()
	tag := tenantTag(m.prefix, tenantID)
	type entry struct {
		total, lease int64
		ttl          time.Duration
	}
	var order []string
	byKey := map[string]*entry{}
	get := func(key string, ttl time.Duration) *entry {
		e := byKey[key]
		if e == nil {
			e = &entry{total: -1, lease: -1, ttl: ttl}
			byKey[key] = e
			order = append(order, key)
		}
		return e
	}
	for _, t := range totals {
		get(budgetKey(tag, t.asLimit(), t.periodKey(now)), t.Period.counterTTL()).total = int64(t.Spent)
	}
	var h leaseHolding
	if m.leasesOf != nil {
		h = m.leasesOf(tenantID)
		for _, l := range h.leases {
			get(l.c.key, l.c.ttl).lease = l.held
		}
	}
	res, exp := m.resKeys(tenantID)
	keys := append(make([]string, 0, 4+len(order)), m.epochKey(tenantID), res, exp, m.peersKey(tenantID))
	args := make([]any, 0, 4+3*len(order))
	args = append(args, newEpoch(), h.instance, h.ttl.Milliseconds(), ms(now))
	for _, k := range order {
		e := byKey[k]
		keys = append(keys, k)
		args = append(args, e.total, e.lease, e.ttl.Milliseconds())
	}
	m.emu.RLock()
	for id, r := range m.live[tenantID] {
		if r.expires > ms(now) {
			args = append(args, id, r.expires, r.record)
		}
	}
	m.emu.RUnlock()
	raw, err := recoverScript.Run(ctx, m.client, keys, args...).Slice()
	if err = m.observe(ctx, "recover", err); err != nil {
		return err
	}
	if len(raw) != 2 {
		return fmt.Errorf("meter: recover script returned %d values", len(raw))
	}
	ep, _ := raw[0].(string)
	created, _ := raw[1].(int64)
	switch {
	case m.peers != nil && h.instance != "":
		if err := m.awaitPeers(ctx, tenantID, ep); err != nil {
			return err
		}
	case created == 1 && h.settle > 0:
		// Without a peer record, give the other instances the time their next
		// probe takes to see the new epoch and put their leases back.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(h.settle):
		}
	}
	// Only now may this instance's other requests use the new epoch: until every
	// holder is back, their scripts answer "lost" and they wait on this recovery.
	m.emu.Lock()
	m.epochs[tenantID] = ep
	m.emu.Unlock()
	m.recoveries.Add(1)
	m.logger.InfoContext(ctx, "budget counters recovered from the ledger and live reservations",
		"tenant_id", tenantID, "counters", len(order), "ledger_totals", len(totals), "leases", len(h.leases))
	return nil
}

// peersKey is the tenant's hash of instance -> the epoch it last recovered into,
// plus peersDone -> the epoch every live holder has recovered into.
func (m *RedisMeter) peersKey(tenantID string) string {
	return tenantTag(m.prefix, tenantID) + ":peers"
}

// peersDone is the peers-hash field of the complete epoch (instance ids are hex).
const peersDone = "!done"

// awaitPeers returns once every live instance that may hold budget of the tenant
// (Peers.Holders) has put its leases and reservations back into epoch ep, so that
// nothing leased afterwards can count on budget a peer already holds. Instances
// that died stop counting when their heartbeat ages past PeerLiveWindow. Bounded by
// ctx: a peer that stays alive and never recovers keeps the tenant refused (503),
// never over budget.
func (m *RedisMeter) awaitPeers(ctx context.Context, tenantID, ep string) error {
	key := m.peersKey(tenantID)
	wait := 5 * time.Millisecond
	for {
		pipe := m.client.Pipeline()
		peersCmd := pipe.HGetAll(ctx, key)
		epochCmd := pipe.Get(ctx, m.epochKey(tenantID))
		_, err := pipe.Exec(ctx)
		if err = m.observe(ctx, "await_peers", err); err != nil {
			return err
		}
		if epochCmd.Val() != ep {
			// Lost again (or rebuilt) while waiting: the caller recovers anew.
			return errLost
		}
		seen := peersCmd.Val()
		if seen[peersDone] == ep {
			return nil
		}
		holders, err := m.peers.Holders(ctx, tenantID)
		if err != nil {
			return errkind.Wrap(errkind.Unavailable, err, "recovering the budget counters of tenant %s: the list of meter instances is unavailable", tenantID)
		}
		var missing []string
		for _, inst := range holders {
			if seen[inst] != ep {
				missing = append(missing, inst)
			}
		}
		if len(missing) == 0 {
			err := m.client.HSet(ctx, key, peersDone, ep).Err()
			return m.observe(ctx, "await_peers", err)
		}
		select {
		case <-ctx.Done():
			return errkind.Wrap(errkind.Unavailable, ctx.Err(), "recovering the budget counters of tenant %s: meter instances %v have not put their leases back", tenantID, missing)
		case <-time.After(wait):
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

func newEpoch() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// tenantOfKey returns the tenant id inside a counter key's hash tag.
func tenantOfKey(key string) string {
	_, rest, ok := strings.Cut(key, "{t:")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, "}")
	return id
}

// changedEpochs returns the tenants among tenantIDs whose epoch is gone or differs
// from the one this instance knows: one pipelined round trip.
func (m *RedisMeter) changedEpochs(ctx context.Context, tenantIDs []string) ([]string, error) {
	if len(tenantIDs) == 0 {
		return nil, nil
	}
	pipe := m.client.Pipeline()
	cmds := make([]*redis.StringCmd, len(tenantIDs))
	dones := make([]*redis.StringCmd, len(tenantIDs))
	for i, t := range tenantIDs {
		cmds[i] = pipe.Get(ctx, m.epochKey(t))
		if m.peers != nil && m.knownEpoch(t) == "" {
			dones[i] = pipe.HGet(ctx, m.peersKey(t), peersDone)
		}
	}
	_, err := pipe.Exec(ctx)
	if err = m.observe(ctx, "epoch_probe", err); err != nil {
		return nil, err
	}
	var out []string
	for i, t := range tenantIDs {
		v, err := cmds[i].Result()
		switch known := m.knownEpoch(t); {
		case err != nil:
			out = append(out, t)
		case known == "" && (m.peers == nil || (dones[i] != nil && dones[i].Val() == v)):
			// Met the tenant without holding anything of it yet: adopt the epoch
			// (with peers, only once every holder is back in it).
			m.adoptEpoch(t, v)
		case v != known:
			out = append(out, t)
		}
	}
	return out, nil
}
