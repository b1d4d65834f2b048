package gateway_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/internal/testredis"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/routing/respcache"
	"github.com/tollgate-dev/tollgate/tenants"
)

// setupCache is a bundle whose tenant enabled the response cache with the
// given hit price, over an in-process store.
func setupCache(t *testing.T, hitPercent int) *testBundle {
	t.Helper()
	c, err := respcache.New(respcache.NewMemory(0, nil), nil, false)
	require.NoError(t, err)
	b := setupFull(t, 0, routing.DefaultCatalog(), c)
	enableCache(t, b, b.h, hitPercent)
	return b
}

func enableCache(t *testing.T, b *testBundle, h *tenants.Handle, hitPercent int) {
	t.Helper()
	p := routing.DefaultPolicy()
	p.Cache = &routing.CachePolicy{Enabled: true, TTLSeconds: 60, HitPricePercent: hitPercent}
	require.NoError(t, gateway.SavePolicy(t.Context(), h, p, b.catalog))
}

// cachedChat is a request for sim-large with the given temperature ("" for none).
func cachedChat(t *testing.T, temperature string, stream bool) *routing.ChatRequest {
	t.Helper()
	temp := ""
	if temperature != "" {
		temp = `,"temperature":` + temperature
	}
	st := ""
	if stream {
		st = `,"stream":true`
	}
	req, err := routing.ParseChatRequest([]byte(`{"model":"sim-large","max_tokens":40` + temp + st +
		`,"messages":[{"role":"user","content":"What is the capital of France?"}]}`))
	require.NoError(t, err)
	return req
}

func events(t *testing.T, b *testBundle, h *tenants.Handle) []ledger.Event {
	t.Helper()
	require.NoError(t, b.ledger.Flush(t.Context()))
	evs, err := ledger.Recent(t.Context(), h, time.Now().Add(time.Hour), 20)
	require.NoError(t, err)
	return evs
}

// TestResponseCacheHitIsFreeAndRecordedOnce: with the cache on and hits free, a
// repeat of a deterministic request is answered from the cache (same body,
// x-tollgate-cache hit), recorded in the ledger once as cache_hit with its own
// request id, the original's tokens, no cost, and the avoided cost as saving;
// the meter is not charged. Non-deterministic requests are not cached unless
// they ask, and x-tollgate-cache: off bypasses the cache.
func TestResponseCacheHitIsFreeAndRecordedOnce(t *testing.T) {
	t.Parallel()
	b := setupCache(t, 0)
	bud := b.setBudget(t, budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: billing.NanoPerUSD, Hard: true})

	first, err := b.svc.Chat(t.Context(), b.caller, ids(), cachedChat(t, "0", false))
	require.NoError(t, err)
	require.Equal(t, gateway.CacheMiss, first.Cache)
	require.Positive(t, first.Cost)
	hitIDs := ids()
	hit, err := b.svc.Chat(t.Context(), b.caller, hitIDs, cachedChat(t, "0.0", false))
	require.NoError(t, err)
	require.Equal(t, gateway.CacheHit, hit.Cache)
	require.Equal(t, string(first.Body), string(hit.Body))
	require.Equal(t, first.Model, hit.Model)
	require.Zero(t, hit.Cost)

	evs := events(t, b, b.h)
	require.Len(t, evs, 2)
	h, o := evs[0], evs[1]
	require.Equal(t, ledger.StatusOK, o.Status)
	require.Equal(t, ledger.StatusCacheHit, h.Status)
	require.Equal(t, hitIDs.Server, h.RequestID)
	require.NotEqual(t, o.RequestID, h.RequestID)
	require.Equal(t, [2]int64{o.InputTokens, o.OutputTokens}, [2]int64{h.InputTokens, h.OutputTokens})
	require.Zero(t, h.Cost)
	require.Equal(t, o.Cost, h.CacheSaved)
	require.Equal(t, first.Cost, b.usage(t, bud).Spent, "a free hit charges nothing")
	require.Zero(t, b.usage(t, bud).Reserved)

	// Not deterministic: not cached (no header), unless asked with x-tollgate-cache: on.
	r, err := b.svc.Chat(t.Context(), b.caller, ids(), cachedChat(t, "0.7", false))
	require.NoError(t, err)
	require.Empty(t, r.Cache)
	on := cachedChat(t, "0.7", false)
	on.CacheMode = "on"
	r, err = b.svc.Chat(t.Context(), b.caller, ids(), on)
	require.NoError(t, err)
	require.Equal(t, gateway.CacheMiss, r.Cache)
	on = cachedChat(t, "0.7", false)
	on.CacheMode = "on"
	r, err = b.svc.Chat(t.Context(), b.caller, ids(), on)
	require.NoError(t, err)
	require.Equal(t, gateway.CacheHit, r.Cache)
	off := cachedChat(t, "0", false)
	off.CacheMode = "off"
	r, err = b.svc.Chat(t.Context(), b.caller, ids(), off)
	require.NoError(t, err)
	require.Empty(t, r.Cache)
	require.Equal(t, ledger.StatusOK, events(t, b, b.h)[0].Status)
}

