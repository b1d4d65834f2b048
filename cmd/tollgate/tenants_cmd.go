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
	var moveIn tenants.MoveInput
	move := &cobra.Command{
		Use:   "move --tenant T --to CLUSTER",
		Short: "Move a tenant's schema to another Postgres cluster (a write pause of well under a second)",
		Long: "Copies the tenant's tables and sequences to the cluster named in TOLLGATE_TENANT_DATABASE_URLS (or main,\n" +
			"the control database), with the tenant's writes paused by table locks during the copy, checks the row counts,\n" +
			"flips the placement (running servers are told at once) and only then drops the old schema.",
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openFromFlags(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			feed := tenants.NewChangeFeed(a.db, tenants.ChangeFeedConfig{}, a.logger)
			res, err := a.registry.Move(cmd.Context(), moveIn, feed)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"tenant": res.Tenant.Slug, "id": res.Tenant.ID, "from": res.From, "to": res.To,
					"tables": res.Tables, "rows": res.Rows, "pause_ms": res.Pause.Milliseconds(), "total_ms": res.Total.Milliseconds()})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "moved %s from %s to %s: %d tables, %d rows, writes paused %s (total %s)\n",
				res.Tenant.Slug, res.From, res.To, res.Tables, res.Rows, res.Pause.Round(time.Millisecond), res.Total.Round(time.Millisecond))
			return nil
		},
	}
	move.Flags().StringVar(&moveIn.Tenant, "tenant", "", "tenant slug or id")
	move.Flags().StringVar(&moveIn.To, "to", "", "target cluster name")
	move.Flags().DurationVar(&moveIn.LockTimeout, "lock-timeout", 5*time.Second, "longest wait for the tenant's in-flight writes before the pause")
	move.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = move.MarkFlagRequired("tenant")
	_ = move.MarkFlagRequired("to")

	clusters := &cobra.Command{
		Use:   "clusters",
		Short: "List the Postgres clusters tenants are placed on, with their tenant counts",
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openFromFlags(cmd, g)
			if err != nil {
				return err
			}
			defer a.Close()
			loads, err := a.registry.ClusterLoads(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				out := make([]map[string]any, len(loads))
				for i, l := range loads {
					out[i] = map[string]any{"cluster": l.Cluster, "tenants": l.Tenants}
				}
				return json.NewEncoder(cmd.OutOrStdout()).Encode(out)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "CLUSTER\tTENANTS")
			for _, l := range loads {
				fmt.Fprintf(w, "%s\t%d\n", l.Cluster, l.Tenants)
			}
			return w.Flush()
		},
	}
	clusters.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	cmd.AddCommand(create, list, move, clusters,
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
	Cluster   string    `json:"cluster"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

func printTenants(cmd *cobra.Command, ts []tenants.Tenant, asJSON, single bool) error {
	if asJSON {
		rows := make([]tenantJSON, len(ts))
		for i, t := range ts {
			rows[i] = tenantJSON{string(t.ID), t.Slug, t.Name, t.SchemaName, t.Cluster, string(t.Status), t.CreatedAt}
		}
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		if single && len(rows) == 1 {
			return enc.Encode(rows[0])
		}
		return enc.Encode(rows)
	}
	w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SLUG\tID\tSCHEMA\tCLUSTER\tSTATUS\tNAME")
	for _, t := range ts {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", t.Slug, t.ID, t.SchemaName, t.Cluster, t.Status, t.Name)
	}
	return w.Flush()
}
