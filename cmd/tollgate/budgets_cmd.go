package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/budget"
	"github.com/tollgate-dev/tollgate/billing/meter"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/tenants"
)

func newBudgetsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "budgets", Short: "Set and list budgets"}
	var (
		tenantRef, keyID, memberID, period, limitUSD, alertAt string
		hard, asJSON                                          bool
		downgradeAt                                           int
	)
	set := &cobra.Command{
		Use:   "set --tenant T --period day|month --limit-usd X [--key K] [--hard] [--alert-at 50,80,100]",
		Short: "Create or replace the budget of a tenant, key or member for a period",
		RunE: func(cmd *cobra.Command, _ []string) error {
			limit, err := billing.ParseUSD(limitUSD)
			if err != nil {
				return errkind.Wrap(errkind.Invalid, err, "--limit-usd")
			}
			in := budget.SetInput{Scope: meter.ScopeTenant, Period: meter.Period(period), Limit: limit, Hard: hard, DowngradeAt: downgradeAt}
			if keyID != "" {
				in.Scope, in.ScopeID = meter.ScopeKey, keyID
			} else if memberID != "" {
				in.Scope, in.ScopeID = meter.ScopeMember, memberID
			}
			if alertAt != "" {
				for _, s := range strings.Split(alertAt, ",") {
					n, err := strconv.Atoi(strings.TrimSpace(s))
					if err != nil {
						return errkind.New(errkind.Invalid, "--alert-at %q: use percentages like 50,80,100", alertAt)
					}
					in.AlertAt = append(in.AlertAt, n)
				}
			}
			a, h, err := openTenant(cmd, g, tenantRef)
			if err != nil {
				return err
			}
			defer a.Close()
			b, err := budget.Set(cmd.Context(), h, in)
			if err != nil {
				return err
			}
			return printBudgets(cmd, []budget.Budget{b}, asJSON)
		},
	}
	set.Flags().StringVar(&tenantRef, "tenant", "", "tenant slug or id")
	set.Flags().StringVar(&keyID, "key", "", "API key id (a per-key budget)")
	set.Flags().StringVar(&memberID, "member", "", "user id (a per-member budget)")
	set.Flags().StringVar(&period, "period", "month", "day or month (UTC)")
	set.Flags().StringVar(&limitUSD, "limit-usd", "", "the limit in dollars, e.g. 25 or 0.05")
	set.Flags().BoolVar(&hard, "hard", false, "refuse requests that would pass the limit (default: alert only)")
	set.Flags().StringVar(&alertAt, "alert-at", "", "alert thresholds in percent (default 50,80,100)")
	set.Flags().IntVar(&downgradeAt, "downgrade-at", 0, "percent of the limit from which routing picks a cheaper tier (0: never)")
	set.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = set.MarkFlagRequired("tenant")
	_ = set.MarkFlagRequired("limit-usd")

	list := &cobra.Command{
		Use:   "list --tenant T",
		Short: "List a tenant's budgets",
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, h, err := openTenant(cmd, g, tenantRef)
			if err != nil {
				return err
			}
			defer a.Close()
			bs, err := budget.List(cmd.Context(), h)
			if err != nil {
				return err
			}
			return printBudgets(cmd, bs, asJSON)
		},
	}
	list.Flags().StringVar(&tenantRef, "tenant", "", "tenant slug or id")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = list.MarkFlagRequired("tenant")
	cmd.AddCommand(set, list)
	return cmd
}

// openTenant opens the app and the named tenant's handle, acting as the operator.
func openTenant(cmd *cobra.Command, g *globalFlags, ref string) (*app, *tenants.Handle, error) {
	a, err := openFromFlags(cmd, g)
	if err != nil {
		return nil, nil, err
	}
	t, err := a.registry.Get(cmd.Context(), ref)
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	h, err := a.registry.Handle(tenants.SystemPrincipal(t, "cli"))
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, h, nil
}

type budgetJSON struct {
	ID          string `json:"id"`
	Scope       string `json:"scope"`
	ScopeID     string `json:"scope_id"`
	Period      string `json:"period"`
	LimitNano   int64  `json:"limit_nano"`
	LimitUSD    string `json:"limit_usd"`
	Hard        bool   `json:"hard"`
	AlertAt     []int  `json:"alert_at"`
	DowngradeAt int    `json:"downgrade_at"`
}

func mapBudgetJSON(b budget.Budget) budgetJSON {
	return budgetJSON{b.ID, string(b.Scope), b.ScopeID, string(b.Period), int64(b.Limit), b.Limit.USDString(), b.Hard, b.AlertAt, b.DowngradeAt}
}

func printBudgets(cmd *cobra.Command, bs []budget.Budget, asJSON bool) error {
	if asJSON {
		out := make([]budgetJSON, len(bs))
		for i, b := range bs {
			out[i] = mapBudgetJSON(b)
		}
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		if len(out) == 1 {
			return enc.Encode(out[0])
		}
		return enc.Encode(out)
	}
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSCOPE\tPERIOD\tLIMIT (USD)\tHARD\tALERT AT\tDOWNGRADE AT")
	for _, b := range bs {
		scope := string(b.Scope)
		if b.ScopeID != "" {
			scope += ":" + b.ScopeID
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%v\t%v\t%d%%\n", b.ID, scope, b.Period, b.Limit.USDString(), b.Hard, b.AlertAt, b.DowngradeAt)
	}
	return w.Flush()
}
