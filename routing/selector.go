package routing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// SelectorConfig configures a Selector.
type SelectorConfig struct {
	// Catalog is the default catalog; SelectInput.Catalog overrides it per tenant.
	Catalog *Catalog
	// Available reports whether a model can be called now (its provider is
	// configured). Nil treats every catalog model as available; Registry.Available
	// is the usual value.
	Available func(Model) bool
	// AffinitySize bounds the session-affinity LRU in conversations; 0 means 100,000.
	AffinitySize int
	// Now is the clock of prompt-cache warmth (warm_cache.go); nil means time.Now.
	Now func() time.Time
	// Classifier scores turns for tenants without a model of their own; nil
	// means DefaultClassifier (the one embedded in the binary).
	Classifier *Classifier
}

// Selector turns a parsed request and a policy into a Decision. It is safe for
// concurrent use and does no I/O.
type Selector struct {
	catalog    *Catalog
	classifier *Classifier
	available  func(Model) bool
	affinity   *affinityCache
	warm       *warmCache
	logger     *slog.Logger
}

// NewSelector builds a Selector.
func NewSelector(cfg SelectorConfig, logger *slog.Logger) (*Selector, error) {
	if logger == nil {
		return nil, errors.New("routing: NewSelector needs a logger")
	}
	if cfg.Catalog == nil {
		return nil, errors.New("routing: NewSelector needs a catalog")
	}
	size := cfg.AffinitySize
	if size <= 0 {
		size = 100_000
	}
	avail := cfg.Available
	if avail == nil {
		avail = func(Model) bool { return true }
	}
	clf := cfg.Classifier
	if clf == nil {
		var err error
		if clf, err = DefaultClassifier(); err != nil {
			return nil, err
		}
	}
	return &Selector{catalog: cfg.Catalog, classifier: clf, available: avail, affinity: newAffinityCache(size), warm: newWarmCache(size, cfg.Now),
		logger: logger.With("component", "routing.selector")}, nil
}

// Classifier returns the selector's default (built-in) classifier.
func (s *Selector) Classifier() *Classifier { return s.classifier }

// SelectInput is one selection.
type SelectInput struct {
	// TenantID scopes session affinity; conversations never match across tenants.
	TenantID string
	// KeyID is the API key of the request; the policy's per-key overrides
	// (Policy.Keys) apply to it. Empty means none apply.
	KeyID string
	// Request is the parsed request; Request.PromptTokens should be estimated.
	Request *ChatRequest
	// Policy is the tenant's validated policy.
	Policy Policy
	// Budget is the current period's spend state; zero means no budget.
	Budget BudgetPace
	// Budgets are further budgets that apply (key, member, daily): the most
	// restrictive cap of Budget and all of them wins.
	Budgets []BudgetPace
	// Catalog is the tenant's catalog (with overrides); nil uses the selector's.
	Catalog *Catalog
	// Classifier is the tenant's own model (the policy's "classifier"); nil
	// uses the selector's.
	Classifier *Classifier
}

// Validate reports missing inputs, wrapping errkind.Invalid.
func (in SelectInput) Validate() error {
	var problems []error
	if in.Request == nil {
		problems = append(problems, errors.New("request is required"))
	}
	if err := in.Policy.Validate(); err != nil {
		problems = append(problems, err)
	}
	for _, b := range append([]BudgetPace{in.Budget}, in.Budgets...) {
		if b.Budget < 0 || b.Spent < 0 || b.Elapsed < 0 || b.Elapsed > 1 {
			problems = append(problems, errors.New("budget: amounts must be non-negative and elapsed within 0..1"))
			break
		}
	}
	if len(problems) > 0 {
		return errkind.Wrap(errkind.Invalid, errors.Join(problems...), "invalid selection input")
	}
	return nil
}

// allBudgets is in.Budget and in.Budgets in one slice, built only where a
// decision reads them: a model named without a ladder never does.
func (in *SelectInput) allBudgets() []BudgetPace {
	return append([]BudgetPace{in.Budget}, in.Budgets...)
}

