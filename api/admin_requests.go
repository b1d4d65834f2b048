package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// requestDTO is one request of the explorer, served or refused: a served one
// carries tokens, cost and the route decision; a refusal its HTTP status and
// error type and code (never content).
type requestDTO struct {
	usageEventDTO
	// StatusCode is the HTTP status of a refusal (0 for served requests).
	StatusCode int `json:"status_code,omitempty"`
	// ErrorType and ErrorCode are the refusal's error body type and code.
	ErrorType string `json:"error_type,omitempty"`
	ErrorCode string `json:"error_code,omitempty"`
	// MaxTokens is the output limit the request ran under (0: none set).
	MaxTokens int64 `json:"max_tokens,omitempty"`
	// OverheadMS is Tollgate's share of the latency (before the request went
	// upstream) and FirstByteMS the answering upstream's time to its first
	// byte, both in ms; 0 for requests recorded before the split was.
	OverheadMS  int64 `json:"overhead_ms"`
	FirstByteMS int64 `json:"first_byte_ms"`
	// Fallbacks are the attempts that failed before the answering model, in
	// order (empty when the first model answered).
	Fallbacks []fallbackDTO `json:"fallbacks"`
}

// fallbackDTO is one failed attempt: the model tried, how it failed
// (upstream_error, timeout, circuit_open) and how long it took.
type fallbackDTO struct {
	Model   string `json:"model"`
	Outcome string `json:"outcome"`
	MS      int64  `json:"ms"`
}

func mapRequest(e ledger.Event) requestDTO {
	out := requestDTO{usageEventDTO: mapUsageEvent(e), StatusCode: e.StatusCode, ErrorType: e.ErrorType, ErrorCode: e.ErrorCode,
		MaxTokens: e.MaxTokens, OverheadMS: e.OverheadMS, FirstByteMS: e.FirstByteMS, Fallbacks: []fallbackDTO{}}
	if e.Fallbacks != "" {
		_ = json.Unmarshal([]byte(e.Fallbacks), &out.Fallbacks) // written by the gateway; a bad row shows none
	}
	return out
}

func (a *usageAPI) registerRequests(r adminRoutes) {
	t, id := r.tenant, r.id
	t.GET("/requests", id.AuthorizeOrScope(access.ResourceUsage, access.ActionRead, apikeys.ScopeReadUsage), h(a.requests))
	t.GET("/usage/projection", id.AuthorizeOrScope(access.ResourceUsage, access.ActionRead, apikeys.ScopeReadUsage), h(a.projection))
	t.GET("/requests/:request", id.AuthorizeOrScope(access.ResourceUsage, access.ActionRead, apikeys.ScopeReadUsage), h(a.request))
}

// requestPageInput reads the explorer's filters from the query string.
func requestPageInput(c *gin.Context) (ledger.RequestPageInput, error) {
	in := ledger.RequestPageInput{Status: c.Query("status"), KeyID: c.Query("key_id"), MemberID: c.Query("member_id"),
		Model: c.Query("model"), RouteReason: c.Query("route_reason"), Cursor: c.Query("cursor")}
	var errs []error
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"from", &in.From}, {"to", &in.To}} {
		s := c.Query(f.name)
		if s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			if d, derr := time.Parse(dateLayout, s); derr == nil {
				t, err = d, nil
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s must be a time like 2026-12-01T00:00:00Z or a date like 2026-12-01", f.name))
		}
		*f.dst = t
	}
	for _, f := range []struct {
		name string
		dst  *billing.NanoUSD
	}{{"min_cost", &in.MinCost}, {"max_cost", &in.MaxCost}} {
		s := c.Query(f.name)
		if s == "" {
			continue
		}
		v, err := billing.ParseUSD(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s must be a dollar amount like 0.05", f.name))
		}
		*f.dst = v
	}
	limit, err := queryLimit(c)
	if err != nil {
		errs = append(errs, err)
	}
	in.Limit = limit
	if err := errkind.JoinInvalid("invalid request filter", errs); err != nil {
		return in, err
	}
	return in, in.Validate()
}

// requests: GET /api/v1/tenants/{tenant}/requests?from=&to=&status=&key_id=&member_id=&model=&route_reason=&min_cost=&max_cost=&cursor=&limit=,
// served and refused requests, newest first.
func (a *usageAPI) requests(c *gin.Context) error {
	_, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	in, err := requestPageInput(c)
	if err != nil {
		return err
	}
	page, err := ledger.Requests(c.Request.Context(), hd, in)
	if err != nil {
		return err
	}
	out := listResponse[requestDTO]{Data: make([]requestDTO, len(page.Requests)), NextCursor: page.NextCursor}
	for i, e := range page.Requests {
		out.Data[i] = mapRequest(e)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// request: GET /api/v1/tenants/{tenant}/requests/{request}, one request with
// its route decision (route_features), latency, tokens and cost.
func (a *usageAPI) request(c *gin.Context) error {
	_, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	e, err := ledger.Request(c.Request.Context(), hd, c.Param("request"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, mapRequest(e))
	return nil
}

// projection: GET /api/v1/tenants/{tenant}/usage/projection?users=1,10,100,1000:
// month-end spend from pace with a range, cost per active key and member, and
// what N users would cost from the tenant's own per-member mix.
func (a *usageAPI) projection(c *gin.Context) error {
	_, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	var users []int64
	if s := c.Query("users"); s != "" {
		for _, part := range strings.Split(s, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil {
				return errkind.New(errkind.Invalid, "users must be a comma list of team sizes like 1,10,100,1000 (got %q)", part)
			}
			users = append(users, n)
		}
		if len(users) > 10 {
			return errkind.New(errkind.Invalid, "users takes at most 10 team sizes")
		}
	}
	p, err := ledger.Project(c.Request.Context(), hd, ledger.ProjectInput{Now: a.clock(), Users: users})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, p)
	return nil
}
