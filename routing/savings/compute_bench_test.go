package savings_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/savings"
)

// BenchmarkCompute50k is one suggestions computation over a full sample:
// 50,000 requests of 12 keys naming four models, each replayed under the
// current policy and every candidate change (run with -benchtime=1x).
func BenchmarkCompute50k(b *testing.B) {
	bundle := setupBench(b)
	tid := string(bundle.handle.TenantID())
	models := []string{"gpt-4o", "gpt-4.1", "claude-sonnet-4", "gpt-4o-mini"}
	evs := make([]ledger.Event, 50_000)
	at := bundle.now.Add(-29 * 24 * time.Hour)
	for i := range evs {
		m := models[i%len(models)]
		p := float64(i%10) / 10
		evs[i] = ledger.Event{TenantID: tid, RequestID: fmt.Sprintf("req-%06d", i), CreatedAt: at.Add(time.Duration(i) * 50 * time.Second),
			KeyID: fmt.Sprintf("key-%02d", i%12), ModelRequested: m, ModelUsed: m, InputTokens: int64(500 + i%3000), OutputTokens: int64(50 + i%400),
			MaxTokens: 2048, Status: ledger.StatusOK, RouteReason: "explicit",
			RouteFeatures: features(p, fmt.Sprintf("c%d", i), fmt.Sprintf("c%d", i+1))}
	}
	for i := 0; i < len(evs); i += 1000 {
		_, err := ledger.Insert(b.Context(), bundle.handle, evs[i:i+1000])
		require.NoError(b, err)
	}
	b.ResetTimer()
	for b.Loop() {
		rep, err := savings.Compute(b.Context(), bundle.input(routing.DefaultPolicy()))
		require.NoError(b, err)
		b.ReportMetric(float64(len(rep.Suggestions)), "suggestions")
	}
}
