package ledger

import (
	"context"
	"strings"

	"gorm.io/gorm"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/tenants"
)

// EachPoint streams the rollup series of q to fn row by row, in the order Series
// returns them, without holding the whole series in memory (CSV exports of long
// ranges). q.GroupBy must not be empty. An error from fn stops the scan and is
// returned.
func EachPoint(ctx context.Context, h *tenants.Handle, q SeriesQuery, fn func(Point) error) error {
	if err := q.Validate(); err != nil {
		return err
	}
	cols := groupColumns
	groupCols := make([]string, 0, len(q.GroupBy)+1)
	for _, g := range q.GroupBy {
		groupCols = append(groupCols, cols[g])
	}
	if len(groupCols) == 0 {
		groupCols = append(groupCols, "day")
	}
	sel := strings.Join(groupCols, ", ") +
		", SUM(requests), SUM(input_tokens), SUM(cached_tokens), SUM(output_tokens), SUM(cost_nano), SUM(cache_write_tokens), SUM(cache_saved_nano)"
	return h.Read(ctx, func(db *gorm.DB) error {
		d := q.rollups(db)
		rows, err := d.Select(sel).Group(strings.Join(groupCols, ", ")).Order(strings.Join(groupCols, ", ")).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		dims := make([]string, len(groupCols))
		var requests, input, cached, output, cost, written, saved int64
		dest := make([]any, 0, len(groupCols)+7)
		for i := range dims {
			dest = append(dest, &dims[i])
		}
		dest = append(dest, &requests, &input, &cached, &output, &cost, &written, &saved)
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			p := Point{Totals: Totals{Requests: requests, InputTokens: input, CachedTokens: cached, OutputTokens: output, Cost: billing.NanoUSD(cost),
				CacheWriteTokens: written, CacheSaved: billing.NanoUSD(saved)}}
			for i, c := range groupCols {
				switch c {
				case "day":
					p.Day = dims[i]
				case "model":
					p.Model = dims[i]
				case "key_id":
					p.KeyID = dims[i]
				case "member_id":
					p.MemberID = dims[i]
				case "api":
					p.API = dims[i]
				}
			}
			if err := fn(p); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}
