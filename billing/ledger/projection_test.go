package ledger

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// TestProjectFromOwnMix: two members spending $1 and $3 a day for the last
// ten days project a month end at pace, $20 a month per active member (mean
// of $10 and $30 over the 30-day window), and N users at N × $20 with a range
// that narrows relative to N as N grows; refusals change nothing.
func TestProjectFromOwnMix(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := setup(t, backend)
			tid := string(b.tenant.ID)
			now := time.Date(2026, 12, 16, 0, 0, 0, 0, time.UTC) // 15 days elapsed, 16 left
			var evs []Event
			for d := 1; d <= 10; d++ {
				at := now.AddDate(0, 0, -d).Add(time.Hour)
				for i, m := range []struct {
					member string
					cost   billing.NanoUSD
				}{{"mem-a", billing.NanoPerUSD}, {"mem-b", 3 * billing.NanoPerUSD}} {
					evs = append(evs, Event{TenantID: tid, RequestID: fmt.Sprintf("p-%d-%d", d, i), CreatedAt: at, KeyID: "key-" + m.member,
						MemberID: m.member, ModelUsed: "m", Cost: m.cost, Status: StatusOK})
				}
			}
			evs = append(evs, Event{TenantID: tid, RequestID: "refused", CreatedAt: now.Add(-time.Hour), KeyID: "key-c", MemberID: "mem-c",
				Status: StatusRefused, StatusCode: 429})
			_, err := Insert(t.Context(), b.handle, evs)
			require.NoError(t, err)

			p, err := Project(t.Context(), b.handle, ProjectInput{Now: now, Users: []int64{1, 1000}})
			require.NoError(t, err)
			usd := billing.NanoPerUSD
			require.Equal(t, "2026-12", p.Month)
			require.Equal(t, 40*usd, p.SpentThisMonth)
			require.Equal(t, billing.NanoUSD(82_666_666_667), p.MonthEnd.Estimate, "$40 + $40/15 days × 16 days")
			require.Equal(t, 40*usd, p.MonthEnd.Low, "the window has days without spend")
			require.Equal(t, 40*usd+4*16*usd, p.MonthEnd.High)
			require.EqualValues(t, 2, p.ActiveMembers, "a refused member is not active")
			require.EqualValues(t, 2, p.ActiveKeys)
			require.Equal(t, 20*usd, p.CostPerActiveMember)
			require.Equal(t, "member", p.PerUserBasis)
			require.Len(t, p.Users, 2)
			require.Equal(t, 20*usd, p.Users[0].Monthly.Estimate)
			require.Equal(t, 20_000*usd, p.Users[1].Monthly.Estimate)
			require.Equal(t, 240_000*usd, p.Users[1].Yearly.Estimate)
			one, thousand := p.Users[0].Monthly, p.Users[1].Monthly
			require.Less(t, one.Low, one.Estimate)
			require.Greater(t, one.High, one.Estimate)
			require.Less(t, float64(thousand.High-thousand.Low)/float64(thousand.Estimate), float64(one.High-one.Low)/float64(one.Estimate))
			require.NotEmpty(t, p.Assumptions)

			_, err = Project(t.Context(), b.handle, ProjectInput{Now: now, Users: []int64{0}})
			require.ErrorIs(t, err, errkind.Invalid)
		})
	}
}
