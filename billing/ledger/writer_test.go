package ledger

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/tenants"
)

// flakyLookup fails lookups of one tenant while down is set.
type flakyLookup struct {
	TenantLookup
	tenant string
	down   atomic.Bool
}

func (f *flakyLookup) Get(ctx context.Context, ref string) (tenants.Tenant, error) {
	if ref == f.tenant && f.down.Load() {
		return tenants.Tenant{}, errors.New("tenant database unavailable")
	}
	return f.TenantLookup.Get(ctx, ref)
}

func TestWriterKeepsAFailedTenantsEventsQueuedAndInsertsTheOthers(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	other, err := b.reg.Create(t.Context(), tenants.CreateInput{Name: "globex"})
	require.NoError(t, err)
	otherHandle, err := b.reg.Handle(tenants.SystemPrincipal(other, "test"))
	require.NoError(t, err)
	lookup := &flakyLookup{TenantLookup: b.reg, tenant: string(other.ID)}
	lookup.down.Store(true)
	w, err := NewWriter(WriterConfig{SpoolDir: t.TempDir(), BatchSize: 7}, lookup, b.logger)
	require.NoError(t, err)
	defer w.Close(t.Context())

	// Given events of two tenants, interleaved, one tenant's database down
	mine, wantMine := randomEvents(string(b.tenant.ID), 40, 11)
	theirs, wantTheirs := randomEvents(string(other.ID), 30, 12)
	for i := range 40 {
		require.NoError(t, w.Append(mine[i]))
		if i < 30 {
			require.NoError(t, w.Append(theirs[i]))
		}
	}
	require.Error(t, w.Flush(t.Context()))
	// Then the other tenant's events wait in the queue and this tenant's are in
	st := w.Stats()
	require.Equal(t, 30, st.Pending)
	require.EqualValues(t, 40, st.Inserted)
	require.NotEmpty(t, st.LastError)

	// When the database is back, the queued events go in once each
	lookup.down.Store(false)
	require.NoError(t, w.Append(theirs[0])) // a duplicate in the retried batch
	require.NoError(t, w.Flush(t.Context()))
	st = w.Stats()
	require.Zero(t, st.Pending)
	require.EqualValues(t, 70, st.Inserted)
	require.Empty(t, st.LastError)
	for _, c := range []struct {
		h    *tenants.Handle
		want Totals
	}{{b.handle, wantMine}, {otherHandle, wantTheirs}} {
		got, err := EventTotals(t.Context(), c.h, time.Time{})
		require.NoError(t, err)
		require.Equal(t, c.want, got)
		_, rolled, err := Series(t.Context(), c.h, SeriesQuery{})
		require.NoError(t, err)
		require.Equal(t, c.want, rolled)
	}
}
