package apikeys

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"
)

// knownKeys is every stored key's identity in memory: the first 8 bytes of the
// SHA-256 that api_keys stores, as a set (8 bytes a key: 100,000 keys take about
// 3 MB). A presented key whose hash is not in it does not exist, so a flood of
// random keys is refused without a database query. The set only grows while the
// process runs (a revoked key stays in it and is refused by the lookup), so it can
// never refuse a valid key once that key's hash reached it: at start (one query),
// through the change feed when a key is created or rotated on any instance, and on
// every resync (keys created since the previous load, a minute of overlap).
type knownKeys struct {
	mu  sync.RWMutex
	set map[uint64]struct{}
	// ready is set after the first complete load; before it, lookups go to the
	// database (with the per-address limit in front).
	ready atomic.Bool

	loadMu   sync.Mutex
	loadedAt time.Time // start of the last successful load
	retryAt  time.Time // no new full-load attempt before this, after a failure
}

func (k *knownKeys) prefix(h [32]byte) uint64 { return binary.BigEndian.Uint64(h[:8]) }

// has reports whether a key with hash h may exist.
func (k *knownKeys) has(h [32]byte) bool {
	p := k.prefix(h)
	k.mu.RLock()
	_, ok := k.set[p]
	k.mu.RUnlock()
	return ok
}

// addHex adds a stored hash (64 hex digits).
func (k *knownKeys) addHex(hexHash string) {
	if len(hexHash) < 16 {
		return
	}
	var b [8]byte
	if _, err := hex.Decode(b[:], []byte(hexHash[:16])); err != nil {
		return
	}
	k.mu.Lock()
	k.set[binary.BigEndian.Uint64(b[:])] = struct{}{}
	k.mu.Unlock()
}

func (k *knownKeys) len() int {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.set)
}

// loadKnown reads key hashes into the set: every key not revoked on the first
// load, the keys created since the previous load afterwards.
func (a *KeyAuthenticator) loadKnown(ctx context.Context) error {
	k := &a.known
	k.loadMu.Lock()
	defer k.loadMu.Unlock()
	started := a.now()
	q := a.db.Gorm.WithContext(ctx).Table("api_keys")
	if k.ready.Load() {
		q = q.Where("created_at >= ?", k.loadedAt.Add(-time.Minute).UTC())
	} else {
		if started.Before(k.retryAt) {
			return errKnownKeysUnavailable
		}
		q = q.Where("revoked_at IS NULL")
	}
	var hashes []string
	if err := q.Pluck("hash", &hashes).Error; err != nil {
		if !k.ready.Load() {
			k.retryAt = started.Add(5 * time.Second)
		}
		return err
	}
	for _, h := range hashes {
		k.addHex(h)
	}
	k.loadedAt = started
	k.ready.Store(true)
	return nil
}

// ensureKnown loads the set once, shared by concurrent callers; it reports
// whether the set is usable.
func (a *KeyAuthenticator) ensureKnown(ctx context.Context) bool {
	if a.known.ready.Load() {
		return true
	}
	_, _, _ = a.sf.Do("known-keys", func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := a.loadKnown(lctx); err != nil && err != errKnownKeysUnavailable {
			a.logger.WarnContext(lctx, "loading the known API keys failed; unknown keys are looked up in the database meanwhile", "error", err)
		}
		return nil, nil
	})
	return a.known.ready.Load()
}

// Preload reads every stored key hash now, so the first request pays nothing; the
// authenticator loads it on first use otherwise.
func (a *KeyAuthenticator) Preload(ctx context.Context) error { return a.loadKnown(ctx) }

// KnownKeys returns how many key hashes the in-memory filter holds (metrics, tests).
func (a *KeyAuthenticator) KnownKeys() int { return a.known.len() }
