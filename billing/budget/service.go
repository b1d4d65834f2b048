package budget

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// Named is a key or member a budget may apply to, as people name it.
type Named struct {
	ID string
	// Name is a key's name or a member's email.
	Name string
	// Prefix is a key's prefix ("tg_ab12cd34"); empty for members.
	Prefix string
}

// Directory lists the keys and members of a tenant, so that a budget's scope can
// be named by id, key prefix, key name or member email.
type Directory interface {
	Keys(ctx context.Context, tenant tenants.ID) ([]Named, error)
	Members(ctx context.Context, tenant tenants.ID) ([]Named, error)
}

// Auditor writes the audit log.
type Auditor interface {
	Record(ctx context.Context, tenant tenants.ID, actor audit.Actor, action, target string, details map[string]any) error
}

// ServiceDeps are the budget service's collaborators.
type ServiceDeps struct {
	// Meter holds the counters the gateway enforces. Nil (a CLI next to an
	// in-process meter it cannot reach) reads spend from the ledger instead.
	Meter meter.Meter
	// Cache is this process's budget cache; nil when the process serves no requests.
	Cache *Cache
	// Feed tells every replica that a tenant's budgets changed; may be nil.
	Feed      *tenants.ChangeFeed
	Directory Directory
	Audit     Auditor
	// PeriodSpend, CounterTotals and LimitImpact read the ledger (billing/ledger).
	PeriodSpend   func(ctx context.Context, h *tenants.Handle, b Budget, now time.Time) (billing.NanoUSD, error)
	CounterTotals func(ctx context.Context, h *tenants.Handle, bs []Budget, now time.Time) ([]meter.ScopeTotal, error)
	LimitImpact   func(ctx context.Context, h *tenants.Handle, b Budget, now time.Time) (LimitImpact, error)
	Clock         func() time.Time
	Logger        *slog.Logger
}

// Service is the one way budgets are created, changed, shown and removed: the
// admin API, the CLI and the console (through the API) all use it, so a budget
// means the same thing everywhere.
type Service struct {
	d      ServiceDeps
	logger *slog.Logger

	mu      sync.Mutex
	known   map[tenants.ID]map[string]bool // budget ids whose counters this process seeded or found
	seedNew bool
}

// NewService returns the service.
func NewService(d ServiceDeps) (*Service, error) {
	if d.Directory == nil || d.Audit == nil || d.PeriodSpend == nil || d.CounterTotals == nil || d.LimitImpact == nil || d.Logger == nil {
		return nil, errors.New("budget: NewService is missing a dependency")
	}
	if d.Clock == nil {
		d.Clock = time.Now
	}
	return &Service{d: d, logger: d.Logger.With("component", "billing.budget"), known: map[tenants.ID]map[string]bool{}}, nil
}

// Status is a budget with its scope's name and this period's spend, read from the
// counter the gateway enforces (or the ledger when that counter cannot answer).
type Status struct {
	Budget
	// ScopeName is the key's name or the member's email; empty for the tenant.
	ScopeName string
	PeriodKey string
	Spent     billing.NanoUSD
	Reserved  billing.NanoUSD
	// Source is "meter" or "ledger".
	Source string
}

// Percent is the share of the limit spent (settled), in whole percent, rounded down.
func (s Status) Percent() int64 {
	if s.Limit <= 0 {
		return 0
	}
	return int64(s.Spent) * 100 / int64(s.Limit)
}

