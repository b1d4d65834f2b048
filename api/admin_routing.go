package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
)

// What-if bounds: the replay covers this many days of the tenant's ledger and at
// most this many (newest) events, so one simulation stays well under a second
// and a few tens of MB however busy the tenant is.
const (
	simulateDefaultDays = 30
	simulateMaxDays     = 90
	simulateMaxEvents   = 50_000
)

// routingAPI serves the tenant's routing policy and its what-if simulation.
type routingAPI struct {
	registry *tenants.Registry
	// policies is invalidated when a policy is saved.
	policies *gateway.PolicyCache
	prices   priceCatalog
	selector *routing.Selector
	clock    func() time.Time
	audit    auditor
	// cacheUnavailable refuses policies that enable the response cache.
	cacheUnavailable string
	// sealer opens kept prompts for the what-if; nil refuses retain_prompts_days.
	sealer *seal.Sealer
	// id reads keys (allowlists, names) for the savings suggestions.
	id *Identity
}

func (a *routingAPI) register(r adminRoutes) {
	t, id := r.tenant, r.id
	t.GET("/routing", id.Authorize(access.ResourceRouting, access.ActionRead), h(a.getRouting))
	t.PUT("/routing", id.Authorize(access.ResourceRouting, access.ActionWrite), h(a.putRouting))
	t.POST("/routing/simulate", id.Authorize(access.ResourceRouting, access.ActionSimulate), h(a.simulateRouting))
	t.GET("/routing/feedback", id.Authorize(access.ResourceRouting, access.ActionRead), h(a.routingFeedback))
	a.registerSuggestions(r)
}

type feedbackListDTO struct {
	Data []gateway.FeedbackRecord `json:"data"`
	// Calibration suggests the standard threshold the feedback supports.
	Calibration routing.Calibration `json:"calibration"`
}

// routingFeedback: GET /api/v1/tenants/{tenant}/routing/feedback?limit=, the
// newest feedback (POST /v1/feedback) with each request's model and
// probability, and the threshold calibration from the last 1,000 ratings.
func (a *routingAPI) routingFeedback(c *gin.Context) error {
	_, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = 50
	}
	ctx := c.Request.Context()
	list, err := gateway.ListFeedback(ctx, hd, limit)
	if err != nil {
		return err
	}
	pol, _, err := gateway.LoadPolicy(ctx, hd)
	if err != nil {
		return err
	}
	cal, err := gateway.CalibrateThreshold(ctx, hd, pol, a.prices.base(), a.selector.Classifier())
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, feedbackListDTO{Data: list, Calibration: cal})
	return nil
}

// bindStrictJSON decodes the body refusing unknown fields: a routing policy with
// a misspelt field must fail loudly, not be saved without it.
func bindStrictJSON(c *gin.Context, dst any) error {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return errkind.New(errkind.TooLarge, "request body is over the %d-byte limit", maxErr.Limit)
		}
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if strings.HasPrefix(err.Error(), "json: unknown field") {
			return &errkind.Error{Kind: errkind.Invalid, Code: "unknown_field", Message: "the routing policy has " +
				strings.TrimPrefix(err.Error(), "json: ") + "; see GET /routing for the fields a policy has"}
		}
		return &errkind.Error{Kind: errkind.Invalid, Code: CodeMalformedBody, Message: "request body is not valid JSON for this endpoint: " + err.Error()}
	}
	return refuseNULInBody(dst)
}

// policyProblems re-wraps a routing validation error so the client sees every
// problem (the domain keeps them in the hidden cause).
func policyProblems(err error) error {
	if errkind.Of(err) != errkind.Invalid {
		return err
	}
	return errkind.New(errkind.Invalid, "%s", strings.ReplaceAll(err.Error(), "\n", "; "))
}

// checkPolicy runs the structural and catalog checks.
func (a *routingAPI) checkPolicy(p routing.Policy) error {
	if err := p.Validate(); err != nil {
		return policyProblems(err)
	}
	if p.Cache != nil && p.Cache.Enabled && a.cacheUnavailable != "" {
		return errkind.InvalidParam("cache.enabled", "%s", a.cacheUnavailable)
	}
	if p.RetainPromptsDays > 0 && a.sealer == nil {
		return errkind.InvalidParam("retain_prompts_days", "%s", gateway.ErrKeepPromptsNeedsMasterKey)
	}
	return policyProblems(p.CheckCatalog(a.prices.base()))
}

// getRouting: GET /api/v1/tenants/{tenant}/routing. A tenant that saved none gets
// the default policy (and x-tollgate-policy-default: true).
func (a *routingAPI) getRouting(c *gin.Context) error {
	_, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	pol, saved, err := gateway.LoadPolicy(c.Request.Context(), hd)
	if err != nil {
		return err
	}
	if !saved {
		c.Header("x-tollgate-policy-default", "true")
	}
	c.JSON(http.StatusOK, pol)
	return nil
}

// putRouting: PUT /api/v1/tenants/{tenant}/routing with a routing policy as the
// body. It is validated (structure and catalog), saved, audit-logged, and this
// process's policy cache is invalidated so the next request routes by it.
func (a *routingAPI) putRouting(c *gin.Context) error {
	p, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	var pol routing.Policy
	if err := bindStrictJSON(c, &pol); err != nil {
		return err
	}
	if err := a.checkPolicy(pol); err != nil {
		return err
	}
	ctx := c.Request.Context()
	before, _, err := gateway.LoadPolicy(ctx, hd)
	if err != nil {
		return err
	}
	if err := gateway.SavePolicy(ctx, hd, pol, a.prices.base()); err != nil {
		return policyProblems(err)
	}
	a.policies.Invalidate(p.TenantID())
	a.audit.record(c, p.TenantID(), "routing.update", "policy", map[string]any{"before": before, "after": pol})
	c.JSON(http.StatusOK, pol)
	return nil
}

