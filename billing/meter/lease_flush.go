package meter

import (
	"context"
	"time"
)

// Run flushes spent deltas to Redis every FlushInterval, renews leases in use and
// returns idle ones, until ctx ends; then it flushes once more and returns every
// lease (graceful shutdown). It is also what notices that Redis is back.
func (m *LeaseMeter) Run(ctx context.Context) error {
	t := time.NewTicker(m.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
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

// ReturnLeases flushes and hands every unused lease back to Redis, for shutdown.
func (m *LeaseMeter) ReturnLeases(ctx context.Context) error { return m.flushAll(ctx, true) }

func (m *LeaseMeter) flushAll(ctx context.Context, final bool) error {
	now := m.clock()
	m.mu.Lock()
	m.sweep(now)
	var work []*lease
	for k, l := range m.leases {
		switch {
		case l.inflight != nil || l.pending > 0 || (final && l.granted > 0) || m.idle(l, now) || m.renewDue(l, now):
			work = append(work, l)
		case l.granted == 0 && l.reserved == 0 && now.Sub(l.lastUsed) >= m.cfg.IdleReturn:
			delete(m.leases, k)
		}
	}
	m.mu.Unlock()
	for _, l := range work {
		if err := m.flushLease(ctx, l, final); err != nil {
			return err
		}
	}
	return nil
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
	if err != nil {
		m.markDown(ctx, err, sent)
		return err
	}
	m.markUp(ctx)
	l.inflight = nil
	m.setHeld(l, g, sent)
	return nil
}
