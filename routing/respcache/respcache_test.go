package respcache_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/internal/testredis"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/respcache"
)

func TestMain(m *testing.M) { testredis.Main(m) }

const answer = "The capital of France is Paris, said the secret oracle."

func entry() *respcache.Entry {
	return &respcache.Entry{Model: "sim-large", Body: []byte(`{"choices":[{"message":{"content":"` + answer + `"}}]}`),
		Usage: routing.Usage{PromptTokens: 12, CompletionTokens: 9}, Cost: 1234}
}

func sealer(t *testing.T) *seal.Sealer {
	t.Helper()
	s, err := seal.New("test-master-key")
	require.NoError(t, err)
	return s
}

// clock is a settable clock for the in-process store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestKeyIsTenantScopedAndCanonical: the key covers the tenant and the routed
// model, ignores key order and stream options, and tells streams apart.
func TestKeyIsTenantScopedAndCanonical(t *testing.T) {
	parse := func(body string) *routing.ChatRequest {
		r, err := routing.ParseChatRequest([]byte(body))
		require.NoError(t, err)
		return r
	}
	a := parse(`{"model":"auto","temperature":0,"messages":[{"role":"user","content":"hi"}]}`)
	b := parse(`{"messages":[{"content":"hi","role":"user"}],"temperature":0,"model":"auto","user":"u1"}`)
	ca, err := respcache.Canonical(a, "sim-large")
	require.NoError(t, err)
	cb, err := respcache.Canonical(b, "sim-large")
	require.NoError(t, err)
	require.Equal(t, string(ca), string(cb))
	require.Equal(t, respcache.Key("t1", ca), respcache.Key("t1", cb))
	require.NotEqual(t, respcache.Key("t1", ca), respcache.Key("t2", ca))
	other, err := respcache.Canonical(a, "sim-small")
	require.NoError(t, err)
	require.NotEqual(t, string(ca), string(other))
	s := parse(`{"model":"auto","temperature":0,"stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	cs, err := respcache.Canonical(s, "sim-large")
	require.NoError(t, err)
	require.NotEqual(t, string(ca), string(cs))
}

// TestMemoryTTLAndBound: entries expire after their TTL, the store evicts the
// least recently used entries past its byte bound, and entries above the
// policy's max are not stored.
func TestMemoryTTLAndBound(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	mem := respcache.NewMemory(4096, clk.now)
	c, err := respcache.New(mem, nil, false)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, c.Put(ctx, "t1", "k", entry(), time.Minute, 0))
	got, err := c.Get(ctx, "t1", "k")
	require.NoError(t, err)
	require.Equal(t, entry(), got)
	miss, err := c.Get(ctx, "t2", "k")
	require.NoError(t, err)
	require.Nil(t, miss, "another tenant's entry under the same key")
	clk.add(time.Minute)
	got, err = c.Get(ctx, "t1", "k")
	require.NoError(t, err)
	require.Nil(t, got, "expired")
	require.Zero(t, mem.Bytes())

	big := entry()
	big.Body = []byte(`"` + string(bytes.Repeat([]byte("x"), 1500)) + `"`)
	require.NoError(t, c.Put(ctx, "t1", "big", big, time.Minute, 1000))
	got, _ = c.Get(ctx, "t1", "big")
	require.Nil(t, got, "over max_entry_bytes")
	for _, k := range []string{"a", "b", "c"} {
		require.NoError(t, c.Put(ctx, "t1", k, big, time.Minute, 0))
	}
	require.LessOrEqual(t, mem.Bytes(), 4096)
	got, _ = c.Get(ctx, "t1", "a")
	require.Nil(t, got, "least recently used evicted")
	got, _ = c.Get(ctx, "t1", "c")
	require.NotNil(t, got)
}

// TestRedisNeedsMasterKey: a shared store without a sealer is refused.
func TestRedisNeedsMasterKey(t *testing.T) {
	_, err := respcache.New(respcache.NewRedis(nil, "x:"), nil, true)
	require.ErrorIs(t, err, respcache.ErrNeedsMasterKey)
}

// TestRedisStoresSealedWithTTL runs on Redis Cluster and standalone: the value
// in Redis is sealed (no plaintext answer), under the tenant's hash tag, with
// the TTL; a value copied under another tenant does not open; it expires.
func TestRedisStoresSealedWithTTL(t *testing.T) {
	for name, client := range map[string]redis.UniversalClient{"cluster": testredis.Cluster(t), "standalone": testredis.Standalone(t)} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			store := respcache.NewRedis(client, testredis.Prefix(t))
			c, err := respcache.New(store, sealer(t), true)
			require.NoError(t, err)
			require.NoError(t, c.Put(ctx, "t1", "k1", entry(), 1500*time.Millisecond, 0))
			got, err := c.Get(ctx, "t1", "k1")
			require.NoError(t, err)
			require.Equal(t, entry(), got)

			rk := store.RedisKey("t1", "k1")
			require.Contains(t, rk, "{t:t1}")
			raw, err := client.Get(ctx, rk).Bytes()
			require.NoError(t, err)
			require.NotContains(t, string(raw), "Paris")
			require.NotContains(t, string(raw), "sim-large")
			ttl, err := client.PTTL(ctx, rk).Result()
			require.NoError(t, err)
			require.Greater(t, ttl, time.Duration(0))
			require.LessOrEqual(t, ttl, 1500*time.Millisecond)

			// Copied under another tenant's key: does not open, so a miss.
			require.NoError(t, client.Set(ctx, store.RedisKey("t2", "k1"), raw, time.Minute).Err())
			_, err = c.Get(ctx, "t2", "k1")
			require.Error(t, err)
			t.Cleanup(func() { client.Del(context.Background(), store.RedisKey("t2", "k1")) })

			require.Eventually(t, func() bool {
				got, err := c.Get(ctx, "t1", "k1")
				return err == nil && got == nil
			}, 5*time.Second, 100*time.Millisecond, "expired")
		})
	}
}
