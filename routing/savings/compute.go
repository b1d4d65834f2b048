package savings

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants"
)

// Bounds of one computation: the window the issue asks for, the what-if's
// sample cap (one replay stays well under a second), the smallest group a
// suggestion is drawn from, and how many (key, model) groups get replayed.
const (
	// WindowDays is the traffic a computation reads.
	WindowDays = 30
	maxEvents  = 50_000
	// MinRequests is the fewest requests a suggestion rests on.
	MinRequests = 5
	maxGroups   = 12
	// nearThreshold is how close to the standard threshold a moved turn may
	// score before it counts towards the risk.
	nearThreshold = 0.1
)

// Input is one computation for one tenant.
type Input struct {
	Handle *tenants.Handle
	// Selector is the live router; Catalog the base catalog (the tenant's
	// overrides are applied on top); Policy the tenant's current policy.
	Selector *routing.Selector
	Catalog  *routing.Catalog
	Policy   routing.Policy
	// Now ends the window.
	Now time.Time
	// KeyModels returns a key's model allowlist (empty: every model), so no
	// suggestion sends a key's requests to a model the key may not use (the
	// gateway would refuse them). Nil means no key has an allowlist.
	KeyModels func(ctx context.Context, keyID string) ([]string, error)
}

// Validate reports missing inputs.
func (in Input) Validate() error {
	var errs []error
	if in.Handle == nil || in.Selector == nil || in.Catalog == nil {
		errs = append(errs, errors.New("savings: handle, selector and catalog are required"))
	}
	if in.Now.IsZero() {
		errs = append(errs, errors.New("savings: now is required"))
	}
	return errkind.JoinInvalid("invalid savings input", errs)
}

// Report is a computation's answer.
type Report struct {
	// Suggestions, largest monthly saving first.
	Suggestions []Suggestion `json:"suggestions"`
	// From and To bound the traffic read; Requests counts it; Truncated says
	// only the newest maxEvents were read.
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Requests  int       `json:"requests"`
	Truncated bool      `json:"truncated"`
}

// replay is the state one computation shares between its candidates.
type replay struct {
	ctx     context.Context
	in      Input
	sample  gateway.ReplaySample
	base    routing.Result
	baseFor []billing.NanoUSD // per record, under the current policy
	// scaleNum/scaleDen turn a window amount into a monthly one.
	scaleNum, scaleDen int64
}

// Compute replays the tenant's last 30 days under the current policy and
// under each candidate change, and returns the changes that save money (or,
// for caps, budget) with their risk.
func Compute(ctx context.Context, in Input) (Report, error) {
	if err := in.Validate(); err != nil {
		return Report{}, err
	}
	sample, err := gateway.LoadReplaySample(ctx, in.Handle, in.Catalog, in.Now, WindowDays, maxEvents)
	if err != nil {
		return Report{}, err
	}
	rep := Report{From: sample.From, To: sample.To, Requests: len(sample.Events), Truncated: sample.Truncated, Suggestions: []Suggestion{}}
	if len(sample.Events) < MinRequests {
		return rep, nil
	}
	r := &replay{ctx: ctx, in: in, sample: sample}
	if r.base, err = r.simulate(in.Policy); err != nil {
		return Report{}, err
	}
	r.baseFor = r.costs(r.base)
	// Scale the window to a month: a tenant with a week of traffic is
	// projected from that week (never from less than a day).
	span := in.Now.Sub(sample.Events[len(sample.Events)-1].CreatedAt)
	span = min(max(span, 24*time.Hour), WindowDays*24*time.Hour)
	r.scaleNum, r.scaleDen = int64(30*24*time.Hour/time.Second), int64(span/time.Second)

	for _, g := range r.groups() {
		if s, ok, err := r.routeAuto(g); err != nil {
			return Report{}, err
		} else if ok {
			rep.Suggestions = append(rep.Suggestions, s)
		}
		if s, ok, err := r.cheaperModel(g); err != nil {
			return Report{}, err
		} else if ok {
			rep.Suggestions = append(rep.Suggestions, s)
		}
	}
	if s, ok, err := r.promptCache(); err != nil {
		return Report{}, err
	} else if ok {
		rep.Suggestions = append(rep.Suggestions, s)
	}
	rep.Suggestions = append(rep.Suggestions, r.maxTokenCaps()...)
	if rep.Suggestions, err = r.allowed(rep.Suggestions); err != nil {
		return Report{}, err
	}
	sort.SliceStable(rep.Suggestions, func(i, j int) bool {
		a, b := rep.Suggestions[i], rep.Suggestions[j]
		if a.MonthlySavings != b.MonthlySavings {
			return a.MonthlySavings > b.MonthlySavings
		}
		return a.MonthlyReservationFreed > b.MonthlyReservationFreed
	})
	return rep, nil
}

