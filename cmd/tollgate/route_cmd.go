package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/logging"
	"github.com/tollgate-dev/tollgate/routing"
	"github.com/tollgate-dev/tollgate/routing/gateway"
)

func newRouteCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "route", Short: "Try routing policies offline"}
	var policyPath, logPath, tenantRef string
	var forceAuto, asJSON bool
	var days int
	simulate := &cobra.Command{
		Use:   "simulate --policy P (--log FILE | --tenant T [--days N])",
		Short: "Replay a recorded request log through a policy: cost before/after and the tier mix",
		Long: `Replays a request log through a routing policy, and prints what the log cost,
what it would have cost, and how the requests spread over the tiers. The log is
what GET /api/v1/tenants/{tenant}/usage/events returns (one or more pages,
{"data":[...]}), or JSON lines of records (model_requested, model_used,
input_tokens, output_tokens, and route_features or messages). Requests replay
oldest first; with the ledger's route_features they decide exactly as live did
for threshold, tier and model changes (session affinity included). Changes
that need the prompt text (keyword rules, another classifier) are reported.

--tenant replays the tenant's own ledger of the last --days days (1-90,
default 30) from the database, at its prices, as the console's what-if does:
for a tenant that keeps prompts (retain_prompts_days), new or changed keyword
rules are matched on the kept text exactly as live would; requests without a
kept prompt are counted. Kept prompts are opened with TOLLGATE_MASTER_KEY and
never printed: the answer is aggregates only.

--policy is a policy JSON file, or "default" for the built-in policy.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			policy, err := loadPolicyFile(policyPath)
			if err != nil {
				return err
			}
			if (logPath == "") == (tenantRef == "") {
				return errkind.New(errkind.Invalid, "give exactly one of --log FILE (a request log) or --tenant T (the tenant's own ledger)")
			}
			if days < 1 || days > 90 {
				return errkind.New(errkind.Invalid, "--days must be between 1 and 90")
			}
			sel, err := routing.NewSelector(routing.SelectorConfig{Catalog: routing.DefaultCatalog()}, logging.Discard())
			if err != nil {
				return err
			}
			var res routing.Result
			if tenantRef != "" {
				res, err = simulateTenant(cmd, g, sel, tenantRef, policy, days, forceAuto)
			} else {
				res, err = simulateLog(cmd, sel, logPath, policy, forceAuto)
			}
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
	simulate.Flags().StringVar(&tenantRef, "tenant", "", "replay this tenant's own ledger (slug or id) instead of a log")
	simulate.Flags().IntVar(&days, "days", 30, "with --tenant: days of history to replay (1-90)")
	simulate.Flags().BoolVar(&forceAuto, "force-auto", false, `replay every request as model "auto" (what would the policy choose?)`)
	simulate.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(simulate, newRouteTrainCmd(), newRouteInstallCmd(g))
	return cmd
}

// simulateLog replays a request log file.
func simulateLog(cmd *cobra.Command, sel *routing.Selector, path string, policy routing.Policy, forceAuto bool) (routing.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return routing.Result{}, errkind.Wrap(errkind.Invalid, err, "--log %s cannot be read", path)
	}
	defer f.Close()
	records, err := routing.ReadRecords(f)
	if err != nil {
		return routing.Result{}, err
	}
	return sel.Simulate(cmd.Context(), policy, records, routing.SimulateOptions{ForceAuto: forceAuto})
}

// simulateTenant replays the tenant's ledger as the console's what-if does
// (gateway.SimulateHistory), kept prompts included when the master key opens them.
func simulateTenant(cmd *cobra.Command, g *globalFlags, sel *routing.Selector, ref string, policy routing.Policy, days int, forceAuto bool) (routing.Result, error) {
	a, h, err := openTenant(cmd, g, ref)
	if err != nil {
		return routing.Result{}, err
	}
	defer a.Close()
	sealer, err := newSealer(a)
	if err != nil {
		return routing.Result{}, err
	}
	res, err := gateway.SimulateHistory(cmd.Context(), h, sel, gateway.HistoryInput{Policy: policy, Since: time.Now().UTC().AddDate(0, 0, -days),
		MaxEvents: simulateMaxEvents, ForceAuto: forceAuto, BaseCatalog: routing.DefaultCatalog(), Sealer: sealer})
	if err != nil {
		return routing.Result{}, err
	}
	if res.Truncated {
		fmt.Fprintf(cmd.ErrOrStderr(), "only the newest %d requests (from %s) were replayed\n", simulateMaxEvents, res.From.Format(time.RFC3339))
	}
	return res.Result, nil
}

// simulateMaxEvents caps a tenant replay as the console's what-if does.
const simulateMaxEvents = 50_000

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
	if r.KeywordRulesReplayed > 0 {
		fmt.Fprintf(tw, "keyword rules\t%d requests matched on their kept prompt, as live would\n", r.KeywordRulesReplayed)
	}
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
