// Package savings turns a tenant's last 30 days of traffic into savings
// suggestions: each one a policy change (routing.Policy, per-key overrides
// included) replayed through the real router (routing.Selector.Simulate, the
// replay the routing what-if runs), priced at the tenant's prices, with its
// monthly saving and its quality risk, and applied through the policy store
// with an audit entry.
package savings

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strconv"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/routing"
)

// Kind is what a suggestion changes.
type Kind string

// Suggestion kinds.
const (
	// KindRouteAuto routes a key's requests for a named model as "auto", so
	// the turns the classifier finds easy go to the policy's simple tier.
	KindRouteAuto Kind = "route_auto"
	// KindCheaperModel serves a key's named model by a cheaper model of the
	// same tier that can serve every one of its requests.
	KindCheaperModel Kind = "cheaper_model"
	// KindPromptCache keeps conversations on one model (session affinity)
	// and marks stable prefixes for Anthropic's prompt cache, where the
	// tenant's conversations repeat their prefixes.
	KindPromptCache Kind = "prompt_cache"
	// KindCapMaxTokens caps a key's max_tokens where its answers never came
	// near the limit: the spend stays, the budget held per request shrinks.
	KindCapMaxTokens Kind = "cap_max_tokens"
)

// Risk is a suggestion's quality risk.
type Risk string

// Quality risks.
const (
	// RiskLow: the same answers (caching, a cap far above every answer), or
	// easy turns clearly below the threshold.
	RiskLow Risk = "low"
	// RiskMedium: another model answers, or some moved turns scored near
	// the threshold.
	RiskMedium Risk = "medium"
	// RiskHigh: many moved turns scored near the threshold.
	RiskHigh Risk = "high"
)

// Change is the policy change a suggestion makes; Apply merges it into the
// tenant's policy as it is when applied.
type Change struct {
	// KeyID is the API key the change applies to ("" for tenant-wide ones).
	KeyID string `json:"key_id,omitempty"`
	// AutoModel is routed as "auto" for the key (KindRouteAuto).
	AutoModel string `json:"auto_model,omitempty"`
	// SubstituteFrom is served by SubstituteTo for the key (KindCheaperModel).
	SubstituteFrom string `json:"substitute_from,omitempty"`
	SubstituteTo   string `json:"substitute_to,omitempty"`
	// MaxTokens caps the key's output limit (KindCapMaxTokens).
	MaxTokens int `json:"max_tokens,omitempty"`
	// SessionAffinity and AnthropicCacheControl are switched on (KindPromptCache).
	SessionAffinity       bool `json:"session_affinity,omitempty"`
	AnthropicCacheControl bool `json:"anthropic_cache_control,omitempty"`
}

// To returns p with the change made; p itself is not modified.
func (c Change) To(p routing.Policy) routing.Policy {
	p.SessionAffinity = p.SessionAffinity || c.SessionAffinity
	p.AnthropicCacheControl = p.AnthropicCacheControl || c.AnthropicCacheControl
	if c.KeyID == "" {
		return p
	}
	keys := make(map[string]routing.KeyRouting, len(p.Keys)+1)
	for id, k := range p.Keys {
		k.AutoModels = slices.Clone(k.AutoModels)
		k.Substitute = maps.Clone(k.Substitute)
		keys[id] = k
	}
	k := keys[c.KeyID]
	if c.AutoModel != "" && !slices.Contains(k.AutoModels, c.AutoModel) {
		k.AutoModels = append(k.AutoModels, c.AutoModel)
		delete(k.Substitute, c.AutoModel)
	}
	if c.SubstituteFrom != "" {
		if k.Substitute == nil {
			k.Substitute = map[string]string{}
		}
		k.Substitute[c.SubstituteFrom] = c.SubstituteTo
		k.AutoModels = slices.DeleteFunc(k.AutoModels, func(m string) bool { return m == c.SubstituteFrom })
	}
	if c.MaxTokens > 0 {
		k.MaxTokens = c.MaxTokens
	}
	keys[c.KeyID] = k
	p.Keys = keys
	return p
}

// id is the suggestion's stable id: the same change on the same data gets
// the same id, so a list and a later apply agree on what an id means.
func (c Change) id(kind Kind) string {
	h := sha256.New()
	for _, s := range []string{string(kind), c.KeyID, c.AutoModel, c.SubstituteFrom, c.SubstituteTo, strconv.Itoa(c.MaxTokens),
		strconv.FormatBool(c.SessionAffinity), strconv.FormatBool(c.AnthropicCacheControl)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "sug_" + hex.EncodeToString(h.Sum(nil))[:16]
}

// Suggestion is one savings suggestion.
type Suggestion struct {
	// ID names the suggestion for Apply.
	ID   string `json:"id"`
	Kind Kind   `json:"kind"`
	// Title is one line for a list; Detail says what the replay found.
	Title  string `json:"title"`
	Detail string `json:"detail"`
	// KeyID and Model are the key and named model concerned, when one is.
	KeyID string `json:"key_id,omitempty"`
	Model string `json:"model,omitempty"`
	// Requests is how many requests of the window the change affects.
	Requests int `json:"requests"`
	// MonthlySavings is the spend saved a month in nano-USD: the window's
	// saving scaled to 30 days.
	MonthlySavings billing.NanoUSD `json:"monthly_savings_nano"`
	// WindowCostBefore and WindowCostAfter are what the affected requests
	// cost in the window, as replayed under the current policy and under the
	// changed one.
	WindowCostBefore billing.NanoUSD `json:"window_cost_before_nano"`
	WindowCostAfter  billing.NanoUSD `json:"window_cost_after_nano"`
	// MonthlyReservationFreed is budget no longer held by reservations a
	// month (KindCapMaxTokens), in nano-USD; 0 for the other kinds.
	MonthlyReservationFreed billing.NanoUSD `json:"monthly_reservation_freed_nano,omitempty"`
	// Risk is the quality risk, and RiskNote why.
	Risk     Risk   `json:"risk"`
	RiskNote string `json:"risk_note"`
	// Change is what applying the suggestion changes in the policy.
	Change Change `json:"change"`
	// Predicted counts the replayed decisions of the affected requests by
	// the model that would answer after the change: what live routing does
	// with the same requests once it is applied.
	Predicted map[string]int `json:"predicted_models"`
}
