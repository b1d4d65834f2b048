package savings

import (
	"fmt"
	"sort"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/ledger"
)

// capStep rounds a suggested cap up; capFloor is the smallest one suggested.
const (
	capStep  = 256
	capFloor = 256
)

// maxTokenCaps: keys whose answers never reached half their output limit
// (the client's max_tokens, or the model's own limit when none was sent, which
// is what a reservation holds). A cap of twice the longest answer changes no
// answer of the window, so it saves no spend; what it frees is the budget each
// request holds while it runs, so a hard budget refuses fewer requests near
// its limit. Routing does not depend on max_tokens, so the replay's decisions
// stand as they are.
func (r *replay) maxTokenCaps() []Suggestion {
	type keyStats struct {
		idx              []int
		maxOut, minLimit int
	}
	keys := map[string]*keyStats{}
	var order []string
	for i, e := range r.sample.Events {
		if e.KeyID == "" || e.Status != ledger.StatusOK {
			continue
		}
		m, ok := r.sample.Catalog.Lookup(e.ModelUsed)
		if !ok || m.Embedding {
			continue
		}
		limit := m.OutputCap(int(e.InputTokens), int(e.MaxTokens))
		k, ok := keys[e.KeyID]
		if !ok {
			k = &keyStats{minLimit: limit}
			keys[e.KeyID] = k
			order = append(order, e.KeyID)
		}
		k.idx = append(k.idx, i)
		k.maxOut = max(k.maxOut, int(e.OutputTokens))
		k.minLimit = min(k.minLimit, limit)
	}
	sort.Strings(order)
	var out []Suggestion
	for _, key := range order {
		k := keys[key]
		if len(k.idx) < MinRequests || k.maxOut*2 > k.minLimit {
			continue
		}
		limit := max(k.maxOut*2, capFloor)
		limit = (limit + capStep - 1) / capStep * capStep
		if have := r.in.Policy.KeyMaxTokens(key); have > 0 && have <= limit {
			continue
		}
		var freed billing.NanoUSD
		models := map[string]int{}
		for _, i := range k.idx {
			e := r.sample.Events[i]
			m, _ := r.sample.Catalog.Lookup(e.ModelUsed)
			if old := m.OutputCap(int(e.InputTokens), int(e.MaxTokens)); old > limit {
				freed += billing.NanoUSD(old-limit) * m.OutputPrice
			}
			if d := r.base.Decisions[i]; d.Model.ID != "" {
				models[d.Model.ID]++
			}
		}
		if freed <= 0 {
			continue
		}
		c := Change{KeyID: key, MaxTokens: limit}
		var cost billing.NanoUSD
		for _, i := range k.idx {
			cost += r.baseFor[i]
		}
		out = append(out, Suggestion{ID: c.id(KindCapMaxTokens), Kind: KindCapMaxTokens, KeyID: key, Requests: len(k.idx),
			WindowCostBefore: cost, WindowCostAfter: cost, MonthlyReservationFreed: r.monthly(freed), Change: c, Predicted: models,
			Title:  fmt.Sprintf("Cap key %s's max_tokens at %d", key, limit),
			Detail: fmt.Sprintf("The key's longest answer in the last %d days was %d tokens while its requests allowed at least %d; a cap of %d changes no answer of the window and holds %s less budget in reservations a month.", WindowDays, k.maxOut, k.minLimit, limit, usd(r.monthly(freed))),
			Risk:   RiskLow, RiskNote: fmt.Sprintf("the cap is at least twice the longest answer seen (%d tokens); a longer answer would be cut at %d", k.maxOut, limit)})
	}
	return out
}
