package apikeys

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/internal/database"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
)

// Errors of key authentication. They are preallocated: the refusal path allocates
// nothing either.
var (
	// ErrKeyInvalid: malformed, unknown, revoked or expired key (all look alike, so
	// a caller learns nothing about which keys exist).
	ErrKeyInvalid error = &errkind.Error{Kind: errkind.Unauthenticated, Code: "invalid_api_key",
		Message: "invalid API key; create one in the console or with `tollgate keys create`"}
	// ErrTenantSuspended: the key is valid but its tenant is suspended.
	ErrTenantSuspended error = &errkind.Error{Kind: errkind.Forbidden, Code: "tenant_suspended",
		Message: "this tenant is suspended; contact the platform operator"}
	// ErrKeyLookupThrottled: too many invalid keys came from this client address
	// (or, while the known-key filter is not loaded, from everywhere); its error
	// carries the Retry-After delay.
	ErrKeyLookupThrottled error = errThrottled

	errThrottled = &errkind.Error{Kind: errkind.RateLimited, Code: "rate_limit_exceeded",
		Message: "too many invalid API keys from this address; retry after the Retry-After delay with a valid key"}

	errKnownKeysUnavailable = errors.New("known API keys not loaded yet")
)

// throttled is ErrKeyLookupThrottled with its Retry-After delay (at least a second).
func throttled(wait time.Duration) error { return errThrottled.WithRetryAfter(max(wait, time.Second)) }

