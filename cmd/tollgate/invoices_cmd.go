package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/billing/invoicing"
	"github.com/tollgate-dev/tollgate/internal/errkind"
	"github.com/tollgate-dev/tollgate/internal/jobs"
	"github.com/tollgate-dev/tollgate/tenants"
	"github.com/tollgate-dev/tollgate/worker"
)

func newInvoicesCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "invoices", Short: "Run, list and preview tenants' monthly invoices"}
	cmd.AddCommand(newInvoicesRunCmd(g), newInvoicesListCmd(g), newInvoicesPreviewCmd(g))
	return cmd
}

// invoiceRunResult is one line of `invoices run`'s output.
type invoiceRunResult struct {
	Tenant    string                  `json:"tenant"`
	Period    string                  `json:"period"`
	JobID     int64                   `json:"job_id"`
	State     string                  `json:"state"`
	Duplicate bool                    `json:"duplicate"`
	Output    worker.InvoiceRunOutput `json:"output"`
	Error     string                  `json:"error,omitempty"`
}

func newInvoicesRunCmd(g *globalFlags) *cobra.Command {
	var tenantRef, period string
	var timeout time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "run [--tenant T] [--period YYYY-MM] [--timeout 5m] [--json]",
		Short: "Enqueue invoice runs (one tenant, or every active tenant) and wait for the worker to finish them",
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			a, err := openFromFlags(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			if !billingOn(a.cfg) {
				fmt.Fprintln(cmd.OutOrStdout(), "billing is off (self-host mode or STRIPE_API_KEY unset): nothing to invoice")
				return nil
			}
			if period == "" {
				period = invoicing.PreviousPeriod(time.Now())
			}
			var targets []tenants.Tenant
			if tenantRef != "" {
				t, err := a.registry.Get(ctx, tenantRef)
				if err != nil {
					return err
				}
				targets = append(targets, t)
			} else {
				all, err := a.registry.List(ctx)
				if err != nil {
					return err
				}
				for _, t := range all {
					if t.Status == tenants.StatusActive {
						targets = append(targets, t)
					}
				}
			}
			for _, t := range targets {
				if err := (invoicing.RunInput{TenantID: t.ID, Period: period}).Validate(time.Now()); err != nil {
					return err
				}
			}
			q, _, err := openQueue(ctx, a, 0, false, nil)
			if err != nil {
				return err
			}
			defer q.Close()
			results, err := enqueueAndWait(ctx, q.Client(), targets, period, timeout)
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if encErr := enc.Encode(results); encErr != nil {
					return encErr
				}
			} else {
				for _, r := range results {
					fmt.Fprintf(cmd.OutOrStdout(), "%s %s: job %d %s, invoice %s %s, %d cents, %d items sent%s\n", r.Tenant, r.Period, r.JobID,
						r.State, r.Output.InvoiceID, r.Output.Status, r.Output.AmountCents, r.Output.ItemsSent, suffix(r))
				}
			}
			return err
		},
	}
	cmd.Flags().StringVar(&tenantRef, "tenant", "", "tenant slug or id (default: every active tenant)")
	cmd.Flags().StringVar(&period, "period", "", "month to invoice, YYYY-MM (default: the previous month)")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait for the worker")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func suffix(r invoiceRunResult) string {
	s := ""
	if r.Duplicate {
		s += " (already queued or done)"
	}
	if r.Output.HostedURL != "" {
		s += " " + r.Output.HostedURL
	}
	if r.Error != "" {
		s += ": " + r.Error
	}
	return s
}

// enqueueAndWait inserts one unique invoice run per tenant and waits for each.
func enqueueAndWait(ctx context.Context, client worker.Client, targets []tenants.Tenant, period string, timeout time.Duration) ([]invoiceRunResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	results := make([]invoiceRunResult, len(targets))
	for i, t := range targets {
		res, err := client.Insert(ctx, worker.InvoiceRunArgs{TenantID: string(t.ID), Period: period}, nil)
		if err != nil {
			return results[:i], err
		}
		results[i] = invoiceRunResult{Tenant: t.Slug, Period: period, JobID: res.Job.ID, Duplicate: res.UniqueSkippedAsDuplicate}
	}
	for i := range results {
		j, err := jobs.Wait(ctx, client, results[i].JobID, 250*time.Millisecond)
		if err != nil {
			if ctx.Err() != nil {
				return results, errkind.New(errkind.Unavailable, "invoice runs not finished after %s: is `tollgate worker` running? (see `tollgate jobs list --kind invoice_run`)", timeout)
			}
			return results, err
		}
		v := jobs.Map(j)
		results[i].State = v.State
		if len(v.Output) > 0 {
			_ = json.Unmarshal(v.Output, &results[i].Output)
		}
		if v.State != "completed" && len(v.Errors) > 0 {
			results[i].Error = v.Errors[len(v.Errors)-1]
		}
	}
	return results, nil
}

func newInvoicesListCmd(g *globalFlags) *cobra.Command {
	var tenantRef string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list --tenant T [--json]",
		Short: "List a tenant's invoices with their lines",
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, h, err := openTenant(cmd, g, tenantRef)
			if err != nil {
				return err
			}
			defer a.Close()
			all, err := invoicing.List(cmd.Context(), h, true)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if all == nil {
					all = []invoicing.Invoice{}
				}
				return enc.Encode(all)
			}
			for _, inv := range all {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s %-14s %8d cents  cost %s USD  %s %s\n", inv.Period, inv.ID, inv.Status, inv.AmountCents,
					inv.Cost.USDString(), inv.Number, inv.HostedURL)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&tenantRef, "tenant", "", "tenant slug or id")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = cmd.MarkFlagRequired("tenant")
	return cmd
}
