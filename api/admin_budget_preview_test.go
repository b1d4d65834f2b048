package api

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/tenants/access"
)

// monthStart is the first instant of the current UTC month: events placed a few
// seconds after it are this month's whatever the day the test runs.
func monthStart() time.Time {
	now := time.Now().UTC()
	return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func TestBudgetPreview(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := newAdminEnv(t, backend)
			a, other := b.tenant("acme"), b.tenant("globex")
			_, billingTok := b.member(a, access.RoleBilling)
			_, viewer := b.member(a, access.RoleViewer)
			memberA, _ := b.member(a, access.RoleDeveloper)
			keyA, _ := b.key(a)
			keyA2, _ := b.key(a)
			keyB, _ := b.key(other)
			// Given this month's requests of key A, in order: $1, $1, $2, $0.40 (the
			// last by member A), and $0.20 on another key; last month's $50 on key A.
			start := monthStart()
			costs := []int64{1_000_000_000, 1_000_000_000, 2_000_000_000, 400_000_000}
			var evs []ledger.Event
			for i, c := range costs {
				e := ledger.Event{TenantID: string(a.ID), RequestID: "r" + string(rune('a'+i)), CreatedAt: start.Add(time.Duration(i+1) * time.Second),
					KeyID: keyA.ID, ModelUsed: "sim-small", Cost: billing.NanoUSD(c), Status: ledger.StatusOK}
				if i == 3 {
					e.MemberID = memberA
				}
				evs = append(evs, e)
			}
			evs = append(evs,
				ledger.Event{TenantID: string(a.ID), RequestID: "other-key", CreatedAt: start.Add(10 * time.Second), KeyID: keyA2.ID,
					ModelUsed: "sim-small", Cost: 200_000_000, Status: ledger.StatusOK},
				ledger.Event{TenantID: string(a.ID), RequestID: "last-month", CreatedAt: start.Add(-time.Hour), KeyID: keyA.ID,
					ModelUsed: "sim-large", Cost: 50_000_000_000, Status: ledger.StatusOK})
			b.insertEvents(a, evs)

			f := &fixture{env: b.testEnv, tokens: map[string]string{"billing": billingTok, "viewer": viewer},
				vars: map[string]string{"A": string(a.ID), "KEY_A": keyA.ID, "KEY_B": keyB.ID, "MEMBER_A": memberA}}
			f.run(t, []apiScenario{
				// Replayed against a hard $2.50: $1 and $1 pass, $2 is refused, $0.40 still fits.
				{Name: "hard key limit below this month's spend", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets/preview",
					Body: `{"scope":"key","scope_id":"{KEY_A}","period":"month","limit_usd":"2.50","hard":true}`, WantStatus: 200,
					WantBody: []string{`"spent_usd":"4.400000000"`, `"percent":176`, `"requests":4`, `"refused_requests":1`,
						`"refused_usd":"2.000000000"`, `"warn":true`, `"limit_usd":"2.500000000"`}},
				{Name: "the same limit soft counts but does not warn", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets/preview",
					Body: `{"scope":"key","scope_id":"{KEY_A}","period":"month","limit_usd":"2.50","hard":false}`, WantStatus: 200,
					WantBody: []string{`"refused_requests":1`, `"warn":false`}},
				{Name: "hard tenant limit near the spend warns with nothing refused", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets/preview",
					Body: `{"scope":"tenant","period":"month","limit_usd":"5"}`, WantStatus: 200,
					WantBody: []string{`"spent_usd":"4.600000000"`, `"percent":92`, `"requests":5`, `"refused_requests":0`, `"warn":true`}},
				{Name: "roomy hard tenant limit", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets/preview",
					Body: `{"scope":"tenant","period":"month","limit_usd":"100","hard":true}`, WantStatus: 200,
					WantBody: []string{`"percent":4.6`, `"refused_requests":0`, `"warn":false`}},
				{Name: "member scope counts only the member's requests", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets/preview",
					Body: `{"scope":"member","scope_id":"{MEMBER_A}","period":"month","limit_usd":"0.10","hard":true}`, WantStatus: 200,
					WantBody: []string{`"spent_usd":"0.400000000"`, `"requests":1`, `"refused_requests":1`, `"warn":true`}},
				{Name: "another tenant's key", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets/preview",
					Body: `{"scope":"key","scope_id":"{KEY_B}","period":"month","limit_usd":"1"}`, WantStatus: 422, WantBody: []string{"unknown_scope_id"}},
				{Name: "bad body, every problem", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets/preview",
					Body: `{"scope":"planet","period":"year","limit_usd":"abc"}`, WantStatus: 422, WantBody: []string{"limit_usd", "scope", "period"}},
				{Name: "viewer may not", Caller: "viewer", Method: "POST", Path: "/api/v1/tenants/{A}/budgets/preview",
					Body: `{"scope":"tenant","period":"month","limit_usd":"1"}`, WantStatus: 403},
				{Name: "anonymous", Method: "POST", Path: "/api/v1/tenants/{A}/budgets/preview", Body: `{}`, WantStatus: 401},
			})
			// A day budget counts today only: yesterday's $5 on key A2 is not in it.
			today := time.Now().UTC().Truncate(24 * time.Hour)
			b.insertEvents(a, []ledger.Event{
				{TenantID: string(a.ID), RequestID: "a2-yesterday", CreatedAt: today.Add(-time.Second), KeyID: keyA2.ID, ModelUsed: "sim-large", Cost: 5_000_000_000, Status: ledger.StatusOK},
				{TenantID: string(a.ID), RequestID: "a2-today", CreatedAt: today.Add(time.Second), KeyID: keyA2.ID, ModelUsed: "sim-small", Cost: 300_000_000, Status: ledger.StatusOK},
			})
			f.vars["KEY_A2"] = keyA2.ID
			f.vars["TODAY"] = today.Format("2006-01-02")
			f.run(t, []apiScenario{
				{Name: "hard day limit on a key", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets/preview",
					Body: `{"scope":"key","scope_id":"{KEY_A2}","period":"day","limit_usd":"0.10","hard":true}`, WantStatus: 200,
					WantBody: []string{`"period_key":"{TODAY}"`, `"spent_usd":"0.300000000"`, `"requests":1`, `"refused_requests":1`, `"warn":true`}},
			})
			// A preview saves nothing.
			bs, err := budget.List(t.Context(), b.handle(a))
			require.NoError(t, err)
			require.Empty(t, bs)
		})
	}
}
