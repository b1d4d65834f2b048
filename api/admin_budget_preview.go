package api

import (
	"math"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/billing/budget"
)

// budgetPreviewDTO answers "what would this budget mean right now": the scope's
// spend this period against the limit, and how many of this period's requests a
// hard limit of that size would have refused.
type budgetPreviewDTO struct {
	PeriodKey string `json:"period_key"`
	LimitNano int64  `json:"limit_nano"`
	LimitUSD  string `json:"limit_usd"`
	Hard      bool   `json:"hard"`
	SpentNano int64  `json:"spent_nano"`
	SpentUSD  string `json:"spent_usd"`
	// Percent is spent / limit × 100, one decimal.
	Percent float64 `json:"percent"`
	// Requests counts the scope's requests this period.
	Requests int64 `json:"requests"`
	// RefusedRequests counts this period's requests the limit would refuse were it
	// hard (see ledger.PreviewLimit), RefusedUSD their cost.
	RefusedRequests int64  `json:"refused_requests"`
	RefusedNano     int64  `json:"refused_nano"`
	RefusedUSD      string `json:"refused_usd"`
	// Warn is true for a hard limit that would have refused some of this period's
	// requests, or that this period's spend already fills to 90% or more.
	Warn bool `json:"warn"`
}

// previewBudget: POST /api/v1/tenants/{tenant}/budgets/preview. Takes the body of
// a create, validates it the same way, saves nothing, and answers the limit's
// impact on this period's spend from the ledger.
func (a *budgetsAPI) previewBudget(c *gin.Context) error {
	_, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	var req setBudgetRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	in, err := req.input()
	if err != nil {
		return err
	}
	imp, err := a.svc.Preview(c.Request.Context(), hd, budget.PreviewInput{Scope: in.Scope, ScopeID: in.ScopeID, Period: in.Period, Limit: in.Limit})
	if err != nil {
		return err
	}
	b := in
	out := budgetPreviewDTO{PeriodKey: imp.PeriodKey, LimitNano: int64(b.Limit), LimitUSD: b.Limit.USDString(), Hard: b.Hard,
		SpentNano: int64(imp.Spent), SpentUSD: imp.Spent.USDString(), Percent: percentOf(int64(imp.Spent), int64(b.Limit)),
		Requests: imp.Requests, RefusedRequests: imp.Refused, RefusedNano: int64(imp.RefusedCost), RefusedUSD: imp.RefusedCost.USDString()}
	out.Warn = b.Hard && (imp.Refused > 0 || imp.Spent*10 >= b.Limit*9)
	c.JSON(http.StatusOK, out)
	return nil
}

// percentOf is part / whole × 100 rounded to one decimal, for display only; 0 for
// a zero whole.
func percentOf(part, whole int64) float64 {
	if whole <= 0 {
		return 0
	}
	return math.Round(float64(part)*1000/float64(whole)) / 10
}