// allowed drops the key suggestions whose predicted models the key's
// allowlist does not hold: applied, they would turn served requests into
// model_not_allowed refusals.
func (r *replay) allowed(in []Suggestion) ([]Suggestion, error) {
	if r.in.KeyModels == nil {
		return in, nil
	}
	lists := map[string][]string{}
	out := in[:0]
	for _, s := range in {
		if s.KeyID == "" {
			out = append(out, s)
			continue
		}
		list, ok := lists[s.KeyID]
		if !ok {
			var err error
			if list, err = r.in.KeyModels(r.ctx, s.KeyID); err != nil {
				if errkind.Of(err) != errkind.NotFound {
					return nil, err
				}
				list = nil // a deleted key: its traffic is history
			}
			lists[s.KeyID] = list
		}
		fits := true
		for m := range s.Predicted {
			fits = fits && (len(list) == 0 || slices.Contains(list, m))
		}
		if fits {
			out = append(out, s)
		}
	}
	return out, nil
}

func (r *replay) simulate(p routing.Policy) (routing.Result, error) {
	return r.in.Selector.Simulate(r.ctx, p, r.sample.Records, routing.SimulateOptions{Catalog: r.sample.Catalog})
}

// costs prices each record as res decided it (0 for skipped records).
func (r *replay) costs(res routing.Result) []billing.NanoUSD {
	out := make([]billing.NanoUSD, len(r.sample.Records))
	for i, d := range res.Decisions {
		if d.Model.ID == "" {
			continue
		}
		rec := r.sample.Records[i]
		out[i] = d.Model.Cost(rec.InputTokens, rec.CachedTokens, rec.OutputTokens)
	}
	return out
}

// monthly scales a window amount to 30 days. The quotient and the remainder
// are scaled apart so no product leaves int64 (scaleNum is at most 30 times
// scaleDen, and the remainder is below scaleDen, a few million seconds).
func (r *replay) monthly(n billing.NanoUSD) billing.NanoUSD {
	q, rem := int64(n)/r.scaleDen, int64(n)%r.scaleDen
	return billing.NanoUSD(q*r.scaleNum + rem*r.scaleNum/r.scaleDen)
}

// group is one key's requests naming one model.
type group struct {
	key, model string
	idx        []int
	cost       billing.NanoUSD
}

// groups are the (key, named model) pairs with enough traffic, costliest
// first, at most maxGroups of them.
func (r *replay) groups() []group {
	byKey := map[[2]string]*group{}
	var out []*group
	for i, e := range r.sample.Events {
		if e.KeyID == "" || e.ModelRequested == "" || e.ModelRequested == routing.ModelAuto || e.Status == ledger.StatusCacheHit {
			continue
		}
		k := [2]string{e.KeyID, e.ModelRequested}
		g, ok := byKey[k]
		if !ok {
			g = &group{key: e.KeyID, model: e.ModelRequested}
			byKey[k] = g
			out = append(out, g)
		}
		g.idx = append(g.idx, i)
		g.cost += r.baseFor[i]
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].cost > out[j].cost })
	var kept []group
	for _, g := range out {
		if len(g.idx) >= MinRequests && len(kept) < maxGroups {
			kept = append(kept, *g)
		}
	}
	return kept
}

// outcome is a candidate change replayed.
type outcome struct {
	res    routing.Result // over the replayed records (all, or the key's)
	after  map[int]billing.NanoUSD
	before billing.NanoUSD // of the affected records, current policy
	cost   billing.NanoUSD // of the affected records, changed policy
	saved  billing.NanoUSD // over the replayed records
	models map[string]int  // of the affected records
	// decision returns the changed policy's decision of record i.
	decision func(i int) routing.Decision
}

// try replays p over the records at idx (every record when idx is nil) and
// prices it against the current policy. A key's change replays that key's
// records alone: conversations (session affinity, prompt caches) never span
// keys, so its records decide as in a full replay, at a twelfth of the work.
// ok is false when the change leaves a request the current policy routes
// without a model.
func (r *replay) try(p routing.Policy, idx []int) (outcome, bool, error) {
	recs := r.sample.Records
	if idx != nil {
		recs = make([]routing.Record, len(idx))
		for j, i := range idx {
			recs[j] = r.sample.Records[i]
		}
	}
	res, err := r.in.Selector.Simulate(r.ctx, p, recs, routing.SimulateOptions{Catalog: r.sample.Catalog})
	if err != nil {
		if errkind.Of(err) == errkind.Invalid {
			return outcome{}, false, nil // the change does not fit the policy
		}
		return outcome{}, false, err
	}
	pos := func(j int) int { return j }
	if idx != nil {
		pos = func(j int) int { return idx[j] }
	}
	o := outcome{res: res, after: make(map[int]billing.NanoUSD, len(recs)), models: map[string]int{}}
	byRecord := make(map[int]routing.Decision, len(recs))
	for j, d := range res.Decisions {
		i := pos(j)
		byRecord[i] = d
		if d.Model.ID == "" {
			if r.base.Decisions[i].Model.ID != "" {
				return outcome{}, false, nil
			}
			continue
		}
		rec := recs[j]
		o.after[i] = d.Model.Cost(rec.InputTokens, rec.CachedTokens, rec.OutputTokens)
		o.saved += r.baseFor[i] - o.after[i]
		if idx != nil {
			o.before += r.baseFor[i]
			o.cost += o.after[i]
			o.models[d.Model.ID]++
		}
	}
	o.decision = func(i int) routing.Decision { return byRecord[i] }
	return o, true, nil
}

