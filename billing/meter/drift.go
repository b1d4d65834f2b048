package meter

import (
	"context"

	"github.com/tollgate-dev/tollgate/billing"
)

// ScopeDrift compares one counter's spent amount with the ledger's total.
type ScopeDrift struct {
	Total ScopeTotal
	// Counter is what the meter's counter shows as spent, in nano-USD.
	Counter billing.NanoUSD
	// Delta is Counter minus Total.Spent, in nano-USD: positive when the counter
	// over-counts (a retried flush, say), negative when it lost usage (Redis data
	// loss). The reconcile job rebuilds when any delta passes its tolerance.
	Delta billing.NanoUSD
}

// Drift compares the meter's spent counters with ledger totals, for the reconcile
// job. It compares the current periods' counters (PeriodKey is ignored), reading
// through Meter.Usage, so it works on every implementation.
func Drift(ctx context.Context, m Meter, tenantID string, totals []ScopeTotal) ([]ScopeDrift, error) {
	if err := validateTotals(tenantID, totals); err != nil {
		return nil, err
	}
	out := make([]ScopeDrift, len(totals))
	for i, t := range totals {
		u, err := m.Usage(ctx, tenantID, []Limit{t.asLimit()})
		if err != nil {
			return nil, err
		}
		out[i] = ScopeDrift{Total: t, Counter: u[0].Spent, Delta: u[0].Spent - t.Spent}
	}
	return out, nil
}
