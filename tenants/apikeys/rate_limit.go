package apikeys

import (
	"math"
	"sync"
	"time"
)

// tokenBucket is a classic token bucket: capacity tokens, refilled at rate per
// second. Safe for concurrent use.
type tokenBucket struct {
	mu       sync.Mutex
	rate     float64
	capacity float64
	tokens   float64
	last     time.Time
	now      func() time.Time
}

func newTokenBucket(rate, capacity float64, now func() time.Time) *tokenBucket {
	return &tokenBucket{rate: rate, capacity: capacity, tokens: capacity, last: now(), now: now}
}

func (b *tokenBucket) take() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	ok, _ := b.takeLocked(b.now())
	return ok
}

// takeLocked takes one token, or reports how long until one is available.
func (b *tokenBucket) takeLocked(now time.Time) (bool, time.Duration) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(b.capacity, b.tokens+el*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
	return false, wait
}

// KeyedLimiter keeps a token bucket per key (email, IP), bounded in size: full
// buckets are forgotten first, since forgetting them changes nothing.
type KeyedLimiter struct {
	mu       sync.Mutex
	rate     float64
	capacity float64
	max      int
	buckets  map[string]*tokenBucket
	now      func() time.Time
}

// NewKeyedLimiter returns a limiter of burst tokens per key, refilled at perMinute,
// tracking at most maxTracked keys. The login throttle of accounts uses it too.
func NewKeyedLimiter(perMinute, burst float64, maxTracked int, now func() time.Time) *KeyedLimiter {
	return &KeyedLimiter{rate: perMinute / 60, capacity: burst, max: maxTracked, buckets: map[string]*tokenBucket{}, now: now}
}

// Allow takes a token from key's bucket, or reports how long to wait.
func (l *KeyedLimiter) Allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.max {
			l.pruneLocked(now)
		}
		b = &tokenBucket{rate: l.rate, capacity: l.capacity, tokens: l.capacity, last: now, now: l.now}
		l.buckets[key] = b
	}
	return b.takeLocked(now)
}

// peek reports whether key's bucket has a token, without taking it.
func (l *KeyedLimiter) peek(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return true, 0
	}
	now := l.now()
	tokens := math.Min(b.capacity, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	if tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - tokens) / b.rate * float64(time.Second))
}

func (l *KeyedLimiter) pruneLocked(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*b.rate >= b.capacity || len(l.buckets) >= l.max {
			delete(l.buckets, k)
		}
	}
}
