package api

import (
	"encoding/csv"
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
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/access"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
)

// maxUsageDays bounds one usage query: a year of daily rollups and a little more.
const maxUsageDays = 400

const dateLayout = "2006-01-02"

type usageTotalsDTO struct {
	Requests     int64  `json:"requests"`
	InputTokens  int64  `json:"input_tokens"`
	CachedTokens int64  `json:"cached_tokens"`
	OutputTokens int64  `json:"output_tokens"`
	CostNano     int64  `json:"cost_nano"`
	CostUSD      string `json:"cost_usd"`
	// CacheWriteTokens are input tokens written to a prompt cache (part of
	// input_tokens, like cached_tokens).
	CacheWriteTokens int64 `json:"cache_write_tokens"`
	// CacheSaved is what prompt caching saved against every input token at the
	// input price (negative while cache writes cost more than reads saved).
	CacheSavedNano int64  `json:"cache_saved_nano"`
	CacheSavedUSD  string `json:"cache_saved_usd"`
}

// usageAPI serves the tenant's usage: series, events and the CSV export.
type usageAPI struct {
	registry *tenants.Registry
	// id names the keys of usage events for callers who may read keys.
	id    *Identity
	clock func() time.Time
}

func (a *usageAPI) register(r adminRoutes) {
	t, id := r.tenant, r.id
	t.GET("/usage", id.AuthorizeOrScope(access.ResourceUsage, access.ActionRead, apikeys.ScopeReadUsage), h(a.usage))
	t.GET("/usage/events", id.AuthorizeOrScope(access.ResourceUsage, access.ActionRead, apikeys.ScopeReadUsage), h(a.usageEvents))
	t.GET("/usage.csv", id.AuthorizeOrScope(access.ResourceUsage, access.ActionExport, apikeys.ScopeReadUsage), h(a.usageCSV))
	a.registerRequests(r)
}

func mapTotals(t ledger.Totals) usageTotalsDTO {
	return usageTotalsDTO{Requests: t.Requests, InputTokens: t.InputTokens, CachedTokens: t.CachedTokens, OutputTokens: t.OutputTokens,
		CostNano: int64(t.Cost), CostUSD: t.Cost.USDString(), CacheWriteTokens: t.CacheWriteTokens,
		CacheSavedNano: int64(t.CacheSaved), CacheSavedUSD: t.CacheSaved.USDString()}
}

// usagePointDTO is one series row; only the grouped dimensions are set.
type usagePointDTO struct {
	Day      string `json:"day,omitempty"`
	Model    string `json:"model,omitempty"`
	KeyID    string `json:"key_id,omitempty"`
	MemberID string `json:"member_id,omitempty"`
	// API is the client API (chat, responses, messages, embeddings) when grouped by api.
	API string `json:"api,omitempty"`
	usageTotalsDTO
}

type usageDTO struct {
	// From and To are the inclusive UTC days the report covers.
	From    string          `json:"from"`
	To      string          `json:"to"`
	GroupBy []string        `json:"group_by"`
	Totals  usageTotalsDTO  `json:"totals"`
	Series  []usagePointDTO `json:"series"`
}

// usageQuery binds ?from&to&group_by&model&key_id&member_id&api&source. Absent dates
// mean the 30 UTC days ending today; group_by is a comma list of day, model,
// key, member, api (default def).
func (a *usageAPI) usageQuery(c *gin.Context, def string) (ledger.SeriesQuery, error) {
	today := a.clock().UTC().Format(dateLayout)
	q := ledger.SeriesQuery{From: c.Query("from"), To: c.DefaultQuery("to", today), Model: c.Query("model"),
		KeyID: c.Query("key_id"), MemberID: c.Query("member_id"), API: c.Query("api"), Source: ledger.SourceAll}
	var errs []error
	// Analytics show imported history (api "imported") beside served usage
	// unless asked for one of them.
	switch src := c.DefaultQuery("source", "all"); src {
	case "all":
	case "served":
		q.Source = ledger.SourceServed
	case "imported":
		q.Source = ledger.SourceImported
	default:
		errs = append(errs, fmt.Errorf("source %q is not one of all, served, imported", src))
	}
	to, err := time.Parse(dateLayout, q.To)
	if err != nil {
		errs = append(errs, fmt.Errorf("to must be a date like %s", today))
	}
	if q.From == "" && err == nil {
		q.From = to.AddDate(0, 0, -29).Format(dateLayout)
	}
	if from, ferr := time.Parse(dateLayout, q.From); ferr != nil {
		errs = append(errs, fmt.Errorf("from must be a date like %s", today))
	} else if err == nil && to.Sub(from) > maxUsageDays*24*time.Hour {
		errs = append(errs, fmt.Errorf("from..to spans more than %d days; ask for a shorter range", maxUsageDays))
	}
	groups := c.DefaultQuery("group_by", def)
	seen := map[ledger.GroupBy]bool{}
	for _, g := range strings.Split(groups, ",") {
		g = strings.TrimSpace(g)
		if g == "" || seen[ledger.GroupBy(g)] {
			continue
		}
		seen[ledger.GroupBy(g)] = true
		q.GroupBy = append(q.GroupBy, ledger.GroupBy(g))
	}
	if err := errkind.JoinInvalid("invalid usage query", errs); err != nil {
		return q, err
	}
	return q, q.Validate()
}

