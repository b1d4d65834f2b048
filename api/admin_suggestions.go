package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/routing/savings"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
)

// suggestionDTO is one savings suggestion with its amounts also in dollars.
type suggestionDTO struct {
	savings.Suggestion
	// KeyName names KeyID for callers who may read keys.
	KeyName                    string `json:"key_name,omitempty"`
	MonthlySavingsUSD          string `json:"monthly_savings_usd"`
	MonthlyReservationFreedUSD string `json:"monthly_reservation_freed_usd"`
}

func mapSuggestion(s savings.Suggestion) suggestionDTO {
	if s.Predicted == nil {
		s.Predicted = map[string]int{}
	}
	return suggestionDTO{Suggestion: s, MonthlySavingsUSD: s.MonthlySavings.USDString(), MonthlyReservationFreedUSD: s.MonthlyReservationFreed.USDString()}
}

type suggestionListDTO struct {
	Data []suggestionDTO `json:"data"`
	// From and To bound the traffic replayed; Requests counts it; Truncated
	// says only the newest 50,000 requests were read.
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Requests  int       `json:"requests"`
	Truncated bool      `json:"truncated"`
}

type appliedDTO struct {
	Suggestion suggestionDTO  `json:"suggestion"`
	Policy     routing.Policy `json:"policy"`
}

func (a *routingAPI) registerSuggestions(r adminRoutes) {
	t, id := r.tenant, r.id
	// Listing replays traffic like the what-if; applying changes the policy.
	t.GET("/suggestions", id.Authorize(access.ResourceRouting, access.ActionSimulate), h(a.suggestions))
	t.POST("/suggestions/:suggestion/apply", id.Authorize(access.ResourceRouting, access.ActionWrite), h(a.applySuggestion))
}

// savingsInput is the computation for the caller's tenant under its current policy.
func (a *routingAPI) savingsInput(c *gin.Context) (tenants.Principal, savings.Input, error) {
	p, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return p, savings.Input{}, err
	}
	pol, _, err := gateway.LoadPolicy(c.Request.Context(), hd)
	if err != nil {
		return p, savings.Input{}, err
	}
	in := savings.Input{Handle: hd, Selector: a.selector, Catalog: a.prices.base(), Policy: pol, Now: a.clock()}
	if a.id != nil {
		in.KeyModels = func(ctx context.Context, keyID string) ([]string, error) {
			k, err := a.id.d.Keys.Get(ctx, p.TenantID(), keyID)
			return k.Models, err
		}
	}
	return p, in, nil
}

// suggestions: GET /api/v1/tenants/{tenant}/suggestions, the savings
// suggestions of the last 30 days, largest monthly saving first. Nothing is
// changed.
func (a *routingAPI) suggestions(c *gin.Context) error {
	p, in, err := a.savingsInput(c)
	if err != nil {
		return err
	}
	rep, err := savings.Compute(c.Request.Context(), in)
	if err != nil {
		return err
	}
	out := suggestionListDTO{Data: make([]suggestionDTO, len(rep.Suggestions)), From: rep.From, To: rep.To, Requests: rep.Requests, Truncated: rep.Truncated}
	keyName := a.id.keyNames(c, p)
	for i, s := range rep.Suggestions {
		out.Data[i] = mapSuggestion(s)
		out.Data[i].KeyName = keyName(s.KeyID)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// applySuggestion: POST /api/v1/tenants/{tenant}/suggestions/{suggestion}/apply.
// The suggestion's change is merged into the tenant's policy, saved, audited
// (routing.suggestion_apply) and this process's policy cache invalidated, so
// the next request routes by it.
func (a *routingAPI) applySuggestion(c *gin.Context) error {
	p, in, err := a.savingsInput(c)
	if err != nil {
		return err
	}
	if in.Policy.Cache != nil && in.Policy.Cache.Enabled && a.cacheUnavailable != "" {
		// Saving would be refused for the cache, not for the suggestion.
		return a.checkPolicy(in.Policy)
	}
	res, err := savings.Apply(c.Request.Context(), savings.ApplyInput{Input: in, ID: c.Param("suggestion"), Actor: actor(c)}, a.audit.log)
	if err != nil {
		return policyProblems(err)
	}
	a.policies.Invalidate(p.TenantID())
	c.JSON(http.StatusOK, appliedDTO{Suggestion: mapSuggestion(res.Suggestion), Policy: res.After})
	return nil
}
