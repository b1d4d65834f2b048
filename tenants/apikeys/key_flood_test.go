package apikeys

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/tenants"
)

// randomKey returns a well-formed key that exists nowhere.
func randomKey(t testing.TB) string {
	body, err := seal.RandomBase62(apiKeyRandomBytes)
	require.NoError(t, err)
	return APIKeyPrefix + body
}

// A flood of random keys from one address starves no valid key of another tenant
// (before: 4 of 6 got 429 from the shared lookup budget): misses are refused in
// memory, counted against the flooding address alone (401 until its allowance is
// used up, then 429 with Retry-After), and never reach the database.
func TestKeyAuthMissFloodThrottlesOnlyItsAddress(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setupKeys(t, backend, KeyAuthConfig{MissBurst: 30, MissesPerMinute: 60})
			ctx := t.Context()
			// Given six valid keys of six tenants, never used yet (not cached)
			var secrets []string
			for i := range 6 {
				tn, err := b.reg.Create(ctx, tenants.CreateInput{Name: "victim " + itoa(i)})
				require.NoError(t, err)
				_, s, err := b.keys.Create(ctx, CreateKeyInput{TenantID: tn.ID, Name: "prod"})
				require.NoError(t, err)
				secrets = append(secrets, s.Reveal())
			}
			before := b.queries.Load()

			// When one address floods 2,000 random keys from 8 goroutines while the
			// valid keys are used from other addresses
			const flooder = "203.0.113.66"
			var invalid, throttled atomic.Int64
			var retryAfter atomic.Int64
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for range 250 {
						_, err := b.auth.AuthenticateFrom(ctx, randomKey(t), flooder)
						switch {
						case errors.Is(err, ErrKeyLookupThrottled) && errkind.RetryAfterOf(err) > 0:
							throttled.Add(1)
							retryAfter.Store(int64(errkind.RetryAfterOf(err)))
						case errors.Is(err, ErrKeyInvalid):
							invalid.Add(1)
						default:
							t.Errorf("unexpected answer to a random key: %v", err)
						}
					}
				})
			}
			for i, s := range secrets {
				k, err := b.auth.AuthenticateFrom(ctx, s, "192.0.2."+itoa(i+1))
				require.NoError(t, err, "valid key %d refused during the flood", i)
				require.Equal(t, "prod", k.Name)
			}
			wg.Wait()

			// Then every valid key was served, the flood got 401s then 429s with a
			// Retry-After, and not one of its keys reached the database
			require.Equal(t, int64(30), invalid.Load(), "401 until the address's allowance is used up")
			require.Equal(t, int64(2000-30), throttled.Load())
			require.GreaterOrEqual(t, time.Duration(retryAfter.Load()), time.Second)
			// (a few database checks a second are kept for keys created elsewhere
			// a moment ago: 5 at once, then 5 a second)
			flood := b.queries.Load() - before - 6
			t.Logf("database queries for 2,000 unknown keys: %d", flood)
			require.LessOrEqual(t, flood, int64(5+5), "one query per valid key, a few for the flood")
			require.GreaterOrEqual(t, b.auth.Stats().Filtered, int64(2000-10))
			// And the flooding address may still use a valid key; another address's
			// first bad key is a plain 401
			_, err := b.auth.AuthenticateFrom(ctx, secrets[0], flooder)
			require.NoError(t, err)
			_, err = b.auth.AuthenticateFrom(ctx, randomKey(t), "192.0.2.200")
			require.ErrorIs(t, err, ErrKeyInvalid)
			require.NotErrorIs(t, err, ErrKeyLookupThrottled)
		})
	}
}

// An IPv6 host cannot multiply its allowance by rotating addresses in its /64.
func TestKeyAuthMissAllowancePerIPv6Prefix(t *testing.T) {
	t.Parallel()
	b := setupKeys(t, "sqlite", KeyAuthConfig{MissBurst: 3, MissesPerMinute: 1})
	ctx := t.Context()
	for i := range 3 {
		_, err := b.auth.AuthenticateFrom(ctx, randomKey(t), "2001:db8:1:2::"+itoa(i+1))
		require.ErrorIs(t, err, ErrKeyInvalid)
		require.NotErrorIs(t, err, ErrKeyLookupThrottled)
	}
	_, err := b.auth.AuthenticateFrom(ctx, randomKey(t), "2001:db8:1:2:ffff::9")
	require.ErrorIs(t, err, ErrKeyLookupThrottled, "same /64")
	_, err = b.auth.AuthenticateFrom(ctx, randomKey(t), "2001:db8:1:3::1")
	require.NotErrorIs(t, err, ErrKeyLookupThrottled, "another /64")
	require.Equal(t, "203.0.113.7", clientBucket("203.0.113.7"))
	require.Equal(t, "::ffff:203.0.113.7", clientBucket("::ffff:203.0.113.7"))
	require.Equal(t, "2001:db8:1:2::/64", clientBucket("2001:db8:1:2:aaaa:bbbb:cccc:dddd"))
}