// TestResponseCacheNeverCrossesTenants: two tenants sending the same request
// over the same cache each miss first.
func TestResponseCacheNeverCrossesTenants(t *testing.T) {
	t.Parallel()
	b := setupCache(t, 0)
	tn, err := b.reg.Create(t.Context(), tenants.CreateInput{Name: "globex"})
	require.NoError(t, err)
	h2, err := b.reg.Handle(tenants.SystemPrincipal(tn, "test"))
	require.NoError(t, err)
	enableCache(t, b, h2, 0)
	other := gateway.Caller{Handle: h2, KeyID: "key_2"}

	r, err := b.svc.Chat(t.Context(), b.caller, ids(), cachedChat(t, "0", false))
	require.NoError(t, err)
	require.Equal(t, gateway.CacheMiss, r.Cache)
	r, err = b.svc.Chat(t.Context(), other, ids(), cachedChat(t, "0", false))
	require.NoError(t, err)
	require.Equal(t, gateway.CacheMiss, r.Cache, "tenant B must not get tenant A's answer")
	r, err = b.svc.Chat(t.Context(), other, ids(), cachedChat(t, "0", false))
	require.NoError(t, err)
	require.Equal(t, gateway.CacheHit, r.Cache)
	require.Equal(t, []string{ledger.StatusCacheHit, ledger.StatusOK}, []string{events(t, b, h2)[0].Status, events(t, b, h2)[1].Status})
	require.Len(t, events(t, b, b.h), 1)
}

// TestResponseCacheHitPriceRespectsHardBudget: with hit_price_percent 50 a hit
// costs half the avoided cost, settled in the meter and the ledger; a hard
// budget with less left than the hit price refuses the hit (nothing upstream).
func TestResponseCacheHitPriceRespectsHardBudget(t *testing.T) {
	t.Parallel()
	b := setupCache(t, 50)
	first, err := b.svc.Chat(t.Context(), b.caller, ids(), cachedChat(t, "0", false))
	require.NoError(t, err)
	price := first.Cost * 50 / 100
	require.Positive(t, price)

	// A key budget with room for one hit and a half.
	bud := b.setBudget(t, budget.SetInput{Scope: meter.ScopeKey, ScopeID: b.caller.KeyID, Period: meter.PeriodMonth, Limit: price * 3 / 2, Hard: true})
	b.budgets.Invalidate(b.h.TenantID())
	hit, err := b.svc.Chat(t.Context(), b.caller, ids(), cachedChat(t, "0", false))
	require.NoError(t, err)
	require.Equal(t, gateway.CacheHit, hit.Cache)
	require.Equal(t, price, hit.Cost)
	require.Equal(t, price, b.usage(t, bud).Spent)

	_, err = b.svc.Chat(t.Context(), b.caller, ids(), cachedChat(t, "0", false))
	var ke *errkind.Error
	require.True(t, errors.As(err, &ke), "%v", err)
	require.Equal(t, errkind.BudgetExceeded, ke.Kind)

	evs := events(t, b, b.h)
	require.Len(t, evs, 2, "the refused hit is not recorded")
	require.Equal(t, ledger.StatusCacheHit, evs[0].Status)
	require.Equal(t, price, evs[0].Cost)
	require.Equal(t, first.Cost-price, evs[0].CacheSaved)
}

// TestResponseCacheReplaysStreams: a complete stream is stored and its repeat
// is replayed as the same SSE events (with the usage chunk only when asked),
// billed as a hit.
func TestResponseCacheReplaysStreams(t *testing.T) {
	t.Parallel()
	b := setupCache(t, 0)
	pump := func(req *routing.ChatRequest) (string, string) {
		call, err := b.svc.ChatStream(t.Context(), b.caller, ids(), req)
		require.NoError(t, err)
		var buf bytes.Buffer
		_, perr := call.Stream.WriteTo(&buf)
		call.Finish(t.Context(), perr)
		return buf.String(), call.Cache
	}
	live, c := pump(cachedChat(t, "0", true))
	require.Equal(t, gateway.CacheMiss, c)
	require.True(t, strings.HasSuffix(live, "data: [DONE]\n\n"))
	replay, c := pump(cachedChat(t, "0", true))
	require.Equal(t, gateway.CacheHit, c)
	require.Equal(t, live, replay)
	require.Greater(t, strings.Count(replay, "data: "), 2)

	// A non-streaming repeat is a separate entry.
	r, err := b.svc.Chat(t.Context(), b.caller, ids(), cachedChat(t, "0", false))
	require.NoError(t, err)
	require.Equal(t, gateway.CacheMiss, r.Cache)

	evs := events(t, b, b.h)
	require.Len(t, evs, 3)
	require.Equal(t, ledger.StatusCacheHit, evs[1].Status)
	require.Equal(t, evs[2].OutputTokens, evs[1].OutputTokens)
	require.Positive(t, evs[1].OutputTokens)
	require.Zero(t, evs[1].Cost)
}

