package ledger

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

// keptEvents are n served events, every other one with a (fake) sealed turn.
func keptEvents(tenantID string, n int, at time.Time) []Event {
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = Event{TenantID: tenantID, RequestID: fmt.Sprintf("kp-%03d", i), CreatedAt: at, ModelUsed: "sim-small",
			InputTokens: 10, OutputTokens: 2, Cost: 1000, Status: StatusOK}
		if i%2 == 0 {
			evs[i].KeptTurn = fmt.Sprintf("c2VhbGVk%03d", i)
		}
	}
	return evs
}

// TestKeptPromptsRideTheSpool: kept turns survive a killed process with the
// usage they came with, land once in kept_prompts (never in usage_events),
// and a replay adds nothing twice.
func TestKeptPromptsRideTheSpool(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			dir := t.TempDir()
			evs := keptEvents(string(b.tenant.ID), 40, time.Now().UTC())

			// Given a writer killed with everything still spooled.
			w, err := NewWriter(WriterConfig{SpoolDir: dir}, b.reg, b.logger)
			require.NoError(t, err)
			for _, e := range evs {
				require.NoError(t, w.Append(e))
			}
			_ = w.spool.cur.Close()
			_ = w.spool.lock.Close()

			// When a new writer replays the spool, twice over (a crash after the
			// insert, before the spool was trimmed).
			for range 2 {
				w2, err := NewWriter(WriterConfig{SpoolDir: dir}, b.reg, b.logger)
				require.NoError(t, err)
				require.NoError(t, w2.Flush(t.Context()))
				_, err = Insert(t.Context(), b.handle, evs)
				require.NoError(t, err)
				require.NoError(t, w2.Close(t.Context()))
			}

			// Then every event is billed once and every kept turn is kept once.
			got, err := EventTotals(t.Context(), b.handle, time.Time{})
			require.NoError(t, err)
			require.EqualValues(t, 40, got.Requests)
			ids := make([]string, len(evs))
			for i, e := range evs {
				ids[i] = e.RequestID
			}
			kept, err := KeptTurns(t.Context(), b.handle, ids)
			require.NoError(t, err)
			require.Len(t, kept, 20)
			for _, e := range evs {
				require.Equal(t, e.KeptTurn, kept[e.RequestID])
			}
			back, err := EventsSince(t.Context(), b.handle, time.Time{}, 100)
			require.NoError(t, err)
			for _, e := range back {
				require.Empty(t, e.KeptTurn, "usage_events holds no kept turn")
			}
		})
	}
}

// TestKeptPromptFailureNeverLosesUsage: when kept prompts cannot be stored
// (here: their table is gone), the usage of the same batch still commits,
// rollups included, and the failure is reported apart.
func TestKeptPromptFailureNeverLosesUsage(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			require.NoError(t, b.handle.Tx(t.Context(), func(tx *gorm.DB) error {
				return tx.Exec("DROP TABLE kept_prompts").Error
			}))
			evs := keptEvents(string(b.tenant.ID), 10, time.Now().UTC())

			n, keptErr, err := insert(t.Context(), b.handle, evs)
			require.NoError(t, err)
			require.Error(t, keptErr)
			require.Contains(t, keptErr.Error(), "5 kept prompts dropped")
			require.Equal(t, 10, n)
			got, err := EventTotals(t.Context(), b.handle, time.Time{})
			require.NoError(t, err)
			require.EqualValues(t, 10, got.Requests)
			require.EqualValues(t, 10_000, got.Cost)
			_, rolled, err := Series(t.Context(), b.handle, SeriesQuery{})
			require.NoError(t, err)
			require.Equal(t, got, rolled)

			// The writer logs it and trims the spool: billing is not held hostage.
			w, err := NewWriter(WriterConfig{SpoolDir: t.TempDir()}, b.reg, b.logger)
			require.NoError(t, err)
			more := keptEvents(string(b.tenant.ID), 30, time.Now().UTC())[10:]
			for _, e := range more {
				require.NoError(t, w.Append(e))
			}
			require.NoError(t, w.Flush(t.Context()))
			require.NoError(t, w.Close(t.Context()))
			got, err = EventTotals(t.Context(), b.handle, time.Time{})
			require.NoError(t, err)
			require.EqualValues(t, 30, got.Requests)
		})
	}
}
