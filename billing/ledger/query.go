package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
)

// Totals are summed usage.
type Totals struct {
	Requests     int64           `json:"requests"`
	InputTokens  int64           `json:"input_tokens"`
	CachedTokens int64           `json:"cached_tokens"`
	OutputTokens int64           `json:"output_tokens"`
	Cost         billing.NanoUSD `json:"cost_nano"`
	// CacheWriteTokens are input tokens written to a prompt cache (Anthropic).
	CacheWriteTokens int64 `json:"cache_write_tokens"`
	// CacheSaved is what prompt caching saved against the uncached price.
	CacheSaved billing.NanoUSD `json:"cache_saved_nano"`
}

// GroupBy is a breakdown dimension of the usage series.
type GroupBy string

// Breakdown dimensions.
const (
	GroupByDay    GroupBy = "day"
	GroupByModel  GroupBy = "model"
	GroupByKey    GroupBy = "key"
	GroupByMember GroupBy = "member"
	// GroupByAPI breaks usage down by the client API (chat, responses,
	// messages, embeddings; "" for requests recorded before it was).
	GroupByAPI GroupBy = "api"
)

// SeriesQuery selects rollup rows: days From..To inclusive (UTC, "2006-01-02"),
// optional filters, and the dimensions to group by (day is always included when
// GroupBy is day; model/key/member add a dimension).
type SeriesQuery struct {
	From, To string
	Model    string
	KeyID    string
	// KeyIDs, when set, selects the rows of any of these keys (a key budget's
	// rotation chain).
	KeyIDs   []string
	MemberID string
	// API, when set, selects the rows of one client API.
	API     string
	GroupBy []GroupBy
	// Source chooses served usage, imported history or both. The zero value
	// is served usage only: what budgets, the reconcile and invoices read, so
	// a caller that does not ask for imported history never counts it.
	Source Source
}

// Source selects which usage a query reads.
type Source string

// Sources of usage.
const (
	// SourceServed is the usage of requests Tollgate served (the default).
	SourceServed Source = ""
	// SourceAll adds imported history to served usage: analytics and projections.
	SourceAll Source = "all"
	// SourceImported is imported history alone.
	SourceImported Source = "imported"
)

// Validate reports every problem with the query.
func (q SeriesQuery) Validate() error {
	var errs []error
	for name, d := range map[string]string{"from": q.From, "to": q.To} {
		if d == "" {
			continue
		}
		if _, err := time.Parse("2006-01-02", d); err != nil {
			errs = append(errs, fmt.Errorf("%s must be a date like 2026-11-26", name))
		}
	}
	if q.From != "" && q.To != "" && q.From > q.To {
		errs = append(errs, errors.New("from must not be after to"))
	}
	switch q.Source {
	case SourceServed, SourceAll, SourceImported:
	default:
		errs = append(errs, fmt.Errorf("source %q is not one of all, served, imported", q.Source))
	}
	for _, g := range q.GroupBy {
		switch g {
		case GroupByDay, GroupByModel, GroupByKey, GroupByMember, GroupByAPI:
		default:
			errs = append(errs, fmt.Errorf("group_by %q is not one of day, model, key, member, api", g))
		}
	}
	return errkind.JoinInvalid("invalid usage query", errs)
}

// rollups selects the usage_daily rows q filters for.
func (q SeriesQuery) rollups(db *gorm.DB) *gorm.DB {
	d := db.Table("usage_daily")
	// Imported history sits in the rollups under api = APIImported; served
	// usage never has that api, so this one predicate keeps the two apart.
	switch q.Source {
	case SourceServed:
		d = d.Where("api <> ?", APIImported)
	case SourceImported:
		d = d.Where("api = ?", APIImported)
	}
	if q.From != "" {
		d = d.Where("day >= ?", q.From)
	}
	if q.To != "" {
		d = d.Where("day <= ?", q.To)
	}
	if q.Model != "" {
		d = d.Where("model = ?", q.Model)
	}
	if q.KeyID != "" {
		d = d.Where("key_id = ?", q.KeyID)
	}
	if len(q.KeyIDs) > 0 {
		d = d.Where("key_id IN ?", q.KeyIDs)
	}
	if q.MemberID != "" {
		d = d.Where("member_id = ?", q.MemberID)
	}
	if q.API != "" {
		d = d.Where("api = ?", q.API)
	}
	return d
}

