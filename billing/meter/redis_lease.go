package meter

import (
	"context"
	"fmt"
	"time"
)

// leaseGrant is the answer of the lease scripts.
type leaseGrant struct {
	granted int64 // budget just moved into the lease
	held    int64 // the instance's whole lease on the counter now
	view    counterState
}

// acquireLease asks for at least need more on counter c's lease of instance inst.
// A grant of 0 means the counter's remaining room is below need.
func (m *RedisMeter) acquireLease(ctx context.Context, c counter, inst string, need, divisor, maxChunk int64, ttl time.Duration, now time.Time) (leaseGrant, error) {
	tenantID := tenantOfKey(c.key)
	raw, err := leaseAcquireScript.Run(ctx, m.client, []string{c.key, m.epochKey(tenantID)},
		ms(now), inst, need, divisor, maxChunk, c.max, ttl.Milliseconds(), c.ttl.Milliseconds(), m.knownEpoch(tenantID)).Slice()
	if err = m.observe(ctx, "lease_acquire", err); err != nil {
		return leaseGrant{}, err
	}
	return m.parseGrant(tenantID, raw, true)
}

// flushLease charges delta spent from the lease and returns ret unused budget to the
// counter, idempotently by seq.
func (m *RedisMeter) flushLease(ctx context.Context, c counter, inst string, seq, delta, ret int64, ttl time.Duration, now time.Time) (leaseGrant, error) {
	tenantID := tenantOfKey(c.key)
	raw, err := leaseFlushScript.Run(ctx, m.client, []string{c.key, m.epochKey(tenantID)},
		ms(now), inst, seq, delta, ret, ttl.Milliseconds(), c.ttl.Milliseconds(), m.knownEpoch(tenantID)).Slice()
	if err = m.observe(ctx, "lease_flush", err); err != nil {
		return leaseGrant{}, err
	}
	return m.parseGrant(tenantID, raw, false)
}

// parseGrant reads a lease script's answer: errLost, or the values followed by the
// epoch, which it adopts.
func (m *RedisMeter) parseGrant(tenantID string, raw []any, withGranted bool) (leaseGrant, error) {
	var g leaseGrant
	if len(raw) == 1 {
		if s, _ := raw[0].(string); s == "lost" {
			return g, errLost
		}
	}
	if len(raw) < 1 {
		return g, fmt.Errorf("meter: lease script returned no values")
	}
	m.adoptEpoch(tenantID, raw[len(raw)-1])
	raw = raw[:len(raw)-1]
	if withGranted {
		if len(raw) != 5 {
			return g, fmt.Errorf("meter: lease script returned %d values", len(raw))
		}
		v, err := toInt(raw[0])
		if err != nil {
			return g, err
		}
		g.granted, raw = v, raw[1:]
	}
	if len(raw) != 4 {
		return g, fmt.Errorf("meter: lease script returned %d values", len(raw))
	}
	held, err := toInt(raw[0])
	if err != nil {
		return g, err
	}
	st, err := parseStates(raw[1:], 1)
	if err != nil {
		return g, err
	}
	g.held, g.view = held, st[0]
	return g, nil
}
