package ledger

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// TestRequestsMixRefusalsWithoutTouchingBilling records a 429 budget refusal
// and a 400 beside served events: they appear in the explorer, filtered and
// paged, while the event totals and the daily rollups stay those of the served
// events alone.
func TestRequestsMixRefusalsWithoutTouchingBilling(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			tid := string(b.tenant.ID)
			served, want := randomEvents(tid, 120, 7)
			base := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
			refusals := []Event{
				{TenantID: tid, RequestID: "ref-429", CreatedAt: base.Add(30 * time.Second), KeyID: "key-1", MemberID: "mem-1",
					ModelRequested: "gpt-4o", Status: StatusRefused, StatusCode: 429, ErrorType: "insufficient_quota",
					ErrorCode: "budget_exceeded", LatencyMS: 3, API: "chat"},
				{TenantID: tid, RequestID: "ref-400", CreatedAt: base.Add(31 * time.Second), KeyID: "key-refused",
					Status: StatusRefused, StatusCode: 400, ErrorType: "invalid_request_error", ErrorCode: "malformed_body", API: "chat"},
			}
			n, err := Insert(t.Context(), b.handle, append(append([]Event{}, served...), refusals...))
			require.NoError(t, err)
			require.Equal(t, 122, n)
			n, err = Insert(t.Context(), b.handle, refusals)
			require.NoError(t, err)
			require.Zero(t, n, "a replayed refusal is not recorded twice")

			got, err := EventTotals(t.Context(), b.handle, time.Time{})
			require.NoError(t, err)
			require.Equal(t, want, got, "refusals never reach usage_events")
			_, rolled, err := Series(t.Context(), b.handle, SeriesQuery{GroupBy: []GroupBy{GroupByDay}})
			require.NoError(t, err)
			require.Equal(t, want, rolled, "refusals never reach the rollups")

			page, err := Requests(t.Context(), b.handle, RequestPageInput{Status: "429"})
			require.NoError(t, err)
			require.Len(t, page.Requests, 1)
			r := page.Requests[0]
			require.Equal(t, "ref-429", r.RequestID)
			require.Equal(t, [3]string{StatusRefused, "insufficient_quota", "budget_exceeded"}, [3]string{r.Status, r.ErrorType, r.ErrorCode})
			require.Equal(t, "key-1", r.KeyID)
			require.Empty(t, page.NextCursor)

			page, err = Requests(t.Context(), b.handle, RequestPageInput{Status: RequestStatusRefused})
			require.NoError(t, err)
			require.Equal(t, []string{"ref-400", "ref-429"}, []string{page.Requests[0].RequestID, page.Requests[1].RequestID})

			page, err = Requests(t.Context(), b.handle, RequestPageInput{Status: RequestStatusServed, Limit: 500})
			require.NoError(t, err)
			require.Len(t, page.Requests, 120)

			// Every request, paged 7 at a time: each exactly once, newest first.
			seen := map[string]bool{}
			var last Event
			cursor := ""
			for pages := 0; ; pages++ {
				require.Less(t, pages, 100)
				p, err := Requests(t.Context(), b.handle, RequestPageInput{Limit: 7, Cursor: cursor})
				require.NoError(t, err)
				for _, e := range p.Requests {
					require.False(t, seen[e.RequestID], "repeated %s", e.RequestID)
					seen[e.RequestID] = true
					if last.RequestID != "" {
						require.False(t, e.CreatedAt.After(last.CreatedAt), "newest first")
					}
					last = e
				}
				if p.NextCursor == "" {
					break
				}
				cursor = p.NextCursor
			}
			require.Len(t, seen, 122)

			// Filters: key, model, cost, time.
			page, err = Requests(t.Context(), b.handle, RequestPageInput{Model: "gpt-4o", Limit: 500})
			require.NoError(t, err)
			wantModel := 1 // the 429 asked for gpt-4o
			for _, e := range served {
				if e.ModelUsed == "gpt-4o" {
					wantModel++
				}
			}
			require.Len(t, page.Requests, wantModel)
			minCost := served[0].Cost
			page, err = Requests(t.Context(), b.handle, RequestPageInput{MinCost: minCost, Limit: 500})
			require.NoError(t, err)
			for _, e := range page.Requests {
				require.GreaterOrEqual(t, e.Cost, minCost)
				require.NotEqual(t, StatusRefused, e.Status)
			}
			page, err = Requests(t.Context(), b.handle, RequestPageInput{KeyID: "key-refused"})
			require.NoError(t, err)
			require.Len(t, page.Requests, 1)
			require.Equal(t, "ref-400", page.Requests[0].RequestID)
			page, err = Requests(t.Context(), b.handle, RequestPageInput{From: base.Add(30 * time.Second), To: base.Add(31 * time.Second), Status: RequestStatusRefused})
			require.NoError(t, err)
			require.Len(t, page.Requests, 1)

			one, err := Request(t.Context(), b.handle, "ref-429")
			require.NoError(t, err)
			require.Equal(t, 429, one.StatusCode)
			one, err = Request(t.Context(), b.handle, served[3].RequestID)
			require.NoError(t, err)
			require.Equal(t, served[3].Cost, one.Cost)
			_, err = Request(t.Context(), b.handle, "nope")
			require.ErrorIs(t, err, errkind.NotFound)

			for _, bad := range []RequestPageInput{{Status: "teapot"}, {Limit: 501}, {MinCost: 5, MaxCost: 1}, {MinCost: billing.NanoUSD(-1)}} {
				_, err := Requests(t.Context(), b.handle, bad)
				require.ErrorIs(t, err, errkind.Invalid, fmt.Sprint(bad))
			}
		})
	}
}