// budgetCap returns the tier cap that the budgets put on a request wanting tier
// want (relative steps are taken from want), with the reason of the most
// restrictive one. Per budget, the policy's
// ladder (an absolute cap), the budget's own downgrade step and pace (each one
// tier below want) all apply, and the lowest cap wins: more spend never raises
// the tier, and a ladder step never switches pace off. "" means no budget cap.
func budgetCap(p Policy, budgets []BudgetPace, want Tier) (Tier, RouteReason, string) {
	capT, reason, why := TierPremium, RouteReason(""), ""
	lower := func(t Tier, r RouteReason, w string) {
		if t.Rank() < capT.Rank() {
			capT, reason, why = t, r, w
		}
	}
	tol := p.PaceTolerancePercent
	if tol == 0 {
		tol = 20
	}
	for _, b := range budgets {
		if b.Budget <= 0 {
			continue
		}
		name := b.Name
		if name == "" {
			name = "budget"
		}
		pct := int64(b.Spent) * 100 / int64(b.Budget)
		step := b.LadderStep
		for i, s := range p.Ladder {
			if pct >= int64(s.AtPercent) {
				step = max(step, i+1)
			}
		}
		if step > 0 && step <= len(p.Ladder) {
			s := p.Ladder[step-1]
			lower(s.MaxTier, RouteReasonBudgetLadder, fmt.Sprintf("%s %d%% spent, ladder step %d caps tier at %s", name, pct, step, s.MaxTier))
		}
		if b.DowngradeAt > 0 && pct >= int64(b.DowngradeAt) {
			lower(want.lower(), RouteReasonBudgetLadder, fmt.Sprintf("%s %d%% spent, downgrades from %d%%: %s", name, pct, b.DowngradeAt, want.lower()))
		}
		if tol > 0 && b.Elapsed > 0 {
			// Spending faster than the period elapses (plus tolerance).
			allowed := float64(b.Budget) * b.Elapsed * float64(100+tol) / 100
			if float64(b.Spent) > allowed {
				lower(want.lower(), RouteReasonBudgetPace, fmt.Sprintf("%s: spend %d%% at %d%% of period", name, pct, int(b.Elapsed*100)))
			}
		}
	}
	return capT, reason, why
}

// Select chooses the model for one request.
func (s *Selector) Select(ctx context.Context, in SelectInput) (Decision, error) {
	if in.Request == nil {
		return Decision{}, errkind.New(errkind.Invalid, "selection needs a request")
	}
	f := s.features(&in)
	return s.decide(&in, &f, s.affinity)
}

// features reads everything selection needs from the request: structure,
// the classifier's probabilities, keyword rule matches, conversation keys.
func (s *Selector) features(in *SelectInput) Features {
	req := in.Request
	f := ExtractFeatures(req, req.PromptTokens)
	clf := in.Classifier
	if clf == nil {
		clf = in.Policy.model
	}
	if clf == nil {
		clf = s.classifier
	}
	f.PStandard, f.PPremium, f.ShortTurn = clf.scoreTurn(req)
	f.Classifier, f.ModelStandard, f.ModelPremium = clf.Name, clf.StandardThreshold, clf.PremiumThreshold
	f.matchKeywords(in.Policy.Rules, func() string { return keywordText(req) })
	if in.TenantID != "" {
		lookup, next, ok := conversationKeys(in.TenantID, req)
		if ok {
			f.Conversation = keyString(lookup)
		}
		f.ConversationNext = keyString(next)
	}
	return f
}

