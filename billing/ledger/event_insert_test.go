package ledger

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

func TestInsertKeepsEveryColumnCountsABatchDuplicateOnceAndRollsUpByUTCDay(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			tid := string(b.tenant.ID)
			newYork := time.FixedZone("UTC-5", -5*3600)
			full := Event{TenantID: tid, RequestID: "req-full", ClientRequestID: "client-1",
				// 19:30 in UTC-5 is 00:30 UTC the next day: the rollup day is UTC's.
				CreatedAt: time.Date(2026, 11, 30, 19, 30, 0, 123456000, newYork), KeyID: "key-1", MemberID: "member-1",
				ModelRequested: "auto", ModelUsed: "sim-large", Provider: "sim", InputTokens: 1200, CachedTokens: 300,
				CacheWriteTokens: 40, OutputTokens: 90, Cost: 123_456, CacheSaved: -7, LatencyMS: 321, Status: StatusOK,
				RouteReason: "budget_low", API: "chat", RouteFeatures: `{"len":3}`, ConversationID: "conv-1",
				MaxTokens: 512, OverheadMS: 2, FirstByteMS: 150, Fallbacks: "sim-small:timeout"}
			// The last microsecond of a UTC day stays on that day.
			late := Event{TenantID: tid, RequestID: "req-late", CreatedAt: time.Date(2026, 11, 30, 23, 59, 59, 999_999_000, time.UTC),
				KeyID: "key-1", MemberID: "member-1", ModelUsed: "sim-large", API: "chat", InputTokens: 10, OutputTokens: 1, Cost: 1000, Status: StatusOK}
			again := full
			again.Cost = 999_999_999 // a second copy in the same batch is skipped, whatever it says

			n, err := Insert(t.Context(), b.handle, []Event{full, late, again})
			require.NoError(t, err)
			require.Equal(t, 2, n)
			n, err = Insert(t.Context(), b.handle, []Event{late, full})
			require.NoError(t, err)
			require.Zero(t, n)

			back, err := EventsSince(t.Context(), b.handle, time.Time{}, 10)
			require.NoError(t, err)
			require.Len(t, back, 2)
			want := full
			want.CreatedAt = full.CreatedAt.UTC()
			require.Equal(t, want, back[0])

			type day struct {
				Day, Model, KeyID, MemberID, API                  string
				Requests, InputTokens, CachedTokens, OutputTokens int64
				CostNano, CacheWriteTokens, CacheSavedNano        int64
			}
			var days []day
			require.NoError(t, b.handle.Read(t.Context(), func(db *gorm.DB) error {
				return db.Table("usage_daily").Select(rollupColumns).Order("day").Scan(&days).Error
			}))
			require.Equal(t, []day{
				{Day: "2026-11-30", Model: "sim-large", KeyID: "key-1", MemberID: "member-1", API: "chat", Requests: 1, InputTokens: 10, OutputTokens: 1, CostNano: 1000},
				{Day: "2026-12-01", Model: "sim-large", KeyID: "key-1", MemberID: "member-1", API: "chat", Requests: 1, InputTokens: 1200,
					CachedTokens: 300, OutputTokens: 90, CostNano: 123_456, CacheWriteTokens: 40, CacheSavedNano: -7},
			}, days)
		})
	}
}
