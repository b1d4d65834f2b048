package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/seal"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
	"github.com/tollgate-dev/tollgate/routing/savings"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/tenants/apikeys"
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

// suggestionJSON is one suggestion as `tollgate suggestions --json` prints it.
type suggestionJSON struct {
	savings.Suggestion
	MonthlySavingsUSD          string `json:"monthly_savings_usd"`
	MonthlyReservationFreedUSD string `json:"monthly_reservation_freed_usd"`
}

func newSuggestionsCmd(g *globalFlags) *cobra.Command {
	var tenantRef string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "suggestions [--tenant T] [--json]",
		Short: "Savings suggestions from the tenant's last 30 days, replayed through the router",
		Long: "Replays the tenant's last 30 days through the router under its routing policy and under each\n" +
			"candidate change (route a key's named model as auto, a cheaper model of the same tier, prompt\n" +
			"caching, a max_tokens cap) and lists the changes that save, largest monthly saving first, each\n" +
			"with its quality risk. `tollgate suggestions apply ID` applies one (the console and\n" +
			"POST /api/v1/tenants/{tenant}/suggestions/{id}/apply do the same).",
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, h, err := openOnlyOrNamedTenant(cmd, g, tenantRef)
			if err != nil {
				return err
			}
			defer a.Close()
			in, err := cliSavingsInput(cmd, a, h)
			if err != nil {
				return err
			}
			rep, err := savings.Compute(cmd.Context(), in)
			if err != nil {
				return err
			}
			rows := make([]suggestionJSON, len(rep.Suggestions))
			for i, s := range rep.Suggestions {
				rows[i] = suggestionJSON{Suggestion: s, MonthlySavingsUSD: s.MonthlySavings.USDString(),
					MonthlyReservationFreedUSD: s.MonthlyReservationFreed.USDString()}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Tenant      string           `json:"tenant"`
					Requests    int              `json:"requests"`
					Truncated   bool             `json:"truncated"`
					Suggestions []suggestionJSON `json:"suggestions"`
				}{h.Tenant().Slug, rep.Requests, rep.Truncated, rows})
			}
			if len(rows) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "no savings suggestions from %d requests of the last %d days\n", rep.Requests, savings.WindowDays)
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSAVES/MONTH\tRISK\tREQUESTS\tSUGGESTION")
			for _, r := range rows {
				saves := "$" + r.MonthlySavingsUSD
				if r.MonthlySavings == 0 && r.MonthlyReservationFreed > 0 {
					saves = "$0 (frees $" + r.MonthlyReservationFreedUSD + " of budget)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", r.ID, saves, r.Risk, r.Requests, r.Title)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&tenantRef, "tenant", "", "tenant slug or id (optional with one tenant)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(newSuggestionsApplyCmd(g))
	return cmd
}

func newSuggestionsApplyCmd(g *globalFlags) *cobra.Command {
	var tenantRef string
	var asJSON bool
	cmd := &cobra.Command{
		Use:          "apply ID [--tenant T]",
		Short:        "Apply a savings suggestion: merge its change into the routing policy (audited)",
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			a, h, err := openOnlyOrNamedTenant(cmd, g, tenantRef)
			if err != nil {
				return err
			}
			defer a.Close()
			in, err := cliSavingsInput(cmd, a, h)
			if err != nil {
				return err
			}
			res, err := savings.Apply(cmd.Context(), savings.ApplyInput{Input: in, ID: args[0], Actor: audit.CLIActor()}, audit.NewAuditLog(a.db))
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "applied %s: %s (saves $%s a month; running servers route by it within seconds)\n",
				res.Suggestion.ID, res.Suggestion.Title, res.Suggestion.MonthlySavings.USDString())
			return nil
		},
	}
	cmd.Flags().StringVar(&tenantRef, "tenant", "", "tenant slug or id (optional with one tenant)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the suggestion and the policy before and after as JSON")
	return cmd
}

// cliSavingsInput builds the computation as the server runs it: a selector
// that sees the same providers as available (the environment's and the stored
// credentials), the built-in catalog and the tenant's saved policy.
func cliSavingsInput(cmd *cobra.Command, a *app, h *tenants.Handle) (savings.Input, error) {
	ctx := cmd.Context()
	est := routing.NewEstimator(routing.EstimatorConfig{})
	env := routing.ProvidersConfig{
		OpenAI:     routing.ProviderKeyConfig{APIKey: seal.Secret(a.cfg.Providers.OpenAIKey.Reveal()), BaseURL: a.cfg.Providers.OpenAIBaseURL},
		Anthropic:  routing.ProviderKeyConfig{APIKey: seal.Secret(a.cfg.Providers.AnthropicKey.Reveal()), BaseURL: a.cfg.Providers.AnthropicBaseURL},
		OpenRouter: routing.ProviderKeyConfig{APIKey: seal.Secret(a.cfg.Providers.OpenRouterKey.Reveal()), BaseURL: a.cfg.Providers.OpenRouterBaseURL},
		Sim:        a.cfg.Providers.Sim,
	}
	providers, err := routing.NewRegistryFromConfig(env, est, a.logger)
	if err != nil {
		return savings.Input{}, err
	}
	sealer, err := newSealer(a)
	if err != nil {
		return savings.Input{}, err
	}
	stored, err := routing.NewProviderSettings(routing.ProviderSettingsConfig{Env: env, DB: a.db.Gorm, Sealer: sealer, Registry: providers, Estimator: est}, a.logger)
	if err != nil {
		return savings.Input{}, err
	}
	if err := stored.Reload(ctx); err != nil {
		return savings.Input{}, fmt.Errorf("loading stored provider credentials: %w", err)
	}
	catalog := routing.DefaultCatalog()
	sel, err := routing.NewSelector(routing.SelectorConfig{Catalog: catalog, Available: providers.Available}, a.logger)
	if err != nil {
		return savings.Input{}, err
	}
	pol, _, err := gateway.LoadPolicy(ctx, h)
	if err != nil {
		return savings.Input{}, err
	}
	keys := apikeys.NewKeys(a.db, nil, a.logger)
	return savings.Input{Handle: h, Selector: sel, Catalog: catalog, Policy: pol, Now: time.Now().UTC(),
		KeyModels: func(ctx context.Context, keyID string) ([]string, error) {
			k, err := keys.Get(ctx, h.TenantID(), keyID)
			return k.Models, err
		}}, nil
}
