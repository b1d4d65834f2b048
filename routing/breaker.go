package routing

import (
	"sync"
	"time"
)

// BreakerConfig tunes the per provider/model circuit breakers.
type BreakerConfig struct {
	// FailureThreshold is the consecutive retryable failures that open the
	// circuit; 0 means 5.
	FailureThreshold int
	// CoolDown is how long an open circuit rejects calls before one half-open
	// probe is let through; 0 means 30s.
	CoolDown time.Duration
}

// BreakerState is a circuit's state.
type BreakerState string

// Breaker states.
const (
	BreakerClosed   BreakerState = "closed"
	BreakerOpen     BreakerState = "open"
	BreakerHalfOpen BreakerState = "half_open"
)

type breaker struct {
	state    BreakerState
	failures int
	openedAt time.Time
	probing  bool
}

// breakerSet holds one breaker per key ("provider/model"). A sick model stops
// receiving traffic for the cool-down, so requests go straight to fallbacks
// instead of each paying the timeout.
type breakerSet struct {
	cfg BreakerConfig
	now func() time.Time

	mu sync.Mutex
	m  map[breakerID]*breaker
}

func newBreakerSet(cfg BreakerConfig, now func() time.Time) *breakerSet {
	if cfg.FailureThreshold <= 0 {
		cfg.FailureThreshold = 5
	}
	if cfg.CoolDown <= 0 {
		cfg.CoolDown = 30 * time.Second
	}
	return &breakerSet{cfg: cfg, now: now, m: map[breakerID]*breaker{}}
}

func (s *breakerSet) get(key breakerID) *breaker {
	b, ok := s.m[key]
	if !ok {
		b = &breaker{state: BreakerClosed}
		s.m[key] = b
	}
	return b
}

// allow reports whether a call may go out now; in half-open state only one
// probe at a time is allowed.
func (s *breakerSet) allow(key breakerID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.get(key)
	switch b.state {
	case BreakerOpen:
		if s.now().Sub(b.openedAt) < s.cfg.CoolDown {
			return false
		}
		b.state, b.probing = BreakerHalfOpen, true
		return true
	case BreakerHalfOpen:
		if b.probing {
			return false
		}
		b.probing = true
		return true
	default:
		return true
	}
}

func (s *breakerSet) success(key breakerID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.get(key)
	b.state, b.failures, b.probing = BreakerClosed, 0, false
}

// failure records a retryable failure and reports whether the circuit is now open.
func (s *breakerSet) failure(key breakerID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.get(key)
	b.failures++
	if b.state == BreakerHalfOpen || b.failures >= s.cfg.FailureThreshold {
		b.state, b.openedAt, b.probing = BreakerOpen, s.now(), false
	}
	return b.state == BreakerOpen
}

// release ends a half-open probe that neither succeeded nor failed (the
// caller went away), so the next call may probe.
func (s *breakerSet) release(key breakerID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.get(key); b.state == BreakerHalfOpen {
		b.probing = false
	}
}

func (s *breakerSet) state(key breakerID) BreakerState {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.get(key)
	if b.state == BreakerOpen && s.now().Sub(b.openedAt) >= s.cfg.CoolDown {
		return BreakerHalfOpen
	}
	return b.state
}