// suggestion fills the shared fields.
func (r *replay) suggestion(kind Kind, c Change, o outcome, requests int) Suggestion {
	return Suggestion{ID: c.id(kind), Kind: kind, KeyID: c.KeyID, Requests: requests, MonthlySavings: r.monthly(o.saved),
		WindowCostBefore: o.before, WindowCostAfter: o.cost, Change: c, Predicted: o.models}
}

func usd(n billing.NanoUSD) string { return "$" + n.USDString() }

// routeAuto: the key names a model above the simple tier; replayed as "auto",
// the classifier sends the easy turns down.
func (r *replay) routeAuto(g group) (Suggestion, bool, error) {
	cat := r.sample.Catalog
	m, ok := cat.Lookup(g.model)
	if !ok || m.Tier.Rank() <= r.in.Policy.SimpleTierOf().Rank() {
		return Suggestion{}, false, nil
	}
	withFeatures := 0
	for _, i := range g.idx {
		if r.sample.Records[i].Features != nil {
			withFeatures++
		}
	}
	// Without recorded features a replay reads a turn as easy: too
	// optimistic to promise savings from.
	if withFeatures*5 < len(g.idx)*4 {
		return Suggestion{}, false, nil
	}
	c := Change{KeyID: g.key, AutoModel: g.model}
	o, ok, err := r.try(c.To(r.in.Policy), g.idx)
	if err != nil || !ok || o.saved <= 0 {
		return Suggestion{}, false, err
	}
	moved, near := 0, 0
	for _, i := range g.idx {
		d, b := o.decision(i), r.base.Decisions[i]
		if d.Model.ID == "" || d.Tier.Rank() >= b.Tier.Rank() {
			continue
		}
		moved++
		f := r.sample.Records[i].Features
		if f != nil && f.PStandard >= r.in.Policy.StandardThresholdFor(*f)-nearThreshold {
			near++
		}
	}
	s := r.suggestion(KindRouteAuto, c, o, len(g.idx))
	s.Model = g.model
	s.Title = fmt.Sprintf("Route key %s's %s requests as auto", g.key, g.model)
	s.Detail = fmt.Sprintf("The classifier finds %d of the key's %d %s requests easy; replayed as auto they cost %s instead of %s in the last %d days.",
		moved, len(g.idx), g.model, usd(o.cost), usd(o.before), WindowDays)
	s.Risk, s.RiskNote = RiskLow, fmt.Sprintf("%d requests move to a cheaper tier, all scored at least %.1f below the threshold", moved, nearThreshold)
	switch {
	case near*10 > moved*3:
		s.Risk = RiskHigh
	case near*10 > moved || m.Tier == routing.TierPremium:
		s.Risk = RiskMedium
	}
	if s.Risk != RiskLow {
		s.RiskNote = fmt.Sprintf("%d requests move to a cheaper tier; %d of them scored within %.1f of the threshold", moved, near, nearThreshold)
	}
	return s, true, nil
}

// cheaperModel: another model of the named model's tier costs less for the
// key's recorded tokens and can serve each of its requests.
func (r *replay) cheaperModel(g group) (Suggestion, bool, error) {
	cat := r.sample.Catalog
	from, ok := cat.Lookup(g.model)
	if !ok || from.Embedding {
		return Suggestion{}, false, nil
	}
	var best routing.Model
	var bestCost billing.NanoUSD
	for _, m := range cat.Models() {
		if m.ID == from.ID || m.Tier != from.Tier || m.Embedding {
			continue
		}
		var cost billing.NanoUSD
		serves := true
		for _, i := range g.idx {
			rec := r.sample.Records[i]
			if rec.Features != nil && !rec.Features.ServedBy(m) {
				serves = false
				break
			}
			cost += m.Cost(rec.InputTokens, rec.CachedTokens, rec.OutputTokens)
		}
		if serves && cost < g.cost && (best.ID == "" || cost < bestCost) {
			best, bestCost = m, cost
		}
	}
	if best.ID == "" {
		return Suggestion{}, false, nil
	}
	c := Change{KeyID: g.key, SubstituteFrom: g.model, SubstituteTo: best.ID}
	o, ok, err := r.try(c.To(r.in.Policy), g.idx)
	if err != nil || !ok || o.saved <= 0 {
		// ok is false when the cheaper model cannot be called here (its
		// provider is not configured): the replay skips those requests.
		return Suggestion{}, false, err
	}
	s := r.suggestion(KindCheaperModel, c, o, len(g.idx))
	s.Model = g.model
	s.Title = fmt.Sprintf("Serve key %s's %s requests by %s", g.key, g.model, best.ID)
	s.Detail = fmt.Sprintf("%s is a %s model like %s and serves every one of the key's %d requests (tools, images, JSON, context); for the same tokens they cost %s instead of %s in the last %d days.",
		best.ID, from.Tier, from.ID, len(g.idx), usd(o.cost), usd(o.before), WindowDays)
	s.Risk, s.RiskNote = RiskMedium, "another model of the same tier answers: compare a sample of its answers before relying on it"
	return s, true, nil
}