// KeyAuthConfig tunes the key cache.
type KeyAuthConfig struct {
	// CacheSize bounds the number of cached keys; 0 means 10,000. When full, random
	// entries are evicted (they are re-read on next use).
	CacheSize int
	// NegativeTTL is how long an unknown, revoked or expired key is remembered as
	// bad, so repeating it costs no database query. 0 means 10s.
	NegativeTTL time.Duration
	// NegativeSize bounds the negative cache; 0 means 10,000.
	NegativeSize int
	// LookupsPerSecond caps database lookups of uncached keys per instance while
	// the known-key filter is not loaded (normally a random key never reaches the
	// database); 0 means 200, burst the same.
	LookupsPerSecond int
	// UnknownChecksPerSecond is how many keys the known-key filter does not hold
	// are still looked up in the database per instance (burst the same): a key
	// created on another instance a moment ago, before the change feed told this
	// one, is accepted at once; beyond it, unknown keys are refused in memory. 0
	// means 5; negative means none (such a key then waits for the change feed).
	UnknownChecksPerSecond int
	// MissBurst is how many invalid keys one client address may present at once
	// before it gets 429 with Retry-After; 0 means 30. Valid keys never count.
	MissBurst float64
	// MissesPerMinute refills a client address's invalid-key allowance; 0 means 60.
	MissesPerMinute float64
	// MaxTrackedClients bounds the client addresses tracked; 0 means 100,000.
	MaxTrackedClients int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// KeyAuthenticator authenticates API keys on the /v1 hot path. A cached key costs a
// SHA-256 of the presented key, one map read under a read lock and an atomic store
// (about a microsecond, no allocation); an existing key not cached yet costs one
// indexed query, shared by concurrent requests for the same key; a key that does
// not exist is refused from memory by the filter of known key hashes (see
// knownKeys), and invalid keys count against their client address only
// (AuthenticateFrom), so a flood of random keys neither reaches the database nor
// throttles anyone else's valid key.
//
// The cache holds a key with its tenant. It drops entries on the change feed (key
// revoked or rotated, tenant suspended), re-verifies all of them on resync, and
// re-checks expiry on every request, so a revoked key is refused everywhere within a
// second.
type KeyAuthenticator struct {
	db     *database.DB
	cfg    KeyAuthConfig
	now    func() time.Time
	logger *slog.Logger

	mu      sync.RWMutex
	entries map[[32]byte]*keyEntry

	negMu sync.Mutex
	neg   map[[32]byte]int64 // hash → unix nanos until which it is known bad

	sf      singleflight.Group
	lookups *tokenBucket
	// known filters out keys that do not exist; misses limits invalid keys per
	// client address, apart from everything valid keys go through.
	known  knownKeys
	checks *tokenBucket // database checks of keys the filter does not hold
	misses *KeyedLimiter
	stats  struct{ dbLookups, filtered, throttled atomic.Int64 }

	// usedMu guards used: last-use times of evicted or invalidated entries that
	// the flusher has not written yet.
	usedMu sync.Mutex
	used   map[string]int64
}

type keyEntry struct {
	key AuthenticatedKey
	// hash is the key's SHA-256, for resync queries.
	hash [32]byte
	// expiresAt is unix nanos, 0 for never.
	expiresAt int64
	suspended bool
	// lastUsed is unix nanos of the latest authentication; flushed is the value last
	// written to the database. Both atomic: the hot path only stores.
	lastUsed atomic.Int64
	flushed  atomic.Int64
}

// NewKeyAuthenticator returns an authenticator subscribed to feed.
func NewKeyAuthenticator(db *database.DB, feed *tenants.ChangeFeed, cfg KeyAuthConfig, logger *slog.Logger) *KeyAuthenticator {
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = 10_000
	}
	if cfg.NegativeTTL <= 0 {
		cfg.NegativeTTL = 10 * time.Second
	}
	if cfg.NegativeSize <= 0 {
		cfg.NegativeSize = 10_000
	}
	if cfg.LookupsPerSecond <= 0 {
		cfg.LookupsPerSecond = 200
	}
	if cfg.UnknownChecksPerSecond == 0 {
		cfg.UnknownChecksPerSecond = 5
	}
	if cfg.MissBurst <= 0 {
		cfg.MissBurst = 30
	}
	if cfg.MissesPerMinute <= 0 {
		cfg.MissesPerMinute = 60
	}
	if cfg.MaxTrackedClients <= 0 {
		cfg.MaxTrackedClients = 100_000
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	a := &KeyAuthenticator{db: db, cfg: cfg, now: now, logger: logger.With("component", "tenants.key_auth"),
		entries: make(map[[32]byte]*keyEntry, min(cfg.CacheSize, 1024)), neg: map[[32]byte]int64{},
		lookups: newTokenBucket(float64(cfg.LookupsPerSecond), float64(cfg.LookupsPerSecond), now), used: map[string]int64{},
		misses: NewKeyedLimiter(cfg.MissesPerMinute, cfg.MissBurst, cfg.MaxTrackedClients, now),
		checks: newTokenBucket(float64(max(cfg.UnknownChecksPerSecond, 0)), float64(max(cfg.UnknownChecksPerSecond, 0)), now)}
	a.known.set = map[uint64]struct{}{}
	feed.Subscribe(a.onChange)
	return a
}

// Authenticate returns the key presented (the full "tg_..." secret). It refuses
// malformed, unknown, revoked and expired keys (ErrKeyInvalid) and keys of
// suspended tenants (ErrTenantSuspended).
func (a *KeyAuthenticator) Authenticate(ctx context.Context, presented string) (AuthenticatedKey, error) {
	k, err := a.AuthenticateRef(ctx, presented)
	if err != nil {
		return AuthenticatedKey{}, err
	}
	return *k, nil
}

// AuthenticateRef is Authenticate returning the cached key itself, saving a copy on
// the hot path. The value is shared and immutable: never modify it.
func (a *KeyAuthenticator) AuthenticateRef(ctx context.Context, presented string) (*AuthenticatedKey, error) {
	return a.AuthenticateFrom(ctx, presented, "")
}

// AuthenticateFrom is AuthenticateRef for a request from client (its address, as
// the server resolved it behind trusted proxies). Invalid keys count against that
// address alone: it gets ErrKeyInvalid until its allowance (MissBurst, refilled at
// MissesPerMinute) is used up, then ErrKeyLookupThrottled with a Retry-After
// delay. Valid keys are never throttled, whatever their address sends: a cached
// key is served from memory, a known one is read from the database once, and an
// unknown one is refused from memory (the filter of known keys) beyond
// UnknownChecksPerSecond database checks for keys created elsewhere a moment ago.
func (a *KeyAuthenticator) AuthenticateFrom(ctx context.Context, presented, client string) (*AuthenticatedKey, error) {
	return a.AuthenticateFor(ctx, presented, fixedAddr(client))
}

// ClientAddr yields a request's client address (gin.Context's ClientIP).
type ClientAddr interface{ ClientIP() string }

type fixedAddr string

func (f fixedAddr) ClientIP() string { return string(f) }

// AuthenticateFor is AuthenticateFrom asking client for its address only when
// it counts: for a refusal or a cache miss. A cached valid key, almost every
// request, never resolves it (behind trusted proxies that parses headers).
func (a *KeyAuthenticator) AuthenticateFor(ctx context.Context, presented string, client ClientAddr) (*AuthenticatedKey, error) {
	if !LooksLikeAPIKey(presented) {
		return nil, a.refuse(client.ClientIP(), ErrKeyInvalid)
	}
	var buf [APIKeyLen]byte
	copy(buf[:], presented)
	h := sha256.Sum256(buf[:])
	now := a.now().UnixNano()

	a.mu.RLock()
	e := a.entries[h]
	a.mu.RUnlock()
	if e == nil {
		var err error
		addr := client.ClientIP()
		if e, err = a.miss(ctx, h, now, addr); err != nil {
			return nil, a.refuse(addr, err)
		}
	}
	if e.expiresAt != 0 && now >= e.expiresAt {
		return nil, a.refuse(client.ClientIP(), ErrKeyInvalid)
	}
	if e.suspended {
		return nil, ErrTenantSuspended
	}
	e.lastUsed.Store(now)
	return &e.key, nil
}

// refuse counts an invalid key against its client address: err while the address
// has allowance left, then ErrKeyLookupThrottled with the delay until it has.
func (a *KeyAuthenticator) refuse(client string, err error) error {
	if err != ErrKeyInvalid {
		return err
	}
	if ok, wait := a.misses.Allow(clientBucket(client)); !ok {
		a.stats.throttled.Add(1)
		return throttled(wait)
	}
	return ErrKeyInvalid
}

// clientBucket is the miss allowance an address draws from: its own for IPv4, its
// /64 for IPv6 (one host usually holds a whole /64, and would otherwise get a
// fresh allowance per address).
func clientBucket(client string) string {
	ip, err := netip.ParseAddr(client)
	if err != nil || !ip.Is6() || ip.Is4In6() {
		return client
	}
	p, err := ip.Prefix(64)
	if err != nil {
		return client
	}
	return p.String()
}

func (a *KeyAuthenticator) miss(ctx context.Context, h [32]byte, now int64, client string) (*keyEntry, error) {
	a.negMu.Lock()
	until, bad := a.neg[h]
	a.negMu.Unlock()
	if bad && now < until {
		return nil, ErrKeyInvalid
	}
	filtered := a.ensureKnown(ctx)
	unknown := filtered && !a.known.has(h)
	if !filtered {
		// Without the filter every unknown key costs a query: an address that
		// already used up its allowance is refused before it gets one.
		if ok, wait := a.misses.peek(clientBucket(client)); !ok {
			a.stats.throttled.Add(1)
			return nil, throttled(wait)
		}
	}
	hexHash := hex.EncodeToString(h[:])
	v, err, _ := a.sf.Do(hexHash, func() (any, error) {
		// One check per key however many requests present it at once: a key
		// created elsewhere a moment ago and used by many connections costs one
		// (a caller that missed the cache just before the check filled it reads it).
		a.mu.RLock()
		e := a.entries[h]
		a.mu.RUnlock()
		if e != nil {
			return e, nil
		}
		if unknown && !a.checks.take() {
			// Unknown here, and the few database checks a second for keys created
			// elsewhere a moment ago are spent: refused in memory.
			a.stats.filtered.Add(1)
			return nil, ErrKeyInvalid
		}
		if !filtered && !a.lookups.take() {
			return nil, throttled(time.Second)
		}
		a.stats.dbLookups.Add(1)
		// Shared by every waiter: one caller's cancellation must not fail the others.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return a.load(lctx, h, hexHash)
	})
	if err != nil {
		return nil, err
	}
	return v.(*keyEntry), nil
}

// KeyAuthStats counts what the authenticator did since start.
type KeyAuthStats struct {
	// DBLookups are keys looked up in the database (not cached, not filtered out).
	DBLookups int64
	// Filtered are unknown keys refused from memory by the known-key filter.
	Filtered int64
	// Throttled are invalid keys answered 429 because their address sent too many.
	Throttled int64
}

// Stats returns the authenticator's counters.
func (a *KeyAuthenticator) Stats() KeyAuthStats {
	return KeyAuthStats{DBLookups: a.stats.dbLookups.Load(), Filtered: a.stats.filtered.Load(), Throttled: a.stats.throttled.Load()}
}

// keyWithTenant is a key row joined with its tenant's row.
type keyWithTenant struct {
	// Key is a named embedded field: gorm skips unexported anonymous fields, which
	// left every key column empty.
	Key         apiKeyRow `gorm:"embedded"`
	TStatus     string
	TSlug       string
	TName       string
	TSchemaName string
}

func (a *KeyAuthenticator) load(ctx context.Context, h [32]byte, hexHash string) (*keyEntry, error) {
	var row keyWithTenant
	err := a.db.Gorm.WithContext(ctx).Table("api_keys k").
		Select("k.*, t.status AS t_status, t.slug AS t_slug, t.name AS t_name, t.schema_name AS t_schema_name").
		Joins("JOIN tenants t ON t.id = k.tenant_id").Where("k.hash = ?", hexHash).Take(&row).Error
	now := a.now()
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && (row.Key.RevokedAt != nil || (row.Key.ExpiresAt != nil && !row.Key.ExpiresAt.After(now)))) {
		a.rememberBad(h, now)
		return nil, ErrKeyInvalid
	}
	if err != nil {
		return nil, errkind.Wrap(errkind.Unavailable, err, "cannot check the API key right now; retry")
	}
	e := &keyEntry{hash: h, suspended: tenants.Status(row.TStatus) != tenants.StatusActive}
	e.key = AuthenticatedKey{ID: row.Key.ID, Name: row.Key.Name, Prefix: row.Key.Prefix, Scopes: decodeList(row.Key.Scopes), Models: decodeList(row.Key.Models),
		RPMLimit: row.Key.RPMLimit, TPMLimit: row.Key.TPMLimit, CreatedBy: memberOf(row.Key.CreatedBy), ExpiresAt: utcPtr(row.Key.ExpiresAt),
		Tenant: tenants.Tenant{ID: tenants.ID(row.Key.TenantID), Slug: row.TSlug, Name: row.TName, SchemaName: row.TSchemaName, Status: tenants.Status(row.TStatus)}}
	if row.Key.ExpiresAt != nil {
		e.expiresAt = row.Key.ExpiresAt.UnixNano()
	}
	if row.Key.LastUsedAt != nil {
		e.flushed.Store(row.Key.LastUsedAt.UnixNano())
	}
	a.mu.Lock()
	if len(a.entries) >= a.cfg.CacheSize {
		a.evictLocked(max(1, a.cfg.CacheSize/100))
	}
	a.entries[h] = e
	a.mu.Unlock()
	a.known.addHex(hexHash) // found before the change feed said so
	return e, nil
}

