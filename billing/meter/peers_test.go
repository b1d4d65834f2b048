package meter_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/testdb"
)

// The peer record in the control database: holders are the live instances that
// joined a tenant; leaving, retiring and a stale heartbeat each take one out.
func TestSQLPeers(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			db, _ := testdb.ControlDB(t, backend, testdb.Logger(t))
			ctx := t.Context()
			now := time.Now()
			p := meter.NewSQLPeersAt(db.Gorm, func() time.Time { return now })
			holders := func(tenant string) []string {
				h, err := p.Holders(ctx, tenant)
				require.NoError(t, err)
				return h
			}
			require.NoError(t, p.Join(ctx, "bbbb", "acme"))
			require.NoError(t, p.Join(ctx, "aaaa", "acme"))
			require.NoError(t, p.Join(ctx, "aaaa", "acme"), "joining twice is fine")
			require.NoError(t, p.Join(ctx, "aaaa", "globex"))
			require.Equal(t, []string{"aaaa", "bbbb"}, holders("acme"))
			require.Equal(t, []string{"aaaa"}, holders("globex"))
			require.Empty(t, holders("initech"))

			require.NoError(t, p.Leave(ctx, "aaaa", []string{"acme"}))
			require.Equal(t, []string{"bbbb"}, holders("acme"))
			require.Equal(t, []string{"aaaa"}, holders("globex"))

			// bbbb stops beating; aaaa goes on: past the live window only aaaa counts.
			now = now.Add(meter.PeerLiveWindow / 2)
			require.NoError(t, p.Beat(ctx, "aaaa"))
			require.NoError(t, p.Join(ctx, "aaaa", "acme"))
			now = now.Add(meter.PeerLiveWindow/2 + time.Second)
			require.Equal(t, []string{"aaaa"}, holders("acme"))

			require.NoError(t, p.Retire(ctx, "aaaa"))
			require.Empty(t, holders("acme"))
			require.Empty(t, holders("globex"))
		})
	}
}
