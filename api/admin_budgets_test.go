package api

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/tenants/access"
)

func TestBudgetsLifecycle(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := newAdminEnv(t, backend)
			a, other := b.tenant("acme"), b.tenant("globex")
			_, billingTok := b.member(a, access.RoleBilling)
			_, viewer := b.member(a, access.RoleViewer)
			memberA, _ := b.member(a, access.RoleDeveloper)
			memberB, _ := b.member(other, access.RoleDeveloper)
			keyA, _ := b.key(a)
			keyB, _ := b.key(other)
			otherBudget, err := budget.Set(t.Context(), b.handle(other), budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 1})
			require.NoError(t, err)
			// Given spend already in A's ledger this month, before any budget exists.
			now := time.Now().UTC()
			b.insertEvents(a, []ledger.Event{{TenantID: string(a.ID), RequestID: "early", CreatedAt: now.Add(-time.Minute),
				KeyID: keyA.ID, ModelUsed: "sim-small", Cost: 2_000_000_000, Status: ledger.StatusOK}})

			f := &fixture{env: b.testEnv, tokens: map[string]string{"billing": billingTok, "viewer": viewer},
				vars: map[string]string{"A": string(a.ID), "KEY_A": keyA.ID, "KEY_B": keyB.ID, "MEMBER_A": memberA, "MEMBER_B": memberB, "B_BUDGET": otherBudget.ID}}
			f.run(t, []apiScenario{
				// When a tenant budget is created mid-month, its counter starts at the ledger's spend.
				{Name: "create tenant budget", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets",
					Body:       `{"scope":"tenant","scope_id":null,"period":"month","limit_usd":"12.50","hard":true,"alert_at":[80,50,100],"downgrade_at":null}`,
					WantStatus: 201, WantBody: []string{`"limit_nano":12500000000`, `"limit_usd":"12.500000000"`, `"alert_at":[50,80,100]`,
						`"downgrade_at":null`, `"scope_id":null`, `"spent_nano":2000000000`, `"spent_usd":"2.000000000"`, `"spent_source":"meter"`}},
				{Name: "replace it (same scope and period)", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets",
					Body:       `{"scope":"tenant","period":"month","limit_usd":"20","hard":false,"downgrade_at":80}`,
					WantStatus: 200, WantBody: []string{`"limit_usd":"20.000000000"`, `"hard":false`, `"downgrade_at":80`}},
				{Name: "key budget", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets",
					Body: `{"scope":"key","scope_id":"{KEY_A}","period":"day","limit_usd":"0.000000001"}`, WantStatus: 201, WantBody: []string{`"limit_nano":1`, `"scope_id":"{KEY_A}"`}},
				{Name: "member budget", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets",
					Body: `{"scope":"member","scope_id":"{MEMBER_A}","period":"month","limit_usd":"5"}`, WantStatus: 201},
				// A proposed hard limit below the spend so far: the preview says so and changes nothing.
				{Name: "preview a hard key limit", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets/preview",
					Body:       `{"scope":"key","scope_id":"{KEY_A}","period":"month","limit_usd":"1","hard":true}`,
					WantStatus: 200, WantBody: []string{`"spent_nano":2000000000`, `"requests":1`, `"refused_requests":1`, `"warn":true`}},
				{Name: "preview names an unknown key", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets/preview",
					Body: `{"scope":"key","scope_id":"nightly","period":"month","limit_usd":"1"}`, WantStatus: 422,
					WantBody: []string{"unknown_scope_id", `\"nightly\" is not a key`, `"param":"scope_id"`}},
				// Validation: every problem at once, 422, nothing stored.
				{Name: "everything wrong", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets",
					Body: `{"scope":"planet","period":"week","limit_usd":"12.5.0","alert_at":[0],"downgrade_at":120}`, WantStatus: 422,
					WantBody: []string{"limit_usd", "scope \\\"planet\\\"", "period \\\"week\\\"", "alert threshold 0%", "downgrade_at"}, DenyBody: []string{"more than 0"}},
				{Name: "float-ish limit refused", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets",
					Body: `{"scope":"tenant","period":"day","limit_usd":"1e3"}`, WantStatus: 422, WantBody: []string{"dollar amount"}},
				{Name: "missing limit", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets", Body: `{"scope":"tenant","period":"day"}`, WantStatus: 422, WantBody: []string{"limit_usd is required"}},
				{Name: "negative limit", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets", Body: `{"scope":"tenant","period":"day","limit_usd":"-5"}`, WantStatus: 422, WantBody: []string{"more than 0"}},
				{Name: "limit as a number", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets", Body: `{"scope":"tenant","period":"day","limit_usd":12.5}`, WantStatus: 400, WantBody: []string{"malformed_body"}},
				{Name: "key scope without id", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets", Body: `{"scope":"key","period":"day","limit_usd":"1"}`, WantStatus: 422, WantBody: []string{"scope_id is required"}},
				// Cross-tenant ids are refused like unknown ones.
				{Name: "another tenant's key", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets",
					Body: `{"scope":"key","scope_id":"{KEY_B}","period":"day","limit_usd":"1"}`, WantStatus: 422, WantBody: []string{"unknown_scope_id"}},
				{Name: "another tenant's member", Caller: "billing", Method: "POST", Path: "/api/v1/tenants/{A}/budgets",
					Body: `{"scope":"member","scope_id":"{MEMBER_B}","period":"day","limit_usd":"1"}`, WantStatus: 422, WantBody: []string{"unknown_scope_id"}},
				{Name: "delete another tenant's budget", Caller: "billing", Method: "DELETE", Path: "/api/v1/tenants/{A}/budgets/{B_BUDGET}", WantStatus: 404},
				{Name: "delete unknown", Caller: "billing", Method: "DELETE", Path: "/api/v1/tenants/{A}/budgets/bud_nope", WantStatus: 404},
				// Roles: viewers read, never write.
				{Name: "viewer lists", Caller: "viewer", Method: "GET", Path: "/api/v1/tenants/{A}/budgets", WantStatus: 200, WantBody: []string{`"scope":"member"`}},
				{Name: "viewer creates", Caller: "viewer", Method: "POST", Path: "/api/v1/tenants/{A}/budgets", Body: `{"scope":"tenant","period":"day","limit_usd":"1"}`, WantStatus: 403},
			})
			list := decode[listResponse[budgetDTO]](t, b.do("GET", "/api/v1/tenants/"+string(a.ID)+"/budgets", viewer, nil))
			require.Len(t, list.Data, 3)
			// The other tenant's budget is untouched.
			bs, err := budget.List(t.Context(), b.handle(other))
			require.NoError(t, err)
			require.Len(t, bs, 1)

			// Live spend: a settled request shows up at once (meter, not ledger).
			var tenantBudget budgetDTO
			for _, d := range list.Data {
				if d.Scope == "tenant" {
					tenantBudget = d
				}
			}
			bud, err := budget.List(t.Context(), b.handle(a))
			require.NoError(t, err)
			limits := []meter.Limit{}
			for _, x := range bud {
				if x.ID == tenantBudget.ID {
					limits = append(limits, x.MeterLimit())
				}
			}
			_, err = b.meter.Reserve(t.Context(), meter.ReserveInput{TenantID: string(a.ID), RequestID: "r1", Amount: 500, Limits: limits})
			require.NoError(t, err)
			_, err = b.meter.Settle(t.Context(), meter.SettleInput{TenantID: string(a.ID), RequestID: "r1", Actual: 300})
			require.NoError(t, err)
			list = decode[listResponse[budgetDTO]](t, b.do("GET", "/api/v1/tenants/"+string(a.ID)+"/budgets", viewer, nil))
			for _, d := range list.Data {
				if d.ID == tenantBudget.ID {
					require.Equal(t, int64(2_000_000_300), d.SpentNano)
				}
			}

			// The request path's cache sees a deletion at once.
			cached, err := b.budgets.For(t.Context(), b.handle(a))
			require.NoError(t, err)
			require.Len(t, cached, 3)
			require.Equal(t, 204, b.do("DELETE", "/api/v1/tenants/"+string(a.ID)+"/budgets/"+tenantBudget.ID, billingTok, nil).Status)
			cached, err = b.budgets.For(t.Context(), b.handle(a))
			require.NoError(t, err)
			require.Len(t, cached, 2)
			require.Equal(t, 404, b.do("DELETE", "/api/v1/tenants/"+string(a.ID)+"/budgets/"+tenantBudget.ID, billingTok, nil).Status)
		})
	}
}

