package ledger

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gorm.io/gorm"
)

// BenchmarkRequestsPostgres1M fills one tenant with a month of 1M served
// requests (20 keys, 50 members, 3 models, 4 route reasons) and 100k refusals,
// then times the explorer's first page, filtered pages and a deep page,
// reporting p50 and p99 in ms per query shape.
//
//	./scripts/test-services.sh go test -run '^$' -bench RequestsPostgres1M -benchtime 1x ./billing/ledger/
func BenchmarkRequestsPostgres1M(b *testing.B) {
	bb := setupB(b, "postgres")
	ctx := b.Context()
	start := time.Now()
	// One month: 1M events ~2.6 s apart, ending now.
	require.NoError(b, bb.handle.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO usage_events (request_id, created_at, key_id, member_id, model_requested, model_used, provider,
			input_tokens, output_tokens, cost_nano, latency_ms, status, route_reason, api)
			SELECT 'req-' || i, now() - (i * interval '2592 milliseconds'), 'key-' || (i % 20), 'mem-' || (i % 50), 'auto',
				(ARRAY['sim-small','sim-large','gpt-4o'])[1 + i % 3], 'sim', 100 + i % 900, 10 + i % 300, 1000 + (i % 1000) * 1000,
				5 + i % 50, 'ok', (ARRAY['auto_economy','auto_premium','explicit','budget_low'])[1 + i % 4], 'chat'
			FROM generate_series(1, 1000000) AS i`).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO request_refusals (request_id, created_at, key_id, member_id, model_requested, api, status_code, error_type, error_code, latency_ms)
			SELECT 'ref-' || i, now() - (i * interval '25920 milliseconds') - interval '1 millisecond', 'key-' || (i % 20), 'mem-' || (i % 50), 'sim-small', 'chat',
				(ARRAY[429, 400, 403, 502])[1 + i % 4], 'insufficient_quota', 'budget_exceeded', 1
			FROM generate_series(1, 100000) AS i`).Error
	}))
	require.NoError(b, bb.handle.Tx(ctx, func(tx *gorm.DB) error {
		return tx.Exec("ANALYZE usage_events; ANALYZE request_refusals").Error
	}))
	b.Logf("filled 1.1M rows in %s", time.Since(start).Round(time.Millisecond))

	first, err := Requests(ctx, bb.handle, RequestPageInput{})
	require.NoError(b, err)
	deep := first.NextCursor
	for range 200 { // 10,000 rows deep
		p, err := Requests(ctx, bb.handle, RequestPageInput{Cursor: deep})
		require.NoError(b, err)
		deep = p.NextCursor
	}
	since := time.Now().Add(-7 * 24 * time.Hour)
	for _, c := range []struct {
		name string
		in   RequestPageInput
	}{
		{"first_page", RequestPageInput{}},
		{"status_429", RequestPageInput{Status: "429"}},
		{"refused", RequestPageInput{Status: RequestStatusRefused}},
		{"key", RequestPageInput{KeyID: "key-7"}},
		{"member", RequestPageInput{MemberID: "mem-13"}},
		{"model_served", RequestPageInput{Model: "gpt-4o", Status: RequestStatusServed}},
		{"route_reason", RequestPageInput{RouteReason: "budget_low"}},
		{"min_cost", RequestPageInput{MinCost: 900_000}},
		{"last_week_key", RequestPageInput{From: since, KeyID: "key-3"}},
		{"deep_cursor", RequestPageInput{Cursor: deep}},
	} {
		b.Run(c.name, func(b *testing.B) {
			const runs = 200
			lat := make([]time.Duration, 0, runs)
			for b.Loop() {
				for range runs {
					t0 := time.Now()
					p, err := Requests(ctx, bb.handle, c.in)
					lat = append(lat, time.Since(t0))
					require.NoError(b, err)
					require.Len(b, p.Requests, 50)
				}
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			ms := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(ms(0.5), "p50-ms")
			b.ReportMetric(ms(0.99), "p99-ms")
		})
	}
}
