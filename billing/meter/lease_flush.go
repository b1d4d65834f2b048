package meter

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// Run flushes spent deltas to Redis every FlushInterval, renews leases in use and
// returns idle ones, until ctx ends; then it flushes once more and returns every
// lease (graceful shutdown). It is also what notices that Redis is back.
func (m *LeaseMeter) Run(ctx context.Context) error {
	t := time.NewTicker(m.cfg.FlushInterval)
	defer t.Stop()
	beat := time.NewTicker(PeerBeatEvery)
	defer beat.Stop()
	var beating atomic.Bool
	for {
		select {
		case <-beat.C:
			// In its own goroutine: a slow database must not delay the flushes.
			if m.cfg.Peers != nil && beating.CompareAndSwap(false, true) {
				go func() {
					defer beating.Store(false)
					if err := m.cfg.Peers.Beat(ctx, m.cfg.InstanceID); err != nil && ctx.Err() == nil {
						m.logger.WarnContext(ctx, "meter instance heartbeat failed", "error", err)
					}
				}()
			}
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := m.ReturnLeases(final); err != nil {
				m.logger.WarnContext(final, "meter leases not returned at shutdown; they expire after the lease TTL", "error", err)
			}
			return nil
		case <-t.C:
			if err := m.Flush(ctx); err != nil && ctx.Err() == nil {
				m.logger.DebugContext(ctx, "meter flush failed; will retry", "error", err)
			}
		}
	}
}

// Flush sends every counter's unflushed spending to Redis now and renews or returns
// leases as due. Run calls it; tests and Rebuild call it directly.
func (m *LeaseMeter) Flush(ctx context.Context) error { return m.flushAll(ctx, false) }

// ReturnLeases flushes and hands every unused lease back to Redis, for shutdown;
// once nothing is held any more, it removes this instance from the peer record.
func (m *LeaseMeter) ReturnLeases(ctx context.Context) error {
	if err := m.flushAll(ctx, true); err != nil {
		return err
	}
	if m.cfg.Peers == nil {
		return nil
	}
	m.joinMu.Lock()
	defer m.joinMu.Unlock()
	m.mu.Lock()
	for _, l := range m.leases {
		if l.granted > 0 || l.reserved > 0 || l.pending > 0 || l.inflight != nil {
			m.mu.Unlock()
			return nil // still serving: keep the record
		}
	}
	clear(m.joined)
	m.mu.Unlock()
	return m.cfg.Peers.Retire(ctx, m.cfg.InstanceID)
}

func (m *LeaseMeter) flushAll(ctx context.Context, final bool) error {
	now := m.clock()
	m.mu.Lock()
	m.sweep(now)
	var work []*lease
	held := map[string]bool{} // tenants this instance holds budget of, or is recorded as holding
	for _, t := range m.joinedTenants() {
		held[t] = true
	}
	for k, l := range m.leases {
		if l.granted > 0 || l.reserved > 0 || l.pending > 0 || l.inflight != nil {
			held[tenantOfKey(k)] = true
		}
		switch {
		case l.inflight != nil || l.pending > 0 || (final && l.granted > 0) || m.idle(l, now) || m.renewDue(l, now):
			work = append(work, l)
		case l.granted == 0 && l.reserved == 0 && now.Sub(l.lastUsed) >= m.cfg.IdleReturn && l.op.TryLock():
			// Not while a lease is being acquired for it (op held): the grant
			// would land on a forgotten entry.
			delete(m.leases, k)
			l.op.Unlock()
		}
	}
	m.mu.Unlock()
	lost := map[string]bool{}
	if !final && len(held) > 0 {
		// A quiet lease sends nothing for a while: probe its tenant's epoch, so that
		// a loss (or a peer's recovery) is seen within a flush interval and this
		// instance's leases and reservations are counted again.
		tenants := make([]string, 0, len(held))
		for t := range held {
			tenants = append(tenants, t)
		}
		changed, err := m.inner.changedEpochs(ctx, tenants)
		if err != nil {
			if ctx.Err() == nil {
				m.mu.Lock()
				m.markDown(ctx, err, now)
				m.mu.Unlock()
			}
			return err
		}
		for _, t := range changed {
			lost[t] = true
		}
	}
	for _, l := range work {
		err := m.flushLease(ctx, l, final)
		if errors.Is(err, errLost) {
			lost[tenantOfKey(l.c.key)] = true
			continue
		}
		if err != nil {
			return err
		}
	}
	if !final {
		m.leaveIdle(ctx)
	}
	// The store lost these tenants' counters: recover them; the next flush sends
	// what was refused.
	var firstErr error
	for tenantID := range lost {
		if err := m.inner.recover(ctx, tenantID); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// idle reports a lease with unused budget and no use for IdleReturn; m.mu is held.
func (m *LeaseMeter) idle(l *lease, now time.Time) bool {
	return l.c.hard && l.granted > 0 && l.reserved == 0 && now.Sub(l.lastUsed) >= m.cfg.IdleReturn
}

// renewDue reports a lease past half its local validity; m.mu is held.
func (m *LeaseMeter) renewDue(l *lease, now time.Time) bool {
	return l.granted > 0 && l.validUntil.Sub(now) < m.cfg.LeaseTTL/2
}

func (m *LeaseMeter) flushLease(ctx context.Context, l *lease, final bool) error {
	l.op.Lock()
	defer l.op.Unlock()
	m.mu.Lock()
	now := m.clock()
	if l.inflight == nil {
		f := &leaseFlush{delta: l.pending}
		if avail := l.granted - l.reserved - l.pending; avail > 0 && (final || m.idle(l, now)) {
			f.ret = avail
		}
		if f.delta == 0 && f.ret == 0 && !m.renewDue(l, now) {
			m.mu.Unlock()
			return nil
		}
		m.seq++
		f.seq = m.seq
		// Take the batch out of the local lease now, so that no reservation can use
		// budget that is on its way back to Redis.
		l.inflight = f
		l.pending -= f.delta
		l.granted -= f.delta + f.ret
	}
	f := *l.inflight
	m.mu.Unlock()

	sent := m.clock()
	g, err := m.inner.flushLease(ctx, l.c, m.cfg.InstanceID, f.seq, f.delta, f.ret, m.cfg.LeaseTTL, sent)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stats.Flushes++
	if errors.Is(err, errLost) {
		m.markUp(ctx)
		return err
	}
	if err != nil {
		m.markDown(ctx, err, sent)
		return err
	}
	m.markUp(ctx)
	l.inflight = nil
	m.setHeld(l, g, sent)
	return nil
}
