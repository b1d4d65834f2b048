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
	"github.com/tollgate-dev/tollgate/tenants/audit"
)

func newBudgetsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "budgets", Short: "Set, list and delete budgets"}
	var (
		tenantRef, keyID, memberID, period, limitUSD, alertAt string
		hard, asJSON                                          bool
		downgradeAt                                           int
	)
	set := &cobra.Command{
		Use:   "set --tenant T --period day|month --limit-usd X [--key K|--member M] [--hard] [--alert-at 50,80,100] [--downgrade-at P]",
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
			svc, closeSvc, err := cliBudgets(a)
			if err != nil {
				return err
			}
			defer closeSvc()
			st, _, err := svc.Set(cmd.Context(), h, audit.CLIActor(), in)
			if err != nil {
				return err
			}
			return printBudgets(cmd, []budget.Status{st}, asJSON)
		},
	}
	set.Flags().StringVar(&tenantRef, "tenant", "", "tenant slug or id")
	set.Flags().StringVar(&keyID, "key", "", "API key id, prefix or name (a per-key budget)")
	set.Flags().StringVar(&memberID, "member", "", "member id or email (a per-member budget)")
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
			svc, closeSvc, err := cliBudgets(a)
			if err != nil {
				return err
			}
			defer closeSvc()
			sts, err := svc.List(cmd.Context(), h)
			if err != nil {
				return err
			}
			if asJSON && sts == nil {
				sts = []budget.Status{}
			}
			return printBudgets(cmd, sts, asJSON)
		},
	}
	list.Flags().StringVar(&tenantRef, "tenant", "", "tenant slug or id")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = list.MarkFlagRequired("tenant")

	del := &cobra.Command{
		Use:   "delete --tenant T BUDGET_ID",
		Short: "Delete a budget (budgets list shows the ids)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, h, err := openTenant(cmd, g, tenantRef)
			if err != nil {
				return err
			}
			defer a.Close()
			svc, closeSvc, err := cliBudgets(a)
			if err != nil {
				return err
			}
			defer closeSvc()
			if err := svc.Delete(cmd.Context(), h, audit.CLIActor(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "deleted budget %s\n", args[0])
			return nil
		},
	}
	del.Flags().StringVar(&tenantRef, "tenant", "", "tenant slug or id")
	_ = del.MarkFlagRequired("tenant")
	cmd.AddCommand(set, list, del)
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
	ID        string `json:"id"`
	Scope     string `json:"scope"`
	ScopeID   string `json:"scope_id"`
	ScopeName string `json:"scope_name,omitempty"`
	Period    string `json:"period"`
	LimitNano int64  `json:"limit_nano"`
	LimitUSD  string `json:"limit_usd"`
	Hard      bool   `json:"hard"`
	AlertAt   []int  `json:"alert_at"`
	// DowngradeAt is null when the budget never downgrades.
	DowngradeAt *int   `json:"downgrade_at"`
	PeriodKey   string `json:"period_key"`
	SpentNano   int64  `json:"spent_nano"`
	SpentUSD    string `json:"spent_usd"`
	// Percent is the settled spend in whole percent of the limit.
	Percent     int64  `json:"percent"`
	SpentSource string `json:"spent_source"`
}

func mapBudgetJSON(st budget.Status) budgetJSON {
	b := st.Budget
	out := budgetJSON{ID: b.ID, Scope: string(b.Scope), ScopeID: b.ScopeID, ScopeName: st.ScopeName, Period: string(b.Period),
		LimitNano: int64(b.Limit), LimitUSD: b.Limit.USDString(), Hard: b.Hard, AlertAt: b.AlertAt, PeriodKey: st.PeriodKey,
		SpentNano: int64(st.Spent), SpentUSD: st.Spent.USDString(), Percent: st.Percent(), SpentSource: st.Source}
	if b.DowngradeAt > 0 {
		d := b.DowngradeAt
		out.DowngradeAt = &d
	}
	return out
}

func printBudgets(cmd *cobra.Command, sts []budget.Status, asJSON bool) error {
	if asJSON {
		out := make([]budgetJSON, len(sts))
		for i, st := range sts {
			out[i] = mapBudgetJSON(st)
		}
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		if len(out) == 1 && cmd.Name() == "set" {
			return enc.Encode(out[0])
		}
		return enc.Encode(out)
	}
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSCOPE\tPERIOD\tLIMIT\tSPENT\tPERCENT\tHARD\tALERT AT\tDOWNGRADE AT")
	for _, st := range sts {
		b := st.Budget
		scope := string(b.Scope)
		switch {
		case st.ScopeName != "":
			scope += ":" + st.ScopeName
		case b.ScopeID != "":
			scope += ":" + b.ScopeID
		}
		downgrade := "never"
		if b.DowngradeAt > 0 {
			downgrade = fmt.Sprintf("%d%%", b.DowngradeAt)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d%%\t%v\t%v\t%s\n", b.ID, scope, b.Period, b.Limit.CentsString(), st.Spent.CentsString(),
			st.Percent(), b.Hard, b.AlertAt, downgrade)
	}
	return w.Flush()
}