// TestResponseCacheExpiresAfterTTL: past ttl_seconds the repeat goes upstream again.
func TestResponseCacheExpiresAfterTTL(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	clk := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c, err := respcache.New(respcache.NewMemory(0, clk), nil, false)
	require.NoError(t, err)
	b := setupFull(t, 0, routing.DefaultCatalog(), c)
	enableCache(t, b, b.h, 0) // ttl 60 s
	states := func() string {
		r, err := b.svc.Chat(t.Context(), b.caller, ids(), cachedChat(t, "0", false))
		require.NoError(t, err)
		return r.Cache
	}
	require.Equal(t, gateway.CacheMiss, states())
	mu.Lock()
	now = now.Add(59 * time.Second)
	mu.Unlock()
	require.Equal(t, gateway.CacheHit, states())
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	require.Equal(t, gateway.CacheMiss, states(), "expired")
	require.Equal(t, gateway.CacheHit, states())
}

// TestResponseCacheOnRedisClusterIsSealed: over Redis Cluster the hit works
// and the stored value holds no plaintext of the answer.
func TestResponseCacheOnRedisClusterIsSealed(t *testing.T) {
	t.Parallel()
	client := testredis.Cluster(t)
	sealer, err := seal.New("test-master-key")
	require.NoError(t, err)
	store := respcache.NewRedis(client, testredis.Prefix(t))
	c, err := respcache.New(store, sealer, true)
	require.NoError(t, err)
	b := setupFull(t, 0, routing.DefaultCatalog(), c)
	enableCache(t, b, b.h, 0)

	req := cachedChat(t, "0", false)
	first, err := b.svc.Chat(t.Context(), b.caller, ids(), req)
	require.NoError(t, err)
	require.Equal(t, gateway.CacheMiss, first.Cache)
	hit, err := b.svc.Chat(t.Context(), b.caller, ids(), cachedChat(t, "0", false))
	require.NoError(t, err)
	require.Equal(t, gateway.CacheHit, hit.Cache)
	require.Equal(t, string(first.Body), string(hit.Body))

	canon, err := respcache.Canonical(req, first.Model)
	require.NoError(t, err)
	rk := store.RedisKey(string(b.h.TenantID()), respcache.Key(string(b.h.TenantID()), canon))
	raw, err := client.Get(t.Context(), rk).Bytes()
	require.NoError(t, err)
	var body struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
		} `json:"choices"`
	}
	require.NoError(t, json.Unmarshal(first.Body, &body))
	answer := body.Choices[0].Message.Content
	require.NotEmpty(t, answer)
	require.NotContains(t, string(raw), answer)
	require.NotContains(t, string(raw), `"choices"`)
}

// TestResponseCacheHitCountsAgainstRateLimit: a hit is a request of the key.
func TestResponseCacheHitCountsAgainstRateLimit(t *testing.T) {
	t.Parallel()
	b := setupCache(t, 0)
	caller := b.caller
	caller.RequestsPerMinute = 2
	_, err := b.svc.Chat(t.Context(), caller, ids(), cachedChat(t, "0", false))
	require.NoError(t, err)
	r, err := b.svc.Chat(t.Context(), caller, ids(), cachedChat(t, "0", false))
	require.NoError(t, err)
	require.Equal(t, gateway.CacheHit, r.Cache)
	_, err = b.svc.Chat(t.Context(), caller, ids(), cachedChat(t, "0", false))
	var ke *errkind.Error
	require.True(t, errors.As(err, &ke), "%v", err)
	require.Equal(t, errkind.RateLimited, ke.Kind)
}

// TestResponseCacheReplayShowsUsageOnlyWhenAsked: stream_options is not part
// of the key; the replay sends the usage chunk only to a client that asked,
// like a live stream.
func TestResponseCacheReplayShowsUsageOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	b := setupCache(t, 0)
	pump := func(body string) (string, string) {
		req, err := routing.ParseChatRequest([]byte(body))
		require.NoError(t, err)
		call, err := b.svc.ChatStream(t.Context(), b.caller, ids(), req)
		require.NoError(t, err)
		var buf bytes.Buffer
		_, perr := call.Stream.WriteTo(&buf)
		call.Finish(t.Context(), perr)
		return buf.String(), call.Cache
	}
	const plain = `{"model":"sim-large","temperature":0,"stream":true,"max_tokens":30,"messages":[{"role":"user","content":"usage?"}]}`
	const withUsage = `{"model":"sim-large","temperature":0,"stream":true,"stream_options":{"include_usage":true},"max_tokens":30,"messages":[{"role":"user","content":"usage?"}]}`
	live, c := pump(plain)
	require.Equal(t, gateway.CacheMiss, c)
	require.NotContains(t, live, `"usage":{`)
	replay, c := pump(withUsage)
	require.Equal(t, gateway.CacheHit, c)
	require.Contains(t, replay, `"usage":{`)
	replay, c = pump(plain)
	require.Equal(t, gateway.CacheHit, c)
	require.Equal(t, live, replay)
}