// evictLocked drops n entries; Go's map iteration order is random, which makes this
// random eviction. Unflushed last-use marks are kept for the flusher.
func (a *KeyAuthenticator) evictLocked(n int) {
	for h, e := range a.entries {
		if n == 0 {
			return
		}
		a.keepUsed(e)
		delete(a.entries, h)
		n--
	}
}

func (a *KeyAuthenticator) rememberBad(h [32]byte, now time.Time) {
	a.negMu.Lock()
	defer a.negMu.Unlock()
	if len(a.neg) >= a.cfg.NegativeSize {
		n := now.UnixNano()
		for k, until := range a.neg {
			if until <= n || len(a.neg) >= a.cfg.NegativeSize {
				delete(a.neg, k)
			}
		}
	}
	a.neg[h] = now.Add(a.cfg.NegativeTTL).UnixNano()
}

// onChange drops what a change made stale.
func (a *KeyAuthenticator) onChange(ctx context.Context, c tenants.Change) {
	switch c.Kind {
	case tenants.ChangeKey:
		b, err := hex.DecodeString(c.Ref)
		if err != nil || len(b) != 32 {
			return
		}
		// A key created or rotated anywhere is known here from now on.
		a.known.addHex(c.Ref)
		var h [32]byte
		copy(h[:], b)
		a.mu.Lock()
		if e, ok := a.entries[h]; ok {
			a.keepUsed(e)
			delete(a.entries, h)
		}
		a.mu.Unlock()
		a.negMu.Lock()
		delete(a.neg, h)
		a.negMu.Unlock()
	case tenants.ChangeTenant:
		a.mu.Lock()
		for h, e := range a.entries {
			if string(e.key.Tenant.ID) == c.Ref {
				a.keepUsed(e)
				delete(a.entries, h)
			}
		}
		a.mu.Unlock()
	case tenants.ChangeResync:
		if err := a.Resync(ctx); err != nil {
			a.logger.WarnContext(ctx, "key cache resync failed", "error", err)
		}
		// Keys created while a notification was lost (listener reconnecting).
		if a.known.ready.Load() {
			if err := a.loadKnown(ctx); err != nil {
				a.logger.WarnContext(ctx, "known API keys reload failed", "error", err)
			}
		}
	}
}

