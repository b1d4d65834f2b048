package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/routing"
)

func newRouteCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "route", Short: "Try routing policies offline"}
	var policyPath, logPath string
	var forceAuto, asJSON bool
	simulate := &cobra.Command{
		Use:   "simulate --policy P --log FILE",
		Short: "Replay a recorded request log through a policy: cost before/after and the tier mix",
		Long: `Replays a request log through a routing policy, and prints what the log cost,
what it would have cost, and how the requests spread over the tiers. The log is
what GET /api/v1/tenants/{tenant}/usage/events returns (one or more pages,
{"data":[...]}), or JSON lines of records (model_requested, model_used,
input_tokens, output_tokens, and route_features or messages). Requests replay
oldest first; with the ledger's route_features they decide exactly as live did
for threshold, tier and model changes (session affinity included). Changes
that need the prompt text (keyword rules, another classifier) are reported.

--policy is a policy JSON file, or "default" for the built-in policy.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			policy, err := loadPolicyFile(policyPath)
			if err != nil {
				return err
			}
			f, err := os.Open(logPath)
			if err != nil {
				return errkind.Wrap(errkind.Invalid, err, "--log %s cannot be read", logPath)
			}
			defer f.Close()
			records, err := routing.ReadRecords(f)
			if err != nil {
				return err
			}
			sel, err := routing.NewSelector(routing.SelectorConfig{Catalog: routing.DefaultCatalog()}, logging.Discard())
			if err != nil {
				return err
			}
			res, err := sel.Simulate(cmd.Context(), policy, records, routing.SimulateOptions{ForceAuto: forceAuto})
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					routing.Result
					CostBeforeUSD  string `json:"cost_before_usd"`
					CostAfterUSD   string `json:"cost_after_usd"`
					SavingsPercent int64  `json:"savings_percent"`
					NeedsText      string `json:"needs_text,omitempty"`
				}{res, res.CostBefore.USDString(), res.CostAfter.USDString(), res.SavingsPercent(), res.NeedsText()})
			}
			return printSimulation(cmd.OutOrStdout(), res)
		},
	}
	simulate.Flags().StringVar(&policyPath, "policy", "default", `policy JSON file, or "default"`)
	simulate.Flags().StringVar(&logPath, "log", "", "JSON-lines request log")
	simulate.Flags().BoolVar(&forceAuto, "force-auto", false, `replay every request as model "auto" (what would the policy choose?)`)
	simulate.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = simulate.MarkFlagRequired("log")
	cmd.AddCommand(simulate, newRouteTrainCmd(), newRouteInstallCmd(g))
	return cmd
}

func loadPolicyFile(path string) (routing.Policy, error) {
	if path == "" || path == "default" {
		return routing.DefaultPolicy(), nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return routing.Policy{}, errkind.Wrap(errkind.Invalid, err, "--policy %s cannot be read", path)
	}
	var p routing.Policy
	if err := json.Unmarshal(raw, &p); err != nil {
		return routing.Policy{}, errkind.Wrap(errkind.Invalid, err, "--policy %s is not a routing policy", path)
	}
	return p, p.Validate()
}

func printSimulation(w io.Writer, r routing.Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "requests\t%d (%d skipped)\n", r.Requests, r.Skipped)
	fmt.Fprintf(tw, "cost before\t$%s\n", r.CostBefore.USDString())
	fmt.Fprintf(tw, "cost after\t$%s\n", r.CostAfter.USDString())
	fmt.Fprintf(tw, "savings\t%d%%\n", r.SavingsPercent())
	if why := r.NeedsText(); why != "" {
		fmt.Fprintf(tw, "needs text\t%s\n", why)
	}
	fmt.Fprintln(tw, "TIER\tBEFORE\tAFTER")
	for _, t := range []routing.Tier{routing.TierEconomy, routing.TierStandard, routing.TierPremium} {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", t, r.TierMixBefore[t], r.TierMixAfter[t])
	}
	models := make([]string, 0, len(r.ModelsAfter))
	for m := range r.ModelsAfter {
		models = append(models, m)
	}
	slices.Sort(models)
	fmt.Fprintln(tw, "MODEL (AFTER)\tREQUESTS")
	for _, m := range models {
		fmt.Fprintf(tw, "%s\t%d\n", m, r.ModelsAfter[m])
	}
	return tw.Flush()
}