// decide is selection from features alone: live requests and replays of the
// ledger both come through here, so they decide alike.
//
// The request path runs it on the request's goroutine, whose stack a streamed
// request then holds while it is in flight: its frame and those of the
// functions it calls are kept small (pointers, not copies, of the input and
// the features; the rarer branches in functions of their own) so that the
// path stays under 16 KB of stack instead of doubling it to 32.
func (s *Selector) decide(in *SelectInput, f *Features, aff *affinityCache) (Decision, error) {
	cat := in.Catalog
	if cat == nil {
		cat = s.catalog
	}
	req, p := in.Request, in.Policy
	if routed := p.KeyModel(in.KeyID, req.Model); routed != req.Model {
		return s.decideOverride(in, f, aff, routed)
	}
	d := Decision{Requested: req.Model, Features: *f}
	capTier := p.maxTier()

	if req.Model != ModelAuto {
		m, ok := cat.Lookup(req.Model)
		switch {
		case !ok:
			return Decision{}, ErrUnknownModel(req.Model)
		case m.Embedding:
			return Decision{}, errkind.InvalidParam("model", "%s is an embeddings model; send it to POST /v1/embeddings", m.ID)
		case !s.available(m):
			return Decision{}, ErrModelUnavailable(m)
		}
		want, reason, why := m.Tier, RouteReasonExplicit, "model requested by name"
		switch {
		case m.Tier == TierPremium && (capTier.Rank() < TierPremium.Rank() || !p.premiumAllowed(m.ID)):
			reason, why = RouteReasonPremiumDenied, fmt.Sprintf("premium model %s not allowed by policy", m.ID)
			want = minTier(capTier, TierStandard)
		case m.Tier.Rank() > capTier.Rank():
			reason, why = RouteReasonMaxTier, fmt.Sprintf("%s is above max tier %s", m.ID, capTier)
			want = capTier
		case p.LadderExplicit:
			if t, r, w := budgetCap(p, in.allBudgets(), m.Tier); r != "" && t.Rank() < m.Tier.Rank() {
				reason, why, want = r, w, t
			}
		}
		if reason == RouteReasonExplicit {
			d.Action, d.Model, d.Tier, d.Reason, d.Explanation = DecisionActionAllow, m, m.Tier, reason, why
			if p.FallbackExplicit {
				d.Fallbacks = s.fallbacksOf(cat, &p, f, m)
			}
			return d, nil
		}
		if reason == RouteReasonPremiumDenied && p.RefuseDenied {
			d.Action, d.Reason, d.Explanation = DecisionActionRefuse, reason, why
			return d, nil
		}
		return s.downgrade(cat, &p, f, &d, want, capTier, reason, why)
	}
	return s.decideAuto(in, f, aff, cat, &d, capTier, in.allBudgets())
}

// fallbacksOf is fallbacks for an explicitly named model, called through
// pointers to keep the copies out of decide's frame.
//
//go:noinline
func (s *Selector) fallbacksOf(cat *Catalog, p *Policy, f *Features, m Model) []Model {
	return s.fallbacks(cat, *p, *f, m.Tier, m.ID, p.maxFallbacks())
}

// downgrade is pickInTier for an explicitly named model the policy does not
// allow, out of decide's frame like fallbacksOf.
//
//go:noinline
func (s *Selector) downgrade(cat *Catalog, p *Policy, f *Features, d *Decision, want, capTier Tier,
	reason RouteReason, why string) (Decision, error) {
	return s.pickInTier(cat, *p, *f, *d, want, capTier, DecisionActionDowngrade, reason, why)
}

