package invoicing

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/billing/invoice"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
)

// PreviousPeriod returns the month before now's month, "YYYY-MM" in UTC: the
// period the monthly schedule invoices.
func PreviousPeriod(now time.Time) string {
	y, m, _ := now.UTC().Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0).Format("2006-01")
}

// periodDays returns the first and last UTC day of a "YYYY-MM" period, as the
// ledger's rollup keys ("2026-01-01", "2026-01-31").
func periodDays(period string) (string, string, error) {
	start, err := time.Parse("2006-01", period)
	if !invoice.ValidPeriod(period) || err != nil {
		return "", "", errkind.New(errkind.Invalid, "period %q: use YYYY-MM", period)
	}
	return start.Format("2006-01-02"), start.AddDate(0, 1, -1).Format("2006-01-02"), nil
}

// Usage aggregates the tenant's daily rollups of the period into one row per model.
func Usage(ctx context.Context, h *tenants.Handle, period string) ([]invoice.Usage, error) {
	from, to, err := periodDays(period)
	if err != nil {
		return nil, err
	}
	points, _, err := ledger.Series(ctx, h, ledger.SeriesQuery{From: from, To: to, GroupBy: []ledger.GroupBy{ledger.GroupByModel}})
	if err != nil {
		return nil, err
	}
	out := make([]invoice.Usage, 0, len(points))
	for _, p := range points {
		if p.Requests == 0 && p.Cost == 0 {
			continue
		}
		model := p.Model
		if model == "" {
			model = "unknown"
		}
		// The ledger counts cache reads and writes inside input_tokens (OpenAI's
		// convention); an invoice line prices each part once.
		uncached := max(p.InputTokens-p.CachedTokens-p.CacheWriteTokens, 0)
		out = append(out, invoice.Usage{Model: model, Requests: p.Requests, InputTokens: uncached,
			CachedInputTokens: p.CachedTokens, CacheWriteInputTokens: p.CacheWriteTokens, OutputTokens: p.OutputTokens, ProviderCost: p.Cost})
	}
	return out, nil
}

// ParsePlan decodes a tenant's plan (tenants.plan, JSON in billing/invoice's Plan
// shape). An empty document or "{}" is the default plan: provider cost, no fee.
// Unknown fields are refused, so a misspelt markup is not silently ignored.
func ParsePlan(raw string) (invoice.Plan, error) {
	var p invoice.Plan
	raw = strings.TrimSpace(raw)
	if raw == "" || raw == "{}" {
		return p, nil
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, errkind.Wrap(errkind.Invalid, err, "tenant plan is not valid JSON in the plan shape")
	}
	return p, nil
}