// Resolve turns a scope reference into the key or member id it names: a key by
// id, prefix or name, a member by id or email. Unknown or ambiguous references
// are refused with the candidates listed.
func (s *Service) Resolve(ctx context.Context, tenant tenants.ID, scope meter.Scope, ref string) (Named, error) {
	ref = strings.TrimSpace(ref)
	var all []Named
	var err error
	switch scope {
	case meter.ScopeTenant:
		return Named{}, nil
	case meter.ScopeKey:
		all, err = s.d.Directory.Keys(ctx, tenant)
	case meter.ScopeMember:
		all, err = s.d.Directory.Members(ctx, tenant)
	default:
		return Named{}, errkind.InvalidParam("scope", "scope %q must be tenant, key or member", scope)
	}
	if err != nil {
		return Named{}, err
	}
	var byID, byOther []Named
	for _, n := range all {
		switch {
		case n.ID == ref:
			byID = append(byID, n)
		case n.Prefix != "" && n.Prefix == ref, strings.EqualFold(n.Name, ref):
			byOther = append(byOther, n)
		}
	}
	if len(byID) == 1 {
		return byID[0], nil
	}
	if len(byOther) == 1 {
		return byOther[0], nil
	}
	what := map[meter.Scope]string{meter.ScopeKey: "key (by id, prefix or name)", meter.ScopeMember: "member (by id or email)"}[scope]
	if len(byOther) > 1 {
		return Named{}, &errkind.Error{Kind: errkind.Invalid, Code: "ambiguous_scope_id", Param: "scope_id",
			Message: fmt.Sprintf("invalid budget: %q names %d %ss: %s; use the id", ref, len(byOther), scope, candidates(byOther))}
	}
	msg := fmt.Sprintf("invalid budget: %q is not a %s of this tenant", ref, what)
	if len(all) > 0 {
		msg += "; candidates: " + candidates(all)
	}
	return Named{}, &errkind.Error{Kind: errkind.Invalid, Code: "unknown_scope_id", Param: "scope_id", Message: msg}
}

