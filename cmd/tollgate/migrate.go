package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/migrations"
)

func newMigrateCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: "Apply or inspect database migrations"}
	var parallel int
	up := &cobra.Command{
		Use:   "up",
		Short: "Apply pending control-plane and tenant migrations",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			a, err := openApp(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			results, err := a.registry.MigrateAll(cmd.Context(), parallel)
			if err != nil {
				return err
			}
			changed := 0
			for _, r := range results {
				if r.To != r.From {
					changed++
					cmd.Printf("tenant %s: %d -> %d\n", r.Tenant.Slug, r.From, r.To)
				}
			}
			cmd.Printf("control plane up to date; %d tenant(s), %d migrated\n", len(results), changed)
			return nil
		},
	}
	up.Flags().IntVar(&parallel, "parallel", 4, "tenants migrated at once")
	var asJSON bool
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the control-plane version and each tenant's version",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			a, err := openApp(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer a.Close()
			cur, latest, err := migrations.ControlVersion(cmd.Context(), a.db.SQL, a.db.Dialect)
			if err != nil {
				return err
			}
			vs, err := a.registry.Versions(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				type row struct {
					Tenant  string `json:"tenant"`
					ID      string `json:"id"`
					Schema  string `json:"schema"`
					Version int64  `json:"version"`
					Latest  int64  `json:"latest"`
				}
				out := struct {
					Control struct {
						Version int64 `json:"version"`
						Latest  int64 `json:"latest"`
					} `json:"control"`
					Tenants []row `json:"tenants"`
				}{}
				out.Control.Version, out.Control.Latest = cur, latest
				out.Tenants = []row{}
				for _, v := range vs {
					out.Tenants = append(out.Tenants, row{v.Tenant.Slug, string(v.Tenant.ID), v.Tenant.SchemaName, v.Version, v.Latest})
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "control plane\tversion %d of %d\n", cur, latest)
			fmt.Fprintln(w, "TENANT\tSCHEMA\tVERSION\tSTATE")
			for _, v := range vs {
				state := "up to date"
				if v.Version < v.Latest {
					state = fmt.Sprintf("%d pending", v.Latest-v.Version)
				}
				fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", v.Tenant.Slug, v.Tenant.SchemaName, v.Version, state)
			}
			return w.Flush()
		},
	}
	status.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(up, status)
	return cmd
}
