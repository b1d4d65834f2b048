package tenants

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeSettings is a loader whose answers the test controls: each load takes the
// next value from answers (or fails when it is negative).
type fakeSettings struct {
	loads   atomic.Int64
	answers chan int
}

func (f *fakeSettings) load(ctx context.Context, _ *Handle) (int, error) {
	f.loads.Add(1)
	select {
	case v := <-f.answers:
		if v < 0 {
			return 0, errors.New("database unavailable")
		}
		return v, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func TestSettingsCacheRefreshesBeforeExpiry(t *testing.T) {
	t.Parallel()
	var clock atomic.Int64
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	clock.Store(start.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	at := func(d time.Duration) { clock.Store(start.Add(d).UnixNano()) }
	f := &fakeSettings{answers: make(chan int, 1)}
	c := NewSettingsCache(time.Second, now, f.load)
	h := &Handle{t: Tenant{ID: "01m8cbht6enn4qc5awb7hrwdgd"}}
	get := func() int {
		v, err := c.For(t.Context(), h)
		require.NoError(t, err)
		return v
	}

	f.answers <- 1
	require.Equal(t, 1, get(), "first use loads")
	at(700 * time.Millisecond)
	require.Equal(t, 1, get(), "within the first three quarters: cached, nothing loads")
	require.EqualValues(t, 1, f.loads.Load())

	at(800 * time.Millisecond)
	require.Equal(t, 1, get(), "last quarter: still served from the cache...")
	require.Eventually(t, func() bool { return f.loads.Load() == 2 }, 5*time.Second, time.Millisecond, "...while one background load starts")
	require.Equal(t, 1, get(), "a second request does not start another load")
	f.answers <- 2
	require.Eventually(t, func() bool { return get() == 2 }, 5*time.Second, time.Millisecond)

	at(1500 * time.Millisecond)
	require.Equal(t, 2, get(), "the refreshed entry is fresh past the first one's expiry")
	require.EqualValues(t, 2, f.loads.Load(), "no request waited for a load")

	// A background load that fails leaves the entry in force until it expires.
	at(1700 * time.Millisecond)
	require.Equal(t, 2, get())
	f.answers <- -1
	require.Eventually(t, func() bool { return f.loads.Load() == 3 }, 5*time.Second, time.Millisecond)
	require.Eventually(t, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return !c.entries[h.TenantID()].refreshing
	}, 5*time.Second, time.Millisecond)
	require.Equal(t, 2, get(), "the next request in the last quarter retries in the background")
	require.Eventually(t, func() bool { return f.loads.Load() == 4 }, 5*time.Second, time.Millisecond)

	// Invalidated while that load runs: its answer may predate the change, so it is
	// dropped and the next request loads afresh.
	c.Invalidate(h.TenantID())
	f.answers <- 3
	require.Eventually(t, func() bool { return len(f.answers) == 0 }, 5*time.Second, time.Millisecond)
	time.Sleep(10 * time.Millisecond) // let the background load store (or, correctly, drop) its answer
	f.answers <- 4
	require.Equal(t, 4, get())
	require.EqualValues(t, 5, f.loads.Load())
}

func TestSettingsCacheKeepsLastValueWhenLoadFails(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	f := &fakeSettings{answers: make(chan int, 1)}
	c := NewSettingsCache(time.Second, func() time.Time { return now }, f.load)
	h := &Handle{t: Tenant{ID: "01m8cbht6enn4qc5awb7hrwdgd"}}
	f.answers <- -1
	_, err := c.For(t.Context(), h)
	require.Error(t, err, "nothing cached: the load's error")
	f.answers <- 7
	v, err := c.For(t.Context(), h)
	require.NoError(t, err)
	require.Equal(t, 7, v)
	now = now.Add(2 * time.Second)
	f.answers <- -1
	v, err = c.For(t.Context(), h)
	require.NoError(t, err)
	require.Equal(t, 7, v, "expired but the database failed: the last value stays in force")
}
