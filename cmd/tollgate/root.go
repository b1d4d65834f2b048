package main

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tollgate-dev/tollgate/billing/usageimport"
	"github.com/tollgate-dev/tollgate/internal/config"
)

// globalFlags override the environment for every subcommand.
type globalFlags struct {
	databaseURL string
	redisURL    string
	envFile     string
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "tollgate",
		Short:         "Tollgate: a multi-tenant control plane for LLM usage",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.databaseURL, "database-url", "", "database URL (overrides TOLLGATE_DATABASE_URL)")
	root.PersistentFlags().StringVar(&g.redisURL, "redis-url", "", "Redis URL or cluster seed list (overrides TOLLGATE_REDIS_URL)")
	root.PersistentFlags().StringVar(&g.envFile, "env-file", ".env", "dotenv file read under the process environment")
	root.AddCommand(
		newServeCmd(g),
		newMigrateCmd(g),
		newTenantsCmd(g),
		newConfigCmd(g),
		newVersionCmd(), newHealthcheckCmd(g), newDesktopCmd(g),
		newBudgetsCmd(g),
		newUsageCmd(g),
		newRequestsCmd(g),
		newSuggestionsCmd(g),
		newRouteCmd(g),
		newUsersCmd(g), newKeysCmd(g),
		newWorkerCmd(g), newJobsCmd(g), newInvoicesCmd(g), newBackupCmd(g), newRestoreCmd(g),
	)
	return root
}

// loadConfig reads env + .env and applies the global flags.
func (g *globalFlags) loadConfig() (config.Config, error) {
	cfg, err := config.FromOSWithDotenv(g.envFile)
	if g.databaseURL == "" && g.redisURL == "" {
		return cfg, err
	}
	// With an override, the environment alone need not be valid (tenant clusters
	// set in the environment need the Postgres URL the flag gives): it is
	// validated again below, with the flags applied. A .env file that could not be
	// read leaves no environment to go on.
	if cfg.Env == nil {
		return cfg, err
	}
	env := cfg.Env
	if g.databaseURL != "" {
		env["TOLLGATE_DATABASE_URL"] = g.databaseURL
		if env["TOLLGATE_MODE"] == "" {
			delete(env, "TOLLGATE_MODE")
		}
	}
	if g.redisURL != "" {
		env["TOLLGATE_REDIS_URL"] = g.redisURL
	}
	return config.Parse(env)
}

// oneLine flattens joined errors into one actionable line.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

// errorText is what the CLI prints for err: one line, except a usage
// import's malformed rows, which keep one line each after the summary.
func errorText(err error) string {
	var me *usageimport.MalformedError
	if errors.As(err, &me) {
		return err.Error()
	}
	return oneLine(err)
}
