package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

// requestJSON is one request as `tollgate requests --json` prints it.
type requestJSON struct {
	RequestID      string    `json:"request_id"`
	CreatedAt      time.Time `json:"created_at"`
	Status         string    `json:"status"`
	StatusCode     int       `json:"status_code,omitempty"`
	ErrorType      string    `json:"error_type,omitempty"`
	ErrorCode      string    `json:"error_code,omitempty"`
	KeyID          string    `json:"key_id,omitempty"`
	MemberID       string    `json:"member_id,omitempty"`
	ModelRequested string    `json:"model_requested,omitempty"`
	Model          string    `json:"model,omitempty"`
	RouteReason    string    `json:"route_reason,omitempty"`
	API            string    `json:"api,omitempty"`
	InputTokens    int64     `json:"input_tokens"`
	CachedTokens   int64     `json:"cached_tokens"`
	OutputTokens   int64     `json:"output_tokens"`
	CostNano       int64     `json:"cost_nano"`
	CostUSD        string    `json:"cost_usd"`
	LatencyMS      int64     `json:"latency_ms"`
	// OverheadMS and FirstByteMS split the latency: Tollgate's share, and the
	// answering upstream's time to its first byte.
	OverheadMS  int64 `json:"overhead_ms"`
	FirstByteMS int64 `json:"first_byte_ms"`
	// MaxTokens is the output limit the request ran under (0: none set).
	MaxTokens int64 `json:"max_tokens,omitempty"`
	// Fallbacks are the attempts that failed before the answer (JSON, as the
	// ledger keeps them).
	Fallbacks json.RawMessage `json:"fallbacks,omitempty"`
}

func newRequestsCmd(g *globalFlags) *cobra.Command {
	var tenantRef, since, until, minCost, maxCost string
	var in ledger.RequestPageInput
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "requests [--tenant T] [--status ok|refused|429] [--key K] [--member M] [--model M] [--route-reason R] [--json]",
		Short: "List a tenant's requests, served and refused (newest first, one page)",
		Long: "Lists a tenant's requests, served and refused, newest first: the request explorer of the console.\n" +
			"Refusals (403, 4xx, 429 budget and rate limits, upstream errors) are recorded without content and\n" +
			"never count in usage, budgets or invoices; 401s of unknown keys belong to no tenant and are not listed.\n" +
			"--cursor continues after a page (the next_cursor printed with --json).",
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, f := range []struct {
				flag, v string
				dst     *time.Time
			}{{"--since", since, &in.From}, {"--until", until, &in.To}} {
				if f.v == "" {
					continue
				}
				t, err := time.Parse(time.RFC3339, f.v)
				if err != nil {
					if t, err = time.Parse("2006-01-02", f.v); err != nil {
						return errkind.New(errkind.Invalid, "%s %q: use a date like 2026-12-01 or a time like 2026-12-01T15:04:05Z", f.flag, f.v)
					}
				}
				*f.dst = t
			}
			for _, f := range []struct {
				flag, v string
				dst     *billing.NanoUSD
			}{{"--min-cost", minCost, &in.MinCost}, {"--max-cost", maxCost, &in.MaxCost}} {
				if f.v == "" {
					continue
				}
				v, err := billing.ParseUSD(f.v)
				if err != nil {
					return errkind.New(errkind.Invalid, "%s %q: use a dollar amount like 0.05", f.flag, f.v)
				}
				*f.dst = v
			}
			if err := in.Validate(); err != nil {
				return err
			}
			a, h, err := openOnlyOrNamedTenant(cmd, g, tenantRef)
			if err != nil {
				return err
			}
			defer a.Close()
			page, err := ledger.Requests(cmd.Context(), h, in)
			if err != nil {
				return err
			}
			rows := make([]requestJSON, len(page.Requests))
			for i, e := range page.Requests {
				rows[i] = requestJSON{RequestID: e.RequestID, CreatedAt: e.CreatedAt, Status: e.Status, StatusCode: e.StatusCode,
					ErrorType: e.ErrorType, ErrorCode: e.ErrorCode, KeyID: e.KeyID, MemberID: e.MemberID, ModelRequested: e.ModelRequested,
					Model: e.ModelUsed, RouteReason: e.RouteReason, API: e.API, InputTokens: e.InputTokens, CachedTokens: e.CachedTokens,
					OutputTokens: e.OutputTokens, CostNano: int64(e.Cost), CostUSD: e.Cost.USDString(), LatencyMS: e.LatencyMS,
					OverheadMS: e.OverheadMS, FirstByteMS: e.FirstByteMS, MaxTokens: e.MaxTokens}
				if e.Fallbacks != "" && json.Valid([]byte(e.Fallbacks)) {
					rows[i].Fallbacks = json.RawMessage(e.Fallbacks)
				}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Tenant     string        `json:"tenant"`
					Requests   []requestJSON `json:"requests"`
					NextCursor string        `json:"next_cursor,omitempty"`
				}{h.Tenant().Slug, rows, page.NextCursor})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tREQUEST\tSTATUS\tMODEL\tKEY\tTOKENS\tCOST\tMS")
			for _, r := range rows {
				status, model := r.Status, r.Model
				if r.StatusCode != 0 {
					status = fmt.Sprintf("%d %s", r.StatusCode, r.ErrorCode)
					model = r.ModelRequested
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t$%s\t%d\n", r.CreatedAt.Format(time.RFC3339), r.RequestID, status, model, r.KeyID,
					r.InputTokens+r.OutputTokens, r.CostUSD, r.LatencyMS)
			}
			if page.NextCursor != "" {
				fmt.Fprintf(tw, "more: --cursor %s\n", page.NextCursor)
			}
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&tenantRef, "tenant", "", "tenant slug or id (optional when there is only one tenant)")
	f.StringVar(&in.Status, "status", "", "ok (served), refused, or an HTTP status such as 429")
	f.StringVar(&in.KeyID, "key", "", "only this API key id")
	f.StringVar(&in.MemberID, "member", "", "only this member id")
	f.StringVar(&in.Model, "model", "", "only this model (used, or requested for refusals)")
	f.StringVar(&in.RouteReason, "route-reason", "", "only this route reason")
	f.StringVar(&since, "since", "", "from this UTC date or RFC 3339 time")
	f.StringVar(&until, "until", "", "before this UTC date or RFC 3339 time")
	f.StringVar(&minCost, "min-cost", "", "at least this many dollars (leaves out refusals)")
	f.StringVar(&maxCost, "max-cost", "", "at most this many dollars")
	f.StringVar(&in.Cursor, "cursor", "", "continue after a page (its next_cursor)")
	f.IntVar(&in.Limit, "limit", 50, "page size, 1-500")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
