// Package respcache is the response cache: exact-match answers to repeated,
// deterministic requests, scoped to one tenant. The gateway looks a request up
// after routing (the key covers the chosen model) and before the reservation,
// and stores a complete answer after it. Entries live in Redis (standalone or
// Cluster, under the tenant's {t:<tenant>} hash tag) or in a bounded in-process
// LRU, and are sealed with AES-GCM bound to the tenant id when a master key is
// configured (always in Redis).
package respcache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/routing"
)

// Entry is one cached answer: the non-streaming body, or the stream's chunk
// payloads (replayed as SSE in the live stream's shape), with the original's
// usage and cost (what a hit avoids).
type Entry struct {
	Model  string          `json:"model"`
	Body   json.RawMessage `json:"body,omitempty"`
	Chunks []string        `json:"chunks,omitempty"`
	Usage  routing.Usage   `json:"usage"`
	Cost   int64           `json:"cost_nano"`
}

// Store keeps sealed values under a tenant-scoped key.
type Store interface {
	Get(ctx context.Context, tenantID, key string) ([]byte, bool, error)
	Set(ctx context.Context, tenantID, key string, val []byte, ttl time.Duration) error
}

// Cache is the response cache. A nil *Cache is disabled.
type Cache struct {
	store  Store
	sealer *seal.Sealer
}

// ErrNeedsMasterKey refuses a shared (Redis) cache without encryption at rest.
var ErrNeedsMasterKey = errors.New("the response cache in Redis needs TOLLGATE_MASTER_KEY: cached answers are encrypted at rest with a tenant-bound key; set the master key or run without TOLLGATE_REDIS_URL")

// New returns a cache over store. sealer may be nil only for an in-process
// store (plaintext in this process's memory); shared stores must pass
// shared=true and are refused without a sealer.
func New(store Store, sealer *seal.Sealer, shared bool) (*Cache, error) {
	if shared && sealer == nil {
		return nil, ErrNeedsMasterKey
	}
	return &Cache{store: store, sealer: sealer}, nil
}

// Key is the cache key of a request: SHA-256 over the tenant id and the
// canonical request (see Canonical). Two tenants never share a key.
func Key(tenantID string, canonical []byte) string {
	h := sha256.New()
	h.Write([]byte(tenantID))
	h.Write([]byte{0})
	h.Write(canonical)
	return hex.EncodeToString(h.Sum(nil))
}

// Canonical is the request as cached: the strictly parsed body with the
// routed model in place of the requested one, without fields that do not
// change the answer (stream options, user, metadata), re-encoded with sorted
// keys. Streaming and non-streaming requests are kept apart.
func Canonical(req *routing.ChatRequest, model string) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(req.Raw, &m); err != nil {
		return nil, err
	}
	for _, k := range []string{"stream_options", "user", "metadata", "store", "prompt_cache_key", "service_tier"} {
		delete(m, k)
	}
	m["model"] = model
	m["stream"] = req.Stream
	api := req.API
	if api == "" {
		api = routing.APIChat
	}
	m["x_api"] = api
	return json.Marshal(m) // map keys sorted: canonical
}

func aad(tenantID, key string) []byte { return []byte("respcache:tenant:" + tenantID + ":" + key) }

// Get returns the tenant's entry under key. Errors (unreachable store, a
// value that does not open) are misses, reported for logging.
func (c *Cache) Get(ctx context.Context, tenantID, key string) (*Entry, error) {
	if c == nil {
		return nil, nil
	}
	raw, ok, err := c.store.Get(ctx, tenantID, key)
	if err != nil || !ok {
		return nil, err
	}
	if c.sealer != nil {
		s, err := c.sealer.Open(raw, aad(tenantID, key))
		if err != nil {
			return nil, err
		}
		raw = []byte(s.Reveal())
	}
	var e Entry
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// Put stores e for the tenant under key unless it is larger than maxBytes.
func (c *Cache) Put(ctx context.Context, tenantID, key string, e *Entry, ttl time.Duration, maxBytes int) error {
	if c == nil || ttl <= 0 {
		return nil
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if maxBytes > 0 && len(raw) > maxBytes {
		return nil
	}
	if c.sealer != nil {
		if raw, err = c.sealer.Seal(seal.Secret(raw), aad(tenantID, key)); err != nil {
			return err
		}
	}
	return c.store.Set(ctx, tenantID, key, raw, ttl)
}
