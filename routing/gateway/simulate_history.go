package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/tenants"
)

// HistoryInput is a what-if over a tenant's own ledger.
type HistoryInput struct {
	// Policy is the candidate policy (unsaved).
	Policy routing.Policy
	// Since is the oldest moment replayed.
	Since time.Time
	// MaxEvents caps the replay at the newest this many events.
	MaxEvents int
	// ForceAuto replays every request as model "auto".
	ForceAuto bool
	// BaseCatalog is the catalog the tenant's price overrides apply to.
	BaseCatalog *routing.Catalog
	// Sealer opens the tenant's kept prompts; nil replays without them.
	Sealer *seal.Sealer
}

// Validate reports every problem at once.
func (in HistoryInput) Validate() error {
	var problems []error
	if in.MaxEvents <= 0 {
		problems = append(problems, errors.New("max events must be positive"))
	}
	if in.BaseCatalog == nil {
		problems = append(problems, errors.New("a base catalog is required"))
	}
	return errkind.JoinInvalid("invalid what-if", problems)
}

// HistoryResult is the replay with the window it covered.
type HistoryResult struct {
	routing.Result
	// From is the oldest replayed moment: Since, or the oldest event kept when
	// the window held more than MaxEvents (Truncated).
	From      time.Time
	Truncated bool
	// ModelsBefore counts the replayed events per model that served them.
	ModelsBefore map[string]int
	// ImportedRequests counts the replayed requests that came from imported
	// history (usage import) rather than served traffic.
	ImportedRequests int
}

// SimulateHistory replays the tenant's ledger events since in.Since through
// the candidate policy, at the tenant's prices, with its kept prompts when the
// policy has keyword rules. The console's what-if and `tollgate route simulate
// --tenant` both come through here, so they answer alike. Nothing is changed.
func SimulateHistory(ctx context.Context, h *tenants.Handle, sel *routing.Selector, in HistoryInput) (HistoryResult, error) {
	if err := in.Validate(); err != nil {
		return HistoryResult{}, err
	}
	// The same sample the savings suggestions replay (LoadReplaySample).
	sample, err := loadReplaySample(ctx, h, in.BaseCatalog, in.Since, in.MaxEvents)
	if err != nil {
		return HistoryResult{}, err
	}
	events, records := sample.Events, sample.Records
	out := HistoryResult{From: sample.From, Truncated: sample.Truncated, ModelsBefore: map[string]int{}}
	for _, e := range events {
		out.ModelsBefore[e.ModelUsed]++
	}
	// Kept prompts are opened here for the replay only; the result is counts.
	if err := attachKeptTurns(ctx, h, in.Sealer, in.Policy, events, records); err != nil {
		return HistoryResult{}, err
	}
	// Imported history (usage import) replays too, so a team sees what
	// Tollgate would have cost before its first request; it fills what the
	// served events leave of the bound.
	if room := in.MaxEvents - len(events); room > 0 {
		imported, err := ledger.ImportedSince(ctx, h, in.Since, room)
		if err != nil {
			return HistoryResult{}, err
		}
		var truncated bool
		records, truncated = appendImportedRecords(records, imported, room)
		out.Truncated = out.Truncated || truncated
		out.ImportedRequests = len(records) - len(events)
		for _, r := range records[len(events):] {
			out.ModelsBefore[r.UsedModel]++
		}
	}
	// Replay at this tenant's prices (negotiated overrides included).
	out.Result, err = sel.Simulate(ctx, in.Policy, records, routing.SimulateOptions{ForceAuto: in.ForceAuto, Catalog: sample.Catalog})
	return out, err
}

// appendImportedRecords adds imported rows as replay records, at most room of
// them. A row standing for n requests (an OpenAI daily bucket) becomes n
// records that split its tokens evenly, so each is routed at a request's size
// rather than the bucket's. Imported requests named their model: they replay
// as named unless the what-if forces auto.
func appendImportedRecords(records []routing.Record, rows []ledger.ImportedRow, room int) ([]routing.Record, bool) {
	for _, r := range rows {
		n := r.Requests
		for j := range n {
			if room == 0 {
				return records, true
			}
			room--
			share := func(total int64) int64 {
				s := total / n
				if j < total%n {
					s++
				}
				return s
			}
			records = append(records, routing.RecordOf(r.Model, r.Model, share(r.InputTokens), share(r.CachedTokens), share(r.OutputTokens),
				r.CreatedAt, "", ""))
		}
	}
	return records, false
}