// decideAuto is decide for model "auto". It is a function of its own so that
// its frame (many explanations, the affinity lookup) is not on the stack of a
// request that names its model: that path stays under 16 KB of stack, which a
// streamed request's goroutine then holds for the whole stream.
func (s *Selector) decideAuto(inp *SelectInput, fp *Features, aff *affinityCache, cat *Catalog, dp *Decision, capTier Tier,
	budgets []BudgetPace) (Decision, error) {
	in, f, d := *inp, *fp, *dp
	p := in.Policy
	std, prem, down := p.thresholds(f)
	clf := f.Classifier
	if clf == "" {
		clf = "builtin"
	}
	want, reason := p.simpleTier(), RouteReasonAutoEconomy
	why := fmt.Sprintf("p=%.3f < standard threshold %.3f (%s classifier)", f.PStandard, std, clf)
	if f.PStandard >= std {
		want, reason = p.complexTier(), RouteReasonAutoComplex
		why = fmt.Sprintf("p=%.3f >= standard threshold %.3f (%s classifier)", f.PStandard, std, clf)
		if p.AutoPremium && f.PPremium >= prem {
			want, reason = TierPremium, RouteReasonAutoPremium
			why = fmt.Sprintf("p=%.3f >= standard threshold %.3f and p_premium=%.3f >= premium threshold %.3f (%s classifier)",
				f.PStandard, std, f.PPremium, prem, clf)
		}
	}
	if f.ShortTurn && want != p.simpleTier() {
		want, reason = p.simpleTier(), RouteReasonAutoEconomy
		why = fmt.Sprintf("short turn with no sign of difficulty, economy whatever p=%.3f against standard threshold %.3f (%s classifier)", f.PStandard, std, clf)
	}
	for _, r := range p.Rules {
		if r.matches(f) {
			want, reason, why = r.Tier, RouteReasonRule, fmt.Sprintf("rule %q (p=%.3f)", r.Name, f.PStandard)
			break
		}
	}
	if want.Rank() > capTier.Rank() {
		want, reason, why = capTier, RouteReasonMaxTier, fmt.Sprintf("%s, capped at max tier %s", why, capTier)
	}
	if budgetTier, budgetReason, budgetWhy := budgetCap(p, budgets, want); budgetReason != "" {
		capTier = minTier(capTier, budgetTier)
		if want.Rank() > capTier.Rank() {
			want, reason, why = capTier, budgetReason, budgetWhy
		}
	}

	next, hasNext := parseKey(f.ConversationNext)
	useAffinity := p.SessionAffinity && hasNext && aff != nil
	entry := affinityEntry{key: next}
	if want.Rank() >= p.complexTier().Rank() {
		entry.streak = 1
	}
	if prev, ok := parseKey(f.Conversation); ok && useAffinity {
		if e, ok := aff.get(prev); ok {
			if m, ok := cat.Lookup(e.model); ok && s.usable(p, f, m, capTier) {
				switch {
				case m.Tier.Rank() > want.Rank() && e.streak <= 1 && (f.PStandard < down || f.ShortTurn && down > 0):
					// A clearly easy turn after at most one hard one: the
					// conversation goes where the turn belongs (below).
					reason = RouteReasonAffinityStepDown
					why = fmt.Sprintf("p=%.3f < step-down threshold %.3f after a one-off escalation to %s", f.PStandard, down, m.ID)
					if f.PStandard >= down {
						why = fmt.Sprintf("short turn with no sign of difficulty (p=%.3f, step-down threshold %.3f) after a one-off escalation to %s", f.PStandard, down, m.ID)
					}
				case m.Tier.Rank() >= want.Rank():
					d.Action, d.Model, d.Tier, d.Reason = DecisionActionAllow, m, m.Tier, RouteReasonAffinity
					d.Explanation = fmt.Sprintf("conversation stays on %s (%s)", m.ID, why)
					d.Fallbacks = s.fallbacks(cat, p, f, m.Tier, m.ID, p.maxFallbacks())
					e.key = next
					if m.Tier.Rank() == want.Rank() {
						e.streak++
					} else {
						// A lighter turn ends the run of hard ones: the next
						// clearly easy turn may step down.
						e.streak = 0
					}
					aff.put(e)
					return d, nil
				default:
					// Escalation: remember where the conversation was.
					entry.base, entry.streak = m.ID, 1
				}
			}
		}
	}
	d, err := s.pickInTier(cat, p, f, d, want, capTier, DecisionActionAllow, reason, why)
	if err == nil {
		d = s.withWarmCache(cat, p, f, in, d)
	}
	if err == nil && useAffinity {
		entry.model = d.Model.ID
		if entry.base == d.Model.ID {
			entry.base = ""
		}
		aff.put(entry)
	}
	return d, err
}

