package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/tenants"
)

func newTenantsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "tenants", Short: "Create, list and suspend tenants"}
	var name, email string
	var asJSON bool
	create := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Create a tenant with its own schema (Postgres) or database file (SQLite)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openFromFlags(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			t, err := a.registry.Create(cmd.Context(), tenants.CreateInput{Name: name, BillingEmail: email})
			if err != nil {
				return err
			}
			return printTenants(cmd, []tenants.Tenant{t}, asJSON, true)
		},
	}
	create.Flags().StringVar(&name, "name", "", "tenant name (its slug must be unique)")
	create.Flags().StringVar(&email, "billing-email", "", "address invoices go to")
	create.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = create.MarkFlagRequired("name")

	list := &cobra.Command{
		Use:   "list",
		Short: "List tenants",
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openFromFlags(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			ts, err := a.registry.List(cmd.Context())
			if err != nil {
				return err
			}
			return printTenants(cmd, ts, asJSON, false)
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	setStatus := func(use, short string, status tenants.Status) *cobra.Command {
		c := &cobra.Command{
			Use:   use + " TENANT",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				a, err := openFromFlags(cmd, g)
				if err != nil {
					return err
				}
				defer a.Close()
				t, err := a.registry.Get(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				t, err = a.registry.SetStatus(cmd.Context(), t.ID, status)
				if err != nil {
					return err
				}
				// Running servers drop the tenant's cached keys now (Postgres NOTIFY;
				// SQLite servers see it on their next poll).
				feed := tenants.NewChangeFeed(a.db, tenants.ChangeFeedConfig{}, a.logger)
				if err := feed.Announce(cmd.Context(), tenants.Change{Kind: tenants.ChangeTenant, Ref: string(t.ID)}); err != nil {
					a.logger.WarnContext(cmd.Context(), "servers will see the change at their next resync (within 30s)", "error", err)
				}
				return printTenants(cmd, []tenants.Tenant{t}, asJSON, false)
			},
		}
		c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
		return c
	}
	cmd.AddCommand(create, list,
		setStatus("suspend", "Suspend a tenant: its data stays, its requests are refused", tenants.StatusSuspended),
		setStatus("resume", "Resume a suspended tenant", tenants.StatusActive))
	return cmd
}

func openFromFlags(cmd *cobra.Command, g *globalFlags) (*app, error) {
	cfg, err := g.loadConfig()
	if err != nil {
		return nil, err
	}
	return openApp(cmd.Context(), cfg)
}

type tenantJSON struct {
	ID        string    `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	Schema    string    `json:"schema"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

func printTenants(cmd *cobra.Command, ts []tenants.Tenant, asJSON, single bool) error {
	if asJSON {
		rows := make([]tenantJSON, len(ts))
		for i, t := range ts {
			rows[i] = tenantJSON{string(t.ID), t.Slug, t.Name, t.SchemaName, string(t.Status), t.CreatedAt}
		}
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		if single && len(rows) == 1 {
			return enc.Encode(rows[0])
		}
		return enc.Encode(rows)
	}
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SLUG\tID\tSCHEMA\tSTATUS\tNAME")
	for _, t := range ts {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", t.Slug, t.ID, t.SchemaName, t.Status, t.Name)
	}
	return w.Flush()
}
