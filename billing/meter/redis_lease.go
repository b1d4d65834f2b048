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
		ms(now), inst, need, divisor, maxChunk, c.max, ttl.Milliseconds(), c.ttl.Milliseconds(), m.leaseEpoch(ctx, tenantID)).Slice()
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
		ms(now), inst, seq, delta, ret, ttl.Milliseconds(), c.ttl.Milliseconds(), m.leaseEpoch(ctx, tenantID)).Slice()
	if err = m.observe(ctx, "lease_flush", err); err != nil {
		return leaseGrant{}, err
	}
	return m.parseGrant(tenantID, raw, false)
}

// leaseEpoch is the epoch a lease script checks against. An instance that has not
// met the tenant yet must not accept whatever epoch it finds while peers are
// recorded: the epoch may be one whose recovery still waits for a holder. It adopts
// the epoch only once every holder is back in it (it held nothing before, so it has
// nothing to put back); otherwise its script answers "lost" and it joins the
// recovery.
func (m *RedisMeter) leaseEpoch(ctx context.Context, tenantID string) string {
	if ep := m.knownEpoch(tenantID); ep != "" || m.peers == nil {
		return ep
	}
	pipe := m.client.Pipeline()
	epoch := pipe.Get(ctx, m.epochKey(tenantID))
	done := pipe.HGet(ctx, m.peersKey(tenantID), peersDone)
	_, _ = pipe.Exec(ctx) // a failure or a missing key leaves the epoch stale
	if e := epoch.Val(); e != "" && e == done.Val() {
		m.adoptEpoch(tenantID, e)
		return e
	}
	return staleEpoch
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