// decideOverride decides a request whose key routes its named model as
// routed ("auto" or a same-tier substitute): the decision is the one routed
// gets, while Requested stays the name the client sent (the ledger keeps it,
// so a replay applies the same override).
func (s *Selector) decideOverride(inp *SelectInput, f *Features, aff *affinityCache, routed string) (Decision, error) {
	in := *inp
	asked := in.Request.Model
	r := *in.Request
	r.Model = routed
	in.Request, in.KeyID = &r, ""
	d, err := s.decide(&in, f, aff)
	if err != nil || d.Action == DecisionActionRefuse {
		return d, err
	}
	d.Requested = asked
	if routed == ModelAuto {
		d.Explanation = "key routes " + asked + " as auto: " + d.Explanation
		return d, nil
	}
	if d.Reason == RouteReasonExplicit {
		d.Action, d.Reason = DecisionActionDowngrade, RouteReasonKeySubstitute
		d.Explanation = fmt.Sprintf("key serves %s by the same-tier %s", asked, d.Model.ID)
	}
	return d, nil
}

// usable reports whether an affinity model may serve this turn.
func (s *Selector) usable(p Policy, f Features, m Model, capTier Tier) bool {
	return s.available(m) && f.servedBy(m) && m.Tier.Rank() <= capTier.Rank() && p.premiumOK(m)
}

func (p Policy) premiumOK(m Model) bool {
	return m.Tier != TierPremium || p.maxTier() == TierPremium
}

// pickInTier picks the first usable model of want, else of cheaper tiers, else
// of dearer tiers up to capTier (reason capability), and fills the fallbacks.
func (s *Selector) pickInTier(cat *Catalog, p Policy, f Features, d Decision, want, capTier Tier,
	action DecisionAction, reason RouteReason, why string) (Decision, error) {
	order := []Tier{want}
	for t := want; t.Rank() > 0; {
		t = t.lower()
		order = append(order, t)
	}
	for r := want.Rank() + 1; r <= capTier.Rank(); r++ {
		order = append(order, tierOrder[r])
	}
	for i, t := range order {
		for _, id := range p.Tiers[t] {
			m, ok := cat.Lookup(id)
			if !ok || !s.available(m) || !f.servedBy(m) || t == TierPremium && d.Requested == ModelAuto && !p.premiumAllowed(id) {
				continue
			}
			if i > 0 && t != want {
				why = fmt.Sprintf("%s; no usable %s model, using %s", why, want, t)
				if t.Rank() > want.Rank() {
					reason = RouteReasonCapability
				}
			}
			d.Action, d.Model, d.Tier, d.Reason, d.Explanation = action, m, t, reason, why
			if action == DecisionActionAllow && d.Requested != ModelAuto && d.Requested != m.ID {
				d.Action = DecisionActionDowngrade
			}
			d.Fallbacks = s.fallbacks(cat, p, f, t, m.ID, p.maxFallbacks())
			return d, nil
		}
	}
	return Decision{}, errkind.New(errkind.Unavailable, "no model available for tier %s under the routing policy", want)
}

// fallbacks lists up to n usable models after chosen: the rest of its tier,
// then cheaper tiers. Falling back never raises the cost class.
func (s *Selector) fallbacks(cat *Catalog, p Policy, f Features, t Tier, chosen string, n int) []Model {
	var out []Model
	for r := t.Rank(); r >= 0 && len(out) < n; r-- {
		for _, id := range p.Tiers[tierOrder[r]] {
			if len(out) == n {
				break
			}
			if id == chosen {
				continue
			}
			if m, ok := cat.Lookup(id); ok && s.available(m) && f.servedBy(m) {
				out = append(out, m)
			}
		}
	}
	return out
}
