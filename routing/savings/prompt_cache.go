package savings

import (
	"fmt"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/routing"
)

// caches reports whether m's provider reads a repeated prefix from its
// prompt cache under p: OpenAI-style providers on their own (a cached price
// below the input price), Anthropic only with cache_control breakpoints.
func caches(m routing.Model, p routing.Policy) bool {
	if m.Provider == "anthropic" {
		return p.AnthropicCacheControl && m.CachedInputPrice > 0
	}
	return m.CachedInputPrice > 0 && m.CachedInputPrice < m.InputPrice
}

// cacheGain estimates what prompt caching would save over the recorded
// cached tokens when res decides the window under p: a conversation turn
// answered by the model that answered the turn before reads that turn's
// prompt from the cache (the provider's minimum and step applied), and an
// Anthropic turn pays the cache-write premium on the rest. Turns are chained
// by the conversation keys the router recorded (Features.Conversation is the
// previous turn's ConversationNext). follow counts the follow-up turns.
func (r *replay) cacheGain(res routing.Result, p routing.Policy) (gain billing.NanoUSD, follow int) {
	// res replays every record (the prompt-cache candidates change
	// tenant-wide settings), so its decisions line up with the records.
	type turn struct {
		model string
		input int
	}
	last := map[string]turn{}
	recs := r.sample.Records
	for i := len(recs) - 1; i >= 0; i-- { // events are newest first
		rec, d := recs[i], res.Decisions[i]
		if rec.Features == nil || d.Model.ID == "" {
			continue
		}
		f := rec.Features
		if prev, ok := last[f.Conversation]; ok && f.Conversation != "" {
			follow++
			if prev.model == d.Model.ID && caches(d.Model, p) {
				warm := routing.CachedPrefixTokens(prev.input, rec.InputTokens)
				if extra := warm - rec.CachedTokens; extra > 0 {
					m := d.Model
					gain += m.Cost(rec.InputTokens, rec.CachedTokens, rec.OutputTokens) - m.Cost(rec.InputTokens, rec.CachedTokens+extra, rec.OutputTokens)
					if m.Provider == "anthropic" && m.CacheWritePrice > m.InputPrice {
						gain -= billing.NanoUSD(max(rec.InputTokens-warm, 0)) * (m.CacheWritePrice - m.InputPrice)
					}
				}
			}
		}
		if f.ConversationNext != "" {
			last[f.ConversationNext] = turn{model: d.Model.ID, input: rec.InputTokens}
		}
	}
	return gain, follow
}

// promptCache: the tenant's conversations repeat their prefixes, and keeping
// each on one model (session affinity) or marking the prefix for Anthropic
// (cache control) would read them from the prompt cache.
func (r *replay) promptCache() (Suggestion, bool, error) {
	p := r.in.Policy
	var changes []Change
	if !p.SessionAffinity {
		changes = append(changes, Change{SessionAffinity: true})
	}
	if !p.AnthropicCacheControl {
		changes = append(changes, Change{AnthropicCacheControl: true})
	}
	if len(changes) == 2 {
		changes = append(changes, Change{SessionAffinity: true, AnthropicCacheControl: true})
	}
	baseGain, follow := r.cacheGain(r.base, p)
	if follow < MinRequests {
		return Suggestion{}, false, nil
	}
	var best Suggestion
	for _, c := range changes {
		p2 := c.To(p)
		o, ok, err := r.try(p2, nil)
		if err != nil {
			return Suggestion{}, false, err
		}
		if !ok {
			continue
		}
		gain, _ := r.cacheGain(o.res, p2)
		o.saved += gain - baseGain
		// The window's cost of every request, before and after.
		o.before, o.cost = r.base.CostAfter-baseGain, o.res.CostAfter-gain
		if o.saved <= 0 || r.monthly(o.saved) <= best.MonthlySavings {
			continue
		}
		best = r.suggestion(KindPromptCache, c, o, follow)
		best.Predicted = o.res.ModelsAfter
	}
	if best.ID == "" {
		return Suggestion{}, false, nil
	}
	c := best.Change
	switch {
	case c.SessionAffinity && c.AnthropicCacheControl:
		best.Title = "Keep conversations on one model and mark stable prefixes for Anthropic's prompt cache"
	case c.SessionAffinity:
		best.Title = "Keep conversations on one model (session affinity) so their prefixes stay cached"
	default:
		best.Title = "Mark stable prefixes for Anthropic's prompt cache"
	}
	best.Detail = fmt.Sprintf("%d follow-up turns repeat the conversation's earlier prompt; replayed with the change, the window costs %s instead of %s (cached prefixes estimated from the previous turn's prompt, at the provider's minimum and step).",
		follow, usd(best.WindowCostAfter), usd(best.WindowCostBefore))
	best.Risk, best.RiskNote = RiskLow, "the prompt is unchanged; cached prefixes are billed at the cached price"
	if c.SessionAffinity {
		best.RiskNote = "a conversation stays on the model it started on; a turn the classifier finds hard still escalates"
	}
	return best, true, nil
}
