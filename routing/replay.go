package routing

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// Record is one request of a recorded log, as replayed by Simulate. It reads
// both a JSON line of its own shape and a row of GET usage/events (model,
// route_features, created_at), so a usage export replays as it is.
type Record struct {
	// RequestedModel is what the client asked for ("auto" or a name).
	RequestedModel string `json:"model_requested"`
	// UsedModel is the model that answered; it prices the "before" cost.
	// Model is the same field as usage/events names it.
	UsedModel string `json:"model_used"`
	Model     string `json:"model,omitempty"`
	// InputTokens, CachedTokens and OutputTokens are the recorded usage.
	InputTokens  int `json:"input_tokens"`
	CachedTokens int `json:"cached_tokens,omitempty"`
	OutputTokens int `json:"output_tokens"`
	// CreatedAt orders the replay (conversations replay turn by turn).
	CreatedAt time.Time `json:"created_at,omitzero"`
	// RouteReason is the live decision's reason, for comparison.
	RouteReason string `json:"route_reason,omitempty"`
	// KeyID is the API key that sent the request: the policy's per-key
	// overrides (Policy.Keys) replay for it.
	KeyID string `json:"key_id,omitempty"`
	// Features are the live classifier inputs (route_features in the ledger);
	// they replace the messages, which the ledger does not keep.
	Features      *Features `json:"features,omitempty"`
	RouteFeatures *Features `json:"route_features,omitempty"`
	// Messages are the recorded chat messages (OpenAI shape), optional: with
	// them the replay classifies the text again (new keyword rules, another
	// classifier).
	Messages json.RawMessage `json:"messages,omitempty"`
	// KeptTurn is the request's kept keyword text (Features.KeywordText), set
	// by the what-if from the tenant's kept prompts (retain_prompts_days). With
	// it a replay matches the candidate policy's keyword rules on the text, as
	// live would; it never comes from, or goes to, a log file.
	KeptTurn string `json:"-"`
}

// RecordOf builds a record from a ledger row; features is its route_features
// JSON (empty for rows recorded before features were).
func RecordOf(requested, used string, in, cached, out int64, at time.Time, reason, features string) Record {
	r := Record{RequestedModel: requested, UsedModel: used, InputTokens: int(in), CachedTokens: int(cached), OutputTokens: int(out),
		CreatedAt: at, RouteReason: reason}
	if features != "" {
		var f Features
		if json.Unmarshal([]byte(features), &f) == nil {
			r.Features = &f
		}
	}
	return r
}

func (r *Record) normalize() {
	if r.UsedModel == "" {
		r.UsedModel = r.Model
	}
	if r.Features == nil {
		r.Features = r.RouteFeatures
	}
}

// ReadRecords reads a request log: JSON lines of records, or pages of GET
// usage/events ({"data":[...]}, one or more, as the API returns them). Blank
// lines are skipped. Errors name the line and wrap errkind.Invalid.
func ReadRecords(r io.Reader) ([]Record, error) {
	br := bufio.NewReader(r)
	dec := json.NewDecoder(br)
	var out []Record
	for n := 1; ; n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF {
			break
		} else if err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "request log line %d is not valid JSON", n)
		}
		var page struct {
			Data *[]Record `json:"data"`
		}
		if json.Unmarshal(raw, &page) == nil && page.Data != nil {
			out = append(out, *page.Data...)
			continue
		}
		var rec Record
		if err := json.Unmarshal(raw, &rec); err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "request log line %d is not a valid record", n)
		}
		out = append(out, rec)
	}
	for i := range out {
		out[i].normalize()
	}
	return out, nil
}

// SimulateOptions tunes a replay.
type SimulateOptions struct {
	// ForceAuto replays every record as model "auto", answering "what would the
	// policy have chosen"; otherwise records keep their requested model.
	ForceAuto bool
	// Catalog prices and routes the replay, e.g. a tenant's catalog with its
	// negotiated prices; nil uses the selector's.
	Catalog *Catalog
	// Classifier scores records that carry messages; nil uses the selector's.
	Classifier *Classifier
	// TenantID scopes conversation keys of records that carry messages.
	TenantID string
}

// Result summarises a replay. Costs assume the new model would have used the
// same token counts as the recorded one, which is the usual approximation.
type Result struct {
	// Requests is the number of records replayed.
	Requests int `json:"requests"`
	// Skipped counts records whose used model is not in the catalog or which
	// the policy could not route.
	Skipped int `json:"skipped"`
	// CostBefore and CostAfter are totals in nano-USD.
	CostBefore billing.NanoUSD `json:"cost_before"`
	CostAfter  billing.NanoUSD `json:"cost_after"`
	// TierMixBefore and TierMixAfter count requests per tier.
	TierMixBefore map[Tier]int `json:"tier_mix_before"`
	TierMixAfter  map[Tier]int `json:"tier_mix_after"`
	// ModelsAfter counts requests per chosen model.
	ModelsAfter map[string]int `json:"models_after"`
	// Reasons counts decisions per route reason.
	Reasons map[RouteReason]int `json:"reasons"`
	// KeywordRulesFromLive, ClassifierChanged and NoFeatures count records
	// the ledger's features could not fully decide (see NeedsText).
	// KeywordRulesFromLive are records without a kept prompt replayed under a
	// policy with keyword rules: they keep the rule matches recorded live.
	KeywordRulesFromLive int `json:"keyword_rules_from_live,omitempty"`
	// KeywordRulesReplayed counts records whose kept prompt was matched
	// against the policy's keyword rules again (exact, as live would).
	KeywordRulesReplayed int `json:"keyword_rules_replayed,omitempty"`
	ClassifierChanged    int `json:"classifier_changed,omitempty"`
	NoFeatures           int `json:"no_features,omitempty"`
	// Decisions are the replayed decisions in the records' order (zero for
	// skipped records).
	Decisions []Decision `json:"-"`
}