// Point is one row of a usage series.
type Point struct {
	Day      string `json:"day,omitempty"`
	Model    string `json:"model,omitempty"`
	KeyID    string `json:"key_id,omitempty"`
	MemberID string `json:"member_id,omitempty"`
	API      string `json:"api,omitempty"`
	Totals
}

// groupColumns are the rollup columns of the dimensions.
var groupColumns = map[GroupBy]string{GroupByDay: "day", GroupByModel: "model", GroupByKey: "key_id", GroupByMember: "member_id",
	GroupByAPI: "api"}

// Series reads the daily rollups (never raw events), grouped and filtered.
func Series(ctx context.Context, h *tenants.Handle, q SeriesQuery) ([]Point, Totals, error) {
	if err := q.Validate(); err != nil {
		return nil, Totals{}, err
	}
	cols := groupColumns
	var groupCols []string
	for _, g := range q.GroupBy {
		groupCols = append(groupCols, cols[g])
	}
	sel := "SUM(requests) AS requests, SUM(input_tokens) AS input_tokens, SUM(cached_tokens) AS cached_tokens, SUM(output_tokens) AS output_tokens, SUM(cost_nano) AS cost, " +
		"SUM(cache_write_tokens) AS cache_write_tokens, SUM(cache_saved_nano) AS cache_saved"
	type row struct {
		Day, Model, KeyID, MemberID, API                                                      string
		Requests, InputTokens, CachedTokens, OutputTokens, Cost, CacheWriteTokens, CacheSaved int64
	}
	var rows []row
	var total row
	err := h.Read(ctx, func(db *gorm.DB) error {
		base := func() *gorm.DB { return q.rollups(db) }
		if err := base().Select(sel).Scan(&total).Error; err != nil {
			return err
		}
		if len(groupCols) == 0 {
			return nil
		}
		gsel := make([]string, 0, len(groupCols))
		for _, c := range groupCols {
			gsel = append(gsel, c+" AS "+c)
		}
		return base().Select(strings.Join(gsel, ", ") + ", " + sel).
			Group(strings.Join(groupCols, ", ")).Order(strings.Join(groupCols, ", ")).Scan(&rows).Error
	})
	if err != nil {
		return nil, Totals{}, err
	}
	out := make([]Point, len(rows))
	for i, r := range rows {
		out[i] = Point{Day: r.Day, Model: r.Model, KeyID: r.KeyID, MemberID: r.MemberID, API: r.API,
			Totals: Totals{r.Requests, r.InputTokens, r.CachedTokens, r.OutputTokens, billing.NanoUSD(r.Cost), r.CacheWriteTokens, billing.NanoUSD(r.CacheSaved)}}
	}
	return out, Totals{total.Requests, total.InputTokens, total.CachedTokens, total.OutputTokens, billing.NanoUSD(total.Cost),
		total.CacheWriteTokens, billing.NanoUSD(total.CacheSaved)}, nil
}

// EventTotals sums raw events since a time. It is the exactness check's ground truth
// (and the reconcile job's); charts use Series.
func EventTotals(ctx context.Context, h *tenants.Handle, since time.Time) (Totals, error) {
	var t struct{ Requests, InputTokens, CachedTokens, OutputTokens, Cost, CacheWriteTokens, CacheSaved int64 }
	err := h.Read(ctx, func(db *gorm.DB) error {
		return db.Table("usage_events").Where("created_at >= ?", since.UTC()).
			Select("COUNT(*) AS requests, COALESCE(SUM(input_tokens),0) AS input_tokens, COALESCE(SUM(cached_tokens),0) AS cached_tokens, COALESCE(SUM(output_tokens),0) AS output_tokens, COALESCE(SUM(cost_nano),0) AS cost, " +
				"COALESCE(SUM(cache_write_tokens),0) AS cache_write_tokens, COALESCE(SUM(cache_saved_nano),0) AS cache_saved").
			Scan(&t).Error
	})
	return Totals{t.Requests, t.InputTokens, t.CachedTokens, t.OutputTokens, billing.NanoUSD(t.Cost), t.CacheWriteTokens, billing.NanoUSD(t.CacheSaved)}, err
}

// Recent lists events newest first, before the cursor (a request's created_at and
// id, as returned in the previous page's NextCursor).
func Recent(ctx context.Context, h *tenants.Handle, before time.Time, limit int) ([]Event, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	return readEvents(ctx, h, limit, func(q *gorm.DB) *gorm.DB {
		if before.IsZero() {
			return q
		}
		return q.Where("created_at < ?", before.UTC())
	})
}
