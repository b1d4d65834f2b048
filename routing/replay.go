package routing

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// Record is one line of a recorded request log, as replayed by Simulate.
type Record struct {
	// RequestedModel is what the client asked for ("auto" or a name).
	RequestedModel string `json:"model_requested"`
	// UsedModel is the model that answered; it prices the "before" cost.
	UsedModel string `json:"model_used"`
	// InputTokens, CachedTokens and OutputTokens are the recorded usage.
	InputTokens  int `json:"input_tokens"`
	CachedTokens int `json:"cached_tokens,omitempty"`
	OutputTokens int `json:"output_tokens"`
	// Features describe the prompt when Messages were not recorded.
	Features *Features `json:"features,omitempty"`
	// Messages are the recorded chat messages (OpenAI shape), optional.
	Messages json.RawMessage `json:"messages,omitempty"`
}

// ReadRecords reads a JSON-lines request log; blank lines are skipped. Errors
// name the line and wrap errkind.Invalid.
func ReadRecords(r io.Reader) ([]Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var out []Record
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var rec Record
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, errkind.Wrap(errkind.Invalid, err, "request log line %d is not a valid record", line)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, err
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
}

// SavingsPercent is the cost reduction in whole percent (negative if dearer).
func (r Result) SavingsPercent() int64 {
	if r.CostBefore == 0 {
		return 0
	}
	return int64(r.CostBefore-r.CostAfter) * 100 / int64(r.CostBefore)
}

// Simulate runs a recorded log through policy with the selector's catalog and
// availability, without budget pressure or session affinity, and prices both
// the recorded and the simulated choice.
func (s *Selector) Simulate(ctx context.Context, policy Policy, records []Record, opts SimulateOptions) (Result, error) {
	if err := policy.Validate(); err != nil {
		return Result{}, err
	}
	res := Result{TierMixBefore: map[Tier]int{}, TierMixAfter: map[Tier]int{}, ModelsAfter: map[string]int{}, Reasons: map[RouteReason]int{}}
	policy.SessionAffinity = false
	cat := s.catalog
	if opts.Catalog != nil {
		cat = opts.Catalog
	}
	for i, rec := range records {
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
		d, err := s.selectFeatures(ctx, policy, req, rec, cat)
		if err != nil || d.Action == DecisionActionRefuse {
			res.Skipped++
			continue
		}
		res.CostBefore += used.Cost(rec.InputTokens, rec.CachedTokens, rec.OutputTokens)
		res.CostAfter += d.Model.Cost(rec.InputTokens, rec.CachedTokens, rec.OutputTokens)
		res.TierMixBefore[used.Tier]++
		res.TierMixAfter[d.Tier]++
		res.ModelsAfter[d.Model.ID]++
		res.Reasons[d.Reason]++
	}
	return res, nil
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

// selectFeatures selects for a replayed record: recorded Features stand in for
// the messages when the log has none.
func (s *Selector) selectFeatures(ctx context.Context, p Policy, req *ChatRequest, rec Record, cat *Catalog) (Decision, error) {
	if rec.Features == nil || len(req.Messages) > 0 {
		return s.Select(ctx, SelectInput{Request: req, Policy: p, Catalog: cat})
	}
	// Synthesise a request with the recorded features' shape.
	f := *rec.Features
	if f.PromptTokens == 0 {
		f.PromptTokens = rec.InputTokens
	}
	req.PromptTokens = f.PromptTokens
	text := ""
	for range f.CodeBlocks {
		text += "```\n```\n"
	}
	for i := 0; i < f.ReasoningCues && i < len(reasoningCues); i++ {
		text += reasoningCues[i] + " "
	}
	for range max(f.Turns, 1) {
		req.Messages = append(req.Messages, Message{Role: "user", Text: text, HasImage: f.Images})
	}
	if f.Tools {
		req.Tools = json.RawMessage(`[{"type":"function"}]`)
	}
	if f.WantsJSON {
		req.ResponseFormat = "json_object"
	}
	return s.Select(ctx, SelectInput{Request: req, Policy: p, Catalog: cat})
}