// SavingsPercent is the cost reduction in whole percent (negative if dearer).
func (r Result) SavingsPercent() int64 {
	if r.CostBefore == 0 {
		return 0
	}
	return int64(r.CostBefore-r.CostAfter) * 100 / int64(r.CostBefore)
}

// Simulate runs a recorded log through policy with the selector's catalog and
// availability, in the order the requests were made (oldest first), without
// budget pressure. Records with features decide exactly as live did: the same
// probabilities, keyword matches and conversation keys (session affinity
// replays turn by turn). Records with messages are classified again.
func (s *Selector) Simulate(ctx context.Context, policy Policy, records []Record, opts SimulateOptions) (Result, error) {
	if err := policy.Validate(); err != nil {
		return Result{}, err
	}
	res := Result{TierMixBefore: map[Tier]int{}, TierMixAfter: map[Tier]int{}, ModelsAfter: map[string]int{}, Reasons: map[RouteReason]int{}}
	cat := s.catalog
	if opts.Catalog != nil {
		cat = opts.Catalog
	}
	order := make([]int, len(records))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return records[order[a]].CreatedAt.Before(records[order[b]].CreatedAt) })
	aff := newAffinityCache(100_000)
	hasKeywords := policy.HasKeywordRules()
	res.Decisions = make([]Decision, len(records))
	for _, i := range order {
		rec := records[i]
		rec.normalize()
		res.Requests++
		used, ok := cat.Lookup(rec.UsedModel)
		if !ok {
			res.Skipped++
			continue
		}
		req, err := recordRequest(rec, opts.ForceAuto)
		if err != nil {
			return Result{}, fmt.Errorf("record %d: %w", i+1, err)
		}
		var f Features
		switch {
		case len(req.Messages) > 0:
			f = s.features(&SelectInput{TenantID: opts.TenantID, Request: req, Policy: policy, Classifier: opts.Classifier})
		case rec.Features != nil:
			f = *rec.Features
			if f.PromptTokens == 0 {
				f.PromptTokens = rec.InputTokens
			}
			req.PromptTokens = f.PromptTokens
			switch {
			case hasKeywords && rec.KeptTurn != "":
				// The kept text is what live matched keywords on, and the
				// other features do not depend on the rules: matching again
				// is what live would decide under this policy.
				f.matchKeywords(policy.Rules, func() string { return rec.KeptTurn })
				res.KeywordRulesReplayed++
			case hasKeywords:
				res.KeywordRulesFromLive++
			}
			if policy.Classifier != f.Classifier && !(policy.Classifier == "" && f.Classifier == "builtin") {
				res.ClassifierChanged++
			}
		default:
			res.NoFeatures++
			f = Features{PromptTokens: rec.InputTokens}
		}
		d, err := s.decide(&SelectInput{Request: req, Policy: policy, Catalog: cat, KeyID: rec.KeyID}, &f, aff)
		if err != nil || d.Action == DecisionActionRefuse {
			res.Skipped++
			continue
		}
		res.Decisions[i] = d
		res.CostBefore += used.Cost(rec.InputTokens, rec.CachedTokens, rec.OutputTokens)
		res.CostAfter += d.Model.Cost(rec.InputTokens, rec.CachedTokens, rec.OutputTokens)
		res.TierMixBefore[used.Tier]++
		res.TierMixAfter[d.Tier]++
		res.ModelsAfter[d.Model.ID]++
		res.Reasons[d.Reason]++
	}
	return res, nil
}

// NeedsText says why a replay could not fully decide from the ledger's
// features, or "" when it could.
func (r Result) NeedsText() string {
	var why []string
	if r.KeywordRulesFromLive > 0 {
		why = append(why, fmt.Sprintf("%d requests could not replay keyword rules (prompt not kept: enable retain_prompts_days); they keep the rule matches recorded live, by rule name, so new or changed keywords are not applied to them", r.KeywordRulesFromLive))
	}
	if r.ClassifierChanged > 0 {
		why = append(why, fmt.Sprintf("%d requests were scored by another classifier live; comparing classifiers needs the prompt text", r.ClassifierChanged))
	}
	if r.NoFeatures > 0 {
		why = append(why, fmt.Sprintf("%d requests have no recorded features (logged before feature recording) and replay as easy", r.NoFeatures))
	}
	return strings.Join(why, "; ")
}

func recordRequest(rec Record, forceAuto bool) (*ChatRequest, error) {
	model := rec.RequestedModel
	if model == "" || forceAuto {
		model = ModelAuto
	}
	req := &ChatRequest{Model: model, PromptTokens: rec.InputTokens}
	if len(rec.Messages) > 0 {
		var msgs []messageWire
		if err := json.Unmarshal(rec.Messages, &msgs); err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "messages are not chat messages")
		}
		for _, m := range msgs {
			msg := Message{Role: m.Role, Content: m.Content, ToolCalls: m.ToolCalls}
			if err := msg.parseContent(); err != nil {
				return nil, errkind.Wrap(errkind.Invalid, err, "messages are not chat messages")
			}
			req.Messages = append(req.Messages, msg)
		}
	}
	return req, nil
}
