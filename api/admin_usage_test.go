package api

import (
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// usageEvents: 12 requests over three days, two models, two keys; four share one
// timestamp so the event cursor must break ties by request id.
func usageEvents(tenantID string, keyA, keyB string) []ledger.Event {
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	var evs []ledger.Event
	for i := range 12 {
		at := base.Add(time.Duration(i/4) * 24 * time.Hour)
		if i%4 != 0 {
			at = at.Add(time.Duration(i) * time.Minute)
		}
		model, key := "sim-small", keyA
		if i%3 == 0 {
			model, key = "sim-large", keyB
		}
		evs = append(evs, ledger.Event{TenantID: tenantID, RequestID: fmt.Sprintf("req-%02d", i), CreatedAt: at, KeyID: key,
			ModelRequested: "auto", ModelUsed: model, Provider: "sim", InputTokens: 1000, OutputTokens: int64(100 * (i + 1)),
			Cost: billing.NanoUSD(1_000_000 * (i + 1)), LatencyMS: 300, Status: ledger.StatusOK, RouteReason: "auto:simple"})
	}
	return evs
}

func TestUsageEndpoints(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			b := newAdminEnv(t, backend)
			a, other := b.tenant("acme"), b.tenant("globex")
			_, viewer := b.member(a, access.RoleViewer)
			_, dev := b.member(a, access.RoleDeveloper)
			keyA, _ := b.key(a)
			keyB, _ := b.key(a)
			_, usageKey := b.key(a, apikeys.ScopeReadUsage)
			b.insertEvents(a, usageEvents(string(a.ID), keyA.ID, keyB.ID))
			// Another tenant's spend never shows up in A's numbers.
			b.insertEvents(other, []ledger.Event{{TenantID: string(other.ID), RequestID: "other-1", CreatedAt: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC),
				ModelUsed: "sim-large", InputTokens: 5, OutputTokens: 5, Cost: 999_999_999, Status: ledger.StatusOK}})
			base := "/api/v1/tenants/" + string(a.ID)
			rng := "from=2026-11-20&to=2026-11-22"

			// Totals: 12 requests, cost 1+2+...+12 = 78 million nano. Day 1 of sim-large is i = 0 and 3.
			res := b.do("GET", base+"/usage?"+rng+"&group_by=day,model", viewer, nil)
			require.Equal(t, 200, res.Status, res.Body)
			rep := decode[usageDTO](t, res)
			require.Equal(t, int64(12), rep.Totals.Requests)
			require.Equal(t, int64(78_000_000), rep.Totals.CostNano)
			require.Equal(t, "0.078000000", rep.Totals.CostUSD)
			require.Equal(t, int64(12_000), rep.Totals.InputTokens)
			require.Equal(t, []string{"day", "model"}, rep.GroupBy)
			require.Len(t, rep.Series, 6, "3 days × 2 models")
			require.Equal(t, usagePointDTO{Day: "2026-11-20", Model: "sim-large", usageTotalsDTO: usageTotalsDTO{Requests: 2, InputTokens: 2000,
				OutputTokens: 500, CostNano: 5_000_000, CostUSD: "0.005000000", CacheSavedUSD: "0.000000000"}}, rep.Series[0])

			// Filters and other groupings.
			rep = decode[usageDTO](t, b.do("GET", base+"/usage?"+rng+"&group_by=key&model=sim-large", viewer, nil))
			require.Equal(t, int64(4), rep.Totals.Requests) // i = 0, 3, 6, 9
			require.Equal(t, int64((1+4+7+10)*1_000_000), rep.Totals.CostNano)
			require.Len(t, rep.Series, 1)
			require.Equal(t, keyB.ID, rep.Series[0].KeyID)
			rep = decode[usageDTO](t, b.do("GET", base+"/usage?from=2026-11-21&to=2026-11-21&key_id="+keyA.ID, viewer, nil))
			require.Equal(t, int64(3), rep.Totals.Requests) // day 2, key A: i = 4, 5, 7
			require.Len(t, rep.Series, 1)
			require.Equal(t, "2026-11-21", rep.Series[0].Day)

			// CSV: the same rollups, streamed with a header row.
			res = b.do("GET", base+"/usage.csv?"+rng, dev, nil)
			require.Equal(t, 200, res.Status, res.Body)
			require.Contains(t, res.Header.Get("Content-Type"), "text/csv")
			require.Contains(t, res.Header.Get("Content-Disposition"), "usage-acme-2026-11-20-2026-11-22.csv")
			rows, err := csv.NewReader(strings.NewReader(res.Body)).ReadAll()
			require.NoError(t, err)
			require.Equal(t, []string{"day", "model", "requests", "input_tokens", "cached_tokens", "output_tokens", "cost_nano", "cost_usd",
				"cache_write_tokens", "cache_saved_nano"}, rows[0])
			require.Len(t, rows, 7)
			require.Equal(t, []string{"2026-11-20", "sim-large", "2", "2000", "0", "500", "5000000", "0.005000000", "0", "0"}, rows[1])
			var csvCost int64
			for _, r := range rows[1:] {
				var n int64
				_, err := fmt.Sscan(r[6], &n)
				require.NoError(t, err)
				csvCost += n
			}
			require.Equal(t, int64(78_000_000), csvCost)
			empty := b.do("GET", base+"/usage.csv?from=2020-01-01&to=2020-01-02&group_by=member", dev, nil)
			require.Equal(t, 200, empty.Status)
			require.Equal(t, "member_id,requests,input_tokens,cached_tokens,output_tokens,cost_nano,cost_usd,cache_write_tokens,cache_saved_nano\n", empty.Body)

			// Recent events: newest first, cursor pages with no gap or repeat.
			var seen []string
			cursor := ""
			for range 10 {
				res := b.do("GET", base+"/usage/events?limit=5&cursor="+cursor, viewer, nil)
				require.Equal(t, 200, res.Status, res.Body)
				page := decode[listResponse[usageEventDTO]](t, res)
				for _, e := range page.Data {
					seen = append(seen, e.ID)
				}
				if cursor = page.NextCursor; cursor == "" {
					break
				}
			}
			require.Equal(t, []string{"req-11", "req-10", "req-09", "req-08", "req-07", "req-06", "req-05", "req-04",
				"req-03", "req-02", "req-01", "req-00"}, seen)
			first := decode[listResponse[usageEventDTO]](t, b.do("GET", base+"/usage/events?limit=1", dev, nil)).Data[0]
			require.Equal(t, "sim-small", first.Model)
			require.Equal(t, "0.012000000", first.CostUSD)
			require.Equal(t, keyA.Name, first.KeyName, "developers may read keys, so they see names")
			require.Empty(t, decode[listResponse[usageEventDTO]](t, b.do("GET", base+"/usage/events?limit=1", usageKey, nil)).Data[0].KeyName,
				"a read:usage key does not learn key names")

			f := &fixture{env: b.testEnv, tokens: map[string]string{"viewer": viewer, "dev": dev, "usage_key": usageKey}, vars: map[string]string{"A": string(a.ID)}}
			f.run(t, []apiScenario{
				{Name: "default range is the last 30 days", Caller: "viewer", Method: "GET", Path: "/api/v1/tenants/{A}/usage", WantStatus: 200,
					WantBody: []string{`"group_by":["day"]`, `"from":"` + time.Now().UTC().AddDate(0, 0, -29).Format(dateLayout) + `"`, `"to":"` + time.Now().UTC().Format(dateLayout) + `"`}},
				{Name: "usage key reads usage", Caller: "usage_key", Method: "GET", Path: "/api/v1/tenants/{A}/usage?" + rng, WantStatus: 200, WantBody: []string{`"requests":12`}},
				{Name: "usage key exports CSV", Caller: "usage_key", Method: "GET", Path: "/api/v1/tenants/{A}/usage.csv?" + rng, WantStatus: 200, WantBody: []string{"day,model,requests"}},
				{Name: "usage key reads events", Caller: "usage_key", Method: "GET", Path: "/api/v1/tenants/{A}/usage/events", WantStatus: 200, WantBody: []string{"req-11"}},
				{Name: "viewer may not export", Caller: "viewer", Method: "GET", Path: "/api/v1/tenants/{A}/usage.csv", WantStatus: 403},
				{Name: "bad dates", Caller: "viewer", Method: "GET", Path: "/api/v1/tenants/{A}/usage?from=yesterday&to=2026-13-01", WantStatus: 422,
					WantBody: []string{"from must be a date", "to must be a date"}},
				{Name: "from after to", Caller: "viewer", Method: "GET", Path: "/api/v1/tenants/{A}/usage?from=2026-11-22&to=2026-11-20", WantStatus: 422, WantBody: []string{"from must not be after to"}},
				{Name: "range too long", Caller: "viewer", Method: "GET", Path: "/api/v1/tenants/{A}/usage?from=2020-01-01&to=2026-01-01", WantStatus: 422, WantBody: []string{"more than 400 days"}},
				{Name: "unknown group_by", Caller: "viewer", Method: "GET", Path: "/api/v1/tenants/{A}/usage?group_by=day,planet", WantStatus: 422, WantBody: []string{`group_by \"planet\"`}},
				{Name: "bad cursor", Caller: "viewer", Method: "GET", Path: "/api/v1/tenants/{A}/usage/events?cursor=%25%25", WantStatus: 422, WantBody: []string{"cursor"}},
				{Name: "bad limit", Caller: "viewer", Method: "GET", Path: "/api/v1/tenants/{A}/usage/events?limit=0", WantStatus: 422},
			})
		})
	}
}