// Resync re-reads every cached key and its tenant and drops entries that changed
// (revoked, expiry moved, tenant status changed, deleted). It is the safety net
// behind the change feed.
func (a *KeyAuthenticator) Resync(ctx context.Context) error {
	a.mu.RLock()
	cached := make(map[string]*keyEntry, len(a.entries))
	for h, e := range a.entries {
		cached[hex.EncodeToString(h[:])] = e
	}
	a.mu.RUnlock()
	hashes := make([]string, 0, len(cached))
	for h := range cached {
		hashes = append(hashes, h)
	}
	fresh := map[string]keyWithTenant{}
	for start := 0; start < len(hashes); start += 500 {
		var rows []keyWithTenant
		err := a.db.Gorm.WithContext(ctx).Table("api_keys k").
			Select("k.*, t.status AS t_status").Joins("JOIN tenants t ON t.id = k.tenant_id").
			Where("k.hash IN ?", hashes[start:min(start+500, len(hashes))]).Find(&rows).Error
		if err != nil {
			return err
		}
		for _, r := range rows {
			fresh[r.Key.Hash] = r
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for hx, e := range cached {
		r, ok := fresh[hx]
		var exp int64
		if ok && r.Key.ExpiresAt != nil {
			exp = r.Key.ExpiresAt.UnixNano()
		}
		if !ok || r.Key.RevokedAt != nil || exp != e.expiresAt || (tenants.Status(r.TStatus) != tenants.StatusActive) != e.suspended {
			if cur, still := a.entries[e.hash]; still && cur == e {
				a.keepUsed(e)
				delete(a.entries, e.hash)
			}
		}
	}
	return nil
}

// CacheLen returns the number of cached keys (metrics, tests).
func (a *KeyAuthenticator) CacheLen() int {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return len(a.entries)
}

// memberOf keeps created_by when it names a user; keys made by the CLI or the
// system ("cli") belong to no member.
func memberOf(createdBy string) string {
	if tenants.ID(createdBy).Valid() {
		return createdBy
	}
	return ""
}
