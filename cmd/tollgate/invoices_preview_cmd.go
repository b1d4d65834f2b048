package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/billing"
	"github.com/tollgate-dev/tollgate/billing/invoice"
	"github.com/tollgate-dev/tollgate/billing/invoicing"
)

// invoicePreviewOutput is `invoices preview --json`: the invoice a run would build
// for the period now, and whether a run would send it.
type invoicePreviewOutput struct {
	Tenant string `json:"tenant"`
	invoicing.PreviewResult
	BillingEnabled bool `json:"billing_enabled"`
}

func newInvoicesPreviewCmd(g *globalFlags) *cobra.Command {
	var tenantRef, period string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "preview --tenant T [--period YYYY-MM] [--json]",
		Short: "Show the upcoming invoice (this month so far): lines, markup, rounding and total, as a run would build it",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			a, err := openFromFlags(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			t, err := a.registry.Get(ctx, tenantRef)
			if err != nil {
				return err
			}
			svc, err := newInvoicing(a)
			if err != nil {
				return err
			}
			res, err := svc.Preview(ctx, invoicing.PreviewInput{TenantID: t.ID, Period: period})
			if err != nil {
				return err
			}
			out := invoicePreviewOutput{Tenant: t.Slug, PreviewResult: res, BillingEnabled: svc.Enabled()}
			if out.Invoice.Lines == nil {
				out.Invoice.Lines = []invoicing.Line{}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			inv := res.Invoice
			w := cmd.OutOrStdout()
			state := "so far, as of " + res.AsOf.Format("2006-01-02 15:04 UTC")
			if res.Final {
				state = "month ended"
			}
			fmt.Fprintf(w, "Invoice preview for %s, %s (%s)\n", t.Slug, inv.Period, state)
			fmt.Fprintf(w, "Markup %s on provider cost", bpPercent(res.Plan.MarkupBasisPoints))
			if res.Plan.PlatformFee > 0 {
				fmt.Fprintf(w, ", platform fee %s", dollars(res.Plan.PlatformFee))
			}
			fmt.Fprintln(w)
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "LINE\tREQUESTS\tCOST\tCHARGE\tROUNDING\tAMOUNT\t")
			for _, l := range inv.Lines {
				name := l.Model
				if name == "" {
					name = string(l.Kind)
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t\n", name, l.Requests, l.Cost.USDString(), l.Charge.USDString(),
					l.Rounding.USDString(), cents(l.AmountCents))
			}
			fmt.Fprintf(tw, "TOTAL\t\t%s\t%s\t%s\t%s\t\n", inv.Cost.USDString(), inv.Charge.USDString(), inv.Rounding.USDString(), cents(inv.AmountCents))
			if err := tw.Flush(); err != nil {
				return err
			}
			if !out.BillingEnabled {
				fmt.Fprintln(cmd.ErrOrStderr(), "billing is off (self-host mode or STRIPE_API_KEY unset): this invoice is for reading only and will not be sent")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&tenantRef, "tenant", "", "tenant slug or id")
	cmd.Flags().StringVar(&period, "period", "", "month to preview, YYYY-MM (default: the current month)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("tenant")
	return cmd
}

// cents formats whole cents as dollars: 1234 → "$12.34".
func cents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s$%d.%02d", sign, c/100, c%100)
}

// dollars formats a nano-USD amount rounded to cents, half up, for prose.
func dollars(n billing.NanoUSD) string {
	return cents(invoice.RoundHalfUpCents(n))
}

// bpPercent formats basis points as a percentage: 2500 → "25%", 1250 → "12.5%".
func bpPercent(bp int64) string {
	if bp%100 == 0 {
		return fmt.Sprintf("%d%%", bp/100)
	}
	return fmt.Sprintf("%d.%02d%%", bp/100, bp%100)
}