// usage: GET /api/v1/tenants/{tenant}/usage. Totals and series come from the
// daily rollups, never raw events, so a year-long chart is one small query.
func (a *usageAPI) usage(c *gin.Context) error {
	_, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	q, err := a.usageQuery(c, "day")
	if err != nil {
		return err
	}
	points, totals, err := ledger.Series(c.Request.Context(), hd, q)
	if err != nil {
		return err
	}
	out := usageDTO{From: q.From, To: q.To, GroupBy: make([]string, len(q.GroupBy)), Totals: mapTotals(totals),
		Series: make([]usagePointDTO, len(points))}
	for i, g := range q.GroupBy {
		out.GroupBy[i] = string(g)
	}
	for i, p := range points {
		out.Series[i] = usagePointDTO{Day: p.Day, Model: p.Model, KeyID: p.KeyID, MemberID: p.MemberID, API: p.API, usageTotalsDTO: mapTotals(p.Totals)}
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// usageEventDTO is one completed request: a row of GET usage/events and the data
// of a live "request" message.
type usageEventDTO struct {
	// ID is the request id (also in RequestID, which the console de-duplicates by).
	ID        string `json:"id"`
	RequestID string `json:"request_id"`
	// ClientRequestID is the X-Request-Id the client sent, if any.
	ClientRequestID string    `json:"client_request_id,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
	Model           string    `json:"model"`
	ModelRequested  string    `json:"model_requested,omitempty"`
	Provider        string    `json:"provider,omitempty"`
	KeyID           string    `json:"key_id,omitempty"`
	// KeyName is set for callers that may read keys.
	KeyName      string `json:"key_name,omitempty"`
	MemberID     string `json:"member_id,omitempty"`
	InputTokens  int64  `json:"input_tokens"`
	CachedTokens int64  `json:"cached_tokens"`
	// CacheWriteTokens are input tokens written to a prompt cache.
	CacheWriteTokens int64  `json:"cache_write_tokens"`
	OutputTokens     int64  `json:"output_tokens"`
	CostNano         int64  `json:"cost_nano"`
	CostUSD          string `json:"cost_usd"`
	// CacheSaved is what prompt caching saved on this request.
	CacheSavedNano int64  `json:"cache_saved_nano"`
	CacheSavedUSD  string `json:"cache_saved_usd"`
	LatencyMS      int64  `json:"latency_ms"`
	// Status is ok, aborted (client left mid-stream) or error.
	Status      string `json:"status"`
	RouteReason string `json:"route_reason,omitempty"`
	// API is the client API the request came through: chat, responses,
	// messages or embeddings; empty for requests recorded before Tollgate
	// recorded it.
	API string `json:"api,omitempty"`
	// RouteFeatures are the routing decision's inputs (probabilities,
	// structural features, token estimate, conversation keys; never content):
	// what `tollgate route simulate` replays.
	RouteFeatures json.RawMessage `json:"route_features,omitempty"`
	// ConversationID is the conversation key the request was routed under.
	ConversationID string `json:"conversation_id,omitempty"`
}

func mapUsageEvent(e ledger.Event) usageEventDTO {
	return usageEventDTO{ID: e.RequestID, RequestID: e.RequestID, ClientRequestID: e.ClientRequestID, CreatedAt: e.CreatedAt.UTC(), Model: e.ModelUsed, ModelRequested: e.ModelRequested,
		Provider: e.Provider, KeyID: e.KeyID, MemberID: e.MemberID, InputTokens: e.InputTokens, CachedTokens: e.CachedTokens,
		CacheWriteTokens: e.CacheWriteTokens, OutputTokens: e.OutputTokens, CostNano: int64(e.Cost), CostUSD: e.Cost.USDString(),
		CacheSavedNano: int64(e.CacheSaved), CacheSavedUSD: e.CacheSaved.USDString(), LatencyMS: e.LatencyMS, Status: e.Status,
		RouteReason: e.RouteReason, API: e.API, RouteFeatures: rawJSON(e.RouteFeatures), ConversationID: e.ConversationID}
}

func rawJSON(s string) json.RawMessage {
	if s == "" || !json.Valid([]byte(s)) {
		return nil
	}
	return json.RawMessage(s)
}

// usageEvents: GET /api/v1/tenants/{tenant}/usage/events?cursor=&limit=, newest first.
func (a *usageAPI) usageEvents(c *gin.Context) error {
	p, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	limit, err := queryLimit(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	page, err := ledger.RecentPage(ctx, hd, ledger.EventPageInput{Cursor: c.Query("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	keyName := a.id.keyNames(c, p)
	out := listResponse[usageEventDTO]{Data: make([]usageEventDTO, len(page.Events)), NextCursor: page.NextCursor}
	for i, e := range page.Events {
		out.Data[i] = mapUsageEvent(e)
		out.Data[i].KeyName = keyName(e.KeyID)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// usageCSV: GET /api/v1/tenants/{tenant}/usage.csv, the rollup series as CSV
// (default group_by day,model), streamed row by row. Problems found before the
// first byte are JSON errors like everywhere else.
func (a *usageAPI) usageCSV(c *gin.Context) error {
	p, hd, err := tenantOf(c, a.registry)
	if err != nil {
		return err
	}
	q, err := a.usageQuery(c, "day,model")
	if err != nil {
		return err
	}
	if len(q.GroupBy) == 0 {
		return errkind.New(errkind.Invalid, "group_by must name at least one of day, model, key, member, api for a CSV export")
	}
	header := make([]string, 0, len(q.GroupBy)+6)
	for _, g := range q.GroupBy {
		header = append(header, map[ledger.GroupBy]string{ledger.GroupByDay: "day", ledger.GroupByModel: "model",
			ledger.GroupByKey: "key_id", ledger.GroupByMember: "member_id", ledger.GroupByAPI: "api"}[g])
	}
	header = append(header, "requests", "input_tokens", "cached_tokens", "output_tokens", "cost_nano", "cost_usd",
		"cache_write_tokens", "cache_saved_nano")
	w := csv.NewWriter(c.Writer)
	started := false
	start := func() error {
		started = true
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="usage-%s-%s-%s.csv"`, p.Tenant().Slug, q.From, q.To))
		c.Header("Cache-Control", "no-store")
		c.Status(http.StatusOK)
		return w.Write(header)
	}
	rows := 0
	err = ledger.EachPoint(c.Request.Context(), hd, q, func(pt ledger.Point) error {
		if !started {
			if err := start(); err != nil {
				return err
			}
		}
		rec := make([]string, 0, len(header))
		for _, g := range q.GroupBy {
			rec = append(rec, map[ledger.GroupBy]string{ledger.GroupByDay: pt.Day, ledger.GroupByModel: pt.Model,
				ledger.GroupByKey: pt.KeyID, ledger.GroupByMember: pt.MemberID, ledger.GroupByAPI: pt.API}[g])
		}
		rec = append(rec, strconv.FormatInt(pt.Requests, 10), strconv.FormatInt(pt.InputTokens, 10), strconv.FormatInt(pt.CachedTokens, 10),
			strconv.FormatInt(pt.OutputTokens, 10), strconv.FormatInt(int64(pt.Cost), 10), billing.NanoUSD(pt.Cost).USDString(),
			strconv.FormatInt(pt.CacheWriteTokens, 10), strconv.FormatInt(int64(pt.CacheSaved), 10))
		if err := w.Write(rec); err != nil {
			return err
		}
		if rows++; rows%200 == 0 {
			w.Flush()
			return w.Error()
		}
		return nil
	})
	if err != nil && !started {
		return err
	}
	if err != nil {
		// Headers are sent: the client sees a truncated file; the log has why.
		logger(c).ErrorContext(c.Request.Context(), "usage CSV export failed mid-stream", "error", err, "rows", rows)
		c.Abort()
		return nil
	}
	if !started {
		if err := start(); err != nil {
			return err
		}
	}
	w.Flush()
	return nil
}
