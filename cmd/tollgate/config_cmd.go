package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/internal/database"
)

func newConfigCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Inspect the configuration and the host"}
	var asJSON bool
	detect := &cobra.Command{
		Use:   "detect",
		Short: "Print the configuration Tollgate would run with, and why",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			meter := "in-process (TOLLGATE_REDIS_URL empty)"
			switch {
			case cfg.RedisCluster():
				meter = fmt.Sprintf("Redis Cluster, %d seed(s)", len(cfg.RedisAddrs()))
			case cfg.Redis.URL != "":
				meter = "Redis standalone"
			}
			out := map[string]any{
				"mode":            cfg.Mode,
				"addr":            cfg.Addr,
				"database_driver": cfg.DatabaseDriver(),
				"database_url":    database.Redact(cfg.Database.URL),
				"data_dir":        cfg.DataDir(),
				"redis_url":       cfg.Redis.URL,
				"meter":           meter,
				"billing":         cfg.Stripe.APIKey != "" && cfg.Mode != "single-tenant",
				"sim_provider":    cfg.Providers.Sim,
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			for _, k := range []string{"mode", "addr", "database_driver", "database_url", "data_dir", "meter", "redis_url", "billing", "sim_provider"} {
				fmt.Fprintf(w, "%s\t%v\n", k, out[k])
			}
			return w.Flush()
		},
	}
	detect.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(detect)
	return cmd
}
