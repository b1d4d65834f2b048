package gateway

import (
	"context"
	"time"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/tenants"
)

// ErrKeepPromptsNeedsMasterKey refuses retain_prompts_days on a deployment that
// cannot seal what it would keep.
const ErrKeepPromptsNeedsMasterKey = "keeping prompts needs TOLLGATE_MASTER_KEY (kept prompts are sealed at rest with a tenant-bound key); set the master key or leave retain_prompts_days at 0"

// keptAAD binds a kept turn to its tenant and request: a sealed value copied
// to another tenant's table, or another row, does not open.
func keptAAD(tenantID, requestID string) []byte {
	return []byte("kept-prompt:tenant:" + tenantID + ":request:" + requestID)
}

// SealKeptTurn seals a request's keyword text as kept_prompts stores it:
// bound to the tenant and the request id, base64 for a text column.
func SealKeptTurn(sealer *seal.Sealer, tenantID, requestID, text string) (string, error) {
	return sealer.SealString(seal.Secret(text), keptAAD(tenantID, requestID))
}

// startSealTurn seals the request's keyword text for its ledger event while
// the upstream answers, so keeping a prompt adds nothing to the response's
// latency (sealing a few KiB takes microseconds; the upstream takes far longer).
// Nothing happens unless the tenant keeps prompts and a sealer is configured.
func (s *Service) startSealTurn(ctx context.Context, p *plan, req *routing.ChatRequest) {
	if !p.keepPrompt || s.d.Sealer == nil {
		return
	}
	text := routing.KeywordText(req)
	if text == "" {
		return
	}
	ch := make(chan string, 1) // buffered: a failed request never reads it
	p.kept = ch
	tid, rid := p.caller.tenantID(), p.ids.Server
	go func() {
		sealed, err := SealKeptTurn(s.d.Sealer, tid, rid, text)
		if err != nil {
			// The usage is recorded regardless: a prompt is never worth a lost bill.
			s.logger.WarnContext(ctx, "prompt not kept: sealing failed", "error", err)
		}
		ch <- sealed
	}()
}

// keptTurn is the sealed keyword text for the ledger event, "" when none.
func (p *plan) keptTurn() string {
	if p.kept == nil {
		return ""
	}
	return <-p.kept
}

// openKeptTurns returns the kept keyword texts of the tenant's requests
// (request id → text) for the what-if; requests without one are absent, and so
// are values that do not open (another master key). It is the only reader of
// kept prompts, and its result never leaves the process: the what-if reports
// aggregates only.
func openKeptTurns(ctx context.Context, h *tenants.Handle, sealer *seal.Sealer, requestIDs []string) (map[string]string, error) {
	if sealer == nil || len(requestIDs) == 0 {
		return map[string]string{}, nil
	}
	sealed, err := ledger.KeptTurns(ctx, h, requestIDs)
	if err != nil {
		return nil, err
	}
	tid := string(h.TenantID())
	out := make(map[string]string, len(sealed))
	for id, v := range sealed {
		text, err := sealer.OpenString(v, keptAAD(tid, id))
		if err != nil {
			continue
		}
		out[id] = text.Reveal()
	}
	return out, nil
}

// ReplayRecords turns the tenant's ledger events into replay records. When
// the candidate policy has keyword rules, the records of requests with a kept
// prompt carry its text, so the replay matches those rules as live would;
// the others keep the matches recorded live (counted by the replay).
func ReplayRecords(ctx context.Context, h *tenants.Handle, sealer *seal.Sealer, pol routing.Policy, events []ledger.Event) ([]routing.Record, error) {
	records := recordsOf(events)
	if err := attachKeptTurns(ctx, h, sealer, pol, events, records); err != nil {
		return nil, err
	}
	return records, nil
}

// attachKeptTurns sets the kept prompt of each record (index for index with
// events) when the candidate policy has keyword rules.
func attachKeptTurns(ctx context.Context, h *tenants.Handle, sealer *seal.Sealer, pol routing.Policy, events []ledger.Event, records []routing.Record) error {
	if !pol.HasKeywordRules() {
		return nil
	}
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.RequestID
	}
	kept, err := openKeptTurns(ctx, h, sealer, ids)
	if err != nil {
		return err
	}
	for i, e := range events {
		records[i].KeptTurn = kept[e.RequestID]
	}
	return nil
}

// keptCutoff is the creation time before which a tenant keeping prompts for
// days no longer keeps them; the zero time (delete all) when days is 0.
func keptCutoff(now time.Time, days int) time.Time {
	if days <= 0 {
		return time.Time{}
	}
	return now.UTC().Add(-time.Duration(days) * 24 * time.Hour)
}

// PurgeKeptPrompts deletes what the tenant's policy no longer keeps: prompts
// older than retain_prompts_days, or all of them when it is 0. The worker runs
// it periodically; saving a policy runs it at once.
func PurgeKeptPrompts(ctx context.Context, h *tenants.Handle, now time.Time) (int64, error) {
	pol, _, err := LoadPolicy(ctx, h)
	if err != nil {
		return 0, err
	}
	return ledger.PurgeKeptPrompts(ctx, h, keptCutoff(now, pol.RetainPromptsDays))
}