// Two instances on one Postgres: a key created through one is accepted by the
// other within the change feed's latency, although the other's filter of known
// keys was loaded before the key existed, the periodic resync is an hour away and
// the other makes no database check of unknown keys.
func TestKeyAuthAcceptsKeyCreatedOnAnotherInstance(t *testing.T) {
	t.Parallel()
	b := setupKeys(t, "postgres", KeyAuthConfig{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logger := logging.Discard()
	otherFeed := tenants.NewChangeFeed(b.db, tenants.ChangeFeedConfig{ResyncInterval: time.Hour}, logger)
	other := NewKeyAuthenticator(b.db, otherFeed, KeyAuthConfig{UnknownChecksPerSecond: -1}, logger)
	require.NoError(t, other.Preload(ctx))
	listening := make(chan struct{})
	go otherFeed.Run(ctx)
	// Wait until the other instance listens: a probe key's notification arrives.
	go func() {
		defer close(listening)
		for ctx.Err() == nil {
			_, s, err := b.keys.Create(ctx, CreateKeyInput{TenantID: b.t.ID, Name: "probe"})
			if err == nil {
				if _, err := other.Authenticate(ctx, s.Reveal()); err == nil {
					return
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	<-listening
	lookups := other.Stats().DBLookups

	// Given a key created on this instance after the other loaded its filter
	created := time.Now()
	_, secret, err := b.keys.Create(ctx, CreateKeyInput{TenantID: b.t.ID, Name: "new"})
	require.NoError(t, err)
	// Then the other instance accepts it as soon as the notification arrived
	require.Eventually(t, func() bool {
		_, err := other.Authenticate(ctx, secret.Reveal())
		return err == nil
	}, 2*time.Second, 5*time.Millisecond)
	t.Logf("accepted by the other instance %s after creation", time.Since(created).Round(time.Millisecond))
	require.Equal(t, lookups+1, other.Stats().DBLookups)
	require.Positive(t, other.KnownKeys())
}

// SQLite: a key created by another process (the CLI) is accepted by the server
// within the poll interval, with no database check of unknown keys.
func TestKeyAuthAcceptsKeyCreatedByCLIOnSQLite(t *testing.T) {
	t.Parallel()
	b := setupKeys(t, "sqlite", KeyAuthConfig{UnknownChecksPerSecond: -1})
	ctx := t.Context()
	require.NoError(t, b.auth.Preload(ctx))
	go b.feed.Run(ctx)
	// The CLI is another process: its own key service, whose deliveries this
	// server never sees.
	cli := NewKeys(b.db, tenants.NewChangeFeed(b.db, tenants.ChangeFeedConfig{}, logging.Discard()), logging.Discard())
	_, secret, err := cli.Create(ctx, CreateKeyInput{TenantID: b.t.ID, Name: "from cli"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := b.auth.Authenticate(ctx, secret.Reveal())
		return err == nil
	}, 3*time.Second, 20*time.Millisecond)
}

// BenchmarkKeyAuthMiss: a random key's refusal (filter in memory, per-address
// allowance); it reports the database queries the flood cost.
func BenchmarkKeyAuthMiss(b *testing.B) {
	bundle := benchKeys(b)
	bundle.auth.cfg.MissBurst = 1e12 // measure the refusal, not the 429 path
	bundle.auth.misses = NewKeyedLimiter(60, 1e12, 100_000, time.Now)
	require.NoError(b, bundle.auth.Preload(b.Context()))
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = randomKey(b)
	}
	before := bundle.queries.Load()
	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer()
	var i atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := bundle.auth.AuthenticateFrom(ctx, keys[i.Add(1)&4095], "203.0.113.66"); !errors.Is(err, ErrKeyInvalid) {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(bundle.queries.Load()-before), "db-queries")
}

// BenchmarkKeyAuthValidDuringFlood: a valid (cached) key's authentication while
// 8 goroutines flood random keys from one address.
func BenchmarkKeyAuthValidDuringFlood(b *testing.B) {
	bundle := benchKeys(b)
	_, secret, err := bundle.keys.Create(b.Context(), CreateKeyInput{TenantID: bundle.t.ID, Name: "bench"})
	require.NoError(b, err)
	key := secret.Reveal()
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	var flood atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for ctx.Err() == nil {
				_, _ = bundle.auth.AuthenticateFrom(ctx, randomKey(b), "203.0.113.66")
				flood.Add(1)
			}
		})
	}
	_, err = bundle.auth.AuthenticateFrom(ctx, key, "192.0.2.1")
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := bundle.auth.AuthenticateFrom(ctx, key, "192.0.2.1"); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cancel()
	wg.Wait()
	b.ReportMetric(float64(flood.Load())/b.Elapsed().Seconds(), "flood-keys/s")
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// A key created elsewhere a moment ago (unknown to this instance's filter) and
// presented by many connections at once is accepted by all of them: they share one
// database check instead of each spending one of the few a second.
func TestKeyAuthAcceptsNewKeyUsedByManyConnectionsAtOnce(t *testing.T) {
	t.Parallel()
	b := setupKeys(t, "postgres", KeyAuthConfig{UnknownChecksPerSecond: 1})
	ctx := t.Context()
	logger := logging.Discard()
	// The other instance's change feed does not run: only a database check can
	// tell it about the new key.
	other := NewKeyAuthenticator(b.db, tenants.NewChangeFeed(b.db, tenants.ChangeFeedConfig{ResyncInterval: time.Hour}, logger),
		KeyAuthConfig{UnknownChecksPerSecond: 1}, logger)
	require.NoError(t, other.Preload(ctx))
	_, secret, err := b.keys.Create(ctx, CreateKeyInput{TenantID: b.t.ID, Name: "busy"})
	require.NoError(t, err)

	const conns = 50
	start := make(chan struct{})
	errs := make(chan error, conns)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			<-start
			_, err := other.AuthenticateFrom(ctx, secret.Reveal(), fmt.Sprintf("203.0.113.%d", i))
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, int64(1), other.Stats().DBLookups)
}