type simulateRequest struct {
	Policy *routing.Policy `json:"policy"`
	// Days of history to replay, 1–90; 0 means 30.
	Days int `json:"days"`
	// ForceAuto replays every request as model "auto" ("what would the policy
	// have picked"); by default requests keep the model they named, which the
	// policy can still cap (max_tier, ladder) but not re-route.
	ForceAuto bool `json:"force_auto"`
}

type simulateDTO struct {
	// Requests replayed and skipped (model no longer in the catalog, or refused).
	Requests int `json:"requests"`
	Skipped  int `json:"skipped"`
	// From and To bound the replayed events (RFC 3339 UTC); Truncated is true when
	// the window held more than the sample limit and only the newest were replayed.
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Days      int       `json:"days"`
	Truncated bool      `json:"truncated"`
	// ImportedRequests is how many of the replayed requests come from
	// imported history (another gateway's export) rather than served traffic.
	ImportedRequests int  `json:"imported_requests"`
	ForceAuto        bool `json:"force_auto"`
	// Before is what the recorded requests cost; After what the policy's choices
	// would have cost for the same tokens.
	BeforeNano     int64  `json:"before_nano"`
	BeforeUSD      string `json:"before_usd"`
	AfterNano      int64  `json:"after_nano"`
	AfterUSD       string `json:"after_usd"`
	SavingsNano    int64  `json:"savings_nano"`
	SavingsUSD     string `json:"savings_usd"`
	SavingsPercent int64  `json:"savings_percent"`
	// TierMix is the request count per tier after (as TierMixAfter).
	TierMix       map[routing.Tier]int        `json:"tier_mix"`
	TierMixBefore map[routing.Tier]int        `json:"tier_mix_before"`
	TierMixAfter  map[routing.Tier]int        `json:"tier_mix_after"`
	ModelsBefore  map[string]int              `json:"models_before"`
	ModelsAfter   map[string]int              `json:"models_after"`
	Reasons       map[routing.RouteReason]int `json:"reasons"`
	// KeywordRulesReplayed counts requests whose kept prompt was matched
	// against the policy's keyword rules (exactly as live would);
	// KeywordRulesNotReplayed those without one, which keep the matches
	// recorded live (see NeedsText). Both are 0 for a policy without keyword rules.
	KeywordRulesReplayed    int `json:"keyword_rules_replayed"`
	KeywordRulesNotReplayed int `json:"keyword_rules_not_replayed"`
	// NeedsText says which part of the policy change the ledger's recorded
	// features cannot replay and why (keyword rules without a kept prompt,
	// another classifier), or is empty when the replay decides exactly as
	// live would.
	NeedsText string `json:"needs_text,omitempty"`
}

// simulateRouting: POST /api/v1/tenants/{tenant}/routing/simulate {policy}. It
// replays the tenant's recent ledger events through the (unsaved) policy with
// the selector and prices both choices; nothing is changed.
func (a *routingAPI) simulateRouting(c *gin.Context) error {
	_, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	var req simulateRequest
	if err := bindStrictJSON(c, &req); err != nil {
		return err
	}
	var errs []error
	if req.Policy == nil {
		errs = append(errs, errors.New("policy is required: {\"policy\": {...}}"))
	}
	if req.Days < 0 || req.Days > simulateMaxDays {
		errs = append(errs, errors.New("days must be between 1 and 90"))
	}
	if err := errkind.JoinInvalid("invalid simulation", errs); err != nil {
		return err
	}
	if err := a.checkPolicy(*req.Policy); err != nil {
		return err
	}
	days := req.Days
	if days == 0 {
		days = simulateDefaultDays
	}
	ctx := c.Request.Context()
	now := a.clock().UTC()
	since := now.AddDate(0, 0, -days)
	res, err := gateway.SimulateHistory(ctx, hd, a.selector, gateway.HistoryInput{Policy: *req.Policy, Since: since,
		MaxEvents: simulateMaxEvents, ForceAuto: req.ForceAuto, BaseCatalog: a.prices.base(), Sealer: a.sealer})
	if err != nil {
		return policyProblems(err)
	}
	out := simulateDTO{Days: days, From: res.From, To: now, ForceAuto: req.ForceAuto, Truncated: res.Truncated, ModelsBefore: res.ModelsBefore}
	savings := res.CostBefore - res.CostAfter
	out.Requests, out.Skipped = res.Requests, res.Skipped
	out.BeforeNano, out.BeforeUSD = int64(res.CostBefore), res.CostBefore.USDString()
	out.AfterNano, out.AfterUSD = int64(res.CostAfter), res.CostAfter.USDString()
	out.SavingsNano, out.SavingsUSD, out.SavingsPercent = int64(savings), billing.NanoUSD(savings).USDString(), res.SavingsPercent()
	out.TierMix, out.TierMixBefore, out.TierMixAfter = res.TierMixAfter, res.TierMixBefore, res.TierMixAfter
	out.ModelsAfter, out.Reasons = res.ModelsAfter, res.Reasons
	out.KeywordRulesReplayed, out.KeywordRulesNotReplayed = res.KeywordRulesReplayed, res.KeywordRulesFromLive
	out.NeedsText = res.NeedsText()
	out.ImportedRequests = res.ImportedRequests
	c.JSON(http.StatusOK, out)
	return nil
}
