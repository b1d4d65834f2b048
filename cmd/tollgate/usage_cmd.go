package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/api"
	"github.com/tollgate-dev/tollgate/billing/ledger"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/accounts"
)

func newUsageCmd(g *globalFlags) *cobra.Command {
	var tenantRef, since, by string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "usage [--tenant T] [--since YYYY-MM-DD] [--by model|key|member|day|api] [--json]",
		Short: "Print a tenant's ledger totals (requests, tokens and cost), or a breakdown with --by",
		Long: "Prints a tenant's ledger totals. --tenant may be left out when there is only one tenant.\n" +
			"--by model|key|member|day|api breaks the totals down (keys and members by name; --since defaults\n" +
			"to the first of this month for a breakdown). A breakdown includes imported history (`usage import`;\n" +
			"api \"imported\", keys \"imported:...\"); the totals without --by are served requests only.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			var from time.Time
			if since != "" {
				var err error
				if from, err = time.Parse("2006-01-02", since); err != nil {
					return errkind.New(errkind.Invalid, "--since %q: use a date like 2026-11-01", since)
				}
			}
			dims := map[string]ledger.GroupBy{"model": ledger.GroupByModel, "key": ledger.GroupByKey, "member": ledger.GroupByMember, "day": ledger.GroupByDay,
				"api": ledger.GroupByAPI}
			dim, ok := dims[by]
			if by != "" && !ok {
				return errkind.New(errkind.Invalid, "--by %q: use model, key, member, day or api", by)
			}
			a, h, err := openOnlyOrNamedTenant(cmd, g, tenantRef)
			if err != nil {
				return err
			}
			defer a.Close()
			if by != "" {
				return printUsageBreakdown(cmd, a, h, dim, from, asJSON)
			}
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
				// What prompt caching saved against the uncached input price.
				CacheSavedNano int64  `json:"cache_saved_nano"`
				CacheSavedUSD  string `json:"cache_saved_usd"`
			}{h.Tenant().Slug, since, t.Requests, t.InputTokens, t.CachedTokens, t.OutputTokens,
				t.InputTokens + t.OutputTokens, int64(t.Cost), t.Cost.USDString(), int64(t.CacheSaved), t.CacheSaved.USDString()}
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
	cmd.Flags().StringVar(&tenantRef, "tenant", "", "tenant slug or id (optional when there is only one tenant)")
	cmd.Flags().StringVar(&since, "since", "", "count from this UTC date")
	cmd.Flags().StringVar(&by, "by", "", "break down by model, key, member, day or api (the client API)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(newUsageProjectCmd(g))
	cmd.AddCommand(newUsageImportCmd(g))
	return cmd
}

// openOnlyOrNamedTenant opens the tenant --tenant names or, without it, the only
// tenant there is.
func openOnlyOrNamedTenant(cmd *cobra.Command, g *globalFlags, ref string) (*app, *tenants.Handle, error) {
	if ref != "" {
		return openTenant(cmd, g, ref)
	}
	a, err := openFromFlags(cmd, g)
	if err != nil {
		return nil, nil, err
	}
	ts, err := a.registry.List(cmd.Context())
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	if len(ts) != 1 {
		a.Close()
		slugs := make([]string, len(ts))
		for i, t := range ts {
			slugs[i] = t.Slug
		}
		if len(ts) == 0 {
			return nil, nil, errkind.New(errkind.Invalid, "there is no tenant yet; create one with `tollgate tenants create --name N`")
		}
		return nil, nil, errkind.New(errkind.Invalid, "--tenant is required: there are %d tenants (%s)", len(ts), strings.Join(slugs, ", "))
	}
	h, err := a.registry.Handle(tenants.SystemPrincipal(ts[0], "cli"))
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, h, nil
}

type usageRowJSON struct {
	// Group is the model, the key's or member's id, or the day.
	Group string `json:"group"`
	// Name is the key's name or the member's email, when known.
	Name         string `json:"name,omitempty"`
	Requests     int64  `json:"requests"`
	InputTokens  int64  `json:"input_tokens"`
	OutputTokens int64  `json:"output_tokens"`
	CostNano     int64  `json:"cost_nano"`
	CostUSD      string `json:"cost_usd"`
}

// printUsageBreakdown prints the ledger's daily rollups (served and imported) since from (default: the
// first of this month) grouped by one dimension, dearest first (days in order).
func printUsageBreakdown(cmd *cobra.Command, a *app, h *tenants.Handle, dim ledger.GroupBy, from time.Time, asJSON bool) error {
	ctx := cmd.Context()
	now := time.Now().UTC()
	if from.IsZero() {
		from = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	points, _, err := ledger.Series(ctx, h, ledger.SeriesQuery{From: from.Format("2006-01-02"), To: now.Format("2006-01-02"),
		GroupBy: []ledger.GroupBy{dim}, Source: ledger.SourceAll})
	if err != nil {
		return err
	}
	names := map[string]string{}
	if dim == ledger.GroupByKey || dim == ledger.GroupByMember {
		svc := newIdentityServices(a, accounts.PasswordParams{})
		dir := api.NewBudgetDirectory(svc.keys, svc.users)
		list := dir.Keys
		if dim == ledger.GroupByMember {
			list = dir.Members
		}
		if ns, err := list(ctx, h.TenantID()); err == nil {
			for _, n := range ns {
				names[n.ID] = n.Name
			}
		}
	}
	rows := make([]usageRowJSON, 0, len(points))
	for _, p := range points {
		group := map[ledger.GroupBy]string{ledger.GroupByDay: p.Day, ledger.GroupByModel: p.Model, ledger.GroupByKey: p.KeyID,
			ledger.GroupByMember: p.MemberID, ledger.GroupByAPI: p.API}[dim]
		rows = append(rows, usageRowJSON{Group: group, Name: names[group], Requests: p.Requests, InputTokens: p.InputTokens,
			OutputTokens: p.OutputTokens, CostNano: int64(p.Cost), CostUSD: p.Cost.USDString()})
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if dim == ledger.GroupByDay {
			return rows[i].Group < rows[j].Group
		}
		return rows[i].CostNano > rows[j].CostNano
	})
	if asJSON {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "%s\tREQUESTS\tINPUT TOKENS\tOUTPUT TOKENS\tCOST\n", strings.ToUpper(string(dim)))
	for _, r := range rows {
		label := r.Group
		if r.Name != "" {
			label = r.Name + " (" + r.Group + ")"
		}
		if label == "" {
			label = "(none)"
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t$%s\n", label, r.Requests, r.InputTokens, r.OutputTokens, r.CostUSD)
	}
	return w.Flush()
}