func TestAlertsList(t *testing.T) {
	t.Parallel()
	b := newAdminEnv(t, "sqlite")
	a := b.tenant("acme")
	_, viewer := b.member(a, access.RoleViewer)
	bud, err := budget.Set(t.Context(), b.handle(a), budget.SetInput{Scope: meter.ScopeTenant, Period: meter.PeriodMonth, Limit: 10_000_000_000})
	require.NoError(t, err)
	_, _, err = budget.Record(t.Context(), b.handle(a), budget.Alert{BudgetID: bud.ID, PeriodKey: "2026-11", Threshold: 80, Spent: 8_000_000_000, Limit: 10_000_000_000})
	require.NoError(t, err)
	res := b.do("GET", "/api/v1/tenants/"+string(a.ID)+"/alerts", viewer, nil)
	require.Equal(t, 200, res.Status, res.Body)
	page := decode[listResponse[alertDTO]](t, res)
	require.Len(t, page.Data, 1)
	al := page.Data[0]
	require.Equal(t, 80, al.Threshold)
	require.Equal(t, "8.000000000", al.SpentUSD)
	require.Equal(t, "10.000000000", al.LimitUSD)
	require.Equal(t, AlertDeliveryPending, al.DeliveryStatus)
	require.False(t, al.Delivered)
	require.Equal(t, "Spend reached 80% of the tenant month budget ($8.000000000 of $10.000000000) in 2026-11.", al.Message)
}
