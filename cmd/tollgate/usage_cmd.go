package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/errkind"
)

func newUsageCmd(g *globalFlags) *cobra.Command {
	var tenantRef, since string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "usage --tenant T [--since YYYY-MM-DD] [--json]",
		Short: "Print a tenant's ledger totals: requests, tokens and cost",
		RunE: func(cmd *cobra.Command, _ []string) error {
			var from time.Time
			if since != "" {
				var err error
				if from, err = time.Parse("2006-01-02", since); err != nil {
					return errkind.New(errkind.Invalid, "--since %q: use a date like 2026-11-01", since)
				}
			}
			a, h, err := openTenant(cmd, g, tenantRef)
			if err != nil {
				return err
			}
			defer a.Close()
			t, err := ledger.EventTotals(cmd.Context(), h, from)
			if err != nil {
				return err
			}
			out := struct {
				Tenant       string `json:"tenant"`
				Since        string `json:"since,omitempty"`
				Requests     int64  `json:"requests"`
				InputTokens  int64  `json:"input_tokens"`
				CachedTokens int64  `json:"cached_tokens"`
				OutputTokens int64  `json:"output_tokens"`
				Tokens       int64  `json:"tokens"`
				CostNano     int64  `json:"cost_nano"`
				CostUSD      string `json:"cost_usd"`
			}{h.Tenant().Slug, since, t.Requests, t.InputTokens, t.CachedTokens, t.OutputTokens,
				t.InputTokens + t.OutputTokens, int64(t.Cost), t.Cost.USDString()}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d requests, %d input + %d output tokens, $%s\n",
				out.Tenant, out.Requests, out.InputTokens, out.OutputTokens, out.CostUSD)
			return nil
		},
	}
	cmd.Flags().StringVar(&tenantRef, "tenant", "", "tenant slug or id")
	cmd.Flags().StringVar(&since, "since", "", "count from this UTC date")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("tenant")
	return cmd
}
