package savings

import (
	"context"
	"errors"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// AuditActionApply is the audit action of an applied suggestion; its details
// carry the suggestion, the change and the policy before and after.
const AuditActionApply = "routing.suggestion_apply"

// ApplyInput applies one suggestion of the tenant's current list.
type ApplyInput struct {
	Input
	// ID is the suggestion's id (Suggestion.ID).
	ID string
	// Actor is who applies it, for the audit entry.
	Actor audit.Actor
}

// Validate reports missing inputs.
func (in ApplyInput) Validate() error {
	if in.ID == "" {
		return errkind.InvalidParam("id", "name the suggestion to apply (its id, from the list of suggestions)")
	}
	return in.Input.Validate()
}

// Applied is what Apply changed.
type Applied struct {
	Suggestion Suggestion     `json:"suggestion"`
	Before     routing.Policy `json:"before"`
	After      routing.Policy `json:"after"`
}

// Apply recomputes the tenant's suggestions (an id names a change on today's
// traffic, so a stale one is refused rather than guessed at), merges the
// chosen one's change into the tenant's current policy, saves it through the
// policy store and records the audit entry. The caller invalidates its
// policy cache; other replicas pick the policy up within the cache's TTL.
func Apply(ctx context.Context, in ApplyInput, log *audit.AuditLog) (Applied, error) {
	if err := in.Validate(); err != nil {
		return Applied{}, err
	}
	if log == nil {
		return Applied{}, errors.New("savings: Apply needs the audit log")
	}
	rep, err := Compute(ctx, in.Input)
	if err != nil {
		return Applied{}, err
	}
	var s *Suggestion
	for i := range rep.Suggestions {
		if rep.Suggestions[i].ID == in.ID {
			s = &rep.Suggestions[i]
		}
	}
	if s == nil {
		return Applied{}, errkind.New(errkind.NotFound, "no suggestion %q for this tenant now; suggestions follow the last %d days of traffic, so list them again and apply one of those", in.ID, WindowDays)
	}
	after := s.Change.To(in.Policy)
	if err := gateway.SavePolicy(ctx, in.Handle, after, in.Catalog); err != nil {
		return Applied{}, err
	}
	if err := log.Record(ctx, in.Handle.TenantID(), in.Actor, AuditActionApply, "policy", map[string]any{
		"suggestion": s.ID, "kind": s.Kind, "title": s.Title, "change": s.Change,
		"monthly_savings_nano": int64(s.MonthlySavings), "before": in.Policy, "after": after,
	}); err != nil {
		return Applied{}, err
	}
	return Applied{Suggestion: *s, Before: in.Policy, After: after}, nil
}
