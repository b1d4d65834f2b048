package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/billing/ledger"
)

func newUsageProjectCmd(g *globalFlags) *cobra.Command {
	var tenantRef string
	var users []int64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "project [--tenant T] [--users 1,10,100,1000] [--json]",
		Short: "Project a tenant's spend: month end from pace, per active key and member, and what N users would cost",
		Long: "Projects a tenant's spend from its own daily rollups: the month end at this month's pace (with a\n" +
			"range from the lowest and highest daily spend of the last 30 days), the cost per active key and member,\n" +
			"and what N users would cost from the tenant's own per-member mix. The assumptions are printed too.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, h, err := openOnlyOrNamedTenant(cmd, g, tenantRef)
			if err != nil {
				return err
			}
			defer a.Close()
			p, err := ledger.Project(cmd.Context(), h, ledger.ProjectInput{Users: users})
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(p)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s: spent $%s so far in %s; month end $%s (range $%s–$%s)\n", h.Tenant().Slug, p.SpentThisMonth.USDString(), p.Month,
				p.MonthEnd.Estimate.USDString(), p.MonthEnd.Low.USDString(), p.MonthEnd.High.USDString())
			fmt.Fprintf(out, "last 30 days: $%s; %d active keys ($%s each), %d active members ($%s each)\n", p.WindowCost.USDString(),
				p.ActiveKeys, p.CostPerActiveKey.USDString(), p.ActiveMembers, p.CostPerActiveMember.USDString())
			tw := tabwriter.NewWriter(out, 0, 2, 2, ' ', 0)
			fmt.Fprintln(tw, "USERS\tMONTHLY\tMONTHLY RANGE\tYEARLY")
			for _, u := range p.Users {
				fmt.Fprintf(tw, "%d\t$%s\t$%s–$%s\t$%s\n", u.Users, u.Monthly.Estimate.USDString(), u.Monthly.Low.USDString(), u.Monthly.High.USDString(),
					u.Yearly.Estimate.USDString())
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, s := range p.Assumptions {
				fmt.Fprintln(out, "- "+s)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&tenantRef, "tenant", "", "tenant slug or id (optional when there is only one tenant)")
	cmd.Flags().Int64SliceVar(&users, "users", nil, "team sizes to project (default 1,10,100,1000)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