func candidates(ns []Named) string {
	const most = 10
	parts := make([]string, 0, min(len(ns), most))
	for i, n := range ns {
		if i == most {
			parts = append(parts, fmt.Sprintf("and %d more", len(ns)-most))
			break
		}
		p := n.ID
		if n.Name != "" {
			p = fmt.Sprintf("%s (%s)", n.Name, n.ID)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

// Set creates or replaces the budget of (scope, scope, period). in.ScopeID may
// name the scope in any way Resolve accepts. A new budget's counter starts at the
// ledger's spend so far this period; every replica drops its cached budgets; the
// change is audited. It reports whether the budget was created.
func (s *Service) Set(ctx context.Context, h *tenants.Handle, actor audit.Actor, in SetInput) (Status, bool, error) {
	if err := in.Validate(); err != nil {
		return Status{}, false, err
	}
	tenant := h.TenantID()
	named, err := s.Resolve(ctx, tenant, in.Scope, in.ScopeID)
	if err != nil {
		return Status{}, false, err
	}
	in.ScopeID = named.ID
	// The budget this one replaces, for the audit entry's before/after; a failed
	// read only leaves the entry without its "before".
	var prev *Budget
	if all, err := List(ctx, h); err == nil {
		for i := range all {
			if all[i].Scope == in.Scope && all[i].ScopeID == in.ScopeID && all[i].Period == in.Period {
				prev = &all[i]
			}
		}
	}
	b, err := Set(ctx, h, in)
	if err != nil {
		return Status{}, false, err
	}
	created := b.CreatedAt.Equal(b.UpdatedAt)
	if created {
		s.seed(ctx, h, []Budget{b})
	}
	s.changed(ctx, tenant)
	details := map[string]any{"scope": string(b.Scope), "scope_id": b.ScopeID,
		"period": string(b.Period), "limit_usd": b.Limit.USDString(), "hard": b.Hard, "downgrade_at": b.DowngradeAt,
		audit.DetailTargetName: budgetLabel(b, named.Name), audit.DetailAfter: auditState(b)}
	if prev != nil {
		details[audit.DetailBefore] = auditState(*prev)
	}
	s.audit(ctx, tenant, actor, "budget.set", b.ID, details)
	st, err := s.statuses(ctx, h, []Budget{b}, map[string]string{b.ScopeID: named.Name})
	if err != nil {
		return Status{}, created, err
	}
	return st[0], created, nil
}

// Delete removes a budget by id.
func (s *Service) Delete(ctx context.Context, h *tenants.Handle, actor audit.Actor, id string) error {
	// The budget as it was, for the audit entry; a failed read only leaves the
	// entry with the bare id.
	var details map[string]any
	if all, err := List(ctx, h); err == nil {
		for _, b := range all {
			if b.ID == id {
				details = map[string]any{audit.DetailBefore: auditState(b), audit.DetailTargetName: budgetLabel(b, s.scopeName(ctx, h.TenantID(), b))}
			}
		}
	}
	if err := Delete(ctx, h, id); err != nil {
		return err
	}
	s.changed(ctx, h.TenantID())
	s.audit(ctx, h.TenantID(), actor, "budget.delete", id, details)
	return nil
}

// auditState is the part of a budget an audit entry's before/after shows.
func auditState(b Budget) map[string]any {
	return map[string]any{"limit_usd": b.Limit.USDString(), "hard": b.Hard, "alert_at": b.AlertAt, "downgrade_at": b.DowngradeAt}
}

// budgetLabel names a budget for people: "key support-bot, month".
func budgetLabel(b Budget, scopeName string) string {
	if b.Scope == meter.ScopeTenant || scopeName == "" {
		return fmt.Sprintf("%s, %s", b.Scope, b.Period)
	}
	return fmt.Sprintf("%s %s, %s", b.Scope, scopeName, b.Period)
}

// scopeName is the name of a budget's key or member, or "" when it cannot be
// found (the label then falls back to the scope alone).
func (s *Service) scopeName(ctx context.Context, tenant tenants.ID, b Budget) string {
	if b.Scope == meter.ScopeTenant {
		return ""
	}
	n, err := s.Resolve(ctx, tenant, b.Scope, b.ScopeID)
	if err != nil {
		return ""
	}
	return n.Name
}

// List returns the tenant's budgets with their scope names and this period's spend.
func (s *Service) List(ctx context.Context, h *tenants.Handle) ([]Status, error) {
	bs, err := List(ctx, h)
	if err != nil {
		return nil, err
	}
	s.seedUnseen(ctx, h, bs)
	names := map[string]string{}
	if len(bs) > 0 {
		for _, list := range []func(context.Context, tenants.ID) ([]Named, error){s.d.Directory.Keys, s.d.Directory.Members} {
			ns, err := list(ctx, h.TenantID())
			if err != nil {
				return nil, err
			}
			for _, n := range ns {
				names[n.ID] = n.Name
			}
		}
	}
	return s.statuses(ctx, h, bs, names)
}

// PreviewInput is a proposed limit on a scope.
type PreviewInput struct {
	Scope   meter.Scope
	ScopeID string
	Period  meter.Period
	Limit   billing.NanoUSD
}

// LimitImpact is what a budget's limit means for the spend its scope already has
// in the current period: what the console shows before it saves a hard limit.
type LimitImpact struct {
	// PeriodKey is the current period ("2026-11" or "2026-11-26").
	PeriodKey string
	// Spent is the scope's ledger spend this period, nano-USD.
	Spent billing.NanoUSD
	// Requests is the number of the scope's requests this period.
	Requests int64
	// Refused is how many of those requests a hard limit of this size would have
	// refused: the period's requests replayed in order, each admitted while the
	// admitted spend plus its cost stays within the limit (as the meter admits a
	// reservation), refused otherwise.
	Refused int64
	// RefusedCost is the cost of the refused requests, nano-USD.
	RefusedCost billing.NanoUSD
}

// Preview says, for a proposed hard limit on a scope, what the scope spent so far
// this period and how many of this period's requests the limit would have
// refused. It changes nothing.
func (s *Service) Preview(ctx context.Context, h *tenants.Handle, in PreviewInput) (LimitImpact, error) {
	if err := (SetInput{Scope: in.Scope, ScopeID: in.ScopeID, Period: in.Period, Limit: in.Limit}).Validate(); err != nil {
		return LimitImpact{}, err
	}
	named, err := s.Resolve(ctx, h.TenantID(), in.Scope, in.ScopeID)
	if err != nil {
		return LimitImpact{}, err
	}
	b := Budget{Scope: in.Scope, ScopeID: named.ID, Period: in.Period, Limit: in.Limit}
	if in.Scope == meter.ScopeKey {
		// A key budget also counts the key's rotation successors.
		all, err := List(ctx, h)
		if err != nil {
			return LimitImpact{}, err
		}
		for _, x := range all {
			if x.Scope == meter.ScopeKey && x.ScopeID == named.ID {
				b.KeyIDs = x.KeyIDs
			}
		}
	}
	return s.d.LimitImpact(ctx, h, b, s.d.Clock())
}

// SeedNew keeps this process's counters right for budgets created elsewhere (the
// CLI, another replica): each time cache loads a tenant's budgets, a budget this
// process has not met yet gets its counter seeded from the ledger. Use it only
// with a meter private to this process, after Known has marked the budgets whose
// counters it rebuilt at start; shared counters (Redis) are seeded once by the
// writer and recovered by the meter itself.
func (s *Service) SeedNew(cache *Cache) {
	s.mu.Lock()
	s.seedNew = true
	s.mu.Unlock()
	cache.mu.Lock()
	defer cache.mu.Unlock()
	cache.onLoad = s.seedUnseen
}

// seedUnseen seeds the budgets this process has not met yet, when SeedNew asked
// for it (List does it too, so the admin API shows a CLI budget's spend at once).
func (s *Service) seedUnseen(ctx context.Context, h *tenants.Handle, bs []Budget) {
	s.mu.Lock()
	on := s.seedNew
	s.mu.Unlock()
	if !on {
		return
	}
	if fresh := s.unseen(h.TenantID(), bs); len(fresh) > 0 {
		s.seed(ctx, h, fresh)
	}
}

// Known marks budgets whose counters this process already has (rebuilt at start).
func (s *Service) Known(tenant tenants.ID, bs []Budget) { s.unseen(tenant, bs) }

func (s *Service) unseen(tenant tenants.ID, bs []Budget) []Budget {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.known[tenant]
	if k == nil {
		k = map[string]bool{}
		s.known[tenant] = k
	}
	var out []Budget
	for _, b := range bs {
		if !k[b.ID] {
			k[b.ID] = true
			out = append(out, b)
		}
	}
	return out
}

// seed starts new budgets' counters at the ledger's spend of the period so far:
// without it a budget created mid-month would start at zero and let the scope
// spend its limit again. A failure is logged: the reconcile job corrects it.
func (s *Service) seed(ctx context.Context, h *tenants.Handle, bs []Budget) {
	s.unseen(h.TenantID(), bs)
	if s.d.Meter == nil {
		return
	}
	totals, err := s.d.CounterTotals(ctx, h, bs, s.d.Clock())
	if err == nil {
		err = s.d.Meter.Rebuild(ctx, string(h.TenantID()), totals)
	}
	if err != nil {
		s.logger.WarnContext(ctx, "seeding a new budget's counter from the ledger failed; the reconcile job will correct it", "error", err)
	}
}

// changed drops the tenant's cached budgets here and on every replica.
func (s *Service) changed(ctx context.Context, tenant tenants.ID) {
	if s.d.Cache != nil {
		s.d.Cache.Invalidate(tenant)
	}
	if s.d.Feed != nil {
		if err := s.d.Feed.Announce(ctx, tenants.Change{Kind: tenants.ChangeBudgets, Ref: string(tenant)}); err != nil {
			s.logger.WarnContext(ctx, "announcing a budget change failed; other replicas see it within their cache TTL", "error", err)
		}
	}
}

// audit records a committed change; a failed write is logged rather than
// turned into an error the caller would retry.
func (s *Service) audit(ctx context.Context, tenant tenants.ID, actor audit.Actor, action, target string, details map[string]any) {
	if err := s.d.Audit.Record(ctx, tenant, actor, action, target, details); err != nil {
		s.logger.ErrorContext(ctx, "audit record failed", "error", err, "action", action, "target", target)
	}
}

// statuses adds each budget's spend: one meter call for all of them, or, when
// there is no meter or it cannot answer, the ledger's rollups.
func (s *Service) statuses(ctx context.Context, h *tenants.Handle, bs []Budget, names map[string]string) ([]Status, error) {
	now := s.d.Clock()
	out := make([]Status, len(bs))
	var usage []meter.ScopeUsage
	var err error
	if s.d.Meter != nil && len(bs) > 0 {
		limits := make([]meter.Limit, len(bs))
		for i, b := range bs {
			limits[i] = b.MeterLimit()
		}
		if usage, err = s.d.Meter.Usage(ctx, string(h.TenantID()), limits); err != nil {
			s.logger.WarnContext(ctx, "meter usage unavailable; budgets show ledger spend", "error", err)
		}
	}
	for i, b := range bs {
		out[i] = Status{Budget: b, ScopeName: names[b.ScopeID], PeriodKey: b.Period.Key(now)}
		if s.d.Meter != nil && err == nil && i < len(usage) {
			out[i].Spent, out[i].Reserved, out[i].Source = usage[i].Spent, usage[i].Reserved, "meter"
			continue
		}
		spent, lerr := s.d.PeriodSpend(ctx, h, b, now)
		if lerr != nil {
			return nil, lerr
		}
		out[i].Spent, out[i].Source = spent, "ledger"
	}
	return out, nil
}
